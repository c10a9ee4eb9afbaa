//book:file netns

// Package network gives containers their network: a namespace, a veth
// pair to a bridge, and an address from the network's subnet.
package network

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math/bits"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/mydocker-book/mydocker/mydocker/atomicfile"
)

// IPAM hands out the addresses of IPv4 subnets, one bitmap per subnet:
// bit i stands for the subnet's i-th address, set while it is taken. The
// bitmaps live under the state root, so that every mydocker process (a
// run, a monitor, an rm) sees the same ones, and each change is a
// read-change-write under an exclusive lock: two runs started together
// must never get the same address.
type IPAM struct {
	dir string // STATE_ROOT/network/ipam
}

// OpenIPAM returns the address bitmaps of the state root.
func OpenIPAM(stateRoot string) IPAM {
	return IPAM{dir: filepath.Join(stateRoot, "network", "ipam")}
}

// ErrSubnetFull says that every address of a subnet is taken.
var ErrSubnetFull = errors.New("no free address left")

// MinPrefix is the largest subnet IPAM keeps (a /8: a bitmap of 2 MiB);
// Docker's own default pools are /16 and smaller.
const MinPrefix = 8

// CheckSubnet refuses what IPAM cannot serve: not IPv4, a prefix that is
// not the subnet's own (10.0.0.1/24), too large, or too small to hold a
// gateway and a container besides the network and broadcast addresses.
func CheckSubnet(subnet netip.Prefix) error {
	switch {
	case !subnet.IsValid() || !subnet.Addr().Is4():
		return fmt.Errorf("subnet %s: only IPv4 subnets are supported, such as 172.30.0.0/16", subnet)
	case subnet.Masked() != subnet:
		return fmt.Errorf("subnet %s: the address has host bits set; did you mean %s?", subnet, subnet.Masked())
	case subnet.Bits() < MinPrefix:
		return fmt.Errorf("subnet %s is too large: the largest is a /%d", subnet, MinPrefix)
	case subnet.Bits() > 30:
		return fmt.Errorf("subnet %s is too small: a /30 is the smallest that holds a gateway and a container", subnet)
	}
	for _, r := range notForHosts {
		if r.prefix.Overlaps(subnet) {
			return fmt.Errorf("subnet %s overlaps %s, the %s addresses, which no network can use: choose a private range, such as 172.30.0.0/16", subnet, r.prefix, r.what)
		}
	}
	return nil
}

// notForHosts are the IPv4 ranges that the kernel routes in its own way,
// whatever the routing table says: a bridge's subnet there would never
// work as one.
var notForHosts = []struct {
	prefix netip.Prefix
	what   string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), `"this network"`},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local"},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved and broadcast"},
}

// Allocate takes the lowest free address of subnet for owner (a
// container's id), as Docker's default allocator does. The network
// address, the broadcast address and reserved (the gateway) are never
// handed out.
func (m IPAM) Allocate(subnet netip.Prefix, owner string, reserved ...netip.Addr) (netip.Addr, error) {
	var got netip.Addr
	err := m.change(subnet, reserved, func(b bitmap, o owners) error {
		i, ok := b.firstClear(subnetSize(subnet))
		if !ok {
			return fmt.Errorf("subnet %s: %w: remove a container of its network, or create a network with a larger subnet", subnet, ErrSubnetFull)
		}
		got = addrAt(subnet, i)
		b.set(i)
		o[got.String()] = owner
		return nil
	})
	if err == nil {
		logrus.Debugf("ipam: %s taken from %s", got, subnet)
	}
	return got, err
}

// AllocateAddr takes the address the user asked for (--ip) for owner.
func (m IPAM) AllocateAddr(subnet netip.Prefix, addr netip.Addr, owner string, reserved ...netip.Addr) error {
	i, err := indexOf(subnet, addr)
	if err != nil {
		return err
	}
	return m.change(subnet, reserved, func(b bitmap, o owners) error {
		if b.isSet(i) {
			return fmt.Errorf("address %s is already in use, or reserved, in %s: choose another --ip, or leave it out", addr, subnet)
		}
		b.set(i)
		o[addr.String()] = owner
		logrus.Debugf("ipam: %s taken from %s", addr, subnet)
		return nil
	})
}

// Release gives back an address that owner holds. Releasing an address
// that owner does not hold is no error, and changes nothing: a cleanup
// that was interrupted may run twice, and by then the address may be
// another container's.
func (m IPAM) Release(subnet netip.Prefix, addr netip.Addr, owner string) error {
	i, err := indexOf(subnet, addr)
	if err != nil {
		return err
	}
	return m.change(subnet, nil, func(b bitmap, o owners) error {
		if who, ok := o[addr.String()]; !ok || who != owner {
			return nil // reserved, free, or someone else's
		}
		b.clear(i)
		delete(o, addr.String())
		logrus.Debugf("ipam: %s given back to %s", addr, subnet)
		return nil
	})
}

// ReleaseOwner gives back every address that owner holds, in every
// subnet: what a container killed before it could record its address
// still holds.
func (m IPAM) ReleaseOwner(owner string) error {
	entries, err := os.ReadDir(m.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading the address bitmaps: %w", err)
	}
	for _, e := range entries {
		subnet, ok := subnetOfFile(e.Name())
		if !ok {
			continue
		}
		err := m.change(subnet, nil, func(b bitmap, o owners) error {
			for addr, who := range o {
				if who != owner {
					continue
				}
				if i, err := indexOf(subnet, netip.MustParseAddr(addr)); err == nil {
					b.clear(i)
				}
				delete(o, addr)
				logrus.Debugf("ipam: %s of %s given back to %s", addr, owner, subnet)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// InUse counts the addresses taken in subnet, the reserved ones included.
func (m IPAM) InUse(subnet netip.Prefix) (int, error) {
	data, err := os.ReadFile(m.file(subnet))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("reading the addresses of %s: %w", subnet, err)
	}
	n := 0
	for _, c := range data {
		n += bits.OnesCount8(c)
	}
	return n, nil
}

// Remove forgets a subnet (network rm).
func (m IPAM) Remove(subnet netip.Prefix) error {
	unlock, err := m.lock()
	if err != nil {
		return err
	}
	defer unlock()
	for _, f := range []string{m.file(subnet), m.ownersFile(subnet)} {
		if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("removing the addresses of %s: %w", subnet, err)
		}
	}
	return nil
}

// owners says who holds each address: the id of the container that took
// it. The bitmap alone would let a cleanup that runs twice give back an
// address that another container holds since, and could not tell what a
// container killed before it recorded its address still holds.
type owners map[string]string // address -> container id

// change reads subnet's bitmap and owners under the lock (a new bitmap,
// with the network, broadcast and reserved addresses taken, the first
// time), lets fn change them, and writes them back. Two files cannot be
// replaced at once; they are written so that a crash at any point leaves
// every taken address with its owner: new owners before the bitmap, and
// the owners of given-back addresses forgotten after it. (An owner whose
// address is free again is harmless.)
func (m IPAM) change(subnet netip.Prefix, reserved []netip.Addr, fn func(bitmap, owners) error) error {
	if err := CheckSubnet(subnet); err != nil {
		return err
	}
	unlock, err := m.lock()
	if err != nil {
		return err
	}
	defer unlock()
	b, err := m.read(subnet, reserved)
	if err != nil {
		return err
	}
	before, err := m.readOwners(subnet)
	if err != nil {
		return err
	}
	after := maps.Clone(before)
	oldBits := slices.Clone(b)
	if err := fn(b, after); err != nil {
		return err
	}
	union, added := maps.Clone(before), false
	for addr, who := range after {
		if before[addr] != who {
			union[addr], added = who, true
		}
	}
	if added {
		if err := m.writeOwners(subnet, union); err != nil {
			return err
		}
	}
	if !slices.Equal(oldBits, b) {
		if err := m.write(subnet, b); err != nil {
			return err
		}
	}
	if !maps.Equal(union, after) {
		return m.writeOwners(subnet, after)
	}
	return nil
}

func (m IPAM) read(subnet netip.Prefix, reserved []netip.Addr) (bitmap, error) {
	size := subnetSize(subnet)
	data, err := os.ReadFile(m.file(subnet))
	if errors.Is(err, fs.ErrNotExist) {
		b := newBitmap(size)
		b.set(0)        // the network's own address
		b.set(size - 1) // broadcast
		for _, r := range reserved {
			if i, err := indexOf(subnet, r); err == nil {
				b.set(i)
			}
		}
		return b, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the addresses of %s: %w", subnet, err)
	}
	if len(data) != len(newBitmap(size)) {
		return nil, fmt.Errorf("the address bitmap %s has %d bytes where %s needs %d: the file is damaged; remove the network and create it again",
			m.file(subnet), len(data), subnet, len(newBitmap(size)))
	}
	return bitmap(data), nil
}

func (m IPAM) readOwners(subnet netip.Prefix) (owners, error) {
	o := owners{}
	data, err := os.ReadFile(m.ownersFile(subnet))
	if errors.Is(err, fs.ErrNotExist) {
		return o, nil
	}
	if err == nil {
		err = json.Unmarshal(data, &o)
	}
	if err != nil {
		return nil, fmt.Errorf("reading who holds the addresses of %s: %w", subnet, err)
	}
	return o, nil
}

func (m IPAM) writeOwners(subnet netip.Prefix, o owners) error {
	data, err := json.Marshal(o)
	if err == nil {
		err = writeAtomically(m.ownersFile(subnet), append(data, '\n'))
	}
	if err != nil {
		return fmt.Errorf("saving who holds the addresses of %s: %w", subnet, err)
	}
	return nil
}

// write replaces the bitmap file atomically (writeAtomically).
func (m IPAM) write(subnet netip.Prefix, b bitmap) error {
	if err := writeAtomically(m.file(subnet), b); err != nil {
		return fmt.Errorf("saving the addresses of %s: %w", subnet, err)
	}
	return nil
}

// writeAtomically replaces a file whole, on the disk before it is renamed
// (atomicfile): a mydocker killed halfway leaves the old file or the new
// one, never a mix, and the addresses it records outlive a power cut.
func writeAtomically(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return atomicfile.Write(path, data, true)
}

// lock takes the IPAM's exclusive flock(2); the kernel releases it if
// mydocker dies, so a killed run never blocks the next one.
func (m IPAM) lock() (func(), error) {
	//book:lab netns lock
	if err := os.MkdirAll(m.dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating %s: %w", m.dir, err)
	}
	f, err := os.OpenFile(filepath.Join(m.dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the address lock: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", f.Name(), err)
	}
	return func() { f.Close() }, nil
	//book:stub
	// // Lab netns, part 1 (labs/12-netns/README.md): take an exclusive
	// // flock(2) on the file .lock in m.dir (make both if they are
	// // missing), and return what releases it; the kernel releases it as
	// // well if mydocker dies holding it. Until then nothing is locked:
	// // one container at a time gets its address, but runs started
	// // together read the same bitmap and may take the same address.
	// logrus.Debugf("lab netns, part 1: IPAM.lock is not written yet: %s is not locked", m.dir)
	// return func() {}, nil
	//book:end netns lock
}

// file is the subnet's bitmap: 172.30.0.0/16 is in 172.30.0.0-16.
func (m IPAM) file(subnet netip.Prefix) string {
	return filepath.Join(m.dir, strings.Replace(subnet.String(), "/", "-", 1))
}

// ownersFile is beside the bitmap: 172.30.0.0-16.owners.
func (m IPAM) ownersFile(subnet netip.Prefix) string { return m.file(subnet) + ".owners" }

// subnetOfFile reads a bitmap's file name back; other files are not
// bitmaps.
func subnetOfFile(name string) (netip.Prefix, bool) {
	subnet, err := netip.ParsePrefix(strings.Replace(name, "-", "/", 1))
	return subnet, err == nil && CheckSubnet(subnet) == nil
}

// subnetSize is the number of addresses in subnet, 2^(32-bits).
func subnetSize(subnet netip.Prefix) uint32 { return 1 << (32 - subnet.Bits()) }

// indexOf is addr's position in subnet, or an error if it lies outside
// or is the network or broadcast address.
func indexOf(subnet netip.Prefix, addr netip.Addr) (uint32, error) {
	if !addr.Is4() || !subnet.Contains(addr) {
		return 0, fmt.Errorf("address %s is not in the subnet %s", addr, subnet)
	}
	i := as32(addr) - as32(subnet.Addr())
	if i == 0 || i == subnetSize(subnet)-1 {
		return 0, fmt.Errorf("address %s is the network or broadcast address of %s: containers cannot have it", addr, subnet)
	}
	return i, nil
}

func addrAt(subnet netip.Prefix, i uint32) netip.Addr {
	v := as32(subnet.Addr()) + i
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func as32(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// bitmap is one bit per address, bit i in byte i/8 (lowest bit first).
type bitmap []byte

func newBitmap(size uint32) bitmap { return make(bitmap, (size+7)/8) }

func (b bitmap) set(i uint32)        { b[i/8] |= 1 << (i % 8) }
func (b bitmap) clear(i uint32)      { b[i/8] &^= 1 << (i % 8) }
func (b bitmap) isSet(i uint32) bool { return b[i/8]&(1<<(i%8)) != 0 }

// firstClear finds the lowest clear bit below size, skipping full bytes
// at once: a /16 is 8 KiB, scanned in microseconds. (A /30 has 4
// addresses in a byte of 8 bits: the bits past size are no addresses.)
func (b bitmap) firstClear(size uint32) (uint32, bool) {
	for n, c := range b {
		if c != 0xff {
			i := uint32(n)*8 + uint32(bits.TrailingZeros8(^c))
			return i, i < size
		}
	}
	return 0, false
}
