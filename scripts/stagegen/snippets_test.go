package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mydocker-book/mydocker/chapters"
)

func extractFromShapes(t *testing.T, symbol string) string {
	t.Helper()
	code, err := extractSymbol("shapes.go", []byte(readFile(t, "testdata/book/mydocker/shapes.go")), symbol)
	require.NoError(t, err)
	return code
}

func TestExtractFunc(t *testing.T) {
	assert.Equal(t, "// Double scales a point by two.\nfunc Double(p Point) Point {\n\treturn Point{p.X * 2, p.Y * 2}\n}",
		extractFromShapes(t, "Double"))
}

func TestExtractMethod(t *testing.T) {
	assert.Equal(t, "// Area is how much room a size takes.\nfunc (s *Size) Area() int { return s.W * s.H }",
		extractFromShapes(t, "Size.Area"))
}

func TestExtractTypeFromAGroup(t *testing.T) {
	assert.Equal(t, "// Size is a width and a height.\nSize struct{ W, H int }", extractFromShapes(t, "Size"))
}

func TestExtractUnknownSymbol(t *testing.T) {
	_, err := extractSymbol("shapes.go", []byte(readFile(t, "testdata/book/mydocker/shapes.go")), "Circle")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "shapes.go has no top-level func, method, type, var or const named Circle")
}

const chapterA = "chapters/01-a/README.md"

func TestSnippetMismatchIsReportedWithItsLine(t *testing.T) {
	b := fakeBook(t)
	errs := checkSnippets(b, false)
	require.Len(t, errs, 1, "only the first snippet is stale")
	assert.Contains(t, errs[0].Error(), chapterA+":5:")
	assert.Contains(t, errs[0].Error(), "make snippets")
	assert.Contains(t, errs[0].Error(), "out of date")
}

// A chapter with status code needs no text; once it has one, its snippets
// are checked like a written chapter's.
func TestSnippetsOfACodeChapter(t *testing.T) {
	b := fakeBook(t)
	b.chapters[0].Status = chapters.Code // a has a text, with one stale snippet
	b.chapters = append(b.chapters, chapters.Chapter{Number: 4, Slug: "d", Title: "Delta", Status: chapters.Code})
	errs := checkSnippets(b, false)
	require.Len(t, errs, 1, "a's stale snippet, and nothing about d, which has no text")
	assert.Contains(t, errs[0].Error(), chapterA+":5:")
}

func TestSnippetFixRewritesStaleBlocks(t *testing.T) {
	b := fakeBook(t)
	require.Empty(t, checkSnippets(b, true))
	assert.Equal(t, `# Chapter a

The program starts small:

<!-- snippet: mydocker/main.go#main -->
`+"```go"+`
func main() {
	fmt.Println(strconv.Itoa(len(os.Args)))
}
`+"```"+`

And the grid:

<!-- snippet: mydocker/shapes.go#Size.Area @b -->
`+"```go"+`
// Area is how much room a size takes.
func (s *Size) Area() int { return s.W * s.H }
`+"```"+`
`, readFile(t, filepath.Join(b.root, chapterA)))
	assert.Empty(t, checkSnippets(b, false), "a fixed text checks clean")
}

func TestSnippetFixWritesAMissingBlock(t *testing.T) {
	b := fakeBook(t)
	text := "# a\n\n<!-- snippet: mydocker/extra.go#extra @c -->\n\nThe end.\n"
	require.NoError(t, os.WriteFile(filepath.Join(b.root, chapterA), []byte(text), 0o644))
	errs := checkSnippets(b, false)
	require.Len(t, errs, 1)
	assert.Contains(t, errs[0].Error(), chapterA+":3:")
	require.Empty(t, checkSnippets(b, true))
	assert.Equal(t, "# a\n\n<!-- snippet: mydocker/extra.go#extra @c -->\n```go\n"+
		"// extra exists from chapter c on.\nfunc extra() string { return \"extra\" }\n```\n\nThe end.\n",
		readFile(t, filepath.Join(b.root, chapterA)))
}

func TestSnippetUnknownPathOrSymbol(t *testing.T) {
	b := fakeBook(t)
	text := "<!-- snippet: mydocker/nope.go#main -->\n```go\n```\n\n" +
		"<!-- snippet: mydocker/main.go#nope -->\n```go\n```\n\n" +
		"<!-- snippet: mydocker/extra.go -->\n```go\n```\n"
	require.NoError(t, os.WriteFile(filepath.Join(b.root, chapterA), []byte(text), 0o644))
	errs := checkSnippets(b, false)
	require.Len(t, errs, 3)
	assert.Contains(t, errs[0].Error(), chapterA+":1: mydocker/nope.go does not exist in stage \"a\"")
	assert.Contains(t, errs[1].Error(), chapterA+":5:")
	assert.Contains(t, errs[1].Error(), "named nope")
	assert.Contains(t, errs[2].Error(), chapterA+":9: mydocker/extra.go does not exist in stage \"a\"")
}

func TestSnippetCommentsInsideCodeBlocksAreIgnored(t *testing.T) {
	b := fakeBook(t)
	text := "```\n<!-- snippet: mydocker/nope.go#main -->\n```\n"
	require.NoError(t, os.WriteFile(filepath.Join(b.root, chapterA), []byte(text), 0o644))
	assert.Empty(t, checkSnippets(b, false))
}
