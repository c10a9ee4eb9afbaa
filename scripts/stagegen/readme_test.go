package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mydocker-book/mydocker/chapters"
	"github.com/mydocker-book/mydocker/labs"
)

func TestChapterTable(t *testing.T) {
	b := fakeBook(t) // only chapter a has a text, and b a lab
	b.labs = []labs.Lab{{Chapter: "b", Level: "beginner", Minutes: "30-45"}}
	assert.Equal(t, []string{
		"| # | Chapter | Slug | Status | Lab |",
		"| --- | --- | --- | --- | --- |",
		"| 1 | [Alpha](chapters/01-a/README.md) | `a` | written: code, tests, text |  |",
		"| 2 | Beta \\| two | `b` | written: code, tests, text | [beginner, 30-45 min](labs/02-b/README.md) |",
		"| 3 | Gamma | `c` | planned |  |",
	}, chapterTable(b))
}

// withCodeChapter is the fake book with a fourth chapter, d, whose code
// and tests exist but whose text does not.
func withCodeChapter(t *testing.T) book {
	b := fakeBook(t)
	b.chapters = append(b.chapters, chapters.Chapter{Number: 4, Slug: "d", Title: "Delta", Status: chapters.Code})
	return b
}

func TestChapterTableShowsACodeChapter(t *testing.T) {
	table := chapterTable(withCodeChapter(t))
	assert.Equal(t, "| 4 | Delta | `d` | code and tests; text to follow |  |", table[len(table)-1])
}

// A chapter with status code is tested (make test, test-vm and bench read
// --tested) but it is not written.
func TestChaptersTestedListsCodeChaptersAndWrittenDoesNot(t *testing.T) {
	b := withCodeChapter(t)
	var out strings.Builder
	require.NoError(t, run(b, []string{"chapters", "--tested"}, &out, io.Discard))
	assert.Equal(t, "a\nb\nd\n", out.String())

	out.Reset()
	require.NoError(t, run(b, []string{"chapters", "--written"}, &out, io.Discard))
	assert.Equal(t, "a\nb\n", out.String())

	out.Reset()
	require.NoError(t, run(b, []string{"chapters"}, &out, io.Discard))
	assert.Equal(t, "a\nb\nc\nd\n", out.String())

	assert.ErrorContains(t, run(b, []string{"chapters", "--written", "--tested"}, &out, io.Discard), "not both")
}

func TestReadmeCheckAndRewrite(t *testing.T) {
	b := fakeBook(t)
	stale, err := updateReadme(b, false)
	assert.True(t, stale)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "README.md:3:")
	assert.Contains(t, err.Error(), "make readme")

	_, err = updateReadme(b, true)
	require.NoError(t, err)
	want := "# A test book\n\n<!-- chapters:begin -->\n" + strings.Join(chapterTable(b), "\n") +
		"\n<!-- chapters:end -->\n\nThe end.\n"
	assert.Equal(t, want, readFile(t, filepath.Join(b.root, "README.md")))

	stale, err = updateReadme(b, false)
	assert.False(t, stale)
	assert.NoError(t, err)
}

func TestReadmeWithoutTableMarkers(t *testing.T) {
	b := fakeBook(t)
	require.NoError(t, os.WriteFile(filepath.Join(b.root, "README.md"), []byte("# no table\n"), 0o644))
	_, err := updateReadme(b, true)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "<!-- chapters:begin -->")
}

func TestChaptersAndPrevCommands(t *testing.T) {
	b := fakeBook(t)
	var out strings.Builder
	require.NoError(t, run(b, []string{"chapters", "--written"}, &out, io.Discard))
	assert.Equal(t, "a\nb\n", out.String())

	out.Reset()
	require.NoError(t, run(b, []string{"prev", "b"}, &out, io.Discard))
	assert.Equal(t, "a\n", out.String())

	out.Reset()
	require.NoError(t, run(b, []string{"prev", "a"}, &out, io.Discard))
	assert.Empty(t, out.String())

	assert.ErrorContains(t, run(b, []string{"prev", "zzz"}, &out, io.Discard), "chapters/chapters.json")
}

func TestCheckCommandReportsEverything(t *testing.T) {
	b := fakeBook(t)
	var out strings.Builder
	err := run(b, []string{"check"}, &out, io.Discard)
	require.Error(t, err)
	assert.Contains(t, err.Error(), chapterA+":5:")
	assert.Contains(t, err.Error(), "README.md:3:")
	assert.Contains(t, err.Error(), "2 problem(s)")

	require.NoError(t, run(b, []string{"snippets", "--fix"}, &out, io.Discard))
	require.NoError(t, run(b, []string{"readme"}, &out, io.Discard))
	require.NoError(t, run(b, []string{"check"}, &out, io.Discard))
}
