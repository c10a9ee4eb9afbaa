//book:file security

package container

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// capabilityNames are the kernel's capabilities, by number: root's power,
// split into pieces that can be kept or dropped one by one.
var capabilityNames = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK",
	"CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE",
	"CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE",
	"CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
	"CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
}

// DefaultCapabilities are Docker's: enough for what a container's root
// usually does (own files, change users, bind low ports), and none of what
// reaches past the container: no mounts (CAP_SYS_ADMIN), no modules, no
// clock, no raw devices, no kernel log.
var DefaultCapabilities = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
	"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
	"CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

// Capabilities works out the container's capabilities from Docker's flags:
// --cap-add and --cap-drop take names with or without CAP_, in any case,
// and ALL; --privileged keeps every one, whatever --cap-drop says, as in
// Docker. As in Docker too, adding ALL starts from every capability and
// then drops; otherwise dropping ALL starts from none, and the additions
// come last.
func Capabilities(add, drop []string, privileged bool) ([]string, error) {
	add, err := canonicalCapabilities(add)
	if err != nil {
		return nil, err
	}
	drop, err = canonicalCapabilities(drop)
	if err != nil {
		return nil, err
	}
	if privileged {
		return capabilityNames, nil
	}
	if slices.Contains(add, "ALL") {
		return without(capabilityNames, drop), nil
	}
	caps := DefaultCapabilities
	if slices.Contains(drop, "ALL") {
		caps = nil
	}
	caps = without(caps, drop)
	for _, c := range add {
		if !slices.Contains(caps, c) {
			caps = append(caps, c)
		}
	}
	return caps, nil
}

func canonicalCapabilities(names []string) ([]string, error) {
	var out []string
	for _, n := range names {
		c := strings.ToUpper(strings.TrimSpace(n))
		if c != "ALL" && !strings.HasPrefix(c, "CAP_") {
			c = "CAP_" + c
		}
		if c != "ALL" && !slices.Contains(capabilityNames, c) {
			return nil, fmt.Errorf("unknown capability %q: see capabilities(7) for the names, such as NET_ADMIN or SYS_PTRACE", n)
		}
		out = append(out, c)
	}
	return out, nil
}

func without(caps, drop []string) []string {
	var out []string
	for _, c := range caps {
		if !slices.Contains(drop, c) && !slices.Contains(drop, "ALL") {
			out = append(out, c)
		}
	}
	return out
}

// limitCapabilities is the init's side, on the thread that will exec: the
// kernel keeps capabilities per thread, and execve keeps only the calling
// thread's. For root, execve gives the new program its bounding set as
// permitted and effective (plus the inheritable set, empty here), so the
// bounding set is the limit: every capability outside caps is dropped from
// it first (which needs CAP_SETPCAP, still held), then the thread's own
// sets are narrowed, and the ambient set, which would survive execve for a
// non-root user, is emptied.
func limitCapabilities(caps []string) error {
	//book:lab security capabilities
	last, err := lastCapability()
	if err != nil {
		return err
	}
	keep, err := capabilitiesToKeep(caps, last)
	if err != nil {
		return err
	}
	logrus.Debugf("prctl(PR_CAPBSET_DROP) for every capability but %s", strings.Join(caps, ","))
	for c := 0; c <= last; c++ {
		if !keep[c] {
			if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil {
				return fmt.Errorf("dropping %s from the bounding set: %w", capabilityName(c), err)
			}
		}
	}
	if err := setThreadCapabilities(keep); err != nil {
		return err
	}
	logrus.Debug("prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)")
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil {
		return fmt.Errorf("clearing the ambient capabilities: %w", err)
	}
	return nil
	//book:stub
	// // Lab security, part 1 (labs/07-security/README.md): leave the command
	// // only the capabilities caps, in every set, for good. Until then it keeps
	// // all of root's.
	// logrus.Debugf("lab security, part 1: limitCapabilities(%v) is not written yet", caps)
	// return nil
	//book:end
}

// capabilitiesToKeep turns names into numbers, among the capabilities
// mydocker itself holds: a process can never give its children more than
// it has. Every capability (--privileged, --cap-add ALL) means every one
// that mydocker holds; a named one that it does not hold is an error.
func capabilitiesToKeep(caps []string, last int) (map[int]bool, error) {
	held, err := heldCapabilities()
	if err != nil {
		return nil, err
	}
	all := len(caps) == len(capabilityNames)
	keep := map[int]bool{}
	for _, name := range caps {
		c := slices.Index(capabilityNames, name)
		switch {
		case c <= last && held&(1<<c) != 0:
			keep[c] = true
		case !all:
			return nil, fmt.Errorf("%s is not available: mydocker itself does not hold it (or this kernel does not know it), so the container cannot have it", name)
		}
	}
	return keep, nil
}

// heldCapabilities is this thread's permitted set, from capget(2).
func heldCapabilities() (uint64, error) {
	var data [2]unix.CapUserData
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return 0, fmt.Errorf("reading mydocker's own capabilities: %w", err)
	}
	return uint64(data[1].Permitted)<<32 | uint64(data[0].Permitted), nil
}

// setThreadCapabilities sets the permitted and effective sets to keep and
// empties the inheritable set, with capset(2): two 32-bit words per set.
func setThreadCapabilities(keep map[int]bool) error {
	var data [2]unix.CapUserData
	for c := range keep {
		data[c/32].Permitted |= 1 << (c % 32)
	}
	data[0].Effective, data[1].Effective = data[0].Permitted, data[1].Permitted
	logrus.Debugf("capset(permitted=effective=%#x%08x, inheritable=0)", data[1].Permitted, data[0].Permitted)
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("setting the container's capabilities: %w", err)
	}
	return nil
}

// lastCapability is the highest capability this kernel knows.
func lastCapability() (int, error) {
	data, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		return 0, fmt.Errorf("reading the kernel's last capability: %w", err)
	}
	return strconv.Atoi(strings.TrimSpace(string(data)))
}

func capabilityName(c int) string {
	if c < len(capabilityNames) {
		return capabilityNames[c]
	}
	return fmt.Sprintf("capability %d", c)
}
