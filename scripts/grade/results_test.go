package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mydocker-book/mydocker/chapters"
	"github.com/mydocker-book/mydocker/labs"
)

// events is what go test -json printed for a package with one test that
// passes, one that fails (with testify's output), and a subtest.
const events = `{"Action":"start","Package":"m/integration"}
{"Action":"run","Package":"m/integration","Test":"TestGood"}
{"Action":"output","Package":"m/integration","Test":"TestGood","Output":"=== RUN   TestGood\n"}
{"Action":"pass","Package":"m/integration","Test":"TestGood"}
{"Action":"run","Package":"m/integration","Test":"TestBad"}
{"Action":"output","Package":"m/integration","Test":"TestBad","Output":"=== RUN   TestBad\n"}
{"Action":"output","Package":"m/integration","Test":"TestBad","Output":"    x_test.go:9: \n"}
{"Action":"output","Package":"m/integration","Test":"TestBad","Output":"        \tError Trace:\t/tmp/x_test.go:9\n"}
{"Action":"output","Package":"m/integration","Test":"TestBad","Output":"        \tError:      \tNot equal:\n"}
{"Action":"output","Package":"m/integration","Test":"TestBad","Output":"        \tTest:       \tTestBad\n"}
{"Action":"output","Package":"m/integration","Test":"TestBad","Output":"        \tMessages:   \tthe hostname\n"}
{"Action":"run","Package":"m/integration","Test":"TestBad/sub"}
{"Action":"pass","Package":"m/integration","Test":"TestBad/sub"}
{"Action":"output","Package":"m/integration","Test":"TestBad","Output":"--- FAIL: TestBad (0.01s)\n"}
{"Action":"fail","Package":"m/integration","Test":"TestBad"}
{"Action":"fail","Package":"m/integration"}
`

func TestParseTestEvents(t *testing.T) {
	res, err := parseTestEvents([]byte(events))
	require.NoError(t, err)
	assert.True(t, res.passed("TestGood"))
	assert.False(t, res.passed("TestBad"), "a passing subtest does not make its test pass")
	assert.Equal(t, []string{"TestGood", "TestBad"}, res.order)
	assert.Empty(t, res.failed, "the package failed because a test did")
	assert.False(t, res.allPassed())
	assert.Equal(t, []string{"x_test.go:9:", "Error:      \tNot equal:", "Messages:   \tthe hostname"},
		relevantLines(res.tests["TestBad"].output, 6))
}

func TestABuildFailureFailsEverything(t *testing.T) {
	res, err := parseTestEvents([]byte(`{"ImportPath":"m/container","Action":"build-output","Output":"container/pivot.go:3:1: syntax error\n"}
{"ImportPath":"m/container","Action":"build-fail"}
{"Action":"start","Package":"m/container"}
{"Action":"output","Package":"m/container","Output":"FAIL\tm/container [build failed]\n"}
{"Action":"fail","Package":"m/container"}
`))
	require.NoError(t, err)
	assert.False(t, res.allPassed())
	assert.Contains(t, strings.Join(res.buildErr, "\n"), "pivot.go:3:1: syntax error")
}

func TestScoreboard(t *testing.T) {
	res, err := parseTestEvents([]byte(events))
	require.NoError(t, err)
	l := lab{
		Lab: labs.Lab{Chapter: "namespaces", Parts: []labs.Part{
			{Name: "hostname", Title: "Give the container its hostname", Tests: []string{"TestBad", "TestMissing"}},
		}},
		chapter: chapters.Chapter{Number: 1, Slug: "namespaces", Title: "A container is a process"},
	}
	var out strings.Builder
	printScoreboard(&out, l, res, map[string]string{"TestBad": "The hostname is the container's"})
	board := out.String()
	assert.Contains(t, board, "Lab: chapter 1, A container is a process (labs/01-namespaces/README.md)")
	assert.Contains(t, board, "Part 1, hostname: Give the container its hostname\n  FAIL  TestBad")
	assert.Contains(t, board, "The hostname is the container's")
	assert.Contains(t, board, "          | Messages:   \tthe hostname")
	assert.Contains(t, board, "  ----  TestMissing", "a test that did not run counts as failed")
	assert.Contains(t, board, "  PASS  TestGood")
	assert.Contains(t, board, "Score: 1/3")
}

func TestRunPatternMatchesExactlyTheTests(t *testing.T) {
	assert.Equal(t, "^(TestA|TestB)$", runPattern([]string{"TestA", "TestB"}))
}

func TestOnlyCodeComesFromTheWorkspace(t *testing.T) {
	assert.True(t, isCode("mydocker/container/pivot.go"))
	assert.False(t, isCode("mydocker/container/pivot_test.go"), "the tests are the book's")
	assert.False(t, isCode("go.mod"))
	assert.False(t, isCode("mydocker/probe/testdata/x.txt"))
}
