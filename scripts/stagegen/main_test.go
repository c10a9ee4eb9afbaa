package main

import (
	"os"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mydocker-book/mydocker/scripts/stagegen/internal/testtmp"
)

// TestMain removes the tests' own temporary directory (see package
// testtmp), with whatever the tests and the imports repair left in it.
func TestMain(m *testing.M) {
	code := m.Run()
	if testtmp.Dir != "" {
		if err := os.RemoveAll(testtmp.Dir); err != nil && code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// The tests must leave the temporary directory as they found it:
// golang.org/x/tools used to leave $TMPDIR/goimports behind. This runs a
// test that repairs imports in a new test process, with TMPDIR an empty
// directory, and looks at that directory afterwards.
func TestTestsLeaveTMPDIRAsTheyFoundIt(t *testing.T) {
	if os.Getenv("STAGEGEN_TEST_CHILD") != "" {
		t.Skip("in the child process")
	}
	tmp := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestStageOfTheFirstChapter$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp, "STAGEGEN_TEST_CHILD=1")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Contains(t, string(out), "--- PASS: TestStageOfTheFirstChapter", "the child must run a test that repairs imports")
	entries, err := os.ReadDir(tmp)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.Empty(t, names, "left in TMPDIR by the tests")
}
