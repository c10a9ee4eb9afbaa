package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/mydocker-book/mydocker/chapters"
)

const (
	readmeFile  = "README.md"
	tableBegin  = "<!-- chapters:begin -->"
	tableEnd    = "<!-- chapters:end -->"
	chapterText = "README.md" // each chapter's text, inside its folder under chapters/
)

// chapterTextPath is where a chapter's text lives, relative to the root.
func chapterTextPath(c chapters.Chapter) string {
	return "chapters/" + c.Dir() + "/" + chapterText
}

// chapterTable renders the chapter list as the Markdown table of README.md.
// A title links to the chapter's text once that text exists, and a chapter
// with a lab links to it, with its level and time.
func chapterTable(b book) []string {
	lines := []string{"| # | Chapter | Slug | Status | Lab |", "| --- | --- | --- | --- | --- |"}
	for _, c := range b.chapters {
		title := strings.ReplaceAll(c.Title, "|", `\|`) // a bare | would end the cell
		if _, err := os.Stat(filepath.Join(b.root, chapterTextPath(c))); err == nil {
			title = fmt.Sprintf("[%s](%s)", title, chapterTextPath(c))
		}
		status := string(c.Status)
		switch c.Status {
		case chapters.Written:
			status = "written: code, tests, text"
		case chapters.Code:
			status = "code and tests; text to follow"
		}
		lab := ""
		if l, err := b.lab(c.Slug); err == nil {
			lab = fmt.Sprintf("[%s, %s min](%s)", l.Level, l.Minutes, labReadme(c))
		}
		lines = append(lines, fmt.Sprintf("| %d | %s | `%s` | %s | %s |", c.Number, title, c.Slug, status, lab))
	}
	return lines
}

// updateReadme compares the table in README.md with the chapter list. With
// write it rewrites the table; without, a stale table is an error. It
// reports whether the table was out of date.
func updateReadme(b book, write bool) (stale bool, err error) {
	path := filepath.Join(b.root, readmeFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return false, fmt.Errorf("%s must exist and hold the chapter table: %w", readmeFile, err)
	}
	lines := strings.Split(string(data), "\n")
	begin, end := indexOfLine(lines, tableBegin, 0), -1
	if begin >= 0 {
		end = indexOfLine(lines, tableEnd, begin+1)
	}
	if begin < 0 || end < 0 {
		return false, errors.New(readmeFile + " must contain the lines " + tableBegin + " and " + tableEnd +
			" (in that order); stagegen writes the chapter table between them")
	}
	table := chapterTable(b)
	if strings.Join(lines[begin+1:end], "\n") == strings.Join(table, "\n") {
		return false, nil
	}
	if !write {
		return true, fmt.Errorf("%s:%d: the chapter table is out of date (it follows chapters/chapters.json "+
			"and which chapter texts exist): run `make readme`",
			readmeFile, begin+1)
	}
	updated := append(append(append([]string{}, lines[:begin+1]...), table...), lines[end:]...)
	return true, os.WriteFile(path, []byte(strings.Join(updated, "\n")), 0o644)
}

// indexOfLine finds the first line from start on that equals want, ignoring
// surrounding spaces; -1 if there is none.
func indexOfLine(lines []string, want string, start int) int {
	for i := start; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) == want {
			return i
		}
	}
	return -1
}
