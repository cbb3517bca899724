package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// parseArgs parses args with fs, flags and operands in any order, and
// returns the operands; "--" ends the flags. On -h or --help it prints
// the usage (head, then fs's flags) to stdout and returns flag.ErrHelp;
// on a bad flag, the error (as the flag package words it) and a line
// pointing at --help to stderr, and the error.
func parseArgs(fs *flag.FlagSet, head string, args []string, stdout, stderr io.Writer) ([]string, error) {
	fs.SetOutput(stderr) // where fs reports a bad flag
	fs.Usage = func() {} // printed below, to the right writer
	operands, err := parseInterspersed(fs, args)
	switch {
	case err == flag.ErrHelp:
		printUsage(fs, head, stdout)
	case err != nil:
		fmt.Fprintf(stderr, "run 'shmlab %s --help' for usage\n", fs.Name())
	}
	return operands, err
}

// printUsage writes head, then the defaults of fs's flags, to w.
func printUsage(fs *flag.FlagSet, head string, w io.Writer) {
	defer fs.SetOutput(fs.Output())
	fs.SetOutput(w)
	fmt.Fprint(w, head)
	fs.PrintDefaults()
	fmt.Fprint(w, "\n"+exitCodesHelp)
}

// parseInterspersed parses args with fs, taking each operand out and
// parsing on after it, and returns the operands in order. Everything
// after a "--" in the place of a flag is an operand.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var operands []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		switch {
		case len(rest) == 0:
			return operands, nil
		case endsWithDashes(fs, args[:len(args)-len(rest)]):
			return append(operands, rest...), nil
		}
		operands = append(operands, rest[0])
		args = rest[1:]
	}
}

// endsWithDashes reports whether flagArgs, the arguments one fs.Parse
// consumed, end with a "--" that ended the flags rather than with one
// that is the value of a flag (as in --out --).
func endsWithDashes(fs *flag.FlagSet, flagArgs []string) bool {
	for i := 0; i < len(flagArgs); i++ {
		if flagArgs[i] == "--" {
			return true
		}
		if takesValue(fs, flagArgs[i]) {
			i++ // skip the value
		}
	}
	return false
}

// takesValue reports whether arg, a flag fs parsed, took the next
// argument as its value: a flag of fs other than a boolean one, without
// "=value".
func takesValue(fs *flag.FlagSet, arg string) bool {
	name := strings.TrimPrefix(strings.TrimPrefix(arg, "-"), "-")
	if strings.Contains(name, "=") {
		return false
	}
	f := fs.Lookup(name)
	if f == nil {
		return false
	}
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return !ok || !b.IsBoolFlag()
}
