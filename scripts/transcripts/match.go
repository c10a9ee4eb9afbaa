package main

import (
	"regexp"
	"strings"
)

// placeholders are the named parts of a line that change from run to run.
// Each reads as what it stands for, so the text stays readable.
var placeholders = map[string]string{
	"[..]":       `.*?`,                 // any text, within the line
	"<ID>":       `[0-9a-f]{64}`,        // a container's id
	"<DIGEST>":   `[0-9a-f]{64}`,        // an image layer's sha256
	"<SHORT-ID>": `[0-9a-f]{12}`,        // its first 12 digits (hostname, prefixes)
	"<PID>":      `[0-9]+`,              // a process id
	"<N>":        `-?[0-9]+(\.[0-9]+)?`, // any number
	"<INODE>":    `[0-9]+`,              // an inode number, as namespaces show them
}

// moreLines, alone on an expected line, stands for any number of lines,
// none included.
const moreLines = "..."

var tokenPattern = regexp.MustCompile(`\[\.\.\]|<ID>|<DIGEST>|<SHORT-ID>|<PID>|<N>|<INODE>`)

// linePattern compiles one expected line.
func linePattern(expected string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	last := 0
	for _, loc := range tokenPattern.FindAllStringIndex(expected, -1) {
		b.WriteString(regexp.QuoteMeta(expected[last:loc[0]]))
		b.WriteString(placeholders[expected[loc[0]:loc[1]]])
		last = loc[1]
	}
	b.WriteString(regexp.QuoteMeta(expected[last:]))
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

// matchLines reports whether actual matches expected, and else the index
// of the first expected line that could not be matched (len(expected) when
// actual has lines left over).
func matchLines(expected, actual []string) (bool, int) {
	patterns := make([]*regexp.Regexp, len(expected))
	for i, e := range expected {
		if e != moreLines {
			patterns[i] = linePattern(spaced(e))
		}
	}
	normalized := make([]string, len(actual))
	for i, a := range actual {
		normalized[i] = spaced(a)
	}
	actual = normalized
	furthest := 0
	var match func(i, j int) bool
	match = func(i, j int) bool {
		furthest = max(furthest, i)
		if i == len(expected) {
			return j == len(actual)
		}
		if expected[i] == moreLines {
			for k := j; k <= len(actual); k++ {
				if match(i+1, k) {
					return true
				}
			}
			return false
		}
		return j < len(actual) && patterns[i].MatchString(actual[j]) && match(i+1, j+1)
	}
	if match(0, 0) {
		return true, 0
	}
	return false, furthest
}

// fixLines is what a rewrite puts in the text for a command: the actual
// lines, except that a line the expected one (with its placeholders)
// already matches keeps its expected form.
func fixLines(expected, actual []string) []string {
	out := make([]string, len(actual))
	for j, a := range actual {
		out[j] = a
		if j < len(expected) && expected[j] != moreLines && linePattern(spaced(expected[j])).MatchString(spaced(a)) {
			out[j] = expected[j]
		}
	}
	return out
}

// spaced is a line as it is compared: the spaces and tabs that align
// columns (which move when a PID has one digit more) count as one space,
// and those at either end not at all.
func spaced(line string) string {
	return strings.Join(strings.Fields(line), " ")
}
