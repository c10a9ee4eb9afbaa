//book:file bridge

package integration

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
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
	assert.Equal(t, []string{"veth" + web[:11]}, bridgePorts(t, bridgeOf(id)), "the container's veth is a port of the network's bridge")

	r := e.mydocker("run", "--rm", "--init", "--network", "back", "--", "sh", "-c", "ip route; timeout 10 wget -q -O- http://"+ip+"/hostname")
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

// counters are iptables-save's packet and byte counts, which change.
var counters = regexp.MustCompile(` \[[0-9]+:[0-9]+\]`)

// iptablesRules lists the host's chains and rules as iptables-save prints
// them, counts left out: iptables-save is the same before a test and
// after it.
func iptablesRules() []string {
	out, err := exec.Command("iptables-save").Output()
	if err != nil {
		return []string{"cannot run iptables-save: " + err.Error()}
	}
	var rules []string
	for _, line := range strings.Split(string(out), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			rules = append(rules, counters.ReplaceAllString(line, ""))
		}
	}
	return rules
}

const ipForward = "/proc/sys/net/ipv4/ip_forward"

// forwardDuringTest turns IPv4 forwarding on for the test, as mydocker
// would with a warning on its first network, and returns what sets it
// back: the tests leave the host as they found it.
func forwardDuringTest(t *testing.T) func() {
	before, err := os.ReadFile(ipForward)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(ipForward, []byte("1\n"), 0o644))
	return func() { assert.NoError(t, os.WriteFile(ipForward, before, 0o644)) }
}

// outside is a network namespace of the test's own that stands for the
// world beyond the host: a veth pair links it to the host, and it has no
// route to the containers' subnets, so only NAT lets it answer them. A
// descriptor of the test holds it: it has no name, so nothing is mounted
// for it, and it goes when the descriptor is closed.
type outside struct {
	ns       netns.NsHandle
	veth     string     // the host's end
	hostAddr netip.Addr // the host's end's address
	addr     netip.Addr // its own
}

func (e *env) makeOutside() outside {
	t := e.t
	t.Helper()
	subnet := netip.MustParsePrefix(userSubnet())
	o := outside{
		ns:       newHeldNetns(t),
		veth:     fmt.Sprintf("mdo%d-%d", os.Getpid()%100000, networkCount.Add(1)),
		hostAddr: subnet.Addr().Next(),
		addr:     subnet.Addr().Next().Next(),
	}
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: o.veth}, PeerName: "eth0", PeerNamespace: netlink.NsFd(int(o.ns))}
	require.NoError(t, netlink.LinkAdd(veth))
	t.Cleanup(func() {
		if link, err := netlink.LinkByName(o.veth); err == nil {
			assert.NoError(t, netlink.LinkDel(link))
		}
	})
	configure := func(h *netlink.Handle, name string, addr netip.Addr) {
		link, err := h.LinkByName(name)
		require.NoError(t, err)
		require.NoError(t, h.AddrAdd(link, &netlink.Addr{IPNet: &net.IPNet{IP: addr.AsSlice(), Mask: net.CIDRMask(subnet.Bits(), 32)}}))
		require.NoError(t, h.LinkSetUp(link))
	}
	host, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	require.NoError(t, err)
	defer host.Close()
	configure(host, o.veth, o.hostAddr)
	inside, err := netlink.NewHandleAt(o.ns, unix.NETLINK_ROUTE)
	require.NoError(t, err)
	defer inside.Close()
	configure(inside, "eth0", o.addr)
	return o
}

// newHeldNetns makes a network namespace and returns a descriptor of it,
// closed at the end of the test. Namespaces belong to threads: the
// goroutine keeps its thread while it enters the new one and comes back.
func newHeldNetns(t *testing.T) netns.NsHandle {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	require.NoError(t, err)
	defer orig.Close()
	ns, err := netns.New()
	require.NoError(t, err)
	require.NoError(t, netns.Set(orig))
	t.Cleanup(func() { ns.Close() })
	return ns
}

// path names the namespace for nsenter --net.
func (o outside) path() string { return fmt.Sprintf("/proc/%d/fd/%d", os.Getpid(), int(o.ns)) }

// serveRemoteAddr runs, in the outside namespace, a web server whose one
// page says the address a request came from; it stops with the test.
func (o outside) serveRemoteAddr(t *testing.T) string {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "cgi-bin"), 0o755))
	script := "#!/bin/sh\necho 'Content-Type: text/plain'\necho\necho \"$REMOTE_ADDR\"\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "cgi-bin", "from"), []byte(script), 0o755))
	server := exec.Command("nsenter", "--net="+o.path(), "--", "busybox", "httpd", "-f", "-p", "8080", "-h", dir)
	require.NoError(t, server.Start())
	t.Cleanup(func() {
		server.Process.Kill()
		server.Wait()
	})
	return fmt.Sprintf("http://%s:8080/cgi-bin/from", o.addr)
}

// A container reaches beyond the host: the outside namespace, which has
// no route back to the containers, answers because the request arrives
// from the host's address (MASQUERADE). FORWARD's policy is DROP meanwhile,
// as Docker or a firewall leaves it: the network's own rules let its
// traffic through.
func TestContainersReachBeyondTheHostThroughNAT(t *testing.T) {
	sameOnEveryCgroupVersion(t)
	e := newEnv(t)
	out := e.makeOutside()
	url := out.serveRemoteAddr(t)
	iptables(t, "-P", "FORWARD", "DROP")
	t.Cleanup(func() { iptables(t, "-P", "FORWARD", "ACCEPT") })

	for _, network := range []string{"bridge", "out"} {
		if network != "bridge" {
			e.createNetwork(network)
		}
		var r result
		assert.Eventually(t, func() bool {
			r = e.mydocker("run", "--rm", "--init", "--network", network, "--", "timeout", "5", "wget", "-q", "-O-", url)
			return r.code == 0
		}, patient(15*time.Second), 200*time.Millisecond, "a container on %s reaches the outside\n%s", network, r)
		// busybox httpd listens on IPv6 too, and writes an IPv4 peer as
		// [::ffff:A.B.C.D].
		from := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(r.stdout), "[::ffff:"), "]")
		assert.Equal(t, out.hostAddr.String(), from, "the outside sees the host's address, not the container's\n%s", r)
	}
}

// iptables runs the iptables command, for what the tests change by hand.
func iptables(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command("iptables", args...).CombinedOutput()
	require.NoError(t, err, "iptables %s\n%s", strings.Join(args, " "), out)
}

// Containers on two different networks cannot reach each other, as in
// Docker; on one network they can.
func TestNetworksAreIsolatedFromEachOther(t *testing.T) {
	sameOnEveryCgroupVersion(t)
	e := newEnv(t)
	_, subnet := e.createNetwork("one")
	e.createNetwork("two")
	web := e.runDetached("--network", "one", "--", "httpd", "-f", "-p", "80", "-h", "/etc")
	url := "http://" + subnet.Addr().Next().Next().String() + "/hostname"
	// --init: busybox's timeout execs the command in its own process and
	// signals it from a child, and as PID 1 the command, which installs no
	// handler, would ignore the SIGTERM.
	same := e.mydocker("run", "--rm", "--init", "--network", "one", "--", "timeout", "5", "wget", "-q", "-O-", url)
	assert.Equal(t, web[:12]+"\n", same.stdout, same.String())
	for _, network := range []string{"two", "bridge"} {
		other := e.mydocker("run", "--rm", "--init", "--network", network, "--", "timeout", "3", "wget", "-q", "-O-", url)
		assert.NotEqual(t, 0, other.code, "a container on %s reached one on another network\n%s", network, other)
	}
}

// A network's rules name mydocker and the network, and go with it; the
// isolation chains go with the last network.
func TestNetworkRulesAreTaggedAndGoWithTheNetwork(t *testing.T) {
	sameOnEveryCgroupVersion(t)
	e := newEnv(t)
	e.createNetwork("tagged")
	rules := strings.Join(iptablesRules(), "\n")
	for _, want := range []string{
		`-A POSTROUTING -s [0-9./]+ ! -o br-[0-9a-f]{12} -m comment --comment "mydocker network tagged" -j MASQUERADE`,
		`-A FORWARD -i br-[0-9a-f]{12} -m comment --comment "mydocker network tagged" -j ACCEPT`,
		`-A FORWARD -m comment --comment "mydocker isolation" -j MYDOCKER-ISOLATION-1`,
		`-A MYDOCKER-ISOLATION-2 -o br-[0-9a-f]{12} -m comment --comment "mydocker network tagged" -j DROP`,
	} {
		assert.Regexp(t, "(?m)^"+want+"$", rules)
	}
	jump := strings.Index(rules, `-A FORWARD -m comment --comment "mydocker isolation"`)
	accept := strings.Index(rules, `--comment "mydocker network tagged" -j ACCEPT`)
	assert.True(t, jump >= 0 && jump < accept, "the jump to the isolation chains comes before the network's ACCEPT\n%s", rules)
	again := e.mydocker("network", "create", "--subnet", userSubnet(), "tagged")
	assert.Equal(t, 1, again.code, again.String())
	assert.Equal(t, rules, strings.Join(iptablesRules(), "\n"), "a refused create adds no rule")

	rm := e.mydocker("network", "rm", "tagged")
	require.Equal(t, 0, rm.code, rm.String())
	assert.NotContains(t, strings.Join(iptablesRules(), "\n"), "tagged")
	// The leak check then compares iptables-save with what it was before.
}

// mydocker turns forwarding on, and says so, when a network needs it.
func TestForwardingIsTurnedOnAndSaidSo(t *testing.T) {
	sameOnEveryCgroupVersion(t)
	e := newEnv(t)
	require.NoError(t, os.WriteFile(ipForward, []byte("0\n"), 0o644))
	r := e.mydocker("network", "create", "--subnet", userSubnet(), "fwd")
	require.Equal(t, 0, r.code, r.String())
	t.Cleanup(func() { e.removeNetwork("fwd", strings.TrimSpace(r.stdout)) })
	assert.Contains(t, r.stderr, "turning on IPv4 forwarding ("+ipForward+" = 1)", r.String())
	data, err := os.ReadFile(ipForward)
	require.NoError(t, err)
	assert.Equal(t, "1\n", string(data))
}

// --iptables=false (MYDOCKER_IPTABLES=false), as dockerd's: no rules.
func TestIptablesFalseAddsNoRules(t *testing.T) {
	sameOnEveryCgroupVersion(t)
	e := newEnv(t)
	before := iptablesRules()
	r := e.mydocker("--iptables=false", "network", "create", "--subnet", userSubnet(), "bare")
	require.Equal(t, 0, r.code, r.String())
	id := strings.TrimSpace(r.stdout)
	t.Cleanup(func() { e.removeNetwork("bare", id) })
	assert.Equal(t, before, iptablesRules())
	rm := e.mydocker("--iptables=false", "network", "rm", "bare")
	assert.Equal(t, 0, rm.code, rm.String())
}

// A mydocker killed after it made a network's bridge and before it added
// the network's rules leaves a bridge without them: the next run that
// uses the bridge adds them, and marks the bridge.
func TestABridgeLeftWithoutItsRulesGetsThem(t *testing.T) {
	sameOnEveryCgroupVersion(t)
	e := newEnv(t)
	require.NoError(t, netlink.LinkAdd(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: e.bridge}}))
	r := e.mydocker("run", "--rm", "--", "true")
	require.Equal(t, 0, r.code, r.String())
	assert.Contains(t, strings.Join(iptablesRules(), "\n"), fmt.Sprintf("! -o %s -m comment --comment \"mydocker network bridge\" -j MASQUERADE", e.bridge))
	link, err := netlink.LinkByName(e.bridge)
	require.NoError(t, err)
	assert.Equal(t, "mydocker: rules in place", link.Attrs().Alias)
	localnet, err := os.ReadFile("/proc/sys/net/ipv4/conf/" + e.bridge + "/route_localnet")
	require.NoError(t, err)
	assert.Equal(t, "1\n", string(localnet))
}

// On a network of network create, containers reach each other by name
// and by short id: each one's /etc/hosts names the others, and is written
// again when one joins or leaves. The default network names no one, as
// Docker's.
func TestContainersOnAUserNetworkKnowEachOtherByName(t *testing.T) {
	sameOnEveryCgroupVersion(t)
	e := newEnv(t)
	e.createNetwork("named")
	web := e.runDetached("--network", "named", "--name", "web", "--", "httpd", "-f", "-p", "80", "-h", "/etc")
	for _, host := range []string{"web", web[:12]} {
		r := e.mydocker("run", "--rm", "--init", "--network", "named", "--", "timeout", "5", "wget", "-q", "-O-", "http://"+host+"/hostname")
		assert.Equal(t, web[:12]+"\n", r.stdout, "reaching web as %s\n%s", host, r)
	}

	db := e.runDetached("--network", "named", "--name", "db", "--", "sleep", "1000")
	dbIP := e.inspect(db, "{{.NetworkSettings.Networks.named.IPAddress}}")
	hosts := e.mydocker("exec", "web", "cat", "/etc/hosts")
	assert.Contains(t, hosts.stdout, dbIP+"\tdb "+db[:12]+"\n", "web learns of db when db joins\n%s", hosts)
	rm := e.mydocker("rm", "-f", "db")
	require.Equal(t, 0, rm.code, rm.String())
	hosts = e.mydocker("exec", "web", "cat", "/etc/hosts")
	assert.NotContains(t, hosts.stdout, db[:12], "web forgets db when db leaves\n%s", hosts)

	e.runDetached("--name", "dflt", "--", "sleep", "1000")
	other := e.mydocker("run", "--rm", "--", "cat", "/etc/hosts")
	assert.NotContains(t, other.stdout, "dflt", "the default network names no one\n%s", other)
}

// Containers that join a network at the same time all end up in each
// other's /etc/hosts: the files are rewritten under the network's lock,
// so that no join writes a list that misses another.
func TestContainersJoiningTogetherAllKnowEachOther(t *testing.T) {
	sameOnEveryCgroupVersion(t)
	e := newEnv(t)
	e.createNetwork("crowd")
	const n = 8
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.runDetached("--network", "crowd", "--name", fmt.Sprintf("peer%d", i), "--", "sleep", "1000")
		}()
	}
	wg.Wait()
	for i := range n {
		hosts := e.mydocker("exec", fmt.Sprintf("peer%d", i), "cat", "/etc/hosts")
		require.Equal(t, 0, hosts.code, hosts.String())
		for j := range n {
			if j != i {
				assert.Regexp(t, fmt.Sprintf(`(?m)^[0-9.]+\tpeer%d [0-9a-f]{12}$`, j), hosts.stdout, "peer%d knows peer%d", i, j)
			}
		}
	}
}
