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
verdict decided again as the unsharded run decides it. Prints the table
(or --json), writes --junit, and exits as the unsharded run would.

It merges only a whole run: each shard's output ends with a line naming
the shard (I/N), the fingerprint of the run's configuration (the
scenarios' texts, --mode, --seed, --seeds; for sim its flags and file)
and its cells, and every one of the N shards must be there, once, each
complete (its end line after all its rows), of the same configuration
and N; an empty shard (no cells: more shards than cells) is complete
with its end line alone. Anything else exits 254 naming what is wrong:
a shard missing (a file empty, or cut short: the shard died), shards of
two runs (naming the two files), a seed in two shards (they overlap), a
row that shmlab could not have printed (at its file:line).

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
	if err := outputFile("--junit", *junit); err != nil {
		fmt.Fprintf(stderr, "shmlab merge: %v\n", err)
		return exitBadInput
	}
	var shards []shardRows
	for _, path := range files {
		ss, err := readShards(path, stdin)
		if err != nil {
			fmt.Fprintf(stderr, "shmlab merge: %v\n", err)
			return exitBadInput
		}
		shards = append(shards, ss...)
	}
	end, err := wholeRun(shards)
	if err != nil {
		fmt.Fprintf(stderr, "shmlab merge: %v\n", err)
		return exitBadInput
	}
	var rows []scenarios.Row
	for _, s := range shards {
		rows = append(rows, s.rows...)
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
	return worstExit(code, writeRows(merged, notes.String(), *asJSON, *junit, "merge", end, stdout, stderr))
}

// shardRows is one shard's output: its rows and its end line, and where
// they were read.
type shardRows struct {
	file  string
	rows  []scenarios.Row
	end   scenarios.RunEnd
	shard scenarios.Shard
}

// readShards reads the shards' outputs in the file at path (- for stdin):
// JSON lines, each a row or an end line (scenarios.RunEnd) that closes the
// rows before it; strictly: an unknown field, a row that is not valid,
// rows of another shard than their end line's, or rows with no end line
// after them are errors at their line.
func readShards(path string, stdin io.Reader) ([]shardRows, error) {
	r, name := stdin, stdinDisplay
	if path != stdinName {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r, name = f, path
	}
	var out []shardRows
	cur := shardRows{file: name}
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 64<<20)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		var probe map[string]json.RawMessage
		if err := json.Unmarshal([]byte(text), &probe); err != nil {
			return nil, fmt.Errorf("%s:%d: not a JSON row of shmlab run or sim: %v", name, line, err)
		}
		dec := json.NewDecoder(strings.NewReader(text))
		dec.DisallowUnknownFields()
		if _, isEnd := probe["end"]; isEnd {
			if err := dec.Decode(&cur.end); err != nil {
				return nil, fmt.Errorf("%s:%d: not the end line of a shard: %v", name, line, err)
			}
			if err := cur.close(name, line); err != nil {
				return nil, err
			}
			out = append(out, cur)
			cur = shardRows{file: name}
			continue
		}
		var row scenarios.Row
		if err := dec.Decode(&row); err != nil {
			return nil, fmt.Errorf("%s:%d: not a JSON row of shmlab run or sim: %v", name, line, err)
		}
		if err := row.Validate(); err != nil {
			return nil, fmt.Errorf("%s:%d: not a row shmlab printed: %v", name, line, err)
		}
		cur.rows = append(cur.rows, row)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	switch {
	case len(cur.rows) > 0:
		return nil, fmt.Errorf("%s:%d: %s with no end line after them: the shard did not finish (it died, or its output was cut short)", name, line, plural(len(cur.rows), "row"))
	case len(out) == 0:
		return nil, fmt.Errorf("%s: no rows and no end line: not the output of a shard that finished (it died before it printed, or it is not --json output)", name)
	}
	return out, nil
}

// close checks the end line just read, at line of file name, against the
// rows before it.
func (s *shardRows) close(name string, line int) error {
	e := s.end
	sh, err := scenarios.ParseShard(e.Shard)
	switch {
	case !e.End:
		return fmt.Errorf("%s:%d: an end line with end false", name, line)
	case err != nil:
		return fmt.Errorf("%s:%d: the end line's shard: %v", name, line, err)
	case e.Config == "":
		return fmt.Errorf("%s:%d: the end line has no config fingerprint", name, line)
	case e.Rows != len(s.rows):
		return fmt.Errorf("%s:%d: the end line of shard %s counts %d rows, but %d come before it", name, line, e.Shard, e.Rows, len(s.rows))
	case e.Cells < 0 || e.Cells > e.TotalCells:
		return fmt.Errorf("%s:%d: the end line of shard %s says %d of %d cells", name, line, e.Shard, e.Cells, e.TotalCells)
	}
	s.shard = sh
	cells := 0
	for i, r := range s.rows {
		if r.Shard != e.Shard || r.Config != e.Config {
			return fmt.Errorf("%s:%d: row %d is of shard %s, config %s, but its end line is of shard %s, config %s", name, line, i+1, r.Shard, r.Config, e.Shard, e.Config)
		}
		cells += r.Cells
	}
	if cells != e.Cells {
		return fmt.Errorf("%s:%d: the rows of shard %s have %d cells, but its end line says %d", name, line, e.Shard, cells, e.Cells)
	}
	return nil
}

// wholeRun checks that shards are the N shards of one run, each once,
// and returns the end line of the merged run (shard 1/1).
func wholeRun(shards []shardRows) (scenarios.RunEnd, error) {
	first := shards[0]
	byIndex := map[int]shardRows{}
	cells := 0
	for _, s := range shards {
		switch {
		case s.end.Config != first.end.Config:
			return scenarios.RunEnd{}, fmt.Errorf("%s (config %s) and %s (config %s) are shards of different runs: their scenarios, --mode, --seed or --seeds (sim: its flags or file) differ", first.file, first.end.Config, s.file, s.end.Config)
		case s.shard.N != first.shard.N:
			return scenarios.RunEnd{}, fmt.Errorf("%s (shard %s) and %s (shard %s) split the run into different numbers of shards", first.file, first.end.Shard, s.file, s.end.Shard)
		case s.end.TotalCells != first.end.TotalCells:
			return scenarios.RunEnd{}, fmt.Errorf("%s and %s count %d and %d cells in all", first.file, s.file, first.end.TotalCells, s.end.TotalCells)
		}
		if prev, ok := byIndex[s.shard.I]; ok {
			return scenarios.RunEnd{}, fmt.Errorf("shard %s is in %s and again in %s", s.end.Shard, prev.file, s.file)
		}
		byIndex[s.shard.I] = s
		cells += s.end.Cells
	}
	var missing []string
	for i := 1; i <= first.shard.N; i++ {
		if _, ok := byIndex[i]; !ok {
			missing = append(missing, fmt.Sprintf("%d/%d", i, first.shard.N))
		}
	}
	if len(missing) > 0 {
		return scenarios.RunEnd{}, fmt.Errorf("shard %s missing: a merge needs all %d shards of the run, each complete", strings.Join(missing, ", "), first.shard.N)
	}
	if cells != first.end.TotalCells {
		return scenarios.RunEnd{}, fmt.Errorf("the %d shards have %d cells, but the run has %d", first.shard.N, cells, first.end.TotalCells)
	}
	return runEnd(scenarios.Shard{}, first.end.Config, cells, cells), nil
}
