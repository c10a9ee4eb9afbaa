//book:file lifecycle

package cgroups

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// A thaw can outlive its cgroup: unpause must take both of the kernel's
// answers for a removed cgroup as "removed", or it fails on a container
// that simply died when thawed.
func TestRemovedKnowsBothAnswersForARemovedCgroup(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("creating a cgroup needs root")
	}
	parent := fmt.Sprintf("mydocker-unit-removed-%d", os.Getpid())
	cg, err := New(parent, "gone", Resources{})
	require.NoError(t, err)
	t.Cleanup(func() { removeParent(cg, parent) })

	dir := cgroupDir(cg)
	opened, err := os.Open(filepath.Join(dir, "cgroup.procs"))
	require.NoError(t, err)
	defer opened.Close()
	require.NoError(t, cg.Destroy())

	_, err = io.ReadAll(opened)
	assert.ErrorIs(t, err, unix.ENODEV, "a file opened before the rmdir")
	assert.True(t, Removed(err))
	_, err = readFile(dir, "cgroup.procs")
	assert.ErrorIs(t, err, unix.ENOENT, "a file looked up after it")
	assert.True(t, Removed(err))
	assert.False(t, Removed(unix.EBUSY))
}

// cgroupDir is one directory of the cgroup: the only one on v2, the first
// hierarchy's on v1.
func cgroupDir(cg Cgroup) string {
	if v1, ok := cg.(*v1Cgroup); ok {
		return v1.dirs[0].dir(v1.path)
	}
	return cg.(*v2Cgroup).dir()
}

// removeParent removes the test's own parent, by its name, everywhere New
// made it.
func removeParent(cg Cgroup, parent string) {
	if v1, ok := cg.(*v1Cgroup); ok {
		for _, h := range v1.dirs {
			_ = unix.Rmdir(h.dir(parent))
		}
		return
	}
	_ = unix.Rmdir(filepath.Join(cg.(*v2Cgroup).root, parent))
}
