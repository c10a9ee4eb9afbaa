package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseBlocks(t *testing.T) {
	text := "# T\n\n```console\n$ echo 'a\nb'\na\nb\n$\n$ true\n```\n\n<!-- transcript: not run: it needs a terminal -->\n```console\n$ mydocker run -it sh\n```\n"
	path := filepath.Join(t.TempDir(), "README.md")
	require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
	blocks, _, err := parseFile(path)
	require.NoError(t, err)
	require.Len(t, blocks, 2)
	assert.Equal(t, 3, blocks[0].line)
	require.Len(t, blocks[0].commands, 3)
	assert.Equal(t, "echo 'a\nb'", blocks[0].commands[0].text, "a quote open at the end of a line goes on")
	assert.Equal(t, []string{"a", "b"}, blocks[0].commands[0].output)
	assert.Equal(t, "", blocks[0].commands[1].text, "an empty prompt")
	assert.Equal(t, "it needs a terminal", blocks[1].skip)
}

func TestADirectiveNeedsAReason(t *testing.T) {
	path := filepath.Join(t.TempDir(), "README.md")
	require.NoError(t, os.WriteFile(path, []byte("<!-- transcript: skip -->\n```console\n$ true\n```\n"), 0o644))
	_, _, err := parseFile(path)
	assert.ErrorContains(t, err, "not run: REASON")
}

func TestMatchLines(t *testing.T) {
	id := "04f81ecae018c34d91344c63b959a384173053509486af31f8d38dfeccccfc9b"
	cases := []struct {
		expected, actual []string
		ok               bool
	}{
		{[]string{"box"}, []string{"box"}, true},
		{[]string{"box"}, []string{"vm"}, false},
		{[]string{"removing /var/lib/mydocker/containers/<ID>"}, []string{"removing /var/lib/mydocker/containers/" + id}, true},
		{[]string{"<ID>"}, []string{id[:12]}, false},
		{[]string{"mydocker[<PID>] debug: x"}, []string{"mydocker[42] debug: x"}, true},
		{[]string{"uts:[<INODE>]"}, []string{"uts:[4026532177]"}, true},
		{[]string{"a [..] c"}, []string{"a b b c"}, true},
		{[]string{"a", "...", "z"}, []string{"a", "b", "c", "z"}, true},
		{[]string{"a", "...", "z"}, []string{"a", "z"}, true},
		{[]string{"a", "..."}, []string{"a"}, true},
		{[]string{"a"}, []string{"a", "extra"}, false},
		{[]string{"1.5 ms"}, []string{"<N> ms"}, false},
		{[]string{"<N> ms"}, []string{"1.5 ms"}, true},
		{[]string{"a.b"}, []string{"axb"}, false},
		{[]string{"<PID> <PID> S sleep"}, []string{"   4960  4950 S    sleep"}, true},
		{[]string{"NSpid:\t<PID>\t1"}, []string{"NSpid:  12345   1"}, true},
		{[]string{"a b"}, []string{"ab"}, false},
	}
	for _, c := range cases {
		ok, _ := matchLines(c.expected, c.actual)
		assert.Equal(t, c.ok, ok, "%q against %q", c.expected, c.actual)
	}
}

func TestFixKeepsThePlaceholdersThatStillMatch(t *testing.T) {
	assert.Equal(t, []string{"mydocker[<PID>] debug: y", "new"},
		fixLines([]string{"mydocker[<PID>] debug: y", "old"}, []string{"mydocker[7] debug: y", "new"}))
}

func TestSplitOutputs(t *testing.T) {
	out := "\n@@transcript-command-0@@\nbox\n\n@@transcript-command-1@@\n\n@@transcript-command-2@@\nx\n@@transcript-command-3@@\n"
	got, err := splitOutputs(out, 3)
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"box"}, nil, {"x"}}, got)
}

func TestTabsAreExpandedAsATerminalShowsThem(t *testing.T) {
	assert.Equal(t, "rootfs  state.json", expandTabs("rootfs\tstate.json"))
	assert.Equal(t, "a       b", expandTabs("a\tb"))
}

func TestTextDirectives(t *testing.T) {
	lines := strings.Split("# T\n<!-- transcript: interactive -->\nSave it:\n\n<!-- transcript: file /tmp/primer/x.go -->\n```go\npackage main\n```\n", "\n")
	info, err := parseTextInfo(lines)
	require.NoError(t, err)
	assert.True(t, info.interactive)
	assert.Equal(t, []savedFile{{path: "/tmp/primer/x.go", content: "package main\n"}}, info.files)

	_, err = parseTextInfo([]string{"<!-- transcript: file x -->", "text"})
	assert.ErrorContains(t, err, "right before a fenced block")
	assert.Error(t, saveFiles([]savedFile{{path: "/etc/x", content: ""}}, t.TempDir()), "only under /tmp")
}

func TestBlockShellMessagesReadAsAReadersShell(t *testing.T) {
	assert.Equal(t, "bash: demo/memory.max: Permission denied",
		readerShellMessage(blockShell+": line 8: demo/memory.max: Permission denied"))
	assert.Equal(t, "bash: nosuch: command not found", readerShellMessage(blockShell+": nosuch: command not found"))
	inner := "bash: line 1: echo: write error: Device or resource busy"
	assert.Equal(t, inner, readerShellMessage(inner), "a bash the commands start keeps its own words")
}

func TestCgroupDirective(t *testing.T) {
	path := filepath.Join(t.TempDir(), "README.md")
	text := "<!-- transcript: cgroup v2 -->\n```console\n$ true\n```\n<!-- transcript: cgroup v3 -->\n```console\n$ true\n```\n"
	require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
	_, _, err := parseFile(path)
	assert.ErrorContains(t, err, "cgroup v1 --> or")
	require.NoError(t, os.WriteFile(path, []byte(text[:strings.Index(text, "<!-- transcript: cgroup v3")]), 0o644))
	blocks, _, err := parseFile(path)
	require.NoError(t, err)
	require.Len(t, blocks, 1)
	assert.Equal(t, "v2", blocks[0].cgroup)
	assert.Empty(t, blocks[0].skip)
}
