//book:file netns

package network

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/sirupsen/logrus"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Endpoint is a container's place on a network: its address and the
// host's end of its veth pair. The container's state keeps it, so that
// whoever cleans up after the container (its mydocker, its monitor, or the
// next command after a kill) can give the address back.
type Endpoint struct {
	Container string       `json:"container"` // the id, which IPAM knows as the address's owner
	Network   string       `json:"network"`
	Bridge    string       `json:"bridge"`
	Subnet    netip.Prefix `json:"subnet"`
	Gateway   netip.Addr   `json:"gateway"`
	IP        netip.Addr   `json:"ip"`
	HostVeth  string       `json:"hostVeth"`
	MAC       string       `json:"mac,omitempty"`
	//book:add bridge
	Ports []PortMapping `json:"ports,omitempty"` // -p: published while the container runs
	// Who the container is to the others on a network of network create:
	// the name and hostname that their /etc/hosts list.
	Name     string `json:"name,omitempty"`
	Hostname string `json:"hostname,omitempty"`
	//book:end
}

// Reserve takes an address on the network for container id: ip if the
// user chose one (--ip), else the lowest free one.
func (n Network) Reserve(ipam IPAM, id string, ip netip.Addr) (Endpoint, error) {
	ep := Endpoint{Container: id, Network: n.Name, Bridge: n.Bridge, Subnet: n.Subnet, Gateway: n.Gateway, HostVeth: hostVethName(id), IP: ip}
	var err error
	if ip.IsValid() {
		err = ipam.AllocateAddr(n.Subnet, ip, id, n.Gateway)
	} else {
		ep.IP, err = ipam.Allocate(n.Subnet, id, n.Gateway)
	}
	return ep, err
}

// hostVethName names the host's end after the container, as short as the
// kernel wants it (15 bytes): ip link shows whose it is.
func hostVethName(id string) string { return "veth" + id[:11] }

// Release gives the endpoint's address back, if the container still
// holds it.
func (ep Endpoint) Release(ipam IPAM) error {
	return ipam.Release(ep.Subnet, ep.IP, ep.Container)
}

// Attach wires the container whose init is pid to the network: a veth
// pair whose one end is born in the container's network namespace as
// eth0 and whose other end is plugged into the bridge; then eth0 gets the
// address and the default route through the gateway. The init is waiting
// for its configuration meanwhile, so the user's command starts with its
// network ready.
func (ep *Endpoint) Attach(n Network, pid int) (retErr error) {
	bridge, err := n.Ensure()
	if err != nil {
		return err
	}
	ns, err := netns.GetFromPid(pid)
	if err != nil {
		return fmt.Errorf("opening the network namespace of the container's init (PID %d): %w", pid, err)
	}
	defer ns.Close()
	veth := &netlink.Veth{
		LinkAttrs:     netlink.LinkAttrs{Name: ep.HostVeth, MTU: bridge.Attrs().MTU},
		PeerName:      "eth0",
		PeerNamespace: netlink.NsFd(int(ns)),
	}
	logrus.Debugf("netlink: veth pair %s <-> eth0, eth0 created in the container's network namespace", ep.HostVeth)
	if err := netlink.LinkAdd(veth); err != nil {
		return fmt.Errorf("creating the veth pair %s: %w", ep.HostVeth, err)
	}
	defer func() {
		if retErr != nil {
			ep.Detach()
		}
	}()
	hostEnd, err := netlink.LinkByName(ep.HostVeth)
	if err != nil {
		return fmt.Errorf("finding the new veth %s: %w", ep.HostVeth, err)
	}
	logrus.Debugf("netlink: %s joins the bridge %s", ep.HostVeth, n.Bridge)
	if err := netlink.LinkSetMaster(hostEnd, bridge); err != nil {
		return fmt.Errorf("plugging %s into the bridge %s: %w", ep.HostVeth, n.Bridge, err)
	}
	if err := netlink.LinkSetUp(hostEnd); err != nil {
		return fmt.Errorf("bringing %s up: %w", ep.HostVeth, err)
	}
	return ep.configureInside(ns)
}

// configureInside sets up eth0 and lo from outside the namespace, through
// a netlink socket opened in it: a socket stays in the namespace it was
// made in, so only the socket(2) call happens in there (on a locked
// thread, by the library), and every request after it from here.
func (ep *Endpoint) configureInside(ns netns.NsHandle) error {
	//book:lab netns veth
	h, err := routeNetlinkAt(ns)
	if err != nil {
		return err
	}
	defer h.Close()
	if err := loopbackUp(h); err != nil {
		return err
	}
	eth0, err := h.LinkByName("eth0")
	if err != nil {
		return fmt.Errorf("finding eth0 in the container: %w", err)
	}
	ep.MAC = eth0.Attrs().HardwareAddr.String()
	addr := &netlink.Addr{IPNet: ipNet(ep.IP, ep.Subnet.Bits())}
	logrus.Debugf("netlink: eth0 gets %s, up", addr.IPNet)
	if err := h.AddrAdd(eth0, addr); err != nil {
		return fmt.Errorf("giving eth0 the address %s: %w", addr.IPNet, err)
	}
	if err := h.LinkSetUp(eth0); err != nil {
		return fmt.Errorf("bringing eth0 up: %w", err)
	}
	// No destination: the default route, for every address that no
	// other route of the container covers.
	logrus.Debugf("netlink: default route via %s", ep.Gateway)
	if err := h.RouteAdd(&netlink.Route{LinkIndex: eth0.Attrs().Index, Gw: ep.Gateway.AsSlice()}); err != nil {
		return fmt.Errorf("adding the default route via %s: %w", ep.Gateway, err)
	}
	return nil
	//book:stub
	// // Lab netns, part 2 (labs/12-netns/README.md): through a netlink
	// // handle opened in the container's namespace (routeNetlinkAt), bring
	// // lo up, give eth0 ep.IP with the subnet's prefix length (ipNet), bring
	// // eth0 up, and add the default route via ep.Gateway. Until then eth0
	// // is there, down and without an address, and lo is down: the
	// // container reaches nothing, and nothing reaches it.
	// logrus.Debugf("lab netns, part 2: configureInside is not written yet: eth0 stays down, without %s", ep.IP)
	// return nil
	//book:end netns veth
}

// Detach removes the host's end of the veth pair; the kernel removes its
// peer with it. Once the container's last process is gone its namespace
// goes, and eth0 and its peer with it: a host end that is already gone is
// no error.
func (ep *Endpoint) Detach() error {
	if err := deleteLink(ep.HostVeth); err != nil {
		return fmt.Errorf("removing the veth %s: %w; remove it with: ip link del %s", ep.HostVeth, err, ep.HostVeth)
	}
	// Said once it is gone, whoever removed it: which of us and the
	// kernel's teardown of the namespace comes first varies from run to run.
	logrus.Debugf("netlink: %s gone, and eth0 with it", ep.HostVeth)
	return nil
}

// deleteLink deletes the host's network device name; one already gone
// is no error, also when it goes between the lookup and the delete (the
// kernel's teardown of a dead container's namespace takes the veth with
// it at any moment: ENODEV).
func deleteLink(name string) error {
	link, err := netlink.LinkByName(name)
	if errors.As(err, new(netlink.LinkNotFoundError)) {
		return nil
	}
	if err == nil {
		err = netlink.LinkDel(link)
	}
	if errors.Is(err, unix.ENODEV) {
		return nil
	}
	return err
}

// LoopbackUp brings up lo in the network namespace of pid: a new
// namespace has lo, down, and nothing else (--network none).
func LoopbackUp(pid int) error {
	ns, err := netns.GetFromPid(pid)
	if err != nil {
		return fmt.Errorf("opening the network namespace of the container's init (PID %d): %w", pid, err)
	}
	defer ns.Close()
	h, err := routeNetlinkAt(ns)
	if err != nil {
		return err
	}
	defer h.Close()
	return loopbackUp(h)
}

// routeNetlinkAt opens a rtnetlink socket in the namespace ns. Links,
// addresses and routes are all rtnetlink; asking for no family would open
// every family the library knows, and a kernel without one of them (XFRM
// is a module that may not be loaded) refuses with "protocol not
// supported".
func routeNetlinkAt(ns netns.NsHandle) (*netlink.Handle, error) {
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("opening netlink in the container's network namespace: %w", err)
	}
	return h, nil
}

func loopbackUp(h *netlink.Handle) error {
	lo, err := h.LinkByName("lo")
	if err == nil {
		logrus.Debug("netlink: lo up in the container")
		err = h.LinkSetUp(lo)
	}
	if err != nil {
		return fmt.Errorf("bringing lo up in the container: %w", err)
	}
	return nil
}
