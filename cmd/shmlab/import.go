package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/history/jepsen"
	"github.com/shmlab/shmlab/history/kvlog"
)

// The input formats check reads and import converts.
const (
	formatHistory     = "history"
	formatJepsen      = "jepsen"
	formatPorcupineKV = "porcupine-kv"
)

// foreignFormats are the formats import converts, with what reads them.
var foreignFormats = map[string]func(io.Reader, string) (*history.History, error){
	formatJepsen:      jepsen.Read,
	formatPorcupineKV: kvlog.Read,
}

// validFormat reports whether f names a format check reads ("" sniffs).
func validFormat(f string) bool {
	return f == "" || f == formatHistory || foreignFormats[f] != nil
}

// sniffSize is how much of a file sniff looks at.
const sniffSize = 4096

// sniff tells the format of a file from its first bytes: a history's
// first line is a JSON object ({"), a Jepsen history's EDN maps ({:, or
// a vector of them) or jepsen.util log lines, a porcupine kv log's maps
// have a :key. It returns "" when it cannot tell.
func sniff(head []byte) string {
	b := bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")), " \t\r\n")
	switch {
	case len(b) == 0:
		return ""
	case b[0] == '{' && len(bytes.TrimLeft(b[1:], " \t")) > 0 && bytes.TrimLeft(b[1:], " \t")[0] == '"':
		return formatHistory
	case strings.IndexByte("{[#(;", b[0]) >= 0:
		if kvlog.Detect(b) {
			return formatPorcupineKV
		}
		return formatJepsen
	case bytes.Contains(b, []byte("jepsen.util - ")):
		return formatJepsen
	}
	return ""
}

// readInput reads the history at path (- for standard input) in format,
// or in the format sniff tells ("" format).
func readInput(path, format string, stdin io.Reader) (*history.History, error) {
	name := displayName(path)
	var r *bufio.Reader
	if path == stdinName {
		r = bufio.NewReaderSize(stdin, sniffSize)
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = bufio.NewReaderSize(f, sniffSize)
	}
	if format == "" {
		head, err := r.Peek(sniffSize)
		if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if format = sniff(head); format == "" {
			format = formatHistory // its reader says what is wrong
		}
	}
	if read := foreignFormats[format]; read != nil {
		return read(r, name)
	}
	if path == stdinName {
		return history.Read(r, name)
	}
	return history.ReadFile(path)
}

const importUsage = `usage: shmlab import FORMAT FILE [--out OUT]

Converts a history of another tool into the history format
(history/HISTORY.md, "Other tools' histories"), written to standard output or to OUT.
FILE may be - for standard input. shmlab check reads these formats
directly too; import shows what it checks.

formats:
  jepsen        Jepsen register and cas-register histories (read, write,
                cas): EDN operation maps (history.edn), or jepsen.util log
                lines; model "register"
  porcupine-kv  porcupine's kv logs (get, put, append on string keys);
                model "kv"

examples:
  shmlab import jepsen history.edn --out run.jsonl
  shmlab import porcupine-kv c10-ok.txt | shmlab check -

flags:
`

func runImport(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("import")
	out := fs.String("out", "", "the file to write (default: standard output)")
	operands, err := parseArgs(fs, importUsage, args, stdout, stderr)
	if err != nil {
		return usageErr(err)
	}
	if len(operands) != 2 || foreignFormats[operands[0]] == nil {
		fmt.Fprintf(stderr, "shmlab import: want FORMAT FILE, FORMAT %s or %s (see --help)\n", formatJepsen, formatPorcupineKV)
		return exitBadInput
	}
	if *out != "" {
		if err := outputFile("--out", *out); err != nil {
			fmt.Fprintf(stderr, "shmlab import: %v\n", err)
			return exitBadInput
		}
	}
	h, err := readInput(operands[1], operands[0], stdin)
	if err != nil {
		fmt.Fprintf(stderr, "shmlab import: %v\n", err)
		return exitBadInput
	}
	if *out == "" {
		if err := h.Write(stdout); err != nil {
			fmt.Fprintf(stderr, "shmlab import: %v\n", err)
			return exitError
		}
		return exitOK
	}
	if err := replaceFile(*out, h.Write); err != nil {
		fmt.Fprintf(stderr, "shmlab import: %v\n", err)
		return exitError
	}
	return exitOK
}
