// Package scripts holds the tests of the Makefile's own checks.
package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fmtCheck runs `make fmt-check` from the repository root with extra
// variables, and returns its output and whether it passed.
func fmtCheck(t *testing.T, vars ...string) (string, bool) {
	t.Helper()
	cmd := exec.Command("make", append([]string{"--no-print-directory", "-C", "..", "fmt-check"}, vars...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err == nil
}

func goFile(t *testing.T, text string) string {
	t.Helper()
	name := filepath.Join(t.TempDir(), "x.go")
	require.NoError(t, os.WriteFile(name, []byte(text), 0o644))
	return name
}

// The format check fails on an unformatted file and names it, passes a
// formatted one, and fails, saying so, when it finds no gofmt: a missing
// formatter once made it pass everything silently.
func TestTheFormatCheckCanFail(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make")
	}
	bad := goFile(t, "package x\nfunc  f(){}\n")
	out, ok := fmtCheck(t, "FILES="+bad)
	assert.False(t, ok, out)
	assert.Contains(t, out, "not gofmt-formatted")
	assert.Contains(t, out, bad)

	good := goFile(t, "package x\n\nfunc f() {}\n")
	out, ok = fmtCheck(t, "FILES="+good)
	assert.True(t, ok, out)

	out, ok = fmtCheck(t, "FILES="+good, "GOFMT=/nonexistent/gofmt")
	assert.False(t, ok, out)
	assert.Contains(t, out, "gofmt not found at /nonexistent/gofmt")

	// Under sudo, PATH may have no Go directory at all: the check still
	// finds the formatter of the Go the Makefile uses.
	out, ok = fmtCheck(t, "FILES="+bad, "PATH=/usr/bin:/bin")
	assert.False(t, ok, out)
	assert.Contains(t, out, "not gofmt-formatted")
}
