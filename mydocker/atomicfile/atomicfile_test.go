//book:file namespaces

package atomicfile

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func inode(t *testing.T, path string) uint64 {
	info, err := os.Stat(path)
	require.NoError(t, err)
	return info.Sys().(*syscall.Stat_t).Ino
}

// A reader that opened the old file keeps reading the old content whole:
// the new one is another inode, put in place by a rename.
func TestWriteReplacesTheFileWhole(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	require.NoError(t, os.WriteFile(path, []byte("old content"), 0o644))
	before := inode(t, path)
	reader, err := os.Open(path)
	require.NoError(t, err)
	defer reader.Close()

	for _, durable := range []bool{false, true} {
		require.NoError(t, Write(path, []byte("new"), durable))
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Equal(t, "new", string(data))
		assert.NotEqual(t, before, inode(t, path), "a new inode, renamed over the old name")
		info, err := os.Stat(path)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "private to root")
	}
	old := make([]byte, 64)
	n, _ := reader.Read(old)
	assert.Equal(t, "old content", string(old[:n]), "the old inode is untouched")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file left")
}

// A write that fails leaves neither its temporary file nor a damaged one.
func TestAFailedWriteLeavesTheOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "taken")
	require.NoError(t, os.Mkdir(path, 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(path, "inside"), nil, 0o600))
	assert.Error(t, Write(path, []byte("x"), false), "rename(2) cannot put a file over a directory that is not empty")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "the temporary file is removed")
	assert.Error(t, Write(filepath.Join(dir, "no", "such"), []byte("x"), false))
}
