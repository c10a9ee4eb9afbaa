//book:file netns

package network

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Network is what containers on one network share: a bridge on the host,
// which is their switch, and a subnet, whose first address is the
// bridge's own and their way out (the gateway).
type Network struct {
	Name    string       // "bridge" for the default network, as Docker calls it
	Bridge  string       // the bridge device on the host
	Subnet  netip.Prefix // the containers' addresses come from here
	Gateway netip.Addr   // the bridge's address, the containers' default route
	//book:add bridge
	ID      string    `json:",omitempty"` // 64 hex digits, as a container's
	Created time.Time `json:",omitzero"`
	//book:end
}

// The default network's settings, used when a state root's default
// network is first made. Docker's docker0 has 172.17.0.0/16: mydocker
// keeps off it, so that both can run on one machine.
const (
	DefaultBridge = "mydocker0"
	DefaultSubnet = "172.29.0.0/16"
)

// Default returns the state root's default network, "bridge", and makes
// its record on first use from bridge and subnet (DefaultBridge and
// DefaultSubnet unless the caller chose others). Once made, the record
// wins: every container of a state root is on the same bridge.
func Default(stateRoot, bridge, subnet string) (Network, error) {
	path := filepath.Join(stateRoot, "network", "networks", "bridge.json")
	if n, err := readNetwork(path); err == nil || !errors.Is(err, fs.ErrNotExist) {
		return n, err
	}
	//book:add bridge
	// Made under the networks' lock, with a check of its subnet against
	// the others and the host's routes, as network create's.
	store := OpenStore(stateRoot)
	unlock, err := store.lock(unix.LOCK_EX)
	if err != nil {
		return Network{}, err
	}
	defer unlock()
	if n, err := readNetwork(path); err == nil || !errors.Is(err, fs.ErrNotExist) {
		return n, err // another run made it meanwhile
	}
	//book:end
	n, err := newNetwork("bridge", bridge, subnet)
	if err != nil {
		return n, err
	}
	//book:add bridge
	if err := store.checkOverlaps(n.Subnet, n.Bridge); err != nil {
		return n, fmt.Errorf("the default network: %w (--bridge-subnet, MYDOCKER_BRIDGE_SUBNET)", err)
	}
	if n.ID, err = newID(); err != nil {
		return n, err
	}
	n.Created = time.Now().UTC()
	//book:end
	return n, writeNetwork(path, n)
}

// newNetwork checks a network's settings and picks its gateway: the
// subnet's first address, as Docker does.
func newNetwork(name, bridge, subnet string) (Network, error) {
	if err := checkDeviceName(bridge); err != nil {
		return Network{}, fmt.Errorf("bridge name %q: %w", bridge, err)
	}
	prefix, err := netip.ParsePrefix(subnet)
	if err != nil {
		return Network{}, fmt.Errorf("subnet %q: %w: write it as an IPv4 CIDR, such as %s", subnet, err, DefaultSubnet)
	}
	if err := CheckSubnet(prefix); err != nil {
		return Network{}, err
	}
	return Network{Name: name, Bridge: bridge, Subnet: prefix, Gateway: prefix.Addr().Next()}, nil
}

// checkDeviceName refuses a name the kernel would refuse, or cut: at most
// 15 bytes (IFNAMSIZ, 16 with its NUL), no "/", no space or ":".
func checkDeviceName(name string) error {
	switch {
	case name == "" || name == "." || name == "..":
		return errors.New("a network device needs a name")
	case len(name) > unix.IFNAMSIZ-1:
		return fmt.Errorf("a network device's name has at most %d bytes", unix.IFNAMSIZ-1)
	}
	for _, c := range name {
		if c == '/' || c == ':' || c <= ' ' || c > '~' {
			return fmt.Errorf("%q may not be in a network device's name", c)
		}
	}
	return nil
}

func readNetwork(path string) (Network, error) {
	var n Network
	data, err := os.ReadFile(path)
	if err != nil {
		return n, err
	}
	if err := json.Unmarshal(data, &n); err != nil {
		return n, fmt.Errorf("reading the network record %s: %w: remove it and run again to make a new one", path, err)
	}
	return n, nil
}

// writeNetwork writes a network's record, atomically as IPAM's bitmaps. Two
// first runs at once write the same record: whichever rename comes last,
// the content is the same.
func writeNetwork(path string, n Network) error {
	data, err := json.MarshalIndent(n, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomically(path, append(data, '\n'))
}

// Ensure makes the network's bridge if the host has none, gives it the
// gateway address and brings it up. Every step accepts what is already
// there, so that runs started together may all try: one creates, the
// others find.
func (n Network) Ensure() (netlink.Link, error) {
	link, err := n.bridgeLink()
	if err != nil {
		return nil, err
	}
	gateway := &netlink.Addr{IPNet: ipNet(n.Gateway, n.Subnet.Bits())}
	logrus.Debugf("netlink: address %s on the bridge %s", gateway.IPNet, n.Bridge)
	if err := netlink.AddrAdd(link, gateway); err != nil && !errors.Is(err, unix.EEXIST) {
		return nil, fmt.Errorf("giving the bridge %s the address %s: %w", n.Bridge, gateway.IPNet, err)
	}
	if err := netlink.LinkSetUp(link); err != nil {
		return nil, fmt.Errorf("bringing the bridge %s up: %w", n.Bridge, err)
	}
	return link, nil
}

// bridgeLink finds the bridge, or creates it.
func (n Network) bridgeLink() (netlink.Link, error) {
	link, err := netlink.LinkByName(n.Bridge)
	if errors.As(err, new(netlink.LinkNotFoundError)) {
		logrus.Debugf("netlink: creating the bridge %s", n.Bridge)
		err = netlink.LinkAdd(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: n.Bridge}})
		if err != nil && !errors.Is(err, unix.EEXIST) {
			return nil, fmt.Errorf("creating the bridge %s: %w", n.Bridge, err)
		}
		link, err = netlink.LinkByName(n.Bridge)
	}
	if err != nil {
		return nil, fmt.Errorf("finding the bridge %s: %w", n.Bridge, err)
	}
	if link.Type() != "bridge" {
		return nil, fmt.Errorf("the host has a %s device named %s, which is not a bridge: "+
			"choose another bridge name for mydocker's default network (MYDOCKER_BRIDGE)", link.Type(), n.Bridge)
	}
	//book:add bridge
	if err := n.openWayOnce(link); err != nil {
		return nil, err
	}
	//book:end
	return link, nil
}

//book:add bridge

// openWayOnce gives the network its way out (nat.go) once per bridge.
// The bridge's alias, which goes with it, says it was done: a mydocker
// killed between the bridge and its rules leaves a bridge without the
// alias, and the next run adds the rules. Checking every rule on every run
// would cost an iptables command each.
func (n Network) openWayOnce(link netlink.Link) error {
	if !manageNetfilter || link.Attrs().Alias == wayOpen {
		return nil
	}
	if err := n.openWay(); err != nil {
		return err
	}
	logrus.Debugf("netlink: alias %q on the bridge %s", wayOpen, n.Bridge)
	if err := netlink.LinkSetAlias(link, wayOpen); err != nil {
		return fmt.Errorf("marking the bridge %s as ready: %w", n.Bridge, err)
	}
	return nil
}

// wayOpen is the alias of a bridge whose network has its rules.
const wayOpen = "mydocker: rules in place"

//book:end

// ipNet is addr with the subnet's prefix length, as netlink takes it.
func ipNet(addr netip.Addr, bits int) *net.IPNet {
	return &net.IPNet{IP: addr.AsSlice(), Mask: net.CIDRMask(bits, 32)}
}
