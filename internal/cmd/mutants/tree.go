package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// skipped are the module root's entries a mutant's copy leaves out: the
// repository, built binaries, and what runs leave behind.
var skipped = map[string]bool{".git": true, "bin": true, "shmlab-store": true, "shmlab-failures": true, "out": true}

// CopyTree copies the module tree at root to dst (which must not exist),
// leaving out the entries of skipped at its top. Symbolic links are
// copied as links; other special files are refused.
func CopyTree(root, dst string) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		if top, _, _ := strings.Cut(rel, string(filepath.Separator)); skipped[top] {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		to := filepath.Join(dst, rel)
		switch t := d.Type(); {
		case d.IsDir():
			return os.Mkdir(to, 0o755)
		case t&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(target, to)
		case t.IsRegular():
			return copyFile(p, to)
		default:
			return fmt.Errorf("%s: not a regular file, folder or link", p)
		}
	})
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, st.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// ErrPatch is wrapped by the error of a patch that does not apply.
var ErrPatch = errors.New("patch does not apply")

// ApplyPatch applies the unified diff in patch (a path) to the tree at
// dir, all or nothing (git apply, which ignores the header lines before
// the diff). A patch that does not apply exactly is an error wrapping
// ErrPatch, with git's words.
func ApplyPatch(ctx context.Context, dir, patch string) error {
	abs, err := filepath.Abs(patch)
	if err != nil {
		return err
	}
	for _, args := range [][]string{{"apply", "--check", abs}, {"apply", abs}} {
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Dir = dir
		// Outside any repository: git apply then works on the files as patch(1) does.
		cmd.Env = append(os.Environ(), "GIT_CEILING_DIRECTORIES="+filepath.Dir(dir))
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s: %w: %s", patch, ErrPatch, strings.TrimSpace(out.String()))
		}
	}
	return nil
}

// ErrBuild is wrapped by the error of a tree whose shmlab does not build.
var ErrBuild = errors.New("shmlab does not build")

// Build builds cmd/shmlab of the tree at dir into bin. With -trimpath,
// copies in different folders share the build cache: only the packages a
// patch changes, and those above them, are compiled again.
func Build(ctx context.Context, dir, bin string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-buildvcs=false", "-trimpath", "-o", bin, "./cmd/shmlab")
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%w: %v: %s", ErrBuild, err, strings.TrimSpace(out.String()))
	}
	return nil
}
