package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/shmlab/shmlab/node"
)

// defaultAdapterFile is where init-adapter writes without an operand.
const defaultAdapterFile = "shmlab-adapter.js"

// runInitAdapter writes the commented adapter template (node/template)
// to FILE (shmlab-adapter.js if none; - for standard output). It never
// overwrites a file.
func runInitAdapter(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs0 := newFlagSet("init-adapter")
	operands, err := parseArgs(fs0, "usage: shmlab init-adapter [FILE]\n\nWrites a commented adapter template for a Node.js library to FILE\n("+defaultAdapterFile+" if none, - for standard output); an existing file is\nleft alone. See node/README.md: check your library in ten minutes.\n\nflags:\n", args, stdout, stderr)
	if err != nil {
		return usageErr(err)
	}
	if len(operands) > 1 {
		fmt.Fprintf(stderr, "shmlab init-adapter: one FILE at most, got %d\n", len(operands))
		return exitBadInput
	}
	path := defaultAdapterFile
	if len(operands) == 1 {
		path = operands[0]
	}
	if path == "-" {
		stdout.Write(node.Template())
		return exitOK
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		fmt.Fprintf(stderr, "shmlab init-adapter: %s exists: left alone (remove it, or name another file)\n", path)
		return exitBadInput
	}
	if err != nil {
		fmt.Fprintf(stderr, "shmlab init-adapter: %v\n", err)
		return exitBadInput
	}
	_, err = f.Write(node.Template())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintf(stderr, "shmlab init-adapter: %v\n", err)
		return exitError
	}
	fmt.Fprintf(stdout, "wrote %s: fill in master() and worker(), then see node/README.md\n", path)
	return exitOK
}
