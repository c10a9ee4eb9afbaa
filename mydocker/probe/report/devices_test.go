//book:file security

package report

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func TestDevices(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.Symlink("/proc/self/fd", filepath.Join(dir, "fd")))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "shm"), 0o755))
	require.NoError(t, unix.Chmod(filepath.Join(dir, "shm"), 0o1777))
	require.NoError(t, unix.Mkfifo(filepath.Join(dir, "fifo"), 0o600))
	list, err := Devices(dir)
	require.NoError(t, err)
	assert.Equal(t, []Device{
		{Name: "fd", Mode: "l0777", Link: "/proc/self/fd"},
		{Name: "fifo", Mode: "p0600"},
		{Name: "shm", Mode: "d1777"},
	}, list)

	// The host's /dev/null is the character device 1:3 everywhere.
	list, err = Devices("/dev")
	require.NoError(t, err)
	assert.Contains(t, list, Device{Name: "null", Mode: "c0666", Major: 1, Minor: 3})
}

func TestOpenFDs(t *testing.T) {
	f, err := os.Open("/dev/null")
	require.NoError(t, err)
	defer f.Close()
	list, err := OpenFDs("/proc/self/fd")
	require.NoError(t, err)
	assert.Contains(t, list, FD{FD: int(f.Fd()), Target: "/dev/null"})
	for _, fd := range list {
		assert.NotContains(t, fd.Target, "/fd", "the descriptor that read /proc/self/fd is left out")
	}
}
