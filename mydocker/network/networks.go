//book:file bridge

package network

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Store holds a state root's networks, one record each in
// network/networks/NAME.json: the default "bridge", made on first use
// (Default), and the networks of `network create`.
type Store struct{ stateRoot, dir string }

// OpenStore returns the networks of the state root.
func OpenStore(stateRoot string) Store {
	return Store{stateRoot: stateRoot, dir: filepath.Join(stateRoot, "network", "networks")}
}

// The names --network gives a meaning of its own; only "bridge" is a
// network with a record.
var predefined = []string{"bridge", "none", "host"}

// networkName is Docker's rule for a network's name.
var networkName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

// CheckName refuses a name `network create` could not give.
func CheckName(name string) error {
	if !networkName.MatchString(name) {
		return fmt.Errorf("invalid network name %q: use the characters a-z, A-Z, 0-9, _, . and -, starting with a letter or a digit", name)
	}
	return nil
}

// CreateOptions are network create's flags.
type CreateOptions struct {
	Name    string
	Subnet  string // empty: the first free of the candidate pools
	Gateway string // empty: the subnet's first address
}

// Create makes a network: its record, then its bridge, br- and twelve
// digits of its id as Docker names them. Under the store's exclusive
// lock, so that two creates cannot take one name or one subnet.
func (s Store) Create(opts CreateOptions) (Network, error) {
	if err := CheckName(opts.Name); err != nil {
		return Network{}, err
	}
	if slices.Contains(predefined, opts.Name) {
		return Network{}, fmt.Errorf("network with name %s already exists: %s is predefined, choose another name", opts.Name, opts.Name)
	}
	unlock, err := s.lock(unix.LOCK_EX)
	if err != nil {
		return Network{}, err
	}
	defer unlock()
	if _, err := s.read(opts.Name); err == nil {
		return Network{}, fmt.Errorf("network with name %s already exists: remove it first, or choose another name", opts.Name)
	}
	id, err := newID()
	if err != nil {
		return Network{}, err
	}
	subnet, err := s.chooseSubnet(opts.Subnet)
	if err != nil {
		return Network{}, err
	}
	n, err := newNetwork(opts.Name, "br-"+id[:12], subnet.String())
	if err != nil {
		return Network{}, err
	}
	n.ID, n.Created = id, time.Now().UTC()
	if opts.Gateway != "" {
		if n.Gateway, err = checkGateway(n.Subnet, opts.Gateway); err != nil {
			return Network{}, err
		}
	}
	if err := writeNetwork(s.path(n.Name), n); err != nil {
		return Network{}, err
	}
	if _, err := n.Ensure(); err != nil {
		os.Remove(s.path(n.Name))
		n.removeBridge()
		return Network{}, err
	}
	return n, nil
}

// newID is a network's id: 32 random bytes in hex, as a container's.
func newID() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("making a network id: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// checkGateway parses --gateway: an address of the subnet that a
// container could have.
func checkGateway(subnet netip.Prefix, gateway string) (netip.Addr, error) {
	addr, err := netip.ParseAddr(gateway)
	if err != nil {
		return addr, fmt.Errorf("gateway %q is not an IPv4 address: %w", gateway, err)
	}
	if _, err := indexOf(subnet, addr); err != nil {
		return addr, fmt.Errorf("gateway: %w", err)
	}
	return addr, nil
}

// candidateSubnets are the subnets create tries when none is given, in
// order: Docker's own pools, less 172.17 (docker0) and 172.29 (the
// default bridge's).
func candidateSubnets() []netip.Prefix {
	var list []netip.Prefix
	for b := 18; b <= 31; b++ {
		if b != 29 {
			list = append(list, netip.PrefixFrom(netip.AddrFrom4([4]byte{172, byte(b), 0, 0}), 16))
		}
	}
	for c := 0; c < 256; c += 16 {
		list = append(list, netip.PrefixFrom(netip.AddrFrom4([4]byte{192, 168, byte(c), 0}), 20))
	}
	return list
}

// chooseSubnet checks the subnet asked for, or picks the first candidate
// that neither another network nor a route of the host covers.
func (s Store) chooseSubnet(asked string) (netip.Prefix, error) {
	if asked != "" {
		subnet, err := netip.ParsePrefix(asked)
		if err != nil {
			return subnet, fmt.Errorf("subnet %q: %w: write it as an IPv4 CIDR, such as 10.10.0.0/24", asked, err)
		}
		if err := CheckSubnet(subnet); err != nil {
			return subnet, err
		}
		return subnet, s.checkOverlaps(subnet, "")
	}
	for _, c := range candidateSubnets() {
		if s.checkOverlaps(c, "") == nil {
			return c, nil
		}
	}
	return netip.Prefix{}, errors.New("every candidate subnet is used by a network or a route of the host: give one with --subnet")
}

// checkOverlaps refuses a subnet that shares addresses with another
// network of the store, or with a route of the host (other than the
// default route, and other than those of the bridge itself, whose own
// route it is): the host would send that traffic one way only.
func (s Store) checkOverlaps(subnet netip.Prefix, bridge string) error {
	networks, err := s.List()
	if err != nil {
		return err
	}
	for _, n := range networks {
		if n.Subnet.Overlaps(subnet) && n.Bridge != bridge {
			return fmt.Errorf("subnet %s overlaps the subnet %s of the network %s: choose another", subnet, n.Subnet, n.Name)
		}
	}
	return checkHostRoutes(subnet, bridge)
}

// checkHostRoutes refuses a subnet that a route of the host covers in
// part or whole.
func checkHostRoutes(subnet netip.Prefix, bridge string) error {
	routes, err := netlink.RouteList(nil, netlink.FAMILY_V4)
	if err != nil {
		return fmt.Errorf("reading the host's routes: %w", err)
	}
	for _, r := range routes {
		if r.Dst == nil {
			continue // the default route covers everything, and is no network
		}
		ones, _ := r.Dst.Mask.Size()
		addr, ok := netip.AddrFromSlice(r.Dst.IP.To4())
		if !ok || ones == 0 {
			continue
		}
		dst := netip.PrefixFrom(addr, ones)
		if !dst.Overlaps(subnet) || routeDevice(r) == bridge {
			continue
		}
		return fmt.Errorf("subnet %s overlaps the host's route to %s (dev %s): the host would send that traffic there, not to the containers; choose another subnet",
			subnet, dst, routeDevice(r))
	}
	return nil
}

func routeDevice(r netlink.Route) string {
	if link, err := netlink.LinkByIndex(r.LinkIndex); err == nil {
		return link.Attrs().Name
	}
	return fmt.Sprintf("index %d", r.LinkIndex)
}

// List reads every network's record, sorted by name.
func (s Store) List() ([]Network, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	var list []Network
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || strings.HasPrefix(name, ".") {
			continue
		}
		n, err := s.read(name)
		if err != nil {
			return nil, err
		}
		list = append(list, n)
	}
	return list, nil
}

// Find returns the network a name, an id or a unique prefix of one names.
func (s Store) Find(ref string) (Network, error) {
	if n, err := s.read(ref); err == nil || !errors.Is(err, fs.ErrNotExist) {
		return n, err
	}
	networks, err := s.List()
	if err != nil {
		return Network{}, err
	}
	var found []Network
	for _, n := range networks {
		if n.ID != "" && strings.HasPrefix(n.ID, ref) {
			found = append(found, n)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return Network{}, fmt.Errorf("network %s not found: `mydocker network ls` lists them", ref)
	default:
		return Network{}, fmt.Errorf("network id prefix %s is ambiguous: give more of it", ref)
	}
}

// Use runs fn with the network ref names, holding the store's lock
// shared: rm waits until fn has taken the container's address, and then
// sees it. The default network "bridge" is made first if this state
// root has none yet, with bridge and subnet.
func (s Store) Use(ref, bridge, subnet string, fn func(Network) error) error {
	if ref == "bridge" {
		if _, err := Default(s.stateRoot, bridge, subnet); err != nil {
			return err
		}
	}
	unlock, err := s.lock(unix.LOCK_SH)
	if err != nil {
		return err
	}
	defer unlock()
	n, err := s.Find(ref)
	if err != nil {
		return err
	}
	return fn(n)
}

// Remove deletes a network that no container is on: its bridge, its
// addresses' bitmap and its record. A network's containers are those
// that hold one of its addresses: those running.
func (s Store) Remove(ref string, ipam IPAM) (Network, error) {
	unlock, err := s.lock(unix.LOCK_EX)
	if err != nil {
		return Network{}, err
	}
	defer unlock()
	n, err := s.Find(ref)
	if slices.Contains(predefined, ref) || slices.Contains(predefined, n.Name) {
		return n, fmt.Errorf("%s is a pre-defined network and cannot be removed", ref)
	}
	if err != nil {
		return n, err
	}
	holders, err := ipam.holders(n.Subnet)
	if err != nil {
		return n, err
	}
	if len(holders) > 0 {
		return n, fmt.Errorf("network %s has active endpoints (containers %s): stop or remove them first", n.Name, strings.Join(shortIDs(holders), ", "))
	}
	if err := n.CloseWay(); err != nil {
		return n, err
	}
	if err := n.removeBridge(); err != nil {
		return n, err
	}
	if err := ipam.Remove(n.Subnet); err != nil {
		return n, err
	}
	return n, os.Remove(s.path(n.Name))
}

// holders are the containers that hold an address of subnet.
func (m IPAM) holders(subnet netip.Prefix) ([]string, error) {
	unlock, err := m.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	b, err := m.read(subnet, nil)
	if err != nil {
		return nil, err
	}
	o, err := m.readOwners(subnet)
	if err != nil {
		return nil, err
	}
	var ids []string
	for addr, id := range o {
		// An owner whose address is free again is a crash's harmless
		// leftover (IPAM.change): it holds nothing.
		a, err := netip.ParseAddr(addr)
		if err != nil {
			continue
		}
		if i, err := indexOf(subnet, a); err == nil && b.isSet(i) && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

func shortIDs(ids []string) []string {
	var short []string
	for _, id := range ids {
		short = append(short, id[:min(12, len(id))])
	}
	return short
}

// removeBridge deletes the network's bridge; one already gone is fine.
func (n Network) removeBridge() error {
	if err := deleteLink(n.Bridge); err != nil {
		return fmt.Errorf("removing the bridge %s of the network %s: %w", n.Bridge, n.Name, err)
	}
	logrus.Debugf("netlink: the bridge %s deleted", n.Bridge)
	return nil
}

func (s Store) path(name string) string { return filepath.Join(s.dir, name+".json") }

func (s Store) read(name string) (Network, error) {
	if CheckName(name) != nil {
		return Network{}, fs.ErrNotExist
	}
	return readNetwork(s.path(name))
}

// lock takes the store's flock(2), shared (a run joining a network) or
// exclusive (create, rm, the default's first record).
func (s Store) lock(how int) (func(), error) {
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating %s: %w", s.dir, err)
	}
	return lockFile(filepath.Join(s.dir, ".lock"), how)
}

// lockFile takes a flock(2) on path, made if missing, and returns what
// releases it; the kernel releases it too if mydocker dies holding it.
func lockFile(path string, how int) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the lock %s: %w", path, err)
	}
	if err := unix.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}
