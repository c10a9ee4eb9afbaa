//book:file security

package cgroups

import (
	"fmt"
	"slices"
)

//book:replace security lifecycle
// // v1Managed are the controllers a container joins on cgroup v1: those of
// // both versions, and devices, which only v1 has as a controller with files
// // (v2 filters devices with a BPF program instead: devices_v2.go).
// var v1Managed = append(slices.Clone(managed), "devices")
//book:end
//book:add lifecycle

// v1Managed are the controllers a container joins on cgroup v1: those of
// both versions; devices, which only v1 has as a controller with files
// (v2 filters devices with a BPF program instead: devices_v2.go); and the
// freezer, for pause (v2 has a freezer in every cgroup: freezer.go).
var v1Managed = append(slices.Clone(managed), "devices", "freezer")

//book:end

// v1DeviceSettings are the writes that leave a v1 devices cgroup with
// exactly the rules: "a" to devices.deny takes every device away, the
// default that a new cgroup copied from its parent included, then each
// rule goes to devices.allow. The kernel accepts an allow rule only within
// what the parent allows, which on a host is everything.
func v1DeviceSettings(rules []DeviceRule) []setting {
	s := []setting{{"devices.deny", "a"}}
	for _, r := range rules {
		s = append(s, setting{"devices.allow", r.String()})
	}
	return s
}

// LimitDevices writes the rules in the devices hierarchy.
func (cg *v1Cgroup) LimitDevices(rules []DeviceRule) error {
	for _, h := range cg.dirs {
		if h.controller == "devices" {
			return writeAll(h.dir(cg.path), v1DeviceSettings(rules))
		}
	}
	return fmt.Errorf("the cgroup controller \"devices\" is not mounted, and without it a container could open any device it can mknod: "+
		"mount it with mkdir -p %s/devices && mount -t cgroup -o devices cgroup %s/devices", Root, Root)
}
