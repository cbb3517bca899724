package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// replaceFile writes the file at path with write, through a temporary
// file in the same folder renamed over path at the end: a link planted at
// path is replaced, never followed, and a reader never sees half a file.
func replaceFile(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	err = write(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// outputFile checks, before anything runs, that a file can be written at
// path (the value of flag): it is not a folder, and its folder exists, is
// a folder and is writable. Its error names the flag (exit 254).
func outputFile(flag, path string) error {
	if path == "" {
		return nil
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("%s %s: is a folder, not a file", flag, path)
	}
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
		return fmt.Errorf("%s %s: its folder %s does not exist", flag, path, dir)
	case err != nil:
		return fmt.Errorf("%s %s: %w", flag, path, err)
	case !fi.IsDir():
		return fmt.Errorf("%s %s: %s is a file, not a folder", flag, path, dir)
	}
	if err := syscall.Access(dir, 2 /* W_OK */); err != nil {
		return fmt.Errorf("%s %s: its folder %s is not writable: %w", flag, path, dir, err)
	}
	return nil
}

// outputDir checks, before anything runs, that the folder dir (the value
// of flag) can be written to or made: it is a folder, or does not exist
// and the nearest folder above it that does is writable. It makes
// nothing. Its error names the flag (exit 254).
func outputDir(flag, dir string) error {
	if dir == "" {
		return fmt.Errorf("%s must name a folder", flag)
	}
	for p := dir; ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if (errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)) && filepath.Dir(p) != p {
			continue
		}
		switch {
		case err != nil:
			return fmt.Errorf("%s %s: %w", flag, dir, err)
		case !fi.IsDir() && p == dir:
			return fmt.Errorf("%s %s: is a file, not a folder", flag, dir)
		case !fi.IsDir():
			return fmt.Errorf("%s %s: %s is a file, not a folder", flag, dir, p)
		}
		if err := syscall.Access(p, 2 /* W_OK */); err != nil {
			return fmt.Errorf("%s %s: %s is not writable: %w", flag, dir, p, err)
		}
		return nil
	}
}
