package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The bench runs kernelwork on the machine it measures: it must time real
// work and leave no cgroup, mount or directory behind.
func TestKernelworkTimesTheWorkAndLeavesNothing(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (cgroups, mounts); run as root, as make bench does")
	}
	parent := fmt.Sprintf("kernelwork-test-%d", os.Getpid())
	// The scratch directory need not exist yet, as on a fresh clone.
	lower, scratch := t.TempDir(), filepath.Join(t.TempDir(), "scratch")
	require.NoError(t, os.WriteFile(filepath.Join(lower, "file"), []byte("layer"), 0o644))
	hierarchies, err := cgroupHierarchies()
	require.NoError(t, err)
	t.Cleanup(func() { // what a failure left, by name
		for _, h := range hierarchies {
			os.Remove(filepath.Join(h.mount, parent))
		}
	})

	// measure moves its thread into a mount namespace of its own and keeps
	// it there: a goroutine of its own, whose locked thread ends with it.
	type result struct {
		medians
		err error
	}
	done := make(chan result)
	go func() {
		var r result
		r.medians, r.err = measure(parent, lower, scratch, 3)
		done <- r
	}()
	r := <-done
	require.NoError(t, r.err)
	assert.Positive(t, r.cgroups)
	assert.Positive(t, r.overlays[0])
	assert.Positive(t, r.overlays[1])
	assert.Positive(t, r.hardening)
	assert.Positive(t, r.otherMounts)
	assert.Positive(t, r.seccomp)

	for _, h := range hierarchies {
		assert.NoDirExists(t, filepath.Join(h.mount, parent), "the cgroup parent it made")
	}
	left, err := os.ReadDir(scratch)
	require.NoError(t, err)
	assert.Empty(t, left, "the overlays' directories")
	mounts, err := os.ReadFile("/proc/thread-self/mountinfo")
	require.NoError(t, err)
	assert.NotContains(t, string(mounts), scratch, "an overlay mount in the test's namespace")
}
