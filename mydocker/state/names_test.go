//book:file detach

package state

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNamesFollowDockersRule(t *testing.T) {
	for _, ok := range []string{"web", "/web", "a1", "my_app.v2-b"} {
		_, err := CheckName(ok)
		assert.NoError(t, err, ok)
	}
	for _, bad := range []string{"", "a", "-web", "_x", "web/1", "caf\xe9", "a b"} {
		_, err := CheckName(bad)
		assert.Error(t, err, bad)
	}
}

func makeContainer(t *testing.T, root, id string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(ContainerDir(root, id), 0o700))
}

func TestFindByIDNameAndPrefix(t *testing.T) {
	root := t.TempDir()
	a := "aa11000000000000000000000000000000000000000000000000000000000a"
	b := "aa22000000000000000000000000000000000000000000000000000000000b"
	makeContainer(t, root, a)
	makeContainer(t, root, b)
	require.NoError(t, ReserveName(root, "web", b))

	for ref, want := range map[string]string{a: a, "web": b, "/web": b, "aa1": a, "aa2": b} {
		got, err := Find(root, ref)
		require.NoError(t, err, ref)
		assert.Equal(t, want, got, ref)
	}
	_, err := Find(root, "aa")
	assert.ErrorContains(t, err, `"aa" is the start of the ids of 2 containers (aa1100000000, aa2200000000)`)
	_, err = Find(root, "bb")
	assert.ErrorIs(t, err, ErrNoSuchContainer)
}

func TestANameIsTakenOnceAndFreedWithItsContainer(t *testing.T) {
	root := t.TempDir()
	a, b := "a000000000000000000000000000000000000000000000000000000000000000", "b000000000000000000000000000000000000000000000000000000000000000"
	makeContainer(t, root, a)
	makeContainer(t, root, b)
	require.NoError(t, ReserveName(root, "web", a))
	assert.ErrorContains(t, ReserveName(root, "web", b), `the container name "web" is already in use by container `+a)
	owner, err := os.Readlink(filepath.Join(root, "names", "web"))
	require.NoError(t, err)
	assert.Equal(t, a, owner)

	require.NoError(t, os.RemoveAll(ContainerDir(root, a)))
	require.NoError(t, ReserveName(root, "web", b), "a name whose container is gone is free")
	require.NoError(t, os.RemoveAll(ContainerDir(root, b)))
	require.NoError(t, ReleaseStaleNames(root))
	_, err = os.Lstat(filepath.Join(root, "names", "web"))
	assert.True(t, os.IsNotExist(err))
}
