//book:file netns

package network

import (
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var testSubnet = netip.MustParsePrefix("172.30.0.0/24")
var testGateway = netip.MustParseAddr("172.30.0.1")

// The network, the gateway and the broadcast address are never handed
// out; every other address is, lowest first, and then the subnet is full.
func TestAllocateEveryAddressOnce(t *testing.T) {
	m := OpenIPAM(t.TempDir())
	seen := map[netip.Addr]bool{}
	for i := 0; i < 253; i++ {
		a, err := m.Allocate(testSubnet, testGateway)
		require.NoError(t, err)
		require.False(t, seen[a], "%s handed out twice", a)
		seen[a] = true
	}
	assert.True(t, seen[netip.MustParseAddr("172.30.0.2")])
	assert.True(t, seen[netip.MustParseAddr("172.30.0.254")])
	for _, never := range []string{"172.30.0.0", "172.30.0.1", "172.30.0.255"} {
		assert.False(t, seen[netip.MustParseAddr(never)], never)
	}
	_, err := m.Allocate(testSubnet, testGateway)
	assert.ErrorIs(t, err, ErrSubnetFull)
	n, err := m.InUse(testSubnet)
	require.NoError(t, err)
	assert.Equal(t, 256, n)
}

// A released address is the next one handed out; releasing twice is fine.
func TestReleaseGivesTheAddressBack(t *testing.T) {
	m := OpenIPAM(t.TempDir())
	first, err := m.Allocate(testSubnet, testGateway)
	require.NoError(t, err)
	assert.Equal(t, "172.30.0.2", first.String())
	second, err := m.Allocate(testSubnet, testGateway)
	require.NoError(t, err)
	require.NoError(t, m.Release(testSubnet, first, testGateway))
	require.NoError(t, m.Release(testSubnet, first, testGateway))
	again, err := m.Allocate(testSubnet, testGateway)
	require.NoError(t, err)
	assert.Equal(t, first, again)
	require.NoError(t, m.Release(testSubnet, second, testGateway))
	require.NoError(t, m.Release(testSubnet, again, testGateway))
	n, err := m.InUse(testSubnet)
	require.NoError(t, err)
	assert.Equal(t, 3, n, "only the network, gateway and broadcast addresses")
	assert.Error(t, m.Release(testSubnet, testGateway, testGateway), "the gateway stays reserved")
}

// --ip takes one address, once; addresses outside the subnet, or the
// network's own, are refused.
func TestAllocateAChosenAddress(t *testing.T) {
	m := OpenIPAM(t.TempDir())
	want := netip.MustParseAddr("172.30.0.77")
	require.NoError(t, m.AllocateAddr(testSubnet, want, testGateway))
	assert.ErrorContains(t, m.AllocateAddr(testSubnet, want, testGateway), "already in use")
	assert.ErrorContains(t, m.AllocateAddr(testSubnet, testGateway, testGateway), "already in use")
	assert.ErrorContains(t, m.AllocateAddr(testSubnet, netip.MustParseAddr("10.0.0.5"), testGateway), "not in the subnet")
	assert.ErrorContains(t, m.AllocateAddr(testSubnet, netip.MustParseAddr("172.30.0.255"), testGateway), "broadcast")
}

// A /16 works: the encoding sets no limit below it.
func TestALargeSubnet(t *testing.T) {
	m := OpenIPAM(t.TempDir())
	big := netip.MustParsePrefix("10.88.0.0/16")
	last := netip.MustParseAddr("10.88.255.254")
	require.NoError(t, m.AllocateAddr(big, last))
	a, err := m.Allocate(big)
	require.NoError(t, err)
	assert.Equal(t, "10.88.0.1", a.String())
	st, err := os.Stat(m.file(big))
	require.NoError(t, err)
	assert.Equal(t, int64(65536/8), st.Size(), "one bit per address")
	assert.ErrorContains(t, m.AllocateAddr(big, last), "already in use")
}

// The smallest subnet: a /30 has two host addresses, and the bits of its
// bitmap's byte past the fourth are no addresses.
func TestASlash30(t *testing.T) {
	m := OpenIPAM(t.TempDir())
	tiny := netip.MustParsePrefix("192.168.77.0/30")
	a, err := m.Allocate(tiny, netip.MustParseAddr("192.168.77.1"))
	require.NoError(t, err)
	assert.Equal(t, "192.168.77.2", a.String())
	_, err = m.Allocate(tiny, netip.MustParseAddr("192.168.77.1"))
	assert.ErrorIs(t, err, ErrSubnetFull)
}

func TestCheckSubnet(t *testing.T) {
	for subnet, msg := range map[string]string{
		"172.30.0.1/24": "host bits set; did you mean 172.30.0.0/24",
		"10.0.0.0/7":    "too large",
		"10.0.0.0/31":   "too small",
		"fd00::/64":     "only IPv4",
	} {
		assert.ErrorContains(t, CheckSubnet(netip.MustParsePrefix(subnet)), msg, subnet)
	}
	assert.NoError(t, CheckSubnet(netip.MustParsePrefix("10.0.0.0/8")))
}

// Many allocations at once, each with its own IPAM value as separate
// mydocker processes have, never share an address: the flock orders them.
func TestParallelAllocationsAreDistinct(t *testing.T) {
	root := t.TempDir()
	const n = 50
	got := make([]netip.Addr, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			a, err := OpenIPAM(root).Allocate(testSubnet, testGateway)
			assert.NoError(t, err)
			got[i] = a
		})
	}
	wg.Wait()
	seen := map[netip.Addr]bool{}
	for _, a := range got {
		assert.False(t, seen[a], "%s handed out twice", a)
		seen[a] = true
	}
	for _, a := range got {
		require.NoError(t, OpenIPAM(root).Release(testSubnet, a, testGateway))
	}
	n3, err := OpenIPAM(root).InUse(testSubnet)
	require.NoError(t, err)
	assert.Equal(t, 3, n3, "empty again")
	leftovers, _ := filepath.Glob(filepath.Join(root, "network", "ipam", ".write-*"))
	assert.Empty(t, leftovers)
}

// A damaged bitmap is refused with what to do, never silently reset.
func TestADamagedBitmapIsRefused(t *testing.T) {
	m := OpenIPAM(t.TempDir())
	_, err := m.Allocate(testSubnet, testGateway)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(m.file(testSubnet), []byte("short"), 0o600))
	_, err = m.Allocate(testSubnet, testGateway)
	assert.ErrorContains(t, err, "damaged")
}
