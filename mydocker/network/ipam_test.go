//book:file netns

package network

import (
	"fmt"
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
		a, err := m.Allocate(testSubnet, "c1", testGateway)
		require.NoError(t, err)
		require.False(t, seen[a], "%s handed out twice", a)
		seen[a] = true
	}
	assert.True(t, seen[netip.MustParseAddr("172.30.0.2")])
	assert.True(t, seen[netip.MustParseAddr("172.30.0.254")])
	for _, never := range []string{"172.30.0.0", "172.30.0.1", "172.30.0.255"} {
		assert.False(t, seen[netip.MustParseAddr(never)], never)
	}
	_, err := m.Allocate(testSubnet, "c1", testGateway)
	assert.ErrorIs(t, err, ErrSubnetFull)
	n, err := m.InUse(testSubnet)
	require.NoError(t, err)
	assert.Equal(t, 256, n)
}

// A released address is the next one handed out. Only its holder gives
// it back: a second release, late, of an address that has gone to another
// container since, changes nothing.
func TestReleaseGivesTheAddressBack(t *testing.T) {
	m := OpenIPAM(t.TempDir())
	first, err := m.Allocate(testSubnet, "a", testGateway)
	require.NoError(t, err)
	assert.Equal(t, "172.30.0.2", first.String())
	second, err := m.Allocate(testSubnet, "b", testGateway)
	require.NoError(t, err)
	require.NoError(t, m.Release(testSubnet, first, "a"))
	require.NoError(t, m.Release(testSubnet, first, "a"))
	again, err := m.Allocate(testSubnet, "c", testGateway)
	require.NoError(t, err)
	assert.Equal(t, first, again)
	require.NoError(t, m.Release(testSubnet, again, "a"), "a's late release")
	third, err := m.Allocate(testSubnet, "d", testGateway)
	require.NoError(t, err)
	assert.NotEqual(t, again, third, "c still holds its address")
	require.NoError(t, m.Release(testSubnet, testGateway, ""))
	for addr, who := range map[netip.Addr]string{second: "b", again: "c", third: "d"} {
		require.NoError(t, m.Release(testSubnet, addr, who))
	}
	n, err := m.InUse(testSubnet)
	require.NoError(t, err)
	assert.Equal(t, 3, n, "only the network, gateway and broadcast addresses")
}

// What a container killed before it recorded its address holds is found
// by its id, in every subnet.
func TestReleaseOwnerGivesBackAllItHolds(t *testing.T) {
	m := OpenIPAM(t.TempDir())
	other := netip.MustParsePrefix("10.1.0.0/16")
	_, err := m.Allocate(testSubnet, "dead", testGateway)
	require.NoError(t, err)
	kept, err := m.Allocate(testSubnet, "alive", testGateway)
	require.NoError(t, err)
	require.NoError(t, m.AllocateAddr(other, netip.MustParseAddr("10.1.2.3"), "dead"))
	require.NoError(t, m.ReleaseOwner("dead"))
	n, err := m.InUse(testSubnet)
	require.NoError(t, err)
	assert.Equal(t, 4, n, "network, gateway, broadcast and alive's")
	n, err = m.InUse(other)
	require.NoError(t, err)
	assert.Equal(t, 2, n, "network and broadcast")
	o, err := m.readOwners(testSubnet)
	require.NoError(t, err)
	assert.Equal(t, owners{kept.String(): "alive"}, o)
}

// A crash between the two files never leaves a taken address without its
// owner: the owner is written before the bitmap, and forgotten after it.
func TestEveryTakenAddressHasAnOwnerAtEveryStep(t *testing.T) {
	m := OpenIPAM(t.TempDir())
	a, err := m.Allocate(testSubnet, "x", testGateway)
	require.NoError(t, err)
	// As if killed after the bitmap of a release was written: the owner
	// is still there, and a second release finishes the job.
	b, err := m.read(testSubnet, nil)
	require.NoError(t, err)
	i, err := indexOf(testSubnet, a)
	require.NoError(t, err)
	b.clear(i)
	require.NoError(t, m.write(testSubnet, b))
	require.NoError(t, m.ReleaseOwner("x"))
	o, err := m.readOwners(testSubnet)
	require.NoError(t, err)
	assert.Empty(t, o)
	again, err := m.Allocate(testSubnet, "y", testGateway)
	require.NoError(t, err)
	assert.Equal(t, a, again)
}

// --ip takes one address, once; addresses outside the subnet, or the
// network's own, are refused.
func TestAllocateAChosenAddress(t *testing.T) {
	m := OpenIPAM(t.TempDir())
	want := netip.MustParseAddr("172.30.0.77")
	require.NoError(t, m.AllocateAddr(testSubnet, want, "c1", testGateway))
	assert.ErrorContains(t, m.AllocateAddr(testSubnet, want, "c1", testGateway), "already in use")
	assert.ErrorContains(t, m.AllocateAddr(testSubnet, testGateway, "c1", testGateway), "already in use")
	assert.ErrorContains(t, m.AllocateAddr(testSubnet, netip.MustParseAddr("10.0.0.5"), "c1", testGateway), "not in the subnet")
	assert.ErrorContains(t, m.AllocateAddr(testSubnet, netip.MustParseAddr("172.30.0.255"), "c1", testGateway), "broadcast")
}

// A /16 works: the encoding sets no limit below it.
func TestALargeSubnet(t *testing.T) {
	m := OpenIPAM(t.TempDir())
	big := netip.MustParsePrefix("10.88.0.0/16")
	last := netip.MustParseAddr("10.88.255.254")
	require.NoError(t, m.AllocateAddr(big, last, "c1"))
	a, err := m.Allocate(big, "c2")
	require.NoError(t, err)
	assert.Equal(t, "10.88.0.1", a.String())
	st, err := os.Stat(m.file(big))
	require.NoError(t, err)
	assert.Equal(t, int64(65536/8), st.Size(), "one bit per address")
	assert.ErrorContains(t, m.AllocateAddr(big, last, "c1"), "already in use")
}

// The smallest subnet: a /30 has two host addresses, and the bits of its
// bitmap's byte past the fourth are no addresses.
func TestASlash30(t *testing.T) {
	m := OpenIPAM(t.TempDir())
	tiny := netip.MustParsePrefix("192.168.77.0/30")
	a, err := m.Allocate(tiny, "c1", netip.MustParseAddr("192.168.77.1"))
	require.NoError(t, err)
	assert.Equal(t, "192.168.77.2", a.String())
	_, err = m.Allocate(tiny, "c1", netip.MustParseAddr("192.168.77.1"))
	assert.ErrorIs(t, err, ErrSubnetFull)
}

func TestCheckSubnet(t *testing.T) {
	for subnet, msg := range map[string]string{
		"172.30.0.1/24":    "host bits set; did you mean 172.30.0.0/24",
		"10.0.0.0/7":       "too large",
		"10.0.0.0/31":      "too small",
		"fd00::/64":        "only IPv4",
		"127.0.0.0/16":     "overlaps 127.0.0.0/8, the loopback addresses",
		"169.254.0.0/24":   "link-local",
		"224.1.0.0/16":     "multicast",
		"0.0.0.0/24":       `"this network"`,
		"255.255.255.0/24": "reserved and broadcast",
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
			a, err := OpenIPAM(root).Allocate(testSubnet, fmt.Sprint("c", i), testGateway)
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
	for i, a := range got {
		require.NoError(t, OpenIPAM(root).Release(testSubnet, a, fmt.Sprint("c", i)))
	}
	n3, err := OpenIPAM(root).InUse(testSubnet)
	require.NoError(t, err)
	assert.Equal(t, 3, n3, "empty again")
	// Every file is replaced through a temporary .NAME-RANDOM beside it.
	leftovers, _ := filepath.Glob(filepath.Join(root, "network", "ipam", ".*-*"))
	assert.Empty(t, leftovers)
	assert.FileExists(t, filepath.Join(root, "network", "ipam", ".lock"), "the glob looks where the files are")
}

// A damaged bitmap is refused with what to do, never silently reset.
func TestADamagedBitmapIsRefused(t *testing.T) {
	m := OpenIPAM(t.TempDir())
	_, err := m.Allocate(testSubnet, "c1", testGateway)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(m.file(testSubnet), []byte("short"), 0o600))
	_, err = m.Allocate(testSubnet, "c1", testGateway)
	assert.ErrorContains(t, err, "damaged")
}
