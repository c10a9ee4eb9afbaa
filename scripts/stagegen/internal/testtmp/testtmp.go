// Package testtmp gives the stage generator's tests a temporary directory of
// their own, which their TestMain removes.
//
// WHY a package, and not TestMain: golang.org/x/tools/internal/modindex,
// which the imports repair links in, creates $TMPDIR/goimports while the
// test binary's packages are initialised (in a test binary it keeps its
// module index there, instead of the user's cache), before TestMain runs,
// and nothing ever removes it. This package sets TMPDIR first: Go
// initialises packages in the order of their import paths, among those
// whose imports are initialised (the language specification, "Package
// initialization", since Go 1.21), and this one imports nothing but os,
// which modindex imports too, and sorts before golang.org/.... So the
// index, t.TempDir() and the go commands that goimports runs all land in
// Dir. Import it only from tests.
package testtmp

import "os"

// Dir is the tests' temporary directory, which TMPDIR now names, or "" if
// it could not be made (then TMPDIR is left alone).
var Dir = func() string {
	dir, err := os.MkdirTemp("", "stagegen-test-")
	if err != nil {
		return ""
	}
	if err := os.Setenv("TMPDIR", dir); err != nil {
		os.Remove(dir)
		return ""
	}
	return dir
}()
