//book:file netns

package network

import (
	"bufio"
	"bytes"
	"fmt"
	"net/netip"
	"strings"
)

// Programs in the container look names up through three files of /etc,
// which the image cannot know: who the container is, and which name
// servers it can reach. mydocker writes them for each container and the
// init binds them over the image's, as Docker does.

// HostsFile is the container's /etc/hosts: localhost, and its own
// hostname at its address when it has one (none for --network none).
func HostsFile(hostname string, ip netip.Addr) []byte {
	var b bytes.Buffer
	b.WriteString("127.0.0.1\tlocalhost\n")
	b.WriteString("::1\tlocalhost ip6-localhost ip6-loopback\n")
	b.WriteString("fe00::0\tip6-localnet\n")
	b.WriteString("ff00::0\tip6-mcastprefix\n")
	b.WriteString("ff02::1\tip6-allnodes\n")
	b.WriteString("ff02::2\tip6-allrouters\n")
	if ip.IsValid() {
		fmt.Fprintf(&b, "%s\t%s\n", ip, hostname)
	}
	return b.Bytes()
}

// Docker's fallback when the host has no name server the container can
// reach.
var fallbackNameservers = []string{"8.8.8.8", "8.8.4.4"}

// ResolvConf is the container's /etc/resolv.conf, made from the host's.
// A name server on a loopback address (127.0.0.53 of systemd-resolved,
// a local dnsmasq) listens on the host's lo, which a container in its own
// network namespace does not share: those lines go, and if none is left
// the container gets Docker's fallback. With the host's network
// (ownNamespace false) the file is the host's as it is.
func ResolvConf(host []byte, ownNamespace bool) []byte {
	if !ownNamespace {
		return host
	}
	var out bytes.Buffer
	servers := 0
	scanner := bufio.NewScanner(bytes.NewReader(host))
	for scanner.Scan() {
		line := scanner.Text()
		if addr, ok := nameserver(line); ok {
			if addr.IsLoopback() {
				continue
			}
			servers++
		}
		out.WriteString(line + "\n")
	}
	if servers == 0 {
		for _, s := range fallbackNameservers {
			out.WriteString("nameserver " + s + "\n")
		}
	}
	return out.Bytes()
}

// nameserver parses a "nameserver ADDR" line.
func nameserver(line string) (netip.Addr, bool) {
	fields := strings.Fields(line)
	if len(fields) < 2 || fields[0] != "nameserver" {
		return netip.Addr{}, false
	}
	// An IPv6 address may carry a zone: fe80::1%eth0.
	addr, err := netip.ParseAddr(fields[1])
	return addr, err == nil
}
