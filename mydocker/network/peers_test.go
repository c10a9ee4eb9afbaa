//book:file bridge

package network

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestHostsWithPeersNamesTheOthers(t *testing.T) {
	web := Peer{ID: strings.Repeat("a", 64), Name: "web", Hostname: "aaaaaaaaaaaa", IP: netip.MustParseAddr("10.1.0.2")}
	db := Peer{ID: strings.Repeat("b", 64), Hostname: "db.local", IP: netip.MustParseAddr("10.1.0.3")}
	hosts := string(HostsWithPeers(web, []Peer{web, db}))
	assert.True(t, strings.HasPrefix(hosts, string(HostsFile("aaaaaaaaaaaa", web.IP))), hosts)
	assert.Contains(t, hosts, "10.1.0.3\tbbbbbbbbbbbb\n", "a peer without a name is known by its short id")
	assert.NotContains(t, hosts, "db.local", "a peer's hostname is its own business, as in Docker")
	assert.Equal(t, 1, strings.Count(hosts, "10.1.0.2"), "self is named once, by its hostname\n%s", hosts)

	other := string(HostsWithPeers(db, []Peer{web, db}))
	assert.Contains(t, other, "10.1.0.2\tweb aaaaaaaaaaaa\n")
	assert.Contains(t, other, "10.1.0.3\tdb.local\n")
}

func TestLockPeersRefusesABadName(t *testing.T) {
	_, err := OpenStore(t.TempDir()).LockPeers("../x")
	assert.Error(t, err)
}
