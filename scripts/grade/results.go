package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// result is what became of one top-level test.
type result struct {
	name    string
	pkg     string
	outcome string   // pass, fail or skip; "" if it never ran
	output  []string // its lines of output
}

// results are the outcomes of one go test run, by test name, with the
// packages that did not build.
type results struct {
	tests    map[string]*result
	order    []string
	buildErr []string // the compiler's messages, for packages that did not build
	failed   []string // packages that failed outside any test (a panic, a TestMain)
}

// testEvent is one line of go test -json (go doc test2json).
type testEvent struct {
	Action     string
	Package    string
	ImportPath string
	Test       string
	Output     string
}

func parseTestEvents(out []byte) (results, error) {
	res := results{tests: map[string]*result{}}
	pkgOutput := map[string][]string{}
	sawTest := map[string]bool{}
	scanner := bufio.NewScanner(bytes.NewReader(out))
	scanner.Buffer(make([]byte, 1<<20), 1<<24)
	for scanner.Scan() {
		var e testEvent
		if err := json.Unmarshal(scanner.Bytes(), &e); err != nil {
			continue // not an event: go test printed something of its own
		}
		top, _, _ := strings.Cut(e.Test, "/")
		switch {
		case e.Action == "build-output":
			res.buildErr = append(res.buildErr, strings.TrimRight(e.Output, "\n"))
		case top == "" && e.Action == "output":
			pkgOutput[e.Package] = append(pkgOutput[e.Package], strings.TrimRight(e.Output, "\n"))
		case top == "" && e.Action == "fail" && !sawTest[e.Package]:
			res.failed = append(res.failed, e.Package)
		case top != "":
			sawTest[e.Package] = true
			r := res.test(top, e.Package)
			if e.Action == "output" {
				r.output = append(r.output, strings.TrimRight(e.Output, "\n"))
			}
			if e.Test == top && (e.Action == "pass" || e.Action == "fail" || e.Action == "skip") {
				r.outcome = e.Action
			}
		}
	}
	for _, pkg := range res.failed {
		// A package that fails without a test failing: its own output says why.
		res.buildErr = append(res.buildErr, pkgOutput[pkg]...)
	}
	return res, scanner.Err()
}

func (res *results) test(name, pkg string) *result {
	r, ok := res.tests[name]
	if !ok {
		r = &result{name: name, pkg: pkg}
		res.tests[name] = r
		res.order = append(res.order, name)
	}
	return r
}

func (res results) allPassed() bool {
	if len(res.buildErr) > 0 || len(res.failed) > 0 || len(res.tests) == 0 {
		return false
	}
	for _, r := range res.tests {
		if r.outcome != "pass" && r.outcome != "skip" {
			return false
		}
	}
	return true
}

// passed reports whether test ran and passed.
func (res results) passed(test string) bool {
	r, ok := res.tests[test]
	return ok && r.outcome == "pass"
}

// testDocs reads the first sentence of each test's doc comment, in plain
// words, from the book's test files in tree.
func testDocs(tree string) (map[string]string, error) {
	docs := map[string]string{}
	err := filepath.WalkDir(filepath.Join(tree, "mydocker"), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ParseComments)
		if err != nil {
			return nil // the scoreboard only loses a description
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if ok && fn.Doc != nil && strings.HasPrefix(fn.Name.Name, "Test") {
				docs[fn.Name.Name] = firstSentence(fn.Doc.Text())
			}
		}
		return nil
	})
	return docs, err
}

func firstSentence(text string) string {
	var p doc.Package
	s := p.Synopsis(text)
	return strings.TrimSuffix(s, ".")
}

// printScoreboard prints one line per test: the lab's parts first, then the
// rest of the stage, and the score.
func printScoreboard(w io.Writer, l lab, res results, docs map[string]string) {
	fmt.Fprintf(w, "\nLab: chapter %d, %s (labs/%s/README.md)\n", l.chapter.Number, l.chapter.Title, l.chapter.Dir())
	if len(res.buildErr) > 0 {
		fmt.Fprintln(w, "\nThe code does not build, or a test package failed before its tests:")
		for _, line := range firstLines(res.buildErr, 20) {
			fmt.Fprintln(w, "    "+line)
		}
	}
	shown := map[string]bool{}
	passed, total := 0, 0
	line := func(name string) {
		shown[name] = true
		total++
		r := res.tests[name]
		status := "FAIL"
		switch {
		case r == nil:
			status = "----" // did not run: its package did not build, or it is missing
		case r.outcome == "pass":
			status = "PASS"
		case r.outcome == "skip":
			status = "SKIP"
		}
		if status == "PASS" || status == "SKIP" {
			passed++
		}
		fmt.Fprintf(w, "  %s  %-44s %s\n", status, name, clip(docs[name], 90))
		if r != nil && r.outcome == "fail" {
			for _, out := range relevantLines(r.output, 6) {
				fmt.Fprintln(w, "          | "+clip(out, 120))
			}
		}
	}
	for i, p := range l.Parts {
		fmt.Fprintf(w, "\nPart %d, %s: %s\n", i+1, p.Name, p.Title)
		for _, t := range p.Tests {
			if !shown[t] {
				line(t)
			}
		}
	}
	var rest []string
	for _, name := range res.order {
		if !shown[name] {
			rest = append(rest, name)
		}
	}
	if len(rest) > 0 {
		slices.Sort(rest)
		fmt.Fprintln(w, "\nThe rest of the stage: this chapter's other tests and the earlier chapters', to catch a regression")
		for _, name := range rest {
			line(name)
		}
	}
	fmt.Fprintf(w, "\nScore: %d/%d\n", passed, total)
	if passed == total && len(res.buildErr) == 0 {
		fmt.Fprintln(w, "Every test passes: compare your code with the book's (make diff CH="+l.Chapter+") and try the lab's \"going further\".")
	}
}

// relevantLines picks a failed test's own messages out of its output: the
// assertions' text, without go test's bookkeeping.
func relevantLines(output []string, n int) []string {
	var keep []string
	for _, line := range output {
		t := strings.TrimSpace(line)
		switch {
		case t == "", strings.HasPrefix(t, "=== "), strings.HasPrefix(t, "--- "),
			strings.HasPrefix(t, "Error Trace:"), strings.HasPrefix(t, "Test:"):
			continue
		}
		keep = append(keep, t)
	}
	return firstLines(keep, n)
}

func firstLines(lines []string, n int) []string {
	if len(lines) > n {
		return append(lines[:n:n], "...")
	}
	return lines
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n-3] + "..."
	}
	return s
}
