package main

import (
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/shmlab/shmlab/scenarios"
)

const listUsage = `usage: shmlab list [FILE|DIR ...]

Lists scenarios, one line each (name, mode, target, expectation,
description): the bundled suite when no file is given. The target is
"reference" (shmlab's own master and workers) or "node:ADAPTER" (a
Node.js library, run in process mode only).

example:
  shmlab list scenarios/bundled/

flags:
`

func runList(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	files, err := parseArgs(newFlagSet("list"), listUsage, args, stdout, stderr)
	if err != nil {
		return usageErr(err)
	}
	scs, err := loadScenarios(files)
	if err != nil {
		fmt.Fprintf(stderr, "shmlab list: %v\n", err)
		return exitBadInput
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\tmode\ttarget\texpect\tdescription")
	for _, sc := range scs {
		mode, expect := sc.Mode, string(sc.Expect)
		if mode == "" {
			mode = scenarios.Both
		}
		if expect == "" {
			expect = string(scenarios.ExpectPass)
		}
		if sc.ExpectCheck != "" {
			expect += " (" + sc.ExpectCheck + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%v\t%s\t%s\n", sc.Name, mode, sc.Target, expect, sc.Description)
	}
	tw.Flush()
	return exitOK
}

// newFlagSet returns an empty flag set for a command without flags.
func newFlagSet(name string) *flag.FlagSet { return flag.NewFlagSet(name, flag.ContinueOnError) }
