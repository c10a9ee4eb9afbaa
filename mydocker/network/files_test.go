//book:file netns

package network

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHostsFileNamesTheContainerAtItsAddress(t *testing.T) {
	hosts := string(HostsFile("web", netip.MustParseAddr("172.29.0.2")))
	assert.Contains(t, hosts, "127.0.0.1\tlocalhost\n")
	assert.Contains(t, hosts, "::1\tlocalhost ip6-localhost ip6-loopback\n")
	assert.Contains(t, hosts, "172.29.0.2\tweb\n")

	none := string(HostsFile("web", netip.Addr{}))
	assert.NotContains(t, none, "web", "no address, no line for the container")
}

func TestResolvConfLeavesOutLoopbackNameservers(t *testing.T) {
	host := "# from the host\nsearch example.org\nnameserver 127.0.0.53\nnameserver 10.0.0.2\nnameserver ::1\noptions edns0\n"
	assert.Equal(t, "# from the host\nsearch example.org\nnameserver 10.0.0.2\noptions edns0\n",
		string(ResolvConf([]byte(host), true)))
	assert.Equal(t, host, string(ResolvConf([]byte(host), false)), "the host's network: the host's file as it is")

	onlyLocal := "nameserver 127.0.0.53\nsearch lan\n"
	assert.Equal(t, "search lan\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n", string(ResolvConf([]byte(onlyLocal), true)),
		"nothing the container can reach: Docker's fallback")
	assert.Equal(t, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n", string(ResolvConf(nil, true)), "the host has no resolv.conf")
}

func TestTheDefaultNetworkIsMadeOnceAndKept(t *testing.T) {
	root := t.TempDir()
	n, err := Default(root, "mdunit0", "10.9.8.0/24")
	require.NoError(t, err)
	//book:replace netns bridge
	// assert.Equal(t, Network{Name: "bridge", Bridge: "mdunit0", Subnet: netip.MustParsePrefix("10.9.8.0/24"), Gateway: netip.MustParseAddr("10.9.8.1")}, n)
	//book:end
	//book:add bridge
	assert.Len(t, n.ID, 64, "an id, as a network of network create has")
	n.ID, n.Created = "", time.Time{}
	assert.Equal(t, Network{Name: "bridge", Bridge: "mdunit0", Subnet: netip.MustParsePrefix("10.9.8.0/24"), Gateway: netip.MustParseAddr("10.9.8.1")}, n)
	//book:end

	again, err := Default(root, "other0", "10.1.0.0/16")
	require.NoError(t, err)
	//book:add bridge
	again.ID, again.Created = "", time.Time{}
	//book:end
	assert.Equal(t, n, again, "once made, the record wins over new settings")

	_, err = os.Stat(filepath.Join(root, "network", "networks", "bridge.json"))
	assert.NoError(t, err)
}

func TestBadNetworkSettingsAreRefused(t *testing.T) {
	for _, c := range []struct{ bridge, subnet, want string }{
		{"a-name-longer-than-15", "10.0.0.0/24", "at most 15 bytes"},
		{"br/0", "10.0.0.0/24", `'/' may not be`},
		{"br 0", "10.0.0.0/24", `' ' may not be`},
		{"", "10.0.0.0/24", "needs a name"},
		{"br0", "10.0.0.1/24", "host bits set"},
		{"br0", "fd00::/64", "only IPv4"},
		{"br0", "10.0.0.0/31", "too small"},
		{"br0", "nonsense", "write it as an IPv4 CIDR"},
	} {
		_, err := Default(t.TempDir(), c.bridge, c.subnet)
		assert.ErrorContains(t, err, c.want, "%q %q", c.bridge, c.subnet)
	}
}
