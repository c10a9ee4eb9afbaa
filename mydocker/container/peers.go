//book:file bridge

package container

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"

	"github.com/sirupsen/logrus"

	"github.com/mydocker-book/mydocker/mydocker/network"
	"github.com/mydocker-book/mydocker/mydocker/state"
)

// introduce writes the hosts file of every container on the container's
// network, its own included, once it has its address: they now know it
// by name, and it knows them. The default network names no one, as in
// Docker.
func (c *Container) introduce() error {
	ep := c.state.Endpoint
	if ep == nil || ep.Network == NetworkBridge {
		return nil
	}
	self := network.Peer{ID: c.ID, Name: c.Name, Hostname: c.Hostname, IP: ep.IP}
	return rewritePeersHosts(c.StateRoot, ep.Network, &self, "")
}

// forget writes the hosts files of the others on the network without the
// container id, which has left it.
func forget(stateRoot, networkName, id string) {
	if networkName == NetworkBridge {
		return
	}
	if err := rewritePeersHosts(stateRoot, networkName, nil, id); err != nil {
		logrus.Warnf("removing container %s from the /etc/hosts of the others on %s: %v", id[:12], networkName, err)
	}
}

// rewritePeersHosts writes the hosts file of each container on the
// network, joining (self) and leaving (gone) aside, under the network's
// peers lock. Each file is written in place: the container's /etc/hosts is
// a bind mount of that very inode, and a new file renamed over it would
// never be seen inside. A program that reads the file at that moment may
// find it short: the price of this design, which a DNS server avoids.
func rewritePeersHosts(stateRoot, networkName string, self *network.Peer, gone string) error {
	unlock, err := network.OpenStore(stateRoot).LockPeers(networkName)
	if err != nil {
		return err
	}
	defer unlock()
	peers, err := peersOn(stateRoot, networkName, gone)
	if err != nil {
		return err
	}
	if self != nil {
		peers[self.ID] = *self
	}
	list := make([]network.Peer, 0, len(peers))
	for _, p := range peers {
		list = append(list, p)
	}
	sortPeers(list)
	for _, p := range list {
		hosts := filepath.Join(state.ContainerDir(stateRoot, p.ID), "hosts")
		logrus.Debugf("hosts: %s knows %d other containers of %s", p.ID[:12], len(list)-1, networkName)
		if err := writeInPlace(hosts, network.HostsWithPeers(p, list)); err != nil {
			return err
		}
	}
	return nil
}

// peersOn lists the containers of the state root that hold an address on
// the network, but gone.
func peersOn(stateRoot, networkName, gone string) (map[string]network.Peer, error) {
	ids, err := state.IDs(stateRoot)
	if err != nil {
		return nil, err
	}
	peers := map[string]network.Peer{}
	for _, id := range ids {
		if id == gone {
			continue
		}
		dir := state.ContainerDir(stateRoot, id)
		st, err := state.Load(dir)
		if err != nil || st.Endpoint == nil || st.Endpoint.Network != networkName {
			continue
		}
		ep := st.Endpoint
		peers[id] = network.Peer{ID: id, Name: ep.Name, Hostname: ep.Hostname, IP: ep.IP}
	}
	return peers, nil
}

func sortPeers(list []network.Peer) {
	slices.SortFunc(list, func(a, b network.Peer) int { return a.IP.Compare(b.IP) })
}

// writeInPlace replaces the content of the existing file path, keeping its
// inode; a file that is gone (its container removed meanwhile) is skipped.
func writeInPlace(path string, data []byte) error {
	//book:lab bridge peers
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC|syscall.O_NOFOLLOW, 0)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("opening %s: %w", path, err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
	//book:stub
	// // Lab bridge, part 2 (labs/13-bridge/README.md): replace the content
	// // of the file, keeping its inode. Until then the new content goes to
	// // a new file renamed over the old one, as state files are written:
	// // atomic, and never seen by a container that has the old file bound
	// // on its /etc/hosts.
	// if _, err := os.Stat(path); os.IsNotExist(err) {
	// 	return nil
	// }
	// tmp := path + ".new"
	// if err := os.WriteFile(tmp, data, 0o644); err != nil {
	// 	return err
	// }
	// return os.Rename(tmp, path)
	//book:end bridge peers
}
