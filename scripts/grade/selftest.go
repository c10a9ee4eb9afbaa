package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// selfTest proves a lab's grader both ways, with the lab's own tests only
// (the whole stage is run by make test already):
//
//   - the workspace as make lab writes it builds and vets;
//   - with one part cut at a time, that part's tests fail: each part is
//     graded by tests of its own, and the previous chapter's code, which
//     is what the stubs leave, does not pass them;
//   - graded with the book's own code, every one of those tests passes.
func selfTest(slug, image string) error {
	start := time.Now()
	l, err := findLab(slug, image)
	if err != nil {
		return err
	}
	reference, err := l.reference()
	if err != nil {
		return err
	}
	var problems []string
	check := func(what string, err error) {
		if err != nil {
			problems = append(problems, what+": "+err.Error())
		}
	}

	stubs := filepath.Join(l.work, "stubs")
	check("the workspace", l.writeWorkspace(stubs, ""))
	if len(problems) == 0 {
		check("the workspace", buildAndVet(stubs))
	}
	// Grading that workspace would run every part's tests once more with
	// every part cut: what the runs below prove part by part, at a minute
	// or more of CI for all the labs.
	for _, p := range l.Parts {
		dir := filepath.Join(l.work, "part-"+p.Name)
		err := l.writeWorkspace(dir, p.Name)
		if err == nil {
			err = l.expectFailures(reference, dir, p.Tests)
		}
		check("with only part "+p.Name+" cut", err)
	}
	res, err := l.run(reference, reference, filepath.Join(l.work, "tree"), runPattern(l.Tests()))
	check("the book's own code", err)
	if err == nil {
		var failed []string
		for _, t := range l.Tests() {
			if !res.passed(t) {
				failed = append(failed, t)
			}
		}
		if len(failed) > 0 || len(res.buildErr) > 0 {
			check("the book's own code", fmt.Errorf("these tests do not pass: %s %s", strings.Join(failed, ", "),
				strings.Join(res.buildErr, "\n")))
		} else {
			fmt.Printf("[lab %s] the book's code passes all %d tests of the lab\n", slug, len(l.Tests()))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("the grader of lab %s is not proven:\n  %s", slug, strings.Join(problems, "\n  "))
	}
	fmt.Printf("[lab %s] grader proven both ways in %s\n", slug, time.Since(start).Round(time.Second))
	return nil
}

// writeWorkspace writes the lab's workspace (with part, only that part cut)
// as make lab does, over the grader's earlier one.
func (l lab) writeWorkspace(dir, part string) error {
	args := []string{"./scripts/stagegen", "lab", l.Chapter, "-o", dir, "-reset"}
	if part != "" {
		args = append(args, "-part", part)
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	cmd := exec.Command(goBinary(), append([]string{"run"}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("stagegen lab: %v\n%s", err, out)
	}
	return nil
}

func buildAndVet(dir string) error {
	for _, args := range [][]string{{"build", "-trimpath", "./..."}, {"vet", "./..."}} {
		cmd := exec.Command(goBinary(), args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	return nil
}

// expectFailures grades workspace with tests only, and fails if any of them
// passes.
func (l lab) expectFailures(reference, workspace string, tests []string) error {
	res, err := l.run(reference, workspace, filepath.Join(l.work, "tree"), runPattern(tests))
	if err != nil {
		return err
	}
	if len(res.buildErr) > 0 {
		return fmt.Errorf("it does not build:\n%s", strings.Join(firstLines(res.buildErr, 10), "\n"))
	}
	var passed, failed []string
	for _, t := range tests {
		if res.passed(t) {
			passed = append(passed, t)
		} else {
			failed = append(failed, t)
		}
	}
	fmt.Printf("[lab %s] %s: fails %s\n", l.Chapter, filepath.Base(workspace), strings.Join(failed, ", "))
	if len(passed) > 0 {
		return fmt.Errorf("these tests pass although their part is a stub: %s", strings.Join(passed, ", "))
	}
	return nil
}

// runPattern is go test's -run for exactly these top-level tests.
func runPattern(tests []string) string {
	quoted := make([]string, len(tests))
	for i, t := range tests {
		quoted[i] = regexp.QuoteMeta(t)
	}
	return "^(" + strings.Join(quoted, "|") + ")$"
}
