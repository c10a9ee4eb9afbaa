//book:file bridge

package integration

import (
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netns"

	"github.com/mydocker-book/mydocker/mydocker/network"
)

// hostPort is a port of the host for a test to publish, apart from every
// other test's and run's.
func hostPort() int {
	return 20000 + (os.Getpid()%1000)*20 + int(networkCount.Add(1)%20)
}

// httpGet fetches path from addr with a plain HTTP/1.0 request, from the
// network namespace ns (the host's if ns is -1), and returns the body.
// The socket is made on a thread in ns and stays there: sockets belong to
// the namespace they were made in.
func httpGet(ns netns.NsHandle, addr, path string) (string, error) {
	conn, err := dialIn(ns, addr)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(patient(5 * time.Second)))
	if _, err := fmt.Fprintf(conn, "GET %s HTTP/1.0\r\n\r\n", path); err != nil {
		return "", err
	}
	data, err := io.ReadAll(conn)
	if err != nil {
		return "", err
	}
	head, body, ok := strings.Cut(string(data), "\r\n\r\n")
	if !ok || !strings.Contains(head, " 200 ") {
		return "", fmt.Errorf("unexpected answer: %q", data)
	}
	return body, nil
}

// waitForLocalPort fetches /hostname through the host's localhost:port
// until it answers, and returns the page: httpd in a container that has
// just started may not listen yet, and the container itself refuses the
// connection until it does.
func waitForLocalPort(t *testing.T, port int) string {
	t.Helper()
	var body string
	var err error
	require.Eventually(t, func() bool {
		body, err = httpGet(-1, fmt.Sprintf("127.0.0.1:%d", port), "/hostname")
		return err == nil
	}, patient(10*time.Second), 50*time.Millisecond, "the published port %d answers on the host's localhost", port)
	return body
}

func dialIn(ns netns.NsHandle, addr string) (net.Conn, error) {
	if ns == -1 {
		return net.DialTimeout("tcp4", addr, patient(3*time.Second))
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		return nil, err
	}
	defer orig.Close()
	if err := netns.Set(ns); err != nil {
		return nil, err
	}
	defer netns.Set(orig)
	return net.DialTimeout("tcp4", addr, patient(3*time.Second))
}

// A published port answers from the host's localhost, which takes DNAT in
// OUTPUT, route_localnet and the MASQUERADE of local sources, and from
// another network namespace through the host's address, which takes DNAT
// in PREROUTING; FORWARD's policy is DROP meanwhile. Once the container
// stops, the port is closed and its rules are gone.
func TestPublishedPortAnswersFromLocalhostAndFromOutside(t *testing.T) {
	sameOnEveryCgroupVersion(t)
	e := newEnv(t)
	out := e.makeOutside()
	iptables(t, "-P", "FORWARD", "DROP")
	t.Cleanup(func() { iptables(t, "-P", "FORWARD", "ACCEPT") })

	for _, network := range []string{"bridge", "published"} {
		if network != "bridge" {
			e.createNetwork(network)
		}
		port := hostPort()
		web := e.runDetached("--network", network, "-p", fmt.Sprintf("%d:80", port), "--", "httpd", "-f", "-p", "80", "-h", "/etc")
		waitForLocalPort(t, port)
		for _, from := range []struct {
			name string
			ns   netns.NsHandle
			addr string
		}{
			{"the host's localhost", -1, fmt.Sprintf("127.0.0.1:%d", port)},
			{"the host's own address", -1, fmt.Sprintf("%s:%d", out.hostAddr, port)},
			{"another network namespace", out.ns, fmt.Sprintf("%s:%d", out.hostAddr, port)},
		} {
			body, err := httpGet(from.ns, from.addr, "/hostname")
			if assert.NoError(t, err, "%s reaches the port published by a container on %s", from.name, network) {
				assert.Equal(t, web[:12]+"\n", body, "the container answers %s", from.name)
			}
		}
		assert.Equal(t, fmt.Sprintf("80/tcp -> 0.0.0.0:%d\n", port), e.mydocker("port", web).stdout)
		assert.Regexp(t, fmt.Sprintf(`(?m)^%s .* 0\.0\.0\.0:%d->80/tcp +\n`, web[:12], port), e.mydocker("ps").stdout, "ps's PORTS column")
		assert.Contains(t, strings.Join(iptablesRules(), "\n"), "mydocker container "+web[:12])

		stop := e.mydocker("stop", web)
		require.Equal(t, 0, stop.code, stop.String())
		_, err := httpGet(-1, fmt.Sprintf("127.0.0.1:%d", port), "/hostname")
		assert.Error(t, err, "a stopped container's port is closed")
		assert.NotContains(t, strings.Join(iptablesRules(), "\n"), web[:12], "a stopped container's rules are gone")
		assert.Empty(t, e.mydocker("port", web).stdout)
	}
}

// A port is published by one container at a time, host-wide; a port a
// program of the host listens on is refused too; a host address that is
// not the host's is refused; -p binds to HOST_IP only.
func TestPublishedPortConflictsAreRefused(t *testing.T) {
	sameOnEveryCgroupVersion(t)
	e := newEnv(t)
	port := hostPort()
	e.runDetached("--name", "first", "-p", fmt.Sprintf("127.0.0.1:%d:80", port), "--", "httpd", "-f", "-p", "80", "-h", "/etc")
	before := iptablesRules()

	second := e.mydocker("run", "--rm", "-p", fmt.Sprintf("%d:81", port), "--", "true")
	assert.Equal(t, 125, second.code, second.String())
	assert.Contains(t, second.stderr, fmt.Sprintf("bind for 0.0.0.0:%d failed: port is already allocated (127.0.0.1:%d->80/tcp", port, port))
	udp := e.mydocker("run", "--rm", "-p", fmt.Sprintf("%d:81/udp", port), "--", "true")
	assert.Equal(t, 0, udp.code, "another protocol is another port\n%s", udp)

	listener, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	defer listener.Close()
	taken := listener.Addr().(*net.TCPAddr).Port
	busy := e.mydocker("run", "--rm", "-p", fmt.Sprintf("%d:80", taken), "--", "true")
	assert.Equal(t, 125, busy.code, busy.String())
	assert.Contains(t, busy.stderr, "a program of the host uses the port")

	foreign := e.mydocker("run", "--rm", "-p", fmt.Sprintf("192.0.2.250:%d:80", hostPort()), "--", "true")
	assert.Equal(t, 125, foreign.code, foreign.String())
	assert.Contains(t, foreign.stderr, "192.0.2.250 is not an address of the host")

	assert.Equal(t, before, iptablesRules(), "refused runs leave no rule behind")
}

// -p's bad input is refused before anything is made.
func TestBadPublishFlagsAreRefused(t *testing.T) {
	sameOnEveryCgroupVersion(t)
	e := newEnv(t)
	for _, c := range []struct{ flag, says string }{
		{"80", "both ports are needed"},
		{"0:80", "the host port is a number from 1 to 65535"},
		{"8080:70000", "the container port is a number from 1 to 65535"},
		{"8080:80/sctp", "the protocol is tcp or udp"},
		{"localhost:8080:80", "the host address is an IPv4 address"},
		{"::1:8080:80", "both ports are needed"},
	} {
		r := e.mydocker("run", "--rm", "-p", c.flag, "--", "true")
		assert.Equal(t, 125, r.code, r.String())
		assert.Contains(t, r.stderr, c.says, r.String())
	}
	twice := e.mydocker("run", "--rm", "-p", "8080:80", "-p", "8080:81", "--", "true")
	assert.Equal(t, 125, twice.code, twice.String())
	assert.Contains(t, twice.stderr, "the host port 8080/tcp is given twice")
	none := e.mydocker("run", "--rm", "--network", "none", "-p", "8080:80", "--", "true")
	assert.Equal(t, 125, none.code, none.String())
	host := e.mydocker("run", "--rm", "--network", "host", "-p", "8080:80", "--", "true")
	assert.Equal(t, 0, host.code, host.String())
	assert.Contains(t, host.stderr, "Published ports are discarded when using host network mode")
}

// mydocker killed at random points of a run that publishes a port, on a
// network of network create: whatever it made (the address, the veth, the
// rules of the port, the line in the others' /etc/hosts) the next
// commands remove, and the port can be published again.
func TestKillsDuringRunWithAPublishedPortLeaveNothing(t *testing.T) {
	sameOnEveryCgroupVersion(t)
	e := newEnv(t)
	id, subnet := e.createNetwork("crashes")
	port := hostPort()
	publish := fmt.Sprintf("%d:80", port)
	before := iptablesRules()
	// From before the clone to after the rules: a run takes some 50 to
	// 300 ms here, its network step near its end.
	published := 0
	for i := range 16 {
		r := e.start("run", "--network", "crashes", "--name", "victim", "-p", publish, "--", "sleep", "1000")
		time.Sleep(patient(time.Duration(i*25) * time.Millisecond))
		if strings.Contains(strings.Join(iptablesRules(), "\n"), "mydocker container") {
			published++
		}
		r.kill()
		// The container was run with --rm: the sweep of rm's own start
		// may remove it first, and rm then finds none.
		rm := e.mydocker("rm", "-f", "victim")
		assert.Contains(t, []int{0, 1}, rm.code, "rm -f after a kill\n%s", rm)
	}
	t.Logf("%d of 16 runs were killed with their port published", published)
	assert.Positive(t, published, "some kills came after the rules were added")

	// rm -f killed at random points: the next rm -f finishes the job.
	for i := range 8 {
		e.runDetached("--network", "crashes", "--name", "victim", "-p", publish, "--", "sleep", "1000")
		r := e.start("rm", "-f", "victim")
		time.Sleep(patient(time.Duration(i*10) * time.Millisecond))
		r.kill()
		rm := e.mydocker("rm", "-f", "victim")
		assert.Contains(t, []int{0, 1}, rm.code, "rm -f after a killed rm -f\n%s", rm)
	}
	ps := e.mydocker("ps", "-aq")
	assert.Empty(t, ps.stdout, "no container is left\n%s", ps)
	assert.Equal(t, before, iptablesRules(), "the ports' rules went with their containers")
	assert.Empty(t, bridgePorts(t, bridgeOf(id)), "no veth is left on the network's bridge")
	inUse, err := network.OpenIPAM(e.root).InUse(subnet)
	require.NoError(t, err)
	assert.LessOrEqual(t, inUse, 3, "network, gateway and broadcast addresses only")

	again := e.runDetached("--network", "crashes", "-p", publish, "--", "httpd", "-f", "-p", "80", "-h", "/etc")
	assert.Equal(t, again[:12]+"\n", waitForLocalPort(t, port), "the port is published again")
}
