//book:file bridge

package container

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mydocker-book/mydocker/mydocker/network"
	"github.com/mydocker-book/mydocker/mydocker/state"
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

// A container that has its address but not yet its record (run saves the
// record after the network) is listed by name: a container that joins at
// that moment writes every file of the network, and a nameless line there
// would stay until the next one joins.
func TestPeersHaveTheirNamesFromTheAddressOn(t *testing.T) {
	root := t.TempDir()
	id := strings.Repeat("ab", 32)
	dir := state.ContainerDir(root, id)
	require.NoError(t, os.MkdirAll(dir, 0o700))
	ep := network.Endpoint{Container: id, Network: "shop", IP: netip.MustParseAddr("10.10.0.2"), Name: "web", Hostname: "box"}
	require.NoError(t, state.Save(dir, state.State{ID: id, Status: state.Creating, Endpoint: &ep}))
	require.NoFileExists(t, filepath.Join(dir, RecordFile))

	peers, err := peersOn(root, "shop", "")
	require.NoError(t, err)
	assert.Equal(t, network.Peer{ID: id, Name: "web", Hostname: "box", IP: ep.IP}, peers[id])
}
