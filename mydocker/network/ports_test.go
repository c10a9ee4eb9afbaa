//book:file bridge

package network

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParsePortMapping(t *testing.T) {
	for spec, want := range map[string]PortMapping{
		"8080:80":                {HostPort: 8080, ContainerPort: 80, Protocol: "tcp"},
		"8080:80/udp":            {HostPort: 8080, ContainerPort: 80, Protocol: "udp"},
		"127.0.0.1:8080:80":      {HostIP: "127.0.0.1", HostPort: 8080, ContainerPort: 80, Protocol: "tcp"},
		"0.0.0.0:53:53/udp":      {HostPort: 53, ContainerPort: 53, Protocol: "udp"},
		"65535:1":                {HostPort: 65535, ContainerPort: 1, Protocol: "tcp"},
		"10.1.2.3:1000:2000/tcp": {HostIP: "10.1.2.3", HostPort: 1000, ContainerPort: 2000, Protocol: "tcp"},
	} {
		got, err := ParsePortMapping(spec)
		if assert.NoError(t, err, spec) {
			assert.Equal(t, want, got, spec)
		}
	}
	for _, bad := range []string{"", "80", ":80", "80:", "a:80", "65536:80", "0:80", "80:80/sctp", "::1:80:80", "1.2.3:80:80", "1:2:3:4"} {
		_, err := ParsePortMapping(bad)
		assert.Error(t, err, bad)
	}
}

// What Publish writes, checkPortFree reads back from iptables -S.
func TestParseDNATReadsBackPortRules(t *testing.T) {
	ep := Endpoint{Container: "0123456789abcdef", Bridge: "br-test", IP: netip.MustParseAddr("10.9.0.2")}
	for _, p := range []PortMapping{
		{HostPort: 8080, ContainerPort: 80, Protocol: "tcp"},
		{HostIP: "127.0.0.1", HostPort: 53, ContainerPort: 5353, Protocol: "udp"},
	} {
		dnat := ep.portRules(p)[0]
		require.Equal(t, publishChain, dnat.chain)
		got, owner, ok := parseDNAT(`-A MYDOCKER ` + quoteComment(dnat.spec))
		require.True(t, ok)
		assert.Equal(t, p, got)
		assert.Equal(t, "mydocker container 0123456789ab", owner)
		assert.True(t, got.overlaps(p))
	}
	_, _, ok := parseDNAT("-N MYDOCKER")
	assert.False(t, ok)
}

// quoteComment writes a rule's spec as iptables -S does, the comment in
// double quotes.
func quoteComment(spec []string) string {
	var out []string
	for i, s := range spec {
		if i > 0 && spec[i-1] == "--comment" {
			s = `"` + s + `"`
		}
		out = append(out, s)
	}
	return strings.Join(out, " ")
}

func TestOverlaps(t *testing.T) {
	all := PortMapping{HostPort: 80, Protocol: "tcp"}
	local := PortMapping{HostIP: "127.0.0.1", HostPort: 80, Protocol: "tcp"}
	other := PortMapping{HostIP: "10.0.0.1", HostPort: 80, Protocol: "tcp"}
	assert.True(t, all.overlaps(local))
	assert.True(t, local.overlaps(all))
	assert.False(t, local.overlaps(other))
	assert.False(t, all.overlaps(PortMapping{HostPort: 80, Protocol: "udp"}))
	assert.False(t, all.overlaps(PortMapping{HostPort: 81, Protocol: "tcp"}))
}
