// Command shmlab verifies "shared memory over IPC": it benchmarks the
// reference implementation (and, as the toolkit grows, runs scenarios and
// checks histories).
//
// Usage:
//
//	shmlab bench [flags]          measure the reference against a raw floor
//	shmlab check [flags] FILE...  check history files (- reads standard input)
//	shmlab import FORMAT FILE     convert a Jepsen history or porcupine kv log
//	shmlab run [flags] [FILE...]  run scenarios (the bundled suite by default)
//	shmlab list [FILE...]         list scenarios
//	shmlab replay DIR             run a run folder of the store again, by its fault log
//	shmlab zoo [flags]            catch every bug-zoo variant in both modes
//	shmlab sim [flags] [FILE]     run the deterministic simulator over seeds
//	shmlab merge [flags] FILE...  merge shards' JSON rows into one verdict
//	shmlab init-adapter [FILE]    write a Node.js adapter template
//	shmlab version                print the version (also shmlab --version)
//
// Exit codes, the same in every command, as Jepsen's: 0 valid, 1 invalid
// (a violation, or an expectation not met), 2 unknown (a check that could
// not decide), 254 bad input or arguments, 255 the tool broke (ERROR: a
// run that could not be done). When several apply, the first of 254, 1,
// 255, 2 wins: a violation stands however other runs went.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/shmlab/shmlab/scenarios"
	"github.com/shmlab/shmlab/shm"
)

// Exit codes, as Jepsen uses them.
const (
	exitOK       = 0   // valid: everything met its expectation
	exitInvalid  = 1   // invalid: a violation, or an expectation not met
	exitUnknown  = 2   // unknown: a check could not decide
	exitBadInput = 254 // bad input or arguments: nothing (or not all) could be read
	exitError    = 255 // the tool broke: a run could not be done (ERROR)
)

// exitCodesHelp documents the exit codes, for every command's --help.
const exitCodesHelp = `exit status (every command): 0 valid, 1 invalid (a violation, or an
expectation not met), 2 unknown (a check could not decide), 254 bad input
or arguments, 255 the tool broke (ERROR: a run could not be done). When
several apply: 254, then 1, then 255, then 2.
`

// worstExit returns the one of a and b that wins: bad input, then
// invalid, then an error, then unknown, then valid.
func worstExit(a, b int) int {
	rank := map[int]int{exitOK: 0, exitUnknown: 1, exitError: 2, exitInvalid: 3, exitBadInput: 4}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

type command struct {
	name    string
	summary string
	run     func(args []string, stdin io.Reader, stdout, stderr io.Writer) int
}

var commands = []command{
	{"bench", "measure the reference get/set against a raw floor over the same pipe", runBench},
	{"check", "check history files: linearizability, session guarantees, invariants", runCheck},
	{"import", "convert a Jepsen history or a porcupine kv log into the history format", runImport},
	{"run", "run scenario files (or the bundled suite) on processes and in the simulator", runRun},
	{"list", "list the bundled scenarios (or the files given), one line each", runList},
	{"replay", "run a run folder of the store again, its faults decided by its saved log", runReplay},
	{"zoo", "show that every broken variant of the reference is caught, in both modes", runZoo},
	{"sim", "run the deterministic simulator over seeds, shrink and save failures", runSim},
	{"merge", "merge the JSON rows of shards (run --shard) into one table, JUnit file and exit code", runMerge},
	{"init-adapter", "write a commented adapter template for a Node.js library", runInitAdapter},
	{"version", "print the shmlab version, VCS revision and Go version (also: shmlab --version)", runVersion},
}

func main() {
	shm.Main() // a re-executed worker runs its body here and exits
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run runs the command args name, with its flags and operands, and
// returns the exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 && (args[0] == "--version" || args[0] == "-version") {
		return runVersion(args[1:], stdin, stdout, stderr)
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return exitBadInput
		}
		return exitOK
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(args[1:], stdin, stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "shmlab: unknown command %q\n", args[0])
	usage(stderr)
	return exitBadInput
}

// runVersion prints the build: shmlab's version and VCS revision as the
// Go toolchain stamped them, and the Go version.
func runVersion(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	if _, err := parseArgs(newFlagSet("version"), "usage: shmlab version\n\nPrints the shmlab version, its VCS revision and the Go version.\n\nflags:\n", args, stdout, stderr); err != nil {
		return usageErr(err)
	}
	if len(args) > 0 {
		fmt.Fprintf(stderr, "shmlab version: takes no operands\n")
		return exitBadInput
	}
	fmt.Fprintln(stdout, scenarios.BuildInfo())
	return exitOK
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: shmlab <command> [flags]\n\ncommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'shmlab <command> --help' for a command's flags.")
	fmt.Fprint(w, "\n"+exitCodesHelp)
}
