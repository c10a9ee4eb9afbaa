//book:file bridge

package network

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/coreos/go-iptables/iptables"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// A network's way out is three pieces of netfilter configuration and one
// switch of the kernel's:
//
//   - MASQUERADE in nat POSTROUTING: a packet from the subnet that leaves
//     by another interface than the bridge gets the address of that
//     interface as its source, so that the world can answer it (the
//     containers' addresses are private: nobody outside routes them);
//   - ACCEPT in filter FORWARD for what comes from the bridge and for the
//     replies going back to it, since another tool may have set FORWARD's
//     policy to DROP (Docker does);
//   - isolation: two chains, in front of those, that drop what goes from
//     one mydocker network to another, as Docker's DOCKER-ISOLATION do;
//   - net.ipv4.ip_forward=1, without which the host routes nothing.
//
// Every rule carries a comment that names mydocker and the network, so
// that iptables -S says whose it is.

const (
	isolationIn  = "MYDOCKER-ISOLATION-1" // a packet from a mydocker bridge to elsewhere
	isolationOut = "MYDOCKER-ISOLATION-2" // ... and to another mydocker bridge: dropped
)

// rule is one iptables rule: table, chain and the rule's arguments.
type rule struct {
	table, chain string
	spec         []string
}

func (r rule) String() string {
	return fmt.Sprintf("-t %s -A %s %s", r.table, r.chain, strings.Join(r.spec, " "))
}

// rules are the network's own rules, in the order they are added.
func (n Network) rules() []rule {
	tag := []string{"-m", "comment", "--comment", "mydocker network " + n.Name}
	with := func(spec ...string) []string { return append(spec[:len(spec):len(spec)], tag...) }
	return []rule{
		{"nat", "POSTROUTING", with("-s", n.Subnet.String(), "!", "-o", n.Bridge, "-j", "MASQUERADE")},
		// For published ports (ports.go): a connection of the host's own
		// to a published port leaves by the bridge with a source of the
		// host's, 127.0.0.1 even, to which the container could not answer;
		// it gets the bridge's address instead.
		{"nat", "POSTROUTING", with("-o", n.Bridge, "-m", "addrtype", "--src-type", "LOCAL", "-j", "MASQUERADE")},
		// route_localnet's price (CVE-2020-8558): the host would also
		// accept a container's packets to 127.0.0.1, that is, to the
		// services of the host that listen on localhost only. Only the
		// replies of connections the host made are let in.
		{"filter", "INPUT", with("-i", n.Bridge, "-d", "127.0.0.0/8", "-m", "conntrack", "!", "--ctstate", "RELATED,ESTABLISHED", "-j", "DROP")},
		{"filter", "FORWARD", with("-i", n.Bridge, "-j", "ACCEPT")},
		{"filter", "FORWARD", with("-o", n.Bridge, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT")},
		{"filter", isolationIn, with("-i", n.Bridge, "!", "-o", n.Bridge, "-j", isolationOut)},
		{"filter", isolationOut, with("-o", n.Bridge, "-j", "DROP")},
	}
}

// isolationJump sends every forwarded packet through the isolation chains
// first, before the networks' ACCEPT rules.
var isolationJump = rule{"filter", "FORWARD", []string{"-m", "comment", "--comment", "mydocker isolation", "-j", isolationIn}}

// openNetfilter opens iptables under a lock of the whole host: the rules
// are the host's, shared by every state root.
func openNetfilter() (*iptables.IPTables, func(), error) {
	unlock, err := lockFile("/run/mydocker-netfilter.lock", unix.LOCK_EX)
	if err != nil {
		return nil, nil, err
	}
	ipt, err := iptables.New()
	if err != nil {
		unlock()
		return nil, nil, fmt.Errorf("iptables: %w: mydocker needs the iptables command for its networks' NAT (apt-get install iptables), or --iptables=false", err)
	}
	return ipt, unlock, nil
}

// manageNetfilter is false with --iptables=false: networks get no rules,
// and the host's forwarding is left as it is.
var manageNetfilter = true

// ManageNetfilter says whether networks get their rules (--iptables).
func ManageNetfilter(on bool) { manageNetfilter = on }

// openWay adds the network's rules, each only if it is not there yet,
// and turns on forwarding.
func (n Network) openWay() error {
	if !manageNetfilter {
		logrus.Debugf("iptables: --iptables=false, the network %s gets no rules", n.Name)
	}
	return withNetfilter(func(ipt *iptables.IPTables) error {
		if err := ensureIsolationChains(ipt); err != nil {
			return err
		}
		for _, r := range n.rules() {
			if err := insertRule(ipt, r); err != nil {
				return err
			}
		}
		if err := n.routeLocalnet(); err != nil {
			return err
		}
		return enableForwarding()
	})
}

// insertRule adds r once, near the top of its chain; in FORWARD below the
// jump to the isolation chains, which must see a packet before any
// network's ACCEPT does.
func insertRule(ipt *iptables.IPTables, r rule) error {
	pos := 1
	if r.table == isolationJump.table && r.chain == isolationJump.chain {
		var err error
		if pos, err = positionAfter(ipt, isolationJump); err != nil {
			return err
		}
	}
	return insertOnce(ipt, r, pos)
}

// deleteRule removes r if it is there.
func deleteRule(ipt *iptables.IPTables, r rule) error {
	logrus.Debugf("iptables -t %s -D %s %s", r.table, r.chain, strings.Join(r.spec, " "))
	if err := ipt.DeleteIfExists(r.table, r.chain, r.spec...); err != nil {
		return fmt.Errorf("removing %s: %w", r, err)
	}
	return nil
}

// positionAfter is the position in its chain right below the rule r.
func positionAfter(ipt *iptables.IPTables, r rule) (int, error) {
	list, err := ipt.List(r.table, r.chain)
	if err != nil {
		return 0, err
	}
	want := strings.Join(append([]string{"-A", r.chain}, r.spec...), " ")
	pos := 0
	for _, line := range list {
		if !strings.HasPrefix(line, "-A ") {
			continue // the policy, -P
		}
		pos++
		if strings.ReplaceAll(line, `"`, "") == want {
			return pos + 1, nil
		}
	}
	return 0, fmt.Errorf("the rule %s is missing from %s", r, r.chain)
}

// CloseWay removes the network's rules, and the isolation chains with the
// last network's. network rm calls it; the default network keeps its
// rules, as Docker's docker0 does, until whoever removes its bridge calls
// it (the tests do).
func (n Network) CloseWay() error {
	return withNetfilter(func(ipt *iptables.IPTables) error {
		var errs []error
		for _, r := range n.rules() {
			errs = append(errs, deleteRule(ipt, r))
		}
		return errors.Join(append(errs, removeIsolationChainsIfUnused(ipt))...)
	})
}

// insertOnce puts r at pos in its chain, unless it is there already:
// running twice never doubles a rule. Near the top, so that another
// tool's DROP further down cannot stop the containers' traffic.
func insertOnce(ipt *iptables.IPTables, r rule, pos int) error {
	ok, err := ipt.Exists(r.table, r.chain, r.spec...)
	if err != nil || ok {
		return err
	}
	logrus.Debugf("iptables -t %s -I %s %d %s", r.table, r.chain, pos, strings.Join(r.spec, " "))
	if err := ipt.Insert(r.table, r.chain, pos, r.spec...); err != nil {
		return fmt.Errorf("adding %s: %w", r, err)
	}
	return nil
}

// ensureIsolationChains makes the two chains, each ending in RETURN, and
// the jump to the first from FORWARD.
func ensureIsolationChains(ipt *iptables.IPTables) error {
	for _, chain := range []string{isolationIn, isolationOut} {
		exists, err := ipt.ChainExists("filter", chain)
		if err != nil {
			return err
		}
		if exists {
			continue
		}
		logrus.Debugf("iptables -t filter -N %s", chain)
		if err := ipt.NewChain("filter", chain); err != nil {
			return fmt.Errorf("creating the chain %s: %w", chain, err)
		}
		if err := ipt.Append("filter", chain, "-j", "RETURN"); err != nil {
			return err
		}
	}
	return insertOnce(ipt, isolationJump, 1)
}

// removeIsolationChainsIfUnused removes the chains once they hold their
// RETURN alone: no mydocker network is left on the host.
func removeIsolationChainsIfUnused(ipt *iptables.IPTables) error {
	isNetworks := func(line string) bool { return strings.Contains(line, "--comment") }
	if unused, err := chainUnused(ipt, "filter", isolationIn, isNetworks); err != nil || !unused {
		return err
	}
	logrus.Debugf("iptables: no mydocker network left, removing %s and %s", isolationIn, isolationOut)
	if err := ipt.DeleteIfExists(isolationJump.table, isolationJump.chain, isolationJump.spec...); err != nil {
		return err
	}
	for _, chain := range []string{isolationIn, isolationOut} {
		if err := ipt.ClearAndDeleteChain("filter", chain); err != nil {
			return fmt.Errorf("removing the chain %s: %w", chain, err)
		}
	}
	return nil
}

// routeLocalnet lets the bridge carry packets from and to 127.0.0.0/8,
// which the kernel otherwise drops as martians: a connection of the host
// to 127.0.0.1:8080, redirected to a container, leaves by the bridge with
// 127.0.0.1 as its source until MASQUERADE rewrites it, and its replies
// come back to 127.0.0.1. The setting is the bridge's, and goes with it.
func (n Network) routeLocalnet() error {
	path := "/proc/sys/net/ipv4/conf/" + n.Bridge + "/route_localnet"
	logrus.Debugf("sysctl: %s = 1", path)
	if err := os.WriteFile(path, []byte("1\n"), 0o644); err != nil {
		return fmt.Errorf("letting the bridge %s route localhost for published ports: %w", n.Bridge, err)
	}
	return nil
}

// chainUnused tells whether the chain exists and none of its lines, as
// iptables -S lists them, is a user's.
func chainUnused(ipt *iptables.IPTables, table, chain string, isUsers func(line string) bool) (bool, error) {
	exists, err := ipt.ChainExists(table, chain)
	if err != nil || !exists {
		return false, err
	}
	list, err := ipt.List(table, chain)
	if err != nil {
		return false, err
	}
	return !slices.ContainsFunc(list, isUsers), nil
}

// withNetfilter runs fn with iptables open under the host's lock; with
// --iptables=false, not at all.
func withNetfilter(fn func(*iptables.IPTables) error) error {
	if !manageNetfilter {
		return nil
	}
	ipt, unlock, err := openNetfilter()
	if err != nil {
		return err
	}
	defer unlock()
	return fn(ipt)
}

const ipForward = "/proc/sys/net/ipv4/ip_forward"

// enableForwarding turns on IPv4 forwarding if it is off, and says so:
// it is the host's setting, and mydocker leaves it on, as Docker does,
// since other containers and tools may rely on it by then.
func enableForwarding() error {
	data, err := os.ReadFile(ipForward)
	if err != nil {
		return fmt.Errorf("reading %s: %w", ipForward, err)
	}
	if strings.TrimSpace(string(data)) == "1" {
		return nil
	}
	logrus.Warnf("turning on IPv4 forwarding (%s = 1), which the containers need to reach beyond the host; it stays on", ipForward)
	if err := os.WriteFile(ipForward, []byte("1\n"), 0o644); err != nil {
		return fmt.Errorf("turning on IPv4 forwarding: %w", err)
	}
	return nil
}
