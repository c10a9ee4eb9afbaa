//book:file bridge

package container

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A container's /etc/hosts is a bind mount of one inode: a new content
// must go into that inode, or the container never sees it.
func TestWriteInPlaceKeepsTheInode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hosts")
	require.NoError(t, os.WriteFile(path, []byte("a long first content\n"), 0o644))
	before, err := os.Stat(path)
	require.NoError(t, err)

	require.NoError(t, writeInPlace(path, []byte("short\n")))
	after, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, before.Sys().(*syscall.Stat_t).Ino, after.Sys().(*syscall.Stat_t).Ino, "the same inode")
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "short\n", string(data), "the old content is gone, its tail too")

	require.NoError(t, writeInPlace(filepath.Join(t.TempDir(), "gone"), []byte("x")), "a removed container's file is skipped")
	assert.NoFileExists(t, filepath.Join(filepath.Dir(path), "gone"))
}
