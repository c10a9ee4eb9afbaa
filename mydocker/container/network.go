//book:file netns

package container

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/sirupsen/logrus"

	"github.com/mydocker-book/mydocker/mydocker/network"
	"github.com/mydocker-book/mydocker/mydocker/state"
)

// The network modes of --network, as Docker names them.
const (
	NetworkBridge = "bridge" // its own namespace, a veth pair to the default bridge
	NetworkNone   = "none"   // its own namespace, with lo alone
	NetworkHost   = "host"   // the host's namespace: no isolation of the network at all
)

// CheckNetwork refuses a --network mode this chapter does not know, and
// an --ip that cannot be given.
func CheckNetwork(mode, ip string) error {
	//book:replace netns bridge
	// switch mode {
	// case NetworkBridge, NetworkNone, NetworkHost:
	// default:
	// 	return fmt.Errorf("network %q not found: use bridge (the default), none or host", mode)
	// }
	//book:end
	//book:add bridge
	// A network of network create is checked when the container joins it:
	// it may be made or removed meanwhile.
	if err := network.CheckName(mode); err != nil {
		return fmt.Errorf("network %q not found: use bridge (the default), none, host or the name of a network", mode)
	}
	//book:end
	if ip == "" {
		return nil
	}
	if !hasAddresses(mode) {
		return fmt.Errorf("--ip %s needs a network with addresses: --network %s has none", ip, mode)
	}
	if _, err := netip.ParseAddr(ip); err != nil {
		return fmt.Errorf("--ip %q is not an IPv4 address: %w", ip, err)
	}
	return nil
}

// hasAddresses tells whether the container gets an address: on the
// default bridge, and on every network of network create.
func hasAddresses(mode string) bool { return mode != NetworkNone && mode != NetworkHost }

// ownsNetworkNamespace tells whether the container gets a network
// namespace of its own, that is, everything but --network host.
func ownsNetworkNamespace(cfg Config) bool { return cfg.Network != NetworkHost }

// connectNetwork gives the container its network, while the init waits
// for its configuration: for bridge an address, recorded in the state
// before anything else is made, so that whoever cleans up after a kill
// can give it back; then the veth pair. Last, the files of /etc that say
// who the container is on it.
func (c *Container) connectNetwork() error {
	switch {
	case c.Network == NetworkNone:
		if err := network.LoopbackUp(c.init.Process.Pid); err != nil {
			return err
		}
	case hasAddresses(c.Network):
		if err := c.joinBridge(); err != nil {
			return err
		}
	}
	//book:replace netns bridge
	// return c.writeNetworkFiles()
	//book:end
	//book:add bridge
	if err := c.writeNetworkFiles(); err != nil {
		return err
	}
	return c.introduce()
	//book:end
}

func (c *Container) joinBridge() error {
	//book:replace netns bridge
	// n, err := network.Default(c.StateRoot, c.BridgeName, c.BridgeSubnet)
	// if err != nil {
	// 	return err
	// }
	// return c.joinNetwork(n)
	//book:end
	//book:add bridge
	return network.OpenStore(c.StateRoot).Use(c.Network, c.BridgeName, c.BridgeSubnet, c.joinNetwork)
	//book:end
}

// joinNetwork takes the container's address on n, notes it in the
// state, and wires the container to n's bridge.
func (c *Container) joinNetwork(n network.Network) error {
	var ip netip.Addr
	if c.IP != "" {
		ip = netip.MustParseAddr(c.IP) // CheckNetwork parsed it
	}
	ep, err := n.Reserve(network.OpenIPAM(c.StateRoot), c.ID, ip)
	if err != nil {
		return err
	}
	//book:add bridge
	// Noted before their rules are added, as the address before it is
	// wired: whoever cleans up removes what the state names.
	ep.Ports = c.Ports
	// Noted with the address, so that a container joining meanwhile lists
	// this one by name: the record, which has the name too, comes later.
	ep.Name, ep.Hostname = c.Name, c.Hostname
	//book:end
	c.state.Endpoint = &ep
	if err := c.noteState(); err != nil {
		c.disconnectNetwork()
		return err
	}
	if err := ep.Attach(n, c.init.Process.Pid); err != nil {
		return err // Delete gives the address back
	}
	//book:add bridge
	if err := ep.Publish(); err != nil {
		return err // Delete removes what was added
	}
	//book:end
	c.state.Endpoint = &ep // with its MAC address
	return c.noteState()
}

// The files of /etc that mydocker writes for the container, in its
// directory on the host.
var networkFiles = []string{"hosts", "hostname", "resolv.conf"}

// writeNetworkFiles writes the container's /etc/hosts, /etc/hostname and
// /etc/resolv.conf into its directory, for the init to bind over the
// image's.
func (c *Container) writeNetworkFiles() error {
	hostResolv, err := os.ReadFile("/etc/resolv.conf")
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("reading the host's /etc/resolv.conf: %w", err)
	}
	var ip netip.Addr
	if c.state.Endpoint != nil {
		ip = c.state.Endpoint.IP
	}
	hosts := network.HostsFile(c.Hostname, ip)
	if c.Network == NetworkHost {
		if hosts, err = os.ReadFile("/etc/hosts"); err != nil {
			return fmt.Errorf("reading the host's /etc/hosts: %w", err)
		}
	}
	content := map[string][]byte{
		"hosts":       hosts,
		"hostname":    []byte(c.Hostname + "\n"),
		"resolv.conf": network.ResolvConf(hostResolv, ownsNetworkNamespace(c.Config)),
	}
	for _, name := range networkFiles {
		if err := os.WriteFile(filepath.Join(c.dir, name), content[name], 0o644); err != nil {
			return fmt.Errorf("writing the container's /etc/%s: %w", name, err)
		}
	}
	return nil
}

// networkMounts are the binds of the network files, before the user's
// volumes, so that a -v onto /etc/hosts wins, as in Docker.
func (c *Container) networkMounts() []Volume {
	var mounts []Volume
	for _, name := range networkFiles {
		mounts = append(mounts, Volume{Source: filepath.Join(c.dir, name), Destination: "/etc/" + name})
	}
	return mounts
}

// disconnectNetwork releases the container's place on its network: the
// host's end of the veth pair, if the kernel has not removed it with the
// container's namespace already, and the address. IPAM gives an address
// back only to the container that holds it, so a cleanup that runs twice
// (a kill between the release and the state's note) frees nothing that
// has gone to another container since.
func (c *Container) disconnectNetwork() {
	ep := c.state.Endpoint
	if ep == nil {
		return
	}
	//book:add bridge
	if err := ep.Unpublish(); err != nil {
		logrus.Warnf("removing the published ports' rules of the container: %v", err)
		return // the next command's sweep tries again
	}
	//book:end
	if err := ep.Detach(); err != nil {
		logrus.Warnf("%v", err)
	}
	if err := ep.Release(network.OpenIPAM(c.StateRoot)); err != nil {
		logrus.Warnf("giving back the address %s of the container: %v", ep.IP, err)
		return // the next command's sweep tries again
	}
	c.state.Endpoint = nil
	if c.dir != "" {
		if err := c.noteState(); err != nil {
			logrus.Warnf("%v", err)
		}
	}
	//book:add bridge
	forget(c.StateRoot, ep.Network, c.ID)
	//book:end
}

// releaseDeadContainerNetwork gives back what a killed run's container
// held on its network. Its namespace died with its init, and the veth
// pair with it (Detach makes sure); its address is still taken. The
// address is found by the container's id, which IPAM records as its
// owner: a run killed after it took the address and before it recorded
// it in the state is covered too.
func releaseDeadContainerNetwork(stateRoot, id string, st *state.State) {
	if st.Endpoint != nil {
		//book:add bridge
		if err := st.Endpoint.Unpublish(); err != nil {
			logrus.Warnf("removing the published ports' rules of container %s: %v; the next command tries again", id, err)
			return
		}
		//book:end
		if err := st.Endpoint.Detach(); err != nil {
			logrus.Warnf("%v", err)
		}
	}
	if err := network.OpenIPAM(stateRoot).ReleaseOwner(id); err != nil {
		logrus.Warnf("giving back the address of container %s: %v; the next command tries again", id, err)
		return
	}
	//book:add bridge
	if st.Endpoint != nil {
		forget(stateRoot, st.Endpoint.Network, id)
	}
	//book:end
	st.Endpoint = nil
}
