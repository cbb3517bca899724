// Package shquote quotes words for a POSIX shell, so that a command line
// shmlab prints (a repro line) is safe to paste: every word comes out as
// exactly one argument, and nothing in it is expanded or run.
package shquote

import "strings"

// Quote returns s as one shell word: as it is if it holds only characters
// no shell treats specially, else in single quotes (a quote inside as
// '\”). The empty string is ”.
func Quote(s string) string {
	if s != "" && strings.Trim(s, safe) == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// safe are the characters a word may hold unquoted.
const safe = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-"

// Join quotes each word and joins them with spaces: a command line.
func Join(words ...string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = Quote(w)
	}
	return strings.Join(q, " ")
}
