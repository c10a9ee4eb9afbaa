package main

import (
	"fmt"
	"os"
	"regexp"
	"strings"
)

// block is one ```console block of a text: the commands a reader types and
// what they print.
type block struct {
	file   string
	line   int    // of the opening fence, 1-based
	skip   string // why the block is not run ("" if it is)
	cgroup string // "v1" or "v2": the cgroup version the block needs ("" for either)
	// elsewhere: skipped because it needs the other cgroup version
	elsewhere bool
	commands  []command
	// start and end are the indexes, in the file's lines, of the block's
	// first and last line inside the fences (for rewriting).
	start, end int
}

// command is one "$ ..." line (with its continuation lines) and the
// output expected after it.
type command struct {
	text   string   // the command, without "$ ", continuation lines joined with "\n"
	output []string // expected lines
	line   int      // of the "$ " line, 1-based
}

// directive is the HTML comment that may come right before a block:
// <!-- transcript: not run: REASON --> or <!-- transcript: cgroup v2 -->.
var directive = regexp.MustCompile(`^<!-- transcript: (.*) -->$`)

// parseFile reads every console block of a Markdown file.
func parseFile(path string) ([]block, []string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	lines := strings.Split(string(data), "\n")
	var blocks []block
	for i := 0; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != "```console" {
			continue
		}
		b := block{file: path, line: i + 1, start: i + 1}
		if m := directive.FindStringSubmatch(previousNonBlank(lines, i)); m != nil {
			if err := b.applyDirective(m[1]); err != nil {
				return nil, nil, fmt.Errorf("%s:%d: %w", path, i, err)
			}
		}
		j := i + 1
		for j < len(lines) && strings.TrimSpace(lines[j]) != "```" {
			j++
		}
		b.end = j - 1
		b.commands = parseCommands(lines[i+1:j], i+2)
		blocks = append(blocks, b)
		i = j
	}
	return blocks, lines, nil
}

// applyDirective takes the directive right before a block: why it is not
// run, or the cgroup version it needs (the checker runs a v2 block only on
// a cgroup v2 host, such as the test VM, and a v1 block only on a v1 one).
func (b *block) applyDirective(arg string) error {
	if version, ok := strings.CutPrefix(arg, "cgroup "); ok {
		if version != "v1" && version != "v2" {
			return fmt.Errorf("write the directive as <!-- transcript: cgroup v1 --> or <!-- transcript: cgroup v2 -->")
		}
		b.cgroup = version
		return nil
	}
	reason, ok := strings.CutPrefix(arg, "not run: ")
	if !ok || strings.TrimSpace(reason) == "" {
		return fmt.Errorf("write the directive as <!-- transcript: not run: REASON -->, or <!-- transcript: cgroup v2 -->")
	}
	b.skip = reason
	return nil
}

func previousNonBlank(lines []string, i int) string {
	for k := i - 1; k >= 0; k-- {
		if strings.TrimSpace(lines[k]) != "" {
			return strings.TrimSpace(lines[k])
		}
	}
	return ""
}

// parseCommands splits a block's lines into commands. A command whose
// quotes are still open at the end of its line goes on to the next lines,
// as in a shell.
func parseCommands(lines []string, firstLine int) []command {
	var cmds []command
	for i := 0; i < len(lines); i++ {
		text, ok := strings.CutPrefix(lines[i], "$ ")
		if !ok {
			if lines[i] == "$" { // an empty prompt: a command that printed nothing before
				cmds = append(cmds, command{line: firstLine + i})
				continue
			}
			if len(cmds) > 0 {
				cmds[len(cmds)-1].output = append(cmds[len(cmds)-1].output, lines[i])
			}
			continue
		}
		c := command{text: text, line: firstLine + i}
		for openQuote(c.text) && i+1 < len(lines) {
			i++
			c.text += "\n" + lines[i]
		}
		cmds = append(cmds, c)
	}
	return cmds
}

// openQuote reports whether a shell text ends inside single or double quotes.
func openQuote(s string) bool {
	var quote rune
	escaped := false
	for _, r := range s {
		switch {
		case escaped:
			escaped = false
		case r == '\\' && quote != '\'':
			escaped = true
		case quote == 0 && (r == '\'' || r == '"'):
			quote = r
		case r == quote:
			quote = 0
		}
	}
	return quote != 0
}

// textInfo is what a text's own directives ask of the checker.
type textInfo struct {
	interactive bool        // <!-- transcript: interactive -->: one interactive shell for the text
	files       []savedFile // <!-- transcript: file PATH -->, before a fenced block
}

// savedFile is a fenced block of the text that the reader saves as a file.
type savedFile struct {
	path    string
	content string
}

// parseTextInfo finds a text's directives other than "not run".
func parseTextInfo(lines []string) (textInfo, error) {
	var info textInfo
	for i, line := range lines {
		m := directive.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		switch arg := m[1]; {
		case arg == "interactive":
			info.interactive = true
		case strings.HasPrefix(arg, "file "):
			path := strings.TrimSpace(strings.TrimPrefix(arg, "file "))
			j := i + 1
			for j < len(lines) && strings.TrimSpace(lines[j]) == "" {
				j++
			}
			if j >= len(lines) || !strings.HasPrefix(lines[j], "```") {
				return info, fmt.Errorf("line %d: <!-- transcript: file %s --> must come right before a fenced block", i+1, path)
			}
			k := j + 1
			for k < len(lines) && strings.TrimSpace(lines[k]) != "```" {
				k++
			}
			info.files = append(info.files, savedFile{path: path, content: strings.Join(lines[j+1:k], "\n") + "\n"})
		}
	}
	return info, nil
}
