package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/shmlab/shmlab/scenarios"
)

const mergeUsage = `usage: shmlab merge [flags] FILE...

Merges the JSON rows (--json) that the shards of one run printed (shmlab
run --shard I/N, shmlab sim --shard I/N; - reads standard input) into the
rows of the unsharded run: the rows of one scenario and mode become one,
their counts, seeds, failures, folders and repro lines joined and the
verdict decided again. Prints the table (or --json), writes --junit, and
exits as the unsharded run would. A seed in two shards' rows of one
scenario and mode is an error (the shards overlap), as is a file that is
not JSON rows.

examples:
  shmlab run --shard 1/2 --json > s1.jsonl; shmlab run --shard 2/2 --json > s2.jsonl
  shmlab merge --junit report.xml s1.jsonl s2.jsonl

flags:
`

func runMerge(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("merge", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print the merged rows as JSON lines instead of the table")
	junit := fs.String("junit", "", "also write the merged JUnit XML report to this file")
	files, err := parseArgs(fs, mergeUsage, args, stdout, stderr)
	if err != nil {
		return usageErr(err)
	}
	if len(files) == 0 {
		fmt.Fprintf(stderr, "shmlab merge: no files given (see --help)\n")
		return exitBadInput
	}
	var rows []scenarios.Row
	for _, path := range files {
		rs, err := readRows(path, stdin)
		if err != nil {
			fmt.Fprintf(stderr, "shmlab merge: %v\n", err)
			return exitBadInput
		}
		rows = append(rows, rs...)
	}
	merged, err := scenarios.MergeRows(rows)
	if err != nil {
		fmt.Fprintf(stderr, "shmlab merge: %v\n", err)
		return exitBadInput
	}
	code, ran := exitOK, 0
	var notes strings.Builder
	for _, r := range merged {
		if r.Verdict == "skipped" {
			fmt.Fprintf(&notes, "\n%s (%s): skipped: %s\n", r.Scenario, r.Mode, r.Skipped)
			continue
		}
		ran++
		code = worstExit(code, verdictExitCode(r.Verdict))
		for _, f := range r.Failures {
			fmt.Fprintf(&notes, "\n%s (%s) seed %d: %s\n", r.Scenario, r.Mode, f.Seed, strings.TrimRight(f.Message, "\n"))
			if f.Folder != "" {
				fmt.Fprintf(&notes, "folder: %s\nrepro: %s\n", f.Folder, f.Repro)
			}
		}
	}
	if ran == 0 {
		fmt.Fprintf(stderr, "shmlab merge: nothing ran in any shard\n")
		code = worstExit(code, exitBadInput)
	}
	return worstExit(code, writeRows(merged, notes.String(), *asJSON, *junit, "merge", stdout, stderr))
}

// readRows reads the JSON rows of the file at path (- for stdin), each
// line one row, strictly: an unknown field is an error at its line.
func readRows(path string, stdin io.Reader) ([]scenarios.Row, error) {
	r, name := stdin, stdinDisplay
	if path != stdinName {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r, name = f, path
	}
	var rows []scenarios.Row
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 64<<20)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		dec := json.NewDecoder(strings.NewReader(text))
		dec.DisallowUnknownFields()
		var row scenarios.Row
		if err := dec.Decode(&row); err != nil {
			return nil, fmt.Errorf("%s:%d: not a JSON row of shmlab run or sim: %v", name, line, err)
		}
		if row.Scenario == "" || row.Mode == "" || row.Expect == "" {
			return nil, fmt.Errorf("%s:%d: not a JSON row of shmlab run or sim: no scenario, mode or expect", name, line)
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return rows, nil
}
