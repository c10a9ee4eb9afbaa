package main

import (
	"go/format"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mydocker-book/mydocker/chapters"
)

// renderAt parses src with the fake chapters and returns it at stage slug.
func renderAt(t *testing.T, src, slug string) string {
	t.Helper()
	f, errs := parseMarkers("x.go", []byte(src), fakeOrder())
	require.Empty(t, errs)
	text, _ := f.render(fakeOrder().index[slug], "")
	return string(text)
}

func TestAddBlockExistsFromItsChapterOn(t *testing.T) {
	src := `package x

func f() {
	//book:add b
	println("b")
	//book:end
}
`
	without := "package x\n\nfunc f() {\n}\n"
	with := "package x\n\nfunc f() {\n\tprintln(\"b\")\n}\n"
	assert.Equal(t, without, renderAt(t, src, "a"))
	assert.Equal(t, with, renderAt(t, src, "b"))
	assert.Equal(t, with, renderAt(t, src, "c"))
}

func TestReplacedLineIsCodeUntilItsReplacement(t *testing.T) {
	src := `package x

func f() {
	//book:replace a b
	// println("old")
	//
	//book:end
	//book:add b
	println("new")
	//book:end
}
`
	assert.Equal(t, "package x\n\nfunc f() {\n\tprintln(\"old\")\n\t\n}\n", renderAt(t, src, "a"))
	assert.Equal(t, "package x\n\nfunc f() {\n\tprintln(\"new\")\n}\n", renderAt(t, src, "b"))
}

func TestFileMarkerHidesTheFileBeforeItsChapter(t *testing.T) {
	src := "//book:file b\n\npackage x\n"
	f, errs := parseMarkers("x.go", []byte(src), fakeOrder())
	require.Empty(t, errs)
	assert.False(t, f.exists(0))
	assert.True(t, f.exists(1))
	text, _ := f.render(1, "")
	assert.Equal(t, "\npackage x\n", string(text))
}

// Nested blocks need named closers; like bare ones, they never reach a stage.
func TestNestedBlocks(t *testing.T) {
	src := `package x

func f() {
	//book:add b
	println("b")
	//book:replace b c
	// println("b, until c")
	//book:end b c
	//book:add c
	println("c")
	//book:end c
	//book:end b
}
`
	assert.Equal(t, "package x\n\nfunc f() {\n}\n", renderAt(t, src, "a"))
	assert.Equal(t, "package x\n\nfunc f() {\n\tprintln(\"b\")\n\tprintln(\"b, until c\")\n}\n", renderAt(t, src, "b"))
	assert.Equal(t, "package x\n\nfunc f() {\n\tprintln(\"b\")\n\tprintln(\"c\")\n}\n", renderAt(t, src, "c"))
}

func TestRenderSaysWhetherMarkersChangedTheCode(t *testing.T) {
	src := "package x\n\n//book:add b\nvar v = 1\n\n//book:end\n"
	f, errs := parseMarkers("x.go", []byte(src), fakeOrder())
	require.Empty(t, errs)
	_, changedAtA := f.render(0, "")
	_, changedAtC := f.render(2, "")
	assert.True(t, changedAtA, "stage a lost a line")
	assert.False(t, changedAtC, "stage c is the final source")
}

func TestMarkerErrorsNameFileAndLine(t *testing.T) {
	cases := []struct {
		name, src, where, says string
	}{
		{"unknown slug", "package x\n\n//book:add zzz\n//book:end\n", "x.go:3:", "chapters/chapters.json"},
		{"unknown directive", "package x\n\n//book:frobnicate a\n", "x.go:3:", "unknown marker //book:frobnicate"},
		{"end without block", "package x\n\n//book:end\n", "x.go:3:", "without an open"},
		{"block open at end", "package x\n\nfunc f() {\n\t//book:add a\n}\n", "x.go:4:", "still open"},
		{"outer block open at end", "package x\n\n//book:add a\n//book:add b\n//book:end b\n",
			"x.go:3:", "still open at the end of the file: close it with //book:end a"},
		{"inner add before outer", "package x\n\n//book:add b\n//book:add a\n//book:end a\n//book:end b\n",
			"x.go:4:", "out of order"},
		{"add before file", "//book:file b\n\npackage x\n\n//book:add a\n//book:end\n", "x.go:5:", "out of order"},
		{"replace to before from", "package x\n\n//book:replace b a\n// x\n//book:end\n", "x.go:3:", "out of order"},
		{"replace to equals from", "package x\n\n//book:replace b b\n// x\n//book:end\n", "x.go:3:", "out of order"},
		{"replace before its add", "package x\n\n//book:add b\n//book:replace a c\n// x\n//book:end a c\n//book:end b\n",
			"x.go:4:", "out of order"},
		{"marker inside replace", "package x\n\n//book:replace a b\n//book:add b\n//book:end b\n//book:end a b\n",
			"x.go:4:", "inside the replace block opened at line 3"},
		{"code inside replace", "package x\n\n//book:replace a b\nvar v = 1\n//book:end\n", "x.go:4:", "not a comment"},
		{"file after package", "package x\n\n//book:file a\n", "x.go:3:", "before the package clause"},
		{"marker in imports", "package x\n\nimport (\n\t//book:add b\n\t\"os\"\n\t//book:end\n)\n\nvar _ = os.Args\n",
			"x.go:4:", "imports are repaired by the generator"},
		{"marker in doc comment", "package x\n\n//book:add b\n// F does.\nfunc F() {}\n\n//book:end\n",
			"x.go:3:", "doc comment"},
		{"marker not alone", "package x\n\nvar v = 1 //book:add a\n", "x.go:3:", "alone on its line"},
		{"missing argument", "package x\n\n//book:add\n//book:end\n", "x.go:3:", "takes 1 argument"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, errs := parseMarkers("x.go", []byte(c.src), fakeOrder())
			require.NotEmpty(t, errs)
			msg := errs[0].Error()
			assert.True(t, strings.HasPrefix(msg, c.where), "%q should start with %q", msg, c.where)
			assert.Contains(t, msg, c.says)
		})
	}
}

func TestEveryMarkerErrorIsReported(t *testing.T) {
	src := "package x\n\n//book:add zzz\n//book:end\n//book:end\n//book:frobnicate\n"
	_, errs := parseMarkers("x.go", []byte(src), fakeOrder())
	require.Len(t, errs, 3)
	assert.Contains(t, errs[0].Error(), "x.go:3:")
	assert.Contains(t, errs[1].Error(), "x.go:5:")
	assert.Contains(t, errs[2].Error(), "x.go:6:")
}

// nestedSrc is a file whose add block a holds an add block b (line 6) and a
// replace block a c (line 9). The closers of b, of the replace and of a
// (lines 8, 11 and 12) are given.
func nestedSrc(closeB, closeReplace, closeA string) string {
	return "package x\n\n//book:add a\nvar v = 1\n\n//book:add b\nvar w = 2\n" + closeB + "\n" +
		"//book:replace a c\n// var old = 3\n" + closeReplace + "\n" + closeA + "\n"
}

// flatSrc is a file with an add block (line 3) and a replace block (line 6)
// side by side, closed at lines 5 and 8 by the closers given.
func flatSrc(closeAdd, closeReplace string) string {
	return "package x\n\n//book:add b\nvar v = 1\n" + closeAdd + "\n//book:replace a b\n// var v = 0\n" + closeReplace + "\n"
}

func TestCloserNames(t *testing.T) {
	cases := []struct {
		name, src string
		want      []string // every error, in order; none if the file is right
	}{
		{"right names pass", nestedSrc("//book:end b", "//book:end a c", "//book:end a"), nil},
		{"bare closers of flat blocks pass", flatSrc("//book:end", "//book:end"), nil},
		{"named closers of flat blocks pass", flatSrc("//book:end b", "//book:end a b"), nil},
		{"wrong name", nestedSrc("//book:end c", "//book:end a c", "//book:end a"), []string{
			"x.go:8: //book:end c does not match its block, the //book:add b of line 6: write //book:end b"}},
		{"wrong name on a flat block", flatSrc("//book:end a", "//book:end"), []string{
			"x.go:5: //book:end a does not match its block, the //book:add b of line 3: write //book:end b"}},
		{"too many arguments", nestedSrc("//book:end b c", "//book:end a c", "//book:end a"), []string{
			"x.go:8: //book:end b c does not match its block, the //book:add b of line 6: write //book:end b"}},
		{"replace closer with one slug", nestedSrc("//book:end b", "//book:end a", "//book:end a"), []string{
			"x.go:11: //book:end a does not match its block, the //book:replace a c of line 9: write //book:end a c"}},
		{"replace closer with slugs swapped", flatSrc("//book:end", "//book:end b a"), []string{
			"x.go:8: //book:end b a does not match its block, the //book:replace a b of line 6: write //book:end a b"}},
		{"bare closer of nested add", nestedSrc("//book:end", "//book:end a c", "//book:end a"), []string{
			"x.go:8: name this closer: //book:end b (it closes the //book:add b of line 6, " +
				"which is nested in the //book:add a of line 3)"}},
		{"bare closer of nested replace", nestedSrc("//book:end b", "//book:end", "//book:end a"), []string{
			"x.go:11: name this closer: //book:end a c (it closes the //book:replace a c of line 9, " +
				"which is nested in the //book:add a of line 3)"}},
		{"bare closer of the outer block", nestedSrc("//book:end b", "//book:end a c", "//book:end"), []string{
			"x.go:12: name this closer: //book:end a (it closes the //book:add a of line 3, " +
				"which holds the //book:add b of line 6)"}},
		{"every bare closer is reported", nestedSrc("//book:end", "//book:end", "//book:end"), []string{
			"x.go:8: name this closer: //book:end b (it closes the //book:add b of line 6, " +
				"which is nested in the //book:add a of line 3)",
			"x.go:11: name this closer: //book:end a c (it closes the //book:replace a c of line 9, " +
				"which is nested in the //book:add a of line 3)",
			"x.go:12: name this closer: //book:end a (it closes the //book:add a of line 3, " +
				"which holds the //book:add b of line 6)"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, errs := parseMarkers("x.go", []byte(c.src), fakeOrder())
			var got []string
			for _, err := range errs {
				got = append(got, err.Error())
			}
			assert.Equal(t, c.want, got)
		})
	}
}

func TestMarkerLikeTextInStringsIsNotAMarker(t *testing.T) {
	src := "package x\n\nvar s = \"//book:frobnicate\"\n"
	_, errs := parseMarkers("x.go", []byte(src), fakeOrder())
	assert.Empty(t, errs)
}

// realBook is the repository this tool lives in, if its code is there.
func realBook(t *testing.T) book {
	t.Helper()
	root := filepath.Join("..", "..")
	if _, err := os.Stat(filepath.Join(root, sourceDir)); err != nil {
		t.Skip("the repository has no mydocker/ yet")
	}
	return book{root: root, chapters: chapters.All()}
}

func TestRealRepositoryMarkersAreValid(t *testing.T) {
	b := realBook(t)
	for _, err := range checkMarkers(b) {
		t.Error(err)
	}
}

// The last stage is the final source: replace blocks and marker lines gone,
// nothing else changed but formatting.
func TestRealRepositoryLastStageIsTheSourceWithoutMarkers(t *testing.T) {
	b := realBook(t)
	if len(checkMarkers(b)) > 0 {
		t.Skip("markers have errors; TestRealRepositoryMarkersAreValid reports them")
	}
	last := b.chapters[len(b.chapters)-1].Slug
	dir := t.TempDir()
	require.NoError(t, writeStage(b, last, dir))
	order := b.order()
	err := filepath.WalkDir(filepath.Join(b.root, sourceDir), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		rel, _ := filepath.Rel(b.root, path)
		f, errs := parseMarkers(rel, []byte(readFile(t, path)), order)
		require.Empty(t, errs)
		var kept []string
		for _, l := range f.lines {
			if !l.marker && !l.uncomment && !l.stub {
				kept = append(kept, l.text)
			}
		}
		want, err := format.Source([]byte(strings.Join(kept, "\n") + "\n"))
		require.NoError(t, err)
		if retired(want) {
			assert.NoFileExists(t, filepath.Join(dir, rel), "all of its code was replaced")
			return nil
		}
		assert.Equal(t, string(want), readFile(t, filepath.Join(dir, rel)), rel)
		return nil
	})
	require.NoError(t, err)
}
