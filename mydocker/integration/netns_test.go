//book:file netns

package integration

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netlink"

	"github.com/mydocker-book/mydocker/mydocker/network"
	"github.com/mydocker-book/mydocker/mydocker/probe/report"
)

// testNetwork is the n-th test environment's default network: a bridge
// and a /24 of its own, unique on the machine while this test binary
// runs, so that tests never share a bridge with each other or with a
// reader's own mydocker0.
func testNetwork(n int64) (bridge, subnet string) {
	pid := os.Getpid()
	return fmt.Sprintf("mdt%d-%d", pid%100000, n), fmt.Sprintf("10.%d.%d.0/24", 200+pid%50, n%256)
}

// removeBridge removes the test's bridge, if a container made it, and
// fails the test if a container's veth is still plugged into it.
func (e *env) removeBridge() {
	//book:add bridge
	// The default network keeps its rules while its bridge is there, as
	// docker0 does: they go with the test's bridge.
	if n, err := network.OpenStore(e.root).Find("bridge"); err == nil {
		network.ManageNetfilter(os.Getenv("MYDOCKER_IPTABLES") != "false")
		assert.NoError(e.t, n.CloseWay(), "removing the default network's rules")
	}
	//book:end
	link, err := netlink.LinkByName(e.bridge)
	if errors.As(err, new(netlink.LinkNotFoundError)) {
		return
	}
	require.NoError(e.t, err)
	assert.Empty(e.t, bridgePorts(e.t, e.bridge), "veths left on the bridge %s", e.bridge)
	require.NoError(e.t, netlink.LinkDel(link), "removing the test's bridge %s", e.bridge)
}

// networkDevices lists the network devices of the tests' network
// namespace: a veth or a bridge that outlives its test is a leak. Through
// netlink, which answers for the namespace of the asking socket: /sys/class/net
// shows those of the namespace that mounted /sys, the host's.
func networkDevices() []string {
	links, err := netlink.LinkList()
	if err != nil {
		return []string{"cannot list the network devices: " + err.Error()}
	}
	var names []string
	for _, l := range links {
		names = append(names, l.Attrs().Name)
	}
	slices.Sort(names)
	return names
}

// bridgePorts lists the devices plugged into the bridge.
func bridgePorts(t *testing.T, bridge string) []string {
	br, err := netlink.LinkByName(bridge)
	require.NoError(t, err)
	links, err := netlink.LinkList()
	require.NoError(t, err)
	var ports []string
	for _, l := range links {
		if l.Attrs().MasterIndex == br.Attrs().Index {
			ports = append(ports, l.Attrs().Name)
		}
	}
	return ports
}

// checkAddressesReleased fails the test if an address of its network is
// still taken once its containers are gone: the network's own address,
// its broadcast address and the gateway are all that may be left.
func (e *env) checkAddressesReleased() {
	inUse, err := network.OpenIPAM(e.root).InUse(netip.MustParsePrefix(e.subnet))
	require.NoError(e.t, err)
	if inUse > 0 {
		assert.Equal(e.t, 3, inUse, "addresses of %s still taken after the test (network, broadcast and gateway are 3)", e.subnet)
	}
}

// gateway is the test network's gateway: its first address.
func (e *env) gateway() string {
	return netip.MustParsePrefix(e.subnet).Addr().Next().String()
}

// addressOn is the subnet's address number i (2 is the first container's).
func (e *env) addressOn(i int) string {
	a := netip.MustParsePrefix(e.subnet).Addr()
	for range i {
		a = a.Next()
	}
	return a.String()
}

// The container gets a network namespace of its own, with lo up and an
// eth0 on the bridge: the first free address (the gateway is the first),
// and the default route through the gateway.
func TestABridgedContainerHasEth0AndADefaultRoute(t *testing.T) {
	e := newEnv(t)
	r := e.mydocker("run", "--", "sh", "-c", "ip -o link; ip -o -4 addr show eth0; ip route")
	require.Equal(t, 0, r.code, r.String())
	assert.Regexp(t, `(?m)^1: lo: <LOOPBACK,UP,LOWER_UP>`, r.stdout, "lo is up")
	assert.Regexp(t, `(?m)^\d+: eth0@if\d+: <BROADCAST,MULTICAST,UP,LOWER_UP[,>]`, r.stdout, "eth0 is up, with its peer on the host")
	assert.Equal(t, 2, strings.Count(r.stdout, "link/"), "lo and eth0 and nothing else\n%s", r)
	assert.Contains(t, r.stdout, "inet "+e.addressOn(2)+"/24 ", r.String())
	assert.Contains(t, r.stdout, "default via "+e.gateway()+" dev eth0", r.String())

	link, err := netlink.LinkByName(e.bridge)
	require.NoError(t, err, "the bridge is made on first use")
	assert.Equal(t, "bridge", link.Type())
	addrs, err := netlink.AddrList(link, netlink.FAMILY_V4)
	require.NoError(t, err)
	require.Len(t, addrs, 1)
	assert.Equal(t, e.gateway()+"/24", addrs[0].IPNet.String(), "the bridge holds the gateway address")
}

func TestNetworkNoneHasLoopbackAlone(t *testing.T) {
	sameOnEveryCgroupVersion(t)
	e := newEnv(t)
	inside, r := e.probe("--network", "none")
	assert.NotEqual(t, report.Collect().Namespaces["net"], inside.Namespaces["net"], r.String())
	r = e.mydocker("run", "--network", "none", "--", "sh", "-c", "ls /sys/class/net; ip -o link show lo; ping -c 1 -W 2 127.0.0.1 >/dev/null && echo lo works")
	require.Equal(t, 0, r.code, r.String())
	assert.Regexp(t, `^lo\n1: lo: <LOOPBACK,UP,LOWER_UP>.*\nlo works\n$`, r.stdout)
	inUse, err := network.OpenIPAM(e.root).InUse(netip.MustParsePrefix(e.subnet))
	require.NoError(t, err)
	assert.Zero(t, inUse, "--network none takes no address")
}

func TestNetworkHostSharesTheHostsNamespace(t *testing.T) {
	sameOnEveryCgroupVersion(t)
	e := newEnv(t)
	inside, r := e.probe("--network", "host")
	assert.Equal(t, report.Collect().Namespaces["net"], inside.Namespaces["net"], r.String())
	hostname, err := os.Hostname()
	require.NoError(t, err)
	assert.Equal(t, hostname, inside.Hostname, "Docker gives a container on the host's network the host's name")
	_, err = netlink.LinkByName(e.bridge)
	assert.Error(t, err, "no bridge is made for the host's network")
}

// Two containers on the bridge reach each other, and the host reaches
// them through the bridge's address.
func TestContainersOnTheBridgeReachEachOther(t *testing.T) {
	sameOnEveryCgroupVersion(t)
	e := newEnv(t)
	server := e.runDetached("--", "sh", "-c", "while true; do echo hello from $(hostname) | nc -l -p 7000; done")
	ip := e.inspect(server, "{{.NetworkSettings.IPAddress}}")
	assert.Equal(t, e.addressOn(2), ip)
	assert.Equal(t, e.gateway(), e.inspect(server, "{{.NetworkSettings.Gateway}}"))
	assert.Equal(t, ip, e.inspect(server, "{{.NetworkSettings.Networks.bridge.IPAddress}}"))
	want := "hello from " + e.inspect(server, "{{.Config.Hostname}}") + "\n"

	var r result
	require.Eventually(t, func() bool {
		r = e.mydocker("run", "--", "nc", "-w", "2", ip, "7000")
		return r.code == 0 && r.stdout == want
	}, patient(10*time.Second), 100*time.Millisecond, "a second container reaches the first at %s\n%s", ip, r)

	conn, err := net.DialTimeout("tcp", net.JoinHostPort(ip, "7000"), patient(5*time.Second))
	require.NoError(t, err, "the host reaches the container through the bridge")
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(patient(5*time.Second))))
	got, err := io.ReadAll(conn)
	require.NoError(t, err)
	assert.Equal(t, want, string(got), "the host reaches the container through the bridge")
}

// The container's /etc/hosts, /etc/hostname and /etc/resolv.conf are
// written for it and bound over the image's; a name server on the host's
// loopback, which the container cannot reach, is left out.
func TestEtcFilesSayWhoTheContainerIs(t *testing.T) {
	sameOnEveryCgroupVersion(t)
	e := newEnv(t)
	r := e.mydocker("run", "-h", "web", "--", "sh", "-c", "cat /etc/hosts; echo --; cat /etc/hostname; echo --; cat /etc/resolv.conf; echo --; grep -c ' /etc/\\(hosts\\|hostname\\|resolv.conf\\) ' /proc/self/mountinfo")
	require.Equal(t, 0, r.code, r.String())
	parts := strings.Split(r.stdout, "--\n")
	require.Len(t, parts, 4, r.String())
	assert.Contains(t, parts[0], "127.0.0.1\tlocalhost\n")
	assert.Contains(t, parts[0], e.addressOn(2)+"\tweb\n")
	assert.Equal(t, "web\n", parts[1])
	assert.NotRegexp(t, `(?m)^nameserver\s+(127\.|::1)`, parts[2], "a loopback name server is out of the container's reach")
	assert.Regexp(t, `(?m)^nameserver\s+\S+`, parts[2])
	assert.Equal(t, "3\n", parts[3], "the three files are bind mounts")

	hosts := filepath.Join(t.TempDir(), "hosts")
	require.NoError(t, os.WriteFile(hosts, []byte("10.0.0.9 mine\n"), 0o644))
	r = e.mydocker("run", "-v", hosts+":/etc/hosts", "--", "cat", "/etc/hosts")
	require.Equal(t, 0, r.code, r.String())
	assert.Equal(t, "10.0.0.9 mine\n", r.stdout, "a volume on /etc/hosts wins, as in Docker")
}

// An image whose /etc/hosts is a symbolic link out of its root: the bind
// mount lands inside the root, never on the host's file.
func TestSymlinkedEtcHostsStaysInside(t *testing.T) {
	sameOnEveryCgroupVersion(t)
	for _, kind := range linkKinds {
		t.Run(kind, func(t *testing.T) {
			e := newEnv(t)
			hostDir := hostDirForLinks(t)
			victim := filepath.Join(hostDir, "hosts")
			e.installImage("hosts-link", map[string]string{"etc/hosts": linkTo(kind, victim)})
			r := e.mydocker("run", "hosts-link", "grep", "-c", "localhost", "/etc/hosts")
			assert.Equal(t, 0, r.code, r.String())
			assertEmptyDir(t, hostDir, r)
		})
	}
}

// An address is the container's while it runs: given back when it stops,
// taken again (the lowest free one) when it starts, and an --ip stays the
// container's across restarts.
func TestAddressesAreTakenAtStartAndGivenBackAtStop(t *testing.T) {
	sameOnEveryCgroupVersion(t)
	e := newEnv(t)
	first := e.runDetached("--", "sleep", "1000")
	fixed := e.runDetached("--ip", e.addressOn(77), "--", "sleep", "1000")
	assert.Equal(t, e.addressOn(2), e.inspect(first, "{{.NetworkSettings.IPAddress}}"))
	assert.Equal(t, e.addressOn(77), e.inspect(fixed, "{{.NetworkSettings.IPAddress}}"))

	taken := e.mydocker("run", "--ip", e.addressOn(77), "--", "true")
	assert.Equal(t, 125, taken.code, taken.String())
	assert.Contains(t, taken.stderr, "address "+e.addressOn(77)+" is already in use", taken.String())
	outside := e.mydocker("run", "--ip", "192.0.2.7", "--", "true")
	assert.Equal(t, 125, outside.code, outside.String())
	assert.Contains(t, outside.stderr, "192.0.2.7", outside.String())
	assert.Contains(t, outside.stderr, e.subnet, outside.String())

	for _, id := range []string{first, fixed} {
		stop := e.mydocker("stop", "-t", "0", id)
		require.Equal(t, 0, stop.code, stop.String())
		assert.Empty(t, e.inspect(id, "{{.NetworkSettings.IPAddress}}"), "a stopped container has no address")
	}
	second := e.runDetached("--", "sleep", "1000")
	assert.Equal(t, e.addressOn(2), e.inspect(second, "{{.NetworkSettings.IPAddress}}"), "the stopped container's address is free again")
	for _, id := range []string{first, fixed} {
		start := e.mydocker("start", id)
		require.Equal(t, 0, start.code, start.String())
	}
	assert.Equal(t, e.addressOn(3), e.inspect(first, "{{.NetworkSettings.IPAddress}}"))
	assert.Equal(t, e.addressOn(77), e.inspect(fixed, "{{.NetworkSettings.IPAddress}}"), "an --ip stays the container's")
}

// 50 containers started at once, all running together, get 50 distinct
// addresses; once they are removed, every address is free again
// (checkAddressesReleased). Without the IPAM's exclusive lock, two runs
// read the same bitmap and take the same address.
func TestParallelRunsGetDistinctAddresses(t *testing.T) {
	sameOnEveryCgroupVersion(t)
	e := newEnv(t)
	const n = 50
	ips, ids := make([]string, n), make([]string, n)
	// Removed once all have been seen: a container removed early would
	// give its address to a later one.
	defer func() {
		for _, id := range ids {
			if id != "" {
				e.mydocker("rm", "-f", id)
			}
		}
	}()
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r := e.mydocker("run", "-d", "--", "sh", "-c", "ip -o -4 addr show eth0 > /tmp/ip; exec sleep 1000")
			if !assert.Equal(t, 0, r.code, r.String()) {
				return
			}
			id := strings.TrimSpace(r.stdout)
			ids[i] = id
			ips[i] = e.inspect(id, "{{.NetworkSettings.IPAddress}}")
			// What the container itself sees on eth0.
			var inside result
			assert.Eventually(t, func() bool {
				inside = e.mydocker("exec", id, "cat", "/tmp/ip")
				return inside.code == 0 && inside.stdout != ""
			}, patient(10*time.Second), 50*time.Millisecond, "%s", inside)
			assert.Contains(t, inside.stdout, "inet "+ips[i]+"/24 ", inside.String())
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, ip := range ips {
		assert.False(t, seen[ip], "address %s given twice: %v", ip, ips)
		seen[ip] = true
	}
	assert.Len(t, seen, n)
}

// A monitor killed with its container leaves the address taken in the
// bitmap; the next command settles the container and gives it back.
func TestAKilledMonitorsAddressIsGivenBack(t *testing.T) {
	sameOnEveryCgroupVersion(t)
	e := newEnv(t)
	id := e.runDetached("--", "sleep", "1000")
	initPID, err := strconv.Atoi(e.inspect(id, "{{.State.Pid}}"))
	require.NoError(t, err)
	require.NoError(t, syscall.Kill(monitorOf(t, initPID), syscall.SIGKILL))
	waitDead(t, initPID)
	inUse, err := network.OpenIPAM(e.root).InUse(netip.MustParsePrefix(e.subnet))
	require.NoError(t, err)
	assert.Equal(t, 4, inUse, "the killed container's address is still taken")
	ps := e.mydocker("ps", "-a")
	require.Equal(t, 0, ps.code, ps.String())
	assert.Regexp(t, regexp.MustCompile(`Exited \(unknown\)`), ps.stdout)
	// checkAddressesReleased checks the bitmap after rm.
}
