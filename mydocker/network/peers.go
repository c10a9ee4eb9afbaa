//book:file bridge

package network

import (
	"fmt"
	"net/netip"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Containers on a network of network create find each other by name, as
// in Docker, and those on the default network do not. Docker answers the
// names from a DNS server of its own that it makes reachable at
// 127.0.0.11 in every container; mydocker writes them into the
// containers' /etc/hosts instead, as Docker did before it had that
// server: every time a container joins or leaves a network, the hosts
// file of each container on it is written again.

// Peer is a container on a network, as the others' /etc/hosts name it.
type Peer struct {
	ID       string
	Name     string // "" for a container without --name
	Hostname string
	IP       netip.Addr
}

// names are the names under which the others reach the peer: its name,
// and the short id that ps shows.
func (p Peer) names() string {
	if p.Name == "" {
		return p.ID[:12]
	}
	return p.Name + " " + p.ID[:12]
}

// HostsWithPeers is the /etc/hosts of self on a network where others
// are too: the file of HostsFile, then one line for each of the others.
func HostsWithPeers(self Peer, others []Peer) []byte {
	b := HostsFile(self.Hostname, self.IP)
	for _, p := range others {
		if p.ID != self.ID {
			b = fmt.Appendf(b, "%s\t%s\n", p.IP, p.names())
		}
	}
	return b
}

// LockPeers takes the lock under which the hosts files of the network's
// containers are written: two containers joining at once would otherwise
// each write a file that misses the other.
func (s Store) LockPeers(network string) (func(), error) {
	if err := CheckName(network); err != nil {
		return nil, err
	}
	return lockFile(filepath.Join(s.dir, "."+network+".peers.lock"), unix.LOCK_EX)
}
