package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// diffStage writes the unified diff from the previous chapter's stage to
// slug's stage: what the chapter adds and changes. Paths read a/... and
// b/..., relative to the stage roots.
func diffStage(b book, slug string, out io.Writer) error {
	prev, err := b.previous(slug)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "stagegen-diff-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	before, after := filepath.Join(tmp, "a"), filepath.Join(tmp, "b")
	if prev == "" {
		err = os.Mkdir(before, 0o755) // the first chapter starts from nothing
	} else {
		err = writeStage(b, prev, before)
	}
	if err != nil {
		return err
	}
	if err := writeStage(b, slug, after); err != nil {
		return err
	}
	// The files that name the stage differ in every pair of stages.
	for _, dir := range []string{before, after} {
		for _, name := range []string{stageFile, filepath.Join(sourceDir, stageGoFile)} {
			if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
				return err
			}
		}
	}
	return runDiff(tmp, out)
}

// runDiff runs diff from the folder that holds a and b, so that the paths in
// its output are a/... and b/....
func runDiff(dir string, out io.Writer) error {
	cmd := exec.Command("diff", "-ruN", "a", "b")
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	text, err := cmd.Output()
	var exit *exec.ExitError
	// diff exits 1 when the trees differ, which is the normal case here.
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 1) {
		return fmt.Errorf("running diff -ruN failed (is diffutils installed?): %v %s", err, stderr.String())
	}
	_, err = io.WriteString(out, dropTimestamps(string(text)))
	return err
}

// dropTimestamps removes the modification times from the ---/+++ header
// lines: they change on every run and mean nothing for generated trees, and
// without them the diff printed in the book is the same every time.
func dropTimestamps(diff string) string {
	var b strings.Builder
	inHeader := false
	scanner := bufio.NewScanner(strings.NewReader(diff))
	scanner.Buffer(nil, 1<<24)
	for scanner.Scan() {
		line := scanner.Text()
		switch {
		case strings.HasPrefix(line, "diff "):
			inHeader = true
		case strings.HasPrefix(line, "@@"):
			inHeader = false
		case inHeader && (strings.HasPrefix(line, "--- ") || strings.HasPrefix(line, "+++ ")):
			line, _, _ = strings.Cut(line, "\t")
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}
