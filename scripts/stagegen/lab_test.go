package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mydocker-book/mydocker/labs"
)

// labSrc has two cuts of lab b: part one inside an add block of chapter
// b, part two at the top level.
const labSrc = `package x

//book:add b

func one() int {
	//book:lab b one
	return 1
	//book:stub
	// // Lab b (labs/02-b/README.md): return one.
	// return 0
	//book:end b one
}

//book:end b

func two() int {
	//book:lab b two
	return 2
	//book:stub
	// return -2 // labs/02-b/README.md
	//book:end
}
`

func renderLab(t *testing.T, src, slug, lab string) string {
	t.Helper()
	f, errs := parseMarkers("x.go", []byte(src), fakeOrder())
	require.Empty(t, errs)
	text, _ := f.render(fakeOrder().index[slug], lab)
	return string(text)
}

func TestStagesHaveTheSolutionAndNeverTheStub(t *testing.T) {
	for _, slug := range []string{"b", "c"} {
		text := renderAt(t, labSrc, slug)
		assert.Contains(t, text, "return 1")
		assert.Contains(t, text, "return 2")
		assert.NotContains(t, text, "return 0")
		assert.NotContains(t, text, "Lab b")
	}
	assert.NotContains(t, renderAt(t, labSrc, "a"), "func one")
}

func TestTheLabWorkspaceHasTheStubs(t *testing.T) {
	text := renderLab(t, labSrc, "b", "b")
	assert.Contains(t, text, "\t// Lab b (labs/02-b/README.md): return one.\n\treturn 0\n")
	assert.Contains(t, text, "\treturn -2 // labs/02-b/README.md\n")
	assert.NotContains(t, text, "return 1")
	assert.NotContains(t, text, "return 2\n")

	one := renderLab(t, labSrc, "b", "b/one")
	assert.Contains(t, one, "return 0")
	assert.Contains(t, one, "return 2\n", "only part one is cut")

	other := renderLab(t, labSrc, "b", "a")
	assert.Contains(t, other, "return 1", "another chapter's lab cuts nothing here")
}

func TestLabMarkerErrors(t *testing.T) {
	cases := []struct{ name, src, want string }{
		{"no stub", "package x\n\nfunc f() {\n\t//book:lab b one\n\tprintln()\n\t//book:end\n}\n",
			"x.go:4: the lab block opened here has no //book:stub"},
		{"stub outside a lab", "package x\n\n//book:stub\n",
			"x.go:3: //book:stub outside a lab block"},
		{"stub line that is code", "package x\n\nfunc f() {\n\t//book:lab b one\n\tprintln()\n\t//book:stub\n\tprintln(2)\n\t//book:end\n}\n",
			"x.go:7: line is not a comment, but it is in the stub of the lab block opened at line 4"},
		{"no solution", "package x\n\nfunc f() {\n\t//book:lab b one\n\t//book:stub\n\t// println()\n\t//book:end\n}\n",
			"x.go:5: the lab block opened at line 4 has no solution before its //book:stub"},
		{"a block inside", "package x\n\nfunc f() {\n\t//book:lab b one\n\t//book:add b\n\tprintln()\n\t//book:end\n\t//book:stub\n\t// println()\n\t//book:end\n}\n",
			"x.go:5: //book:add inside the lab block opened at line 4"},
		{"code that is not in the stage", "package x\n\n//book:add c\n\nfunc f() {\n\t//book:lab b one\n\tprintln()\n\t//book:stub\n\t// println()\n\t//book:end b one\n}\n\n//book:end c\n",
			`x.go:6: //book:lab b: the code it cuts must exist in the stage of chapter "b"`},
		{"bad part name", "package x\n\nfunc f() {\n\t//book:lab b One\n\tprintln()\n\t//book:stub\n\t// println()\n\t//book:end\n}\n",
			"x.go:4: //book:lab b One: a part is named with lower-case letters"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, errs := parseMarkers("x.go", []byte(c.src), fakeOrder())
			require.NotEmpty(t, errs)
			assert.Contains(t, errs[0].Error(), c.want)
		})
	}
}

// fakeLabBook is the fake book with a lab for chapter b, whose cut is in
// testdata's shapes.go.
func fakeLabBook(t *testing.T) book {
	t.Helper()
	b := fakeBook(t)
	b.requireLabs = true
	b.labs = []labs.Lab{{Chapter: "b", Level: "beginner", Minutes: "30", Parts: []labs.Part{
		{Name: "double", Title: "Double a point", Tests: []string{"TestDouble"}},
		{Name: "area", Title: "Area", Tests: []string{"TestArea"}},
	}}}
	shapes := filepath.Join(b.root, "mydocker", "shapes.go")
	src := readFile(t, shapes)
	src = strings.Replace(src, "\treturn Point{p.X * 2, p.Y * 2}\n",
		"\t//book:lab b double\n\treturn Point{p.X * 2, p.Y * 2}\n\t//book:stub\n\t// return p // labs/02-b/README.md\n\t//book:end\n", 1)
	require.NoError(t, os.WriteFile(shapes, []byte(src), 0o644))
	return b
}

func TestLabCommandKeepsTheStudentsWork(t *testing.T) {
	b := fakeLabBook(t)
	dir := filepath.Join(t.TempDir(), "ws")
	var out strings.Builder
	require.NoError(t, runLab(b, []string{"b", "-o", dir}, &out))
	assert.Contains(t, out.String(), "mydocker/shapes.go")
	assert.Contains(t, readFile(t, filepath.Join(dir, "mydocker", "shapes.go")), "return p // labs/02-b/README.md")
	assert.FileExists(t, filepath.Join(dir, labGuideFile))

	// Untouched, it is written again; edited, it is kept.
	require.NoError(t, runLab(b, []string{"b", "-o", dir}, &out))
	work := filepath.Join(dir, "mydocker", "shapes.go")
	require.NoError(t, os.WriteFile(work, []byte("package main // my work\n"), 0o644))
	err := runLab(b, []string{"b", "-o", dir}, &out)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "holds your work (changed since it was written: mydocker/shapes.go)")
	assert.Contains(t, err.Error(), "make lab CH=b RESET=1")
	assert.Equal(t, "package main // my work\n", readFile(t, work))

	// With -reset, the work moves aside and a fresh workspace is written.
	require.NoError(t, runLab(b, []string{"b", "-o", dir, "-reset"}, &out))
	backups, err := filepath.Glob(dir + ".bak-*")
	require.NoError(t, err)
	require.Len(t, backups, 1)
	assert.Equal(t, "package main // my work\n", readFile(t, filepath.Join(backups[0], "mydocker", "shapes.go")))
	assert.Contains(t, readFile(t, work), "return p")
}

func TestLabCommandRefusesAFolderThatIsNotAWorkspace(t *testing.T) {
	b := fakeLabBook(t)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644))
	err := runLab(b, []string{"b", "-o", dir}, &strings.Builder{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "it is not a lab workspace")
	assert.Equal(t, "mine", readFile(t, filepath.Join(dir, "notes.txt")))
}

func TestCheckLabs(t *testing.T) {
	b := fakeLabBook(t)
	cuts, errs := sourceLabCuts(b)
	require.Empty(t, errs)
	var got []string
	for _, err := range checkLabs(b, cuts) {
		got = append(got, err.Error())
	}
	joined := strings.Join(got, "\n")
	assert.Contains(t, joined, "its text labs/02-b/README.md is missing")
	assert.Contains(t, joined, "part area has no //book:lab b area block")
	assert.Contains(t, joined, "part double lists TestDouble, which is no test function")
	assert.Contains(t, joined, "chapter a is written but has no lab")
}
