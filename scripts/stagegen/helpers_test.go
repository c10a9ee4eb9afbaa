package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mydocker-book/mydocker/chapters"
)

// fakeChapters is the made-up chapter list the tests use: a and b are
// written, c is planned.
func fakeChapters() []chapters.Chapter {
	return []chapters.Chapter{
		{Number: 1, Slug: "a", Title: "Alpha", Status: chapters.Written},
		{Number: 2, Slug: "b", Title: "Beta | two", Status: chapters.Written},
		{Number: 3, Slug: "c", Title: "Gamma", Status: chapters.Planned},
	}
}

func fakeOrder() chapterOrder { return orderOf(fakeChapters()) }

// fakeBook copies testdata/book into a temporary folder, so that tests may
// change it, and pairs it with the fake chapter list.
func fakeBook(t *testing.T) book {
	t.Helper()
	root := t.TempDir()
	err := filepath.WalkDir("testdata/book", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel("testdata/book", path)
		if err != nil {
			return err
		}
		return copyFile(path, filepath.Join(root, rel))
	})
	require.NoError(t, err)
	return book{root: root, chapters: fakeChapters()}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(data)
}
