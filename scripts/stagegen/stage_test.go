package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStageOfTheFirstChapter(t *testing.T) {
	b := fakeBook(t)
	dir := filepath.Join(t.TempDir(), "a")
	require.NoError(t, writeStage(b, "a", dir))

	// strings is only used from chapter b on, so it is dropped; strconv is
	// only used by the replaced code, so it is added back.
	assert.Equal(t, `// Command main is a small program whose code grows over chapters a, b and c.
package main

import (
	"fmt"
	"os"
	"strconv"
)

func main() {
	fmt.Println(strconv.Itoa(len(os.Args)))
}
`, readFile(t, filepath.Join(dir, "mydocker/main.go")))
	assert.NoFileExists(t, filepath.Join(dir, "mydocker/extra.go"), "extra.go starts in chapter c")
	assert.Equal(t, "a\n", readFile(t, filepath.Join(dir, "STAGE")))
	for _, name := range moduleFiles {
		assert.Equal(t, readFile(t, filepath.Join(b.root, name)), readFile(t, filepath.Join(dir, name)), name)
	}
}

func TestStageOfALaterChapter(t *testing.T) {
	b := fakeBook(t)
	dir := filepath.Join(t.TempDir(), "b")
	require.NoError(t, writeStage(b, "b", dir))
	assert.Equal(t, `// Command main is a small program whose code grows over chapters a, b and c.
package main

import (
	"fmt"
	"os"
	"strings"
)

func main() {
	fmt.Println(strings.Join(os.Args, " "))
}
`, readFile(t, filepath.Join(dir, "mydocker/main.go")))
}

func TestLastStageHasEveryFile(t *testing.T) {
	b := fakeBook(t)
	dir := filepath.Join(t.TempDir(), "c")
	require.NoError(t, writeStage(b, "c", dir))
	assert.Equal(t, "package main\n\n// extra exists from chapter c on.\nfunc extra() string { return \"extra\" }\n",
		readFile(t, filepath.Join(dir, "mydocker/extra.go")))
	assert.Contains(t, readFile(t, filepath.Join(dir, "mydocker/main.go")), "fmt.Println(extra())")
}

func TestNonGoFilesAreCopiedWithTheirMode(t *testing.T) {
	b := fakeBook(t)
	dir := filepath.Join(t.TempDir(), "a")
	require.NoError(t, writeStage(b, "a", dir))
	script := filepath.Join(dir, "mydocker/tool/run.sh")
	assert.Equal(t, readFile(t, filepath.Join(b.root, "mydocker/tool/run.sh")), readFile(t, script))
	info, err := os.Stat(script)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o755), info.Mode().Perm())
}

func TestStageRegeneratesOverAnOldStage(t *testing.T) {
	b := fakeBook(t)
	dir := filepath.Join(t.TempDir(), "out")
	require.NoError(t, writeStage(b, "c", dir))
	require.NoError(t, writeStage(b, "a", dir))
	assert.NoFileExists(t, filepath.Join(dir, "mydocker/extra.go"), "the old stage's files are gone")
}

func TestStageRefusesToEmptyAFolderItDidNotMake(t *testing.T) {
	b := fakeBook(t)
	err := writeStage(b, "a", b.root)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "refusing to empty")
	assert.FileExists(t, filepath.Join(b.root, "README.md"))
}

func TestStageStopsOnMarkerErrors(t *testing.T) {
	b := fakeBook(t)
	bad := filepath.Join(b.root, "mydocker/bad.go")
	require.NoError(t, os.WriteFile(bad, []byte("package main\n\n//book:end\n"), 0o644))
	err := writeStage(b, "a", filepath.Join(t.TempDir(), "a"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "mydocker/bad.go:3:")
}

func TestDiffShowsWhatAChapterChanges(t *testing.T) {
	b := fakeBook(t)
	var out strings.Builder
	require.NoError(t, diffStage(b, "b", &out))
	diff := out.String()
	assert.Contains(t, diff, "--- a/mydocker/main.go\n+++ b/mydocker/main.go\n")
	assert.Contains(t, diff, "-\tfmt.Println(strconv.Itoa(len(os.Args)))\n+\tfmt.Println(strings.Join(os.Args, \" \"))\n")
	assert.NotContains(t, diff, stageFile)
}

func TestDiffOfTheFirstChapterStartsFromNothing(t *testing.T) {
	b := fakeBook(t)
	var out strings.Builder
	require.NoError(t, diffStage(b, "a", &out))
	assert.Contains(t, out.String(), "--- a/go.mod\n+++ b/go.mod\n@@ -0,0 +1,3 @@\n")
}

// A stage of the real repository must generate quickly: the Makefile
// generates one per chapter, and the snippet check generates several.
func TestRealRepositoryStageIsFast(t *testing.T) {
	b := realBook(t)
	if len(checkMarkers(b)) > 0 {
		t.Skip("markers have errors; TestRealRepositoryMarkersAreValid reports them")
	}
	for _, c := range b.chapters[:2] {
		start := time.Now()
		require.NoError(t, writeStage(b, c.Slug, filepath.Join(t.TempDir(), c.Slug)))
		assert.Less(t, time.Since(start), 2*time.Second, c.Slug)
	}
}
