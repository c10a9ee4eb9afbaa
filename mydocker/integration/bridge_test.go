//book:file bridge

package integration

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netlink"
)

var networkCount atomic.Int64

// userSubnet is a subnet for a network a test creates, apart from the
// tests' default networks (testNetwork) and from every other test's.
func userSubnet() string {
	n := networkCount.Add(1)
	return fmt.Sprintf("10.%d.%d.0/24", 150+os.Getpid()%50, n%256)
}

// createNetwork makes a network for the test and removes it at the end,
// before the leak check, whatever the test did; its containers
// (runDetached's, whose cleanups run first) are gone by then.
func (e *env) createNetwork(name string, flags ...string) (id string, subnet netip.Prefix) {
	e.t.Helper()
	subnet = netip.MustParsePrefix(userSubnet())
	r := e.mydocker(append(append([]string{"network", "create", "--subnet", subnet.String()}, flags...), name)...)
	require.Equal(e.t, 0, r.code, r.String())
	id = strings.TrimSpace(r.stdout)
	require.Regexp(e.t, fullID, id, "network create prints the network's id\n%s", r)
	e.t.Cleanup(func() { e.removeNetwork(name, id) })
	return id, subnet
}

// removeNetwork removes a test's network if it is still there, and its
// bridge by name if mydocker could not.
func (e *env) removeNetwork(name, id string) {
	if _, err := os.Stat(filepath.Join(e.root, "network", "networks", name+".json")); err == nil {
		r := e.mydocker("network", "rm", name)
		assert.Equal(e.t, 0, r.code, "removing the test's network\n%s", r)
	}
	if link, err := netlink.LinkByName(bridgeOf(id)); err == nil {
		assert.NoError(e.t, netlink.LinkDel(link))
		e.t.Errorf("the bridge %s of network %s outlived it", bridgeOf(id), name)
	}
}

// bridgeOf is the bridge of the network with this id, as Docker names it.
func bridgeOf(id string) string { return "br-" + id[:12] }

func TestNetworkCreateLsInspectAndRm(t *testing.T) {
	sameOnEveryCgroupVersion(t)
	e := newEnv(t)
	id, subnet := e.createNetwork("front")
	gateway := subnet.Addr().Next()

	link, err := netlink.LinkByName(bridgeOf(id))
	require.NoError(t, err, "network create makes the bridge")
	assert.Equal(t, "bridge", link.Type())
	addrs, err := netlink.AddrList(link, netlink.FAMILY_V4)
	require.NoError(t, err)
	require.Len(t, addrs, 1)
	assert.Equal(t, fmt.Sprintf("%s/%d", gateway, subnet.Bits()), addrs[0].IPNet.String(), "the bridge has the gateway's address")

	ls := e.mydocker("network", "ls")
	require.Equal(t, 0, ls.code, ls.String())
	assert.Regexp(t, `(?m)^NETWORK ID\s+NAME\s+DRIVER\s+SCOPE$`, ls.stdout)
	assert.Regexp(t, `(?m)^`+id[:12]+`\s+front\s+bridge\s+local$`, ls.stdout)

	in := e.mydocker("network", "inspect", "-f", "{{.Name}} {{.Id}} {{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}}", "front")
	require.Equal(t, 0, in.code, in.String())
	assert.Equal(t, fmt.Sprintf("front %s %s %s\n", id, subnet, gateway), in.stdout)
	byPrefix := e.mydocker("network", "inspect", "-f", "{{.Name}}", id[:5])
	assert.Equal(t, "front\n", byPrefix.stdout, "an id's prefix names the network too\n%s", byPrefix)

	rm := e.mydocker("network", "rm", "front")
	require.Equal(t, 0, rm.code, rm.String())
	assert.Equal(t, "front\n", rm.stdout)
	_, err = netlink.LinkByName(bridgeOf(id))
	assert.True(t, errors.As(err, new(netlink.LinkNotFoundError)), "network rm removes the bridge: %v", err)
	assert.NotContains(t, e.mydocker("network", "ls").stdout, "front")
	assert.NoFileExists(t, filepath.Join(e.root, "network", "ipam", strings.Replace(subnet.String(), "/", "-", 1)), "its bitmap goes with it")
}

// A network created without --subnet gets one that no route of the host
// and no other network covers.
func TestNetworkCreateChoosesAFreeSubnet(t *testing.T) {
	sameOnEveryCgroupVersion(t)
	e := newEnv(t)
	before := hostRoutes(t)
	r := e.mydocker("network", "create", "auto")
	require.Equal(t, 0, r.code, r.String())
	id := strings.TrimSpace(r.stdout)
	t.Cleanup(func() { e.removeNetwork("auto", id) })
	subnet := e.networkSubnet("auto")
	for _, route := range before {
		assert.False(t, route.Overlaps(subnet), "the chosen subnet %s overlaps the host's route to %s", subnet, route)
	}
	second := e.mydocker("network", "create", "auto2")
	require.Equal(t, 0, second.code, second.String())
	t.Cleanup(func() { e.removeNetwork("auto2", strings.TrimSpace(second.stdout)) })
	other := e.networkSubnet("auto2")
	assert.False(t, other.Overlaps(subnet), "two networks, two subnets: %s and %s", subnet, other)
}

// networkSubnet is what network inspect says of a network's subnet.
func (e *env) networkSubnet(name string) netip.Prefix {
	e.t.Helper()
	r := e.mydocker("network", "inspect", "-f", "{{range .IPAM.Config}}{{.Subnet}}{{end}}", name)
	require.Equal(e.t, 0, r.code, r.String())
	subnet, err := netip.ParsePrefix(strings.TrimSpace(r.stdout))
	require.NoError(e.t, err, r.String())
	return subnet
}

// hostRoutes are the destinations of the host's IPv4 routes but the
// default one.
func hostRoutes(t *testing.T) []netip.Prefix {
	routes, err := netlink.RouteList(nil, netlink.FAMILY_V4)
	require.NoError(t, err)
	var list []netip.Prefix
	for _, r := range routes {
		if r.Dst == nil {
			continue
		}
		ones, _ := r.Dst.Mask.Size()
		addr, _ := netip.AddrFromSlice(r.Dst.IP.To4())
		if ones > 0 {
			list = append(list, netip.PrefixFrom(addr, ones))
		}
	}
	return list
}

// Containers on one network reach each other; inspect shows the address
// under the network's name, as Docker does for a network other than the
// default.
func TestContainersOnANetworkReachEachOther(t *testing.T) {
	sameOnEveryCgroupVersion(t)
	e := newEnv(t)
	id, subnet := e.createNetwork("back")
	web := e.runDetached("--network", "back", "--", "httpd", "-f", "-p", "80", "-h", "/etc")
	ip := subnet.Addr().Next().Next().String()
	assert.Equal(t, ip, e.inspect(web, "{{.NetworkSettings.Networks.back.IPAddress}}"))
	assert.Equal(t, "", e.inspect(web, "{{.NetworkSettings.IPAddress}}"), "the top-level fields are the default bridge's")
	assert.Equal(t, "back", e.inspect(web, "{{.HostConfig.NetworkMode}}"))
	ports, err := os.ReadDir(filepath.Join("/sys/class/net", bridgeOf(id), "brif"))
	require.NoError(t, err)
	require.Len(t, ports, 1, "the container's veth is a port of the network's bridge")
	assert.Equal(t, "veth"+web[:11], ports[0].Name())

	r := e.mydocker("run", "--rm", "--network", "back", "--", "sh", "-c", "ip route; timeout 10 wget -q -O- http://"+ip+"/hostname")
	require.Equal(t, 0, r.code, r.String())
	assert.Contains(t, r.stdout, "default via "+subnet.Addr().Next().String()+" dev eth0")
	assert.Contains(t, r.stdout, web[:12]+"\n", "the other container served its /etc/hostname")

	members := e.mydocker("network", "inspect", "-f", "{{range $id, $c := .Containers}}{{$id}} {{$c.IPv4Address}}{{end}}", "back")
	assert.Equal(t, fmt.Sprintf("%s %s/%d\n", web, ip, subnet.Bits()), members.stdout, members.String())
}

// A network that a running container is on cannot be removed; once the
// container has stopped, and given back its address, it can, and the
// container cannot start again without it.
func TestNetworkRmIsRefusedWhileAContainerIsOnIt(t *testing.T) {
	sameOnEveryCgroupVersion(t)
	e := newEnv(t)
	e.createNetwork("busy")
	box := e.runDetached("--network", "busy", "--", "sleep", "1000")
	rm := e.mydocker("network", "rm", "busy")
	assert.Equal(t, 1, rm.code, rm.String())
	assert.Contains(t, rm.stderr, "network busy has active endpoints (containers "+box[:12]+")", rm.String())

	stop := e.mydocker("stop", "-t", "0", box)
	require.Equal(t, 0, stop.code, stop.String())
	rm = e.mydocker("network", "rm", "busy")
	require.Equal(t, 0, rm.code, rm.String())
	start := e.mydocker("start", box)
	assert.NotEqual(t, 0, start.code, start.String())
	assert.Contains(t, start.stderr, "network busy not found", start.String())
}

// Runs joining a network while it is removed: either rm wins, and no run
// gets onto the network, or a run wins, and rm is refused. Never a
// container on a network that no longer exists.
func TestNetworkRmRacingRunsLeavesNoContainerOnAMissingNetwork(t *testing.T) {
	sameOnEveryCgroupVersion(t)
	e := newEnv(t)
	id, _ := e.createNetwork("race")
	const n = 8
	var wg sync.WaitGroup
	var started atomic.Int64
	var ids sync.Map
	for range n {
		wg.Go(func() {
			r := e.mydocker("run", "-d", "--network", "race", "--", "sleep", "1000")
			if r.code == 0 {
				started.Add(1)
				ids.Store(strings.TrimSpace(r.stdout), true)
			} else {
				assert.Contains(t, r.stderr, "network race not found", r.String())
			}
		})
	}
	rm := e.mydocker("network", "rm", "race")
	wg.Wait()
	ids.Range(func(k, _ any) bool {
		e.mydocker("rm", "-f", k.(string))
		return true
	})
	if rm.code == 0 {
		assert.Zero(t, started.Load(), "network rm succeeded while containers ran on it")
		_, err := netlink.LinkByName(bridgeOf(id))
		assert.True(t, errors.As(err, new(netlink.LinkNotFoundError)), "the bridge came back after rm: %v", err)
	} else {
		assert.Contains(t, rm.stderr, "has active endpoints", rm.String())
	}
}

// Subnets that overlap another network's, or a route of the host, are
// refused: the host would route the traffic one way only.
func TestOverlappingSubnetsAreRefused(t *testing.T) {
	sameOnEveryCgroupVersion(t)
	e := newEnv(t)
	_, subnet := e.createNetwork("first")
	wider := netip.PrefixFrom(subnet.Addr(), 16).Masked()
	r := e.mydocker("network", "create", "--subnet", wider.String(), "second")
	assert.Equal(t, 1, r.code, r.String())
	assert.Contains(t, r.stderr, "overlaps the subnet "+subnet.String()+" of the network first", r.String())

	// A route of the host: a device of the test's with an address (a
	// bridge: the kernel has the module, which a dummy's may lack).
	dummy := fmt.Sprintf("mdd%d-%d", os.Getpid()%100000, networkCount.Add(1))
	routed := netip.MustParsePrefix(userSubnet())
	la := netlink.NewLinkAttrs()
	la.Name = dummy
	require.NoError(t, netlink.LinkAdd(&netlink.Bridge{LinkAttrs: la}))
	t.Cleanup(func() {
		if link, err := netlink.LinkByName(dummy); err == nil {
			assert.NoError(t, netlink.LinkDel(link))
		}
	})
	link, err := netlink.LinkByName(dummy)
	require.NoError(t, err)
	require.NoError(t, netlink.AddrAdd(link, &netlink.Addr{IPNet: &net.IPNet{IP: routed.Addr().Next().AsSlice(), Mask: net.CIDRMask(routed.Bits(), 32)}}))
	require.NoError(t, netlink.LinkSetUp(link))
	r = e.mydocker("network", "create", "--subnet", routed.String(), "routed")
	assert.Equal(t, 1, r.code, r.String())
	assert.Contains(t, r.stderr, "overlaps the host's route to "+routed.String()+" (dev "+dummy+")", r.String())
}

func TestBadNetworkCommandsAreRefused(t *testing.T) {
	sameOnEveryCgroupVersion(t)
	e := newEnv(t)
	e.createNetwork("taken")
	for _, c := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"network", "create", "a b"}, 1, `invalid network name "a b"`},
		{[]string{"network", "create", "bridge"}, 1, "network with name bridge already exists"},
		{[]string{"network", "create", "host"}, 1, "network with name host already exists"},
		{[]string{"network", "create", "taken"}, 1, "network with name taken already exists"},
		{[]string{"network", "create", "--subnet", "10.1.2.3/24", "x1"}, 1, "the address has host bits set; did you mean 10.1.2.0/24?"},
		{[]string{"network", "create", "--subnet", "fd00::/64", "x2"}, 1, "IPv4"},
		{[]string{"network", "create", "--subnet", userSubnet(), "--gateway", "192.0.2.1", "x3"}, 1, "gateway: address 192.0.2.1 is not in the subnet"},
		{[]string{"network", "create", "--driver", "overlay", "x4"}, 1, `network driver "overlay" is not known`},
		{[]string{"network", "rm", "bridge"}, 1, "bridge is a pre-defined network and cannot be removed"},
		{[]string{"network", "rm", "nosuch"}, 1, "network nosuch not found"},
		{[]string{"network", "inspect", "nosuch"}, 1, "network nosuch not found"},
		{[]string{"run", "--rm", "--network", "nosuch", "--", "true"}, 125, "network nosuch not found"},
		{[]string{"run", "--rm", "--network", "a/b", "--", "true"}, 125, `network "a/b" not found`},
	} {
		r := e.mydocker(c.args...)
		assert.Equal(t, c.code, r.code, r.String())
		assert.Contains(t, r.stderr, c.says, r.String())
	}
	for _, name := range []string{"x1", "x2", "x3", "x4"} {
		assert.NoFileExists(t, filepath.Join(e.root, "network", "networks", name+".json"), "a refused network leaves no record")
	}
}
