//book:file bridge

package network

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/coreos/go-iptables/iptables"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// A published port (-p 8080:80) is a port of the host that leads to a
// port of a container. Nothing listens on the host's port: netfilter
// rewrites the destination of each new connection to it (DNAT) before the
// host routes the packet, so the host forwards it to the bridge as if it
// had been sent to the container in the first place. Three rules per port:
//
//   - DNAT in nat's MYDOCKER chain, which PREROUTING (packets from other
//     machines and namespaces) and OUTPUT (the host's own programs) jump
//     to for packets addressed to one of the host's addresses;
//   - ACCEPT in filter's FORWARD for those connections to the container,
//     since FORWARD's policy may be DROP;
//   - per network, once (Network.rules): MASQUERADE of the host's own
//     sources leaving by the bridge, and route_localnet on the bridge, so
//     that a connection to 127.0.0.1:8080 can leave by the bridge at all.

// PortMapping is one -p: HostIP:HostPort on the host leads to
// ContainerPort of the container, for Protocol.
type PortMapping struct {
	HostIP        string `json:"hostIP,omitempty"` // "": every address of the host
	HostPort      int    `json:"hostPort"`
	ContainerPort int    `json:"containerPort"`
	Protocol      string `json:"protocol"` // tcp or udp
}

// ParsePortMapping reads -p [HOST_IP:]HOST_PORT:CONTAINER_PORT[/tcp|udp].
func ParsePortMapping(spec string) (PortMapping, error) {
	p := PortMapping{Protocol: "tcp"}
	bad := func(why string) (PortMapping, error) {
		return PortMapping{}, fmt.Errorf("-p %q: %s: write [HOST_IP:]HOST_PORT:CONTAINER_PORT[/tcp|udp], such as 8080:80 or 127.0.0.1:8080:80/tcp", spec, why)
	}
	ports, proto, hasProto := strings.Cut(spec, "/")
	if hasProto {
		if proto != "tcp" && proto != "udp" {
			return bad("the protocol is tcp or udp")
		}
		p.Protocol = proto
	}
	fields := strings.Split(ports, ":")
	switch len(fields) {
	case 2:
	case 3:
		ip, err := netip.ParseAddr(fields[0])
		if err != nil || !ip.Is4() {
			return bad("the host address is an IPv4 address")
		}
		if !ip.IsUnspecified() {
			p.HostIP = ip.String()
		}
		fields = fields[1:]
	default:
		return bad("both ports are needed")
	}
	var err error
	if p.HostPort, err = parsePort(fields[0]); err != nil {
		return bad("the host port " + err.Error())
	}
	if p.ContainerPort, err = parsePort(fields[1]); err != nil {
		return bad("the container port " + err.Error())
	}
	return p, nil
}

func parsePort(s string) (int, error) {
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil || n == 0 {
		return 0, errors.New("is a number from 1 to 65535")
	}
	return int(n), nil
}

// String is the mapping as docker ps shows it: 0.0.0.0:8080->80/tcp.
func (p PortMapping) String() string {
	return fmt.Sprintf("%s:%d->%d/%s", p.HostAddr(), p.HostPort, p.ContainerPort, p.Protocol)
}

// HostAddr is the host's address of the mapping, 0.0.0.0 for every one.
func (p PortMapping) HostAddr() string {
	if p.HostIP != "" {
		return p.HostIP
	}
	return "0.0.0.0"
}

// overlaps tells whether two mappings want the same port of the host: the
// same protocol and port, on the same address or on every address.
func (p PortMapping) overlaps(q PortMapping) bool {
	return p.Protocol == q.Protocol && p.HostPort == q.HostPort &&
		(p.HostIP == "" || q.HostIP == "" || p.HostIP == q.HostIP)
}

const publishChain = "MYDOCKER" // nat: the DNAT rules of every published port

// publishJumps send what is addressed to the host, from elsewhere
// (PREROUTING) or from the host itself (OUTPUT), through the DNAT rules.
var publishJumps = []rule{
	{"nat", "PREROUTING", []string{"-m", "addrtype", "--dst-type", "LOCAL", "-m", "comment", "--comment", "mydocker ports", "-j", publishChain}},
	{"nat", "OUTPUT", []string{"-m", "addrtype", "--dst-type", "LOCAL", "-m", "comment", "--comment", "mydocker ports", "-j", publishChain}},
}

// portRules are the two rules of one published port of the endpoint.
func (ep Endpoint) portRules(p PortMapping) []rule {
	//book:lab bridge publish
	tag := []string{"-m", "comment", "--comment", containerComment(ep.Container)}
	port := strconv.Itoa(p.ContainerPort)
	var dnat []string
	if p.HostIP != "" {
		dnat = append(dnat, "-d", p.HostIP+"/32")
	}
	dnat = append(dnat, "-p", p.Protocol, "-m", p.Protocol, "--dport", strconv.Itoa(p.HostPort))
	dnat = append(dnat, tag...)
	dnat = append(dnat, "-j", "DNAT", "--to-destination", ep.IP.String()+":"+port)
	accept := []string{"-d", ep.IP.String() + "/32", "!", "-i", ep.Bridge, "-o", ep.Bridge,
		"-p", p.Protocol, "-m", p.Protocol, "--dport", port}
	accept = append(accept, tag...)
	accept = append(accept, "-j", "ACCEPT")
	return []rule{{"nat", publishChain, dnat}, {"filter", "FORWARD", accept}}
	//book:stub
	// // Lab bridge, part 1 (labs/13-bridge/README.md): the rules of one
	// // published port. Until then, the DNAT rule alone, to every address
	// // of the host: enough while FORWARD's policy is ACCEPT.
	// tag := []string{"-m", "comment", "--comment", containerComment(ep.Container)}
	// dnat := []string{"-p", p.Protocol, "-m", p.Protocol, "--dport", strconv.Itoa(p.HostPort)}
	// dnat = append(dnat, tag...)
	// dnat = append(dnat, "-j", "DNAT", "--to-destination", ep.IP.String()+":"+strconv.Itoa(p.ContainerPort))
	// return []rule{{"nat", publishChain, dnat}}
	//book:end bridge publish
}

// containerComment tags the rules of container id's ports.
func containerComment(id string) string { return "mydocker container " + id[:12] }

// Publish adds the rules of the endpoint's ports, after checking that no
// other container has published the same port of the host, and that no
// program of the host listens on it: the DNAT would take its connections
// away from it without a word.
func (ep Endpoint) Publish() error {
	if len(ep.Ports) == 0 {
		return nil
	}
	return withNetfilter(func(ipt *iptables.IPTables) error {
		// The ACCEPT rules go below the jump to the isolation chains.
		if err := ensureIsolationChains(ipt); err != nil {
			return err
		}
		if err := ensurePublishChain(ipt); err != nil {
			return err
		}
		for _, p := range ep.Ports {
			if err := checkPortFree(ipt, p, ep.Container); err != nil {
				return err
			}
			for _, r := range ep.portRules(p) {
				if err := insertRule(ipt, r); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// Unpublish removes the rules of the endpoint's ports, and the chain with
// the last container's; rules already gone are no error, so that it may
// run twice.
func (ep Endpoint) Unpublish() error {
	if len(ep.Ports) == 0 {
		return nil
	}
	return withNetfilter(func(ipt *iptables.IPTables) error {
		var errs []error
		for _, p := range ep.Ports {
			for _, r := range ep.portRules(p) {
				errs = append(errs, deleteRule(ipt, r))
			}
		}
		return errors.Join(append(errs, removePublishChainIfUnused(ipt))...)
	})
}

// checkPortFree refuses a port that a DNAT rule of another container has
// taken already, on any state root of the host, or that a socket of the
// host holds. The container's own rule, left by a kill that the sweep has
// not settled yet, is no conflict: insertOnce finds it.
func checkPortFree(ipt *iptables.IPTables, p PortMapping, id string) error {
	list, err := ipt.List("nat", publishChain)
	if err != nil {
		return err
	}
	for _, line := range list {
		if q, owner, ok := parseDNAT(line); ok && q.overlaps(p) {
			if owner == containerComment(id) {
				return nil
			}
			return fmt.Errorf("bind for %s:%d failed: port is already allocated (%s, by %s): choose another host port, or stop that container first",
				p.HostAddr(), p.HostPort, q, owner)
		}
	}
	return checkNoListener(p)
}

// parseDNAT reads back a DNAT rule of portRules, as iptables -S prints
// it: its mapping (host side) and its comment.
func parseDNAT(line string) (PortMapping, string, bool) {
	fields := strings.Fields(strings.ReplaceAll(line, `"`, ""))
	value := func(flag string) string {
		if i := slices.Index(fields, flag); i >= 0 && i+1 < len(fields) {
			return fields[i+1]
		}
		return ""
	}
	port, err := parsePort(value("--dport"))
	if err != nil || value("-j") != "DNAT" {
		return PortMapping{}, "", false
	}
	p := PortMapping{HostPort: port, Protocol: value("-p")}
	if _, to, ok := strings.Cut(value("--to-destination"), ":"); ok {
		p.ContainerPort, _ = parsePort(to)
	}
	if d, err := netip.ParsePrefix(value("-d")); err == nil {
		p.HostIP = d.Addr().String()
	}
	owner, _, _ := strings.Cut(line[strings.Index(line, "--comment")+len("--comment "):], " -j")
	return p, strings.Trim(owner, `"`), true
}

// checkNoListener binds the port for a moment: if a program of the host
// holds it, the kernel says so. The port is not kept: a program may still
// bind it later, and lose its connections to the container.
func checkNoListener(p PortMapping) error {
	addr := net.JoinHostPort(p.HostAddr(), strconv.Itoa(p.HostPort))
	var err error
	if p.Protocol == "udp" {
		var c net.PacketConn
		if c, err = net.ListenPacket("udp4", addr); err == nil {
			c.Close()
		}
	} else {
		var l net.Listener
		if l, err = net.Listen("tcp4", addr); err == nil {
			l.Close()
		}
	}
	switch {
	case errors.Is(err, unix.EADDRINUSE):
		return fmt.Errorf("bind for %s failed: a program of the host uses the port (ss -lntup shows which): choose another host port", addr)
	case errors.Is(err, unix.EADDRNOTAVAIL):
		return fmt.Errorf("bind for %s failed: %s is not an address of the host (ip -4 addr lists them)", addr, p.HostIP)
	case err != nil:
		return fmt.Errorf("bind for %s failed: %w", addr, err)
	}
	return nil
}

// ensurePublishChain makes the nat chain and the jumps to it.
func ensurePublishChain(ipt *iptables.IPTables) error {
	exists, err := ipt.ChainExists("nat", publishChain)
	if err != nil {
		return err
	}
	if !exists {
		logrus.Debugf("iptables -t nat -N %s", publishChain)
		if err := ipt.NewChain("nat", publishChain); err != nil {
			return fmt.Errorf("creating the chain %s: %w", publishChain, err)
		}
	}
	for _, jump := range publishJumps {
		if err := insertOnce(ipt, jump, 1); err != nil {
			return err
		}
	}
	return nil
}

// removePublishChainIfUnused removes the chain and its jumps once no
// port is published.
func removePublishChainIfUnused(ipt *iptables.IPTables) error {
	isRule := func(line string) bool { return strings.HasPrefix(line, "-A ") }
	if unused, err := chainUnused(ipt, "nat", publishChain, isRule); err != nil || !unused {
		return err
	}
	logrus.Debugf("iptables: no port published any more, removing the chain %s", publishChain)
	for _, jump := range publishJumps {
		if err := deleteRule(ipt, jump); err != nil {
			return err
		}
	}
	return ipt.DeleteChain("nat", publishChain)
}
