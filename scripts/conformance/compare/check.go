package main

import (
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
)

// Difference is one fact that is not the same in both containers; a
// missing fact is "".
type Difference struct {
	Fact, Docker, Mydocker string
}

// Compare lists the facts that differ, sorted by name.
func Compare(docker, mydocker Facts) []Difference {
	var diffs []Difference
	for fact, value := range docker {
		if mydocker[fact] != value {
			diffs = append(diffs, Difference{fact, value, mydocker[fact]})
		}
	}
	for fact, value := range mydocker {
		if _, ok := docker[fact]; !ok {
			diffs = append(diffs, Difference{fact, "", value})
		}
	}
	sort.Slice(diffs, func(i, j int) bool { return diffs[i].Fact < diffs[j].Fact })
	return diffs
}

// Known is one line of the differences file.
type Known struct {
	Line    int
	Pattern string // the fact, where * matches anything
	Reason  string
	match   *regexp.Regexp
}

// parseKnown reads the differences file: "FACT | REASON" a line; blank
// lines and lines starting with # are comments. Every line needs a reason.
func parseKnown(text string) ([]Known, error) {
	var list []Known
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		pattern, reason, ok := strings.Cut(line, "|")
		pattern, reason = strings.TrimSpace(pattern), strings.TrimSpace(reason)
		if !ok || pattern == "" || reason == "" {
			return nil, fmt.Errorf("line %d: want FACT | REASON, got %q", i+1, line)
		}
		re := "^" + strings.ReplaceAll(regexp.QuoteMeta(pattern), `\*`, ".*") + "$"
		list = append(list, Known{Line: i + 1, Pattern: pattern, Reason: reason, match: regexp.MustCompile(re)})
	}
	return list, nil
}

// Check prints every difference with its reason, then those no line
// explains and the lines that explain nothing. It reports whether there
// were none of either.
func Check(out io.Writer, diffs []Difference, known []Known, listFile string) bool {
	used := make([]bool, len(known))
	var unlisted []Difference
	fmt.Fprintf(out, "%d differences between Docker and mydocker:\n", len(diffs))
	for _, d := range diffs {
		reason := ""
		for i, k := range known {
			if k.match.MatchString(d.Fact) {
				used[i] = true
				if reason == "" {
					reason = k.Reason
				}
			}
		}
		if reason == "" {
			unlisted = append(unlisted, d)
			reason = "NOT LISTED"
		}
		fmt.Fprintf(out, "  %s: docker %s, mydocker %s\n      %s\n", d.Fact, show(d.Docker), show(d.Mydocker), reason)
	}
	var stale []Known
	for i, k := range known {
		if !used[i] {
			stale = append(stale, k)
		}
	}
	if len(unlisted) > 0 {
		fmt.Fprintf(out, "\n%d differences are not in %s; fix them, or list them with their reason:\n", len(unlisted), listFile)
		for _, d := range unlisted {
			fmt.Fprintf(out, "%s | \n", d.Fact)
		}
	}
	if len(stale) > 0 {
		fmt.Fprintf(out, "\n%d lines of %s match no difference any more; remove them:\n", len(stale), listFile)
		for _, k := range stale {
			fmt.Fprintf(out, "  line %d: %s\n", k.Line, k.Pattern)
		}
	}
	return len(unlisted) == 0 && len(stale) == 0
}

func show(value string) string {
	if value == "" {
		return "(none)"
	}
	return fmt.Sprintf("%q", value)
}
