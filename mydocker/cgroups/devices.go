//book:file security

package cgroups

import (
	"fmt"
	"strconv"
)

// DeviceRule lets a container use some devices. A container's cgroup
// denies every device first, then allows what its rules list: the rule
// "c 1:3 rwm" lets it read, write and create /dev/null, and no rule lets it
// open a disk, even when a process with CAP_MKNOD makes a node for one.
// The kernel checks the device numbers, not the node's name or place.
type DeviceRule struct {
	Type   byte   // 'c' a character device, 'b' a block device, 'a' both
	Major  int64  // -1: any major number
	Minor  int64  // -1: any minor number
	Access string // what is allowed: r (read), w (write), m (mknod), in that order
}

// anyNumber is the wildcard of Major and Minor, written * in the rules.
const anyNumber = -1

// String is the rule as cgroup v1's devices.allow takes it, and as
// Docker's --device-cgroup-rule writes it: "c 1:3 rwm", "c *:* m".
func (r DeviceRule) String() string {
	number := func(n int64) string {
		if n == anyNumber {
			return "*"
		}
		return strconv.FormatInt(n, 10)
	}
	return fmt.Sprintf("%c %s:%s %s", r.Type, number(r.Major), number(r.Minor), r.Access)
}

func char(major, minor int64) DeviceRule { return DeviceRule{'c', major, minor, "rwm"} }

// DefaultDevices are the devices a Docker container may use (runc's
// default rules, which Docker keeps): the harmless character devices that
// /dev holds (container/devices.go), the terminal devices, and mknod of
// any device. Making a node is harmless when it cannot be opened; Docker
// allows it so that images whose files hold device nodes can be unpacked
// and copied inside a container. /dev/net/tun is there by history: it was
// in runc's first commit, runc 1.2.0 dropped it, and 1.2.4 put it back
// because containers that make their own tun device relied on it
// (opencontainers/runc#4555).
var DefaultDevices = []DeviceRule{
	{'c', anyNumber, anyNumber, "m"},
	{'b', anyNumber, anyNumber, "m"},
	char(1, 3),           // /dev/null
	char(1, 5),           // /dev/zero
	char(1, 7),           // /dev/full
	char(1, 8),           // /dev/random
	char(1, 9),           // /dev/urandom
	char(5, 0),           // /dev/tty
	char(5, 1),           // /dev/console
	char(5, 2),           // /dev/ptmx
	char(136, anyNumber), // /dev/pts/*, the terminals of the container's devpts
	char(10, 200),        // /dev/net/tun
}

// AllDevices is what --privileged allows: every device, as on the host.
var AllDevices = []DeviceRule{{'a', anyNumber, anyNumber, "rwm"}}

// DeviceRules are the rules for a container: Docker's defaults, or every
// device for a privileged one.
func DeviceRules(privileged bool) []DeviceRule {
	if privileged {
		return AllDevices
	}
	return DefaultDevices
}
