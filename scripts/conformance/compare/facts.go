package main

import (
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/mydocker-book/mydocker/mydocker/probe/report"
)

// Facts is a report flattened into named facts, normalised so that what
// must differ between two containers (inode and device numbers, cgroup
// names, mount order) does not.
type Facts map[string]string

// limitFiles are the cgroup files that hold limits, not counters: under
// the same flags both runtimes must write the same values.
var limitFiles = []string{
	"memory.limit_in_bytes", "memory.memsw.limit_in_bytes", "memory.max", "memory.swap.max",
	"cpu.cfs_quota_us", "cpu.cfs_period_us", "cpu.shares", "cpu.max", "cpu.weight",
	"cpuset.cpus", "cpuset.mems", "pids.max",
}

// Flatten flattens a container's report; host is the probe's report from the
// host, to tell what the container shares with it.
func Flatten(r, host report.Report) Facts {
	f := Facts{
		"pid":          strconv.Itoa(r.PID),
		"ppid":         strconv.Itoa(r.PPID),
		"uid":          strconv.Itoa(r.UID),
		"hostname":     r.Hostname,
		"args":         strings.Join(r.Args, " "),
		"proc_self":    r.ProcSelf,
		"foreground":   strconv.FormatBool(r.Foreground),
		"cpus_allowed": r.CPUsAllowed,
		"errors":       strings.Join(r.Errors, "; "),
	}
	var procs []string
	for _, p := range r.Processes {
		procs = append(procs, fmt.Sprintf("%d:%s", p.PID, p.Comm))
	}
	f["processes"] = strings.Join(procs, " ")
	for _, kv := range r.Env {
		key, _, _ := strings.Cut(kv, "=")
		f["env "+key] = "set"
	}
	for kind, ino := range r.Namespaces {
		f["namespace "+kind] = "own"
		if ino == host.Namespaces[kind] {
			f["namespace "+kind] = "the host's"
		}
	}
	s := r.Security
	for name, value := range map[string]string{
		"cap_inh": s.CapInh, "cap_prm": s.CapPrm, "cap_eff": s.CapEff, "cap_bnd": s.CapBnd,
		"cap_amb": s.CapAmb, "no_new_privs": s.NoNewPrivs, "seccomp": s.Seccomp,
	} {
		f["security."+name] = value
	}
	for _, m := range r.Mounts {
		mountFacts(f, m)
	}
	for _, d := range r.Devices {
		f["dev "+d.Name] = "present"
		f["dev "+d.Name+" mode"] = d.Mode
		if d.Major != 0 || d.Minor != 0 {
			f["dev "+d.Name+" device"] = fmt.Sprintf("%d:%d", d.Major, d.Minor)
		}
		if d.Link != "" {
			f["dev "+d.Name+" link"] = d.Link
		}
	}
	for _, fd := range r.FDs {
		f["fd "+strconv.Itoa(fd.FD)] = normaliseFD(fd.Target)
	}
	cgroupFacts(f, r.Cgroup, host.Cgroup)
	return f
}

// mountFacts records one mount. Under /proc and /sys (but for the cgroup
// view) a mount is either a masked path (something other than proc or
// sysfs mounted over it) or a read-only path (proc or sysfs again,
// read-only), the two lists runtimes keep; any other mount is compared by
// its type, its flags and its propagation.
func mountFacts(f Facts, m report.Mount) {
	flags := mountFlags(m.Options)
	protected := (strings.HasPrefix(m.Target, "/proc/") || strings.HasPrefix(m.Target, "/sys/")) &&
		!strings.HasPrefix(m.Target, "/sys/fs/cgroup")
	switch {
	case protected && m.FSType != "proc" && m.FSType != "sysfs":
		if strings.HasPrefix(flags, "ro") {
			f["masked "+m.Target] = "a read-only " + m.FSType
		} else {
			f["masked "+m.Target] = "a bind mount of /dev/null"
		}
	case protected && strings.HasPrefix(flags, "ro"):
		f["read-only "+m.Target] = flags
	default:
		f["mount "+m.Target] = "present"
		f["mount "+m.Target+" fstype"] = m.FSType
		f["mount "+m.Target+" flags"] = flags
		f["mount "+m.Target+" propagation"] = propagation(m.Propagation)
	}
}

// mountFlags keeps the flags that matter for what a container may do:
// ro or rw, then nosuid, nodev and noexec when set, in that order.
func mountFlags(options string) string {
	set := map[string]bool{}
	for _, o := range strings.Split(options, ",") {
		set[o] = true
	}
	flags := []string{"rw"}
	if set["ro"] {
		flags[0] = "ro"
	}
	for _, o := range []string{"nosuid", "nodev", "noexec"} {
		if set[o] {
			flags = append(flags, o)
		}
	}
	return strings.Join(flags, ",")
}

// propagation keeps the kinds of a mount's propagation tags, not their
// peer group numbers: "master:3 shared:7" is "shared,slave".
func propagation(tags string) string {
	if tags == "" || tags == "private" {
		return "private"
	}
	var kinds []string
	for _, tag := range strings.Fields(tags) {
		kind, _, _ := strings.Cut(tag, ":")
		switch kind {
		case "master":
			kind = "slave"
		case "propagate_from":
			continue
		}
		kinds = append(kinds, kind)
	}
	return strings.Join(kinds, ",")
}

var inodeSuffix = regexp.MustCompile(`:\[\d+\]$`)

// normaliseFD keeps what a descriptor is, not which one: "pipe:[123]" is
// a pipe, /dev/pts/3 a terminal. The Go runtime (1.25 on) keeps the
// cgroup's CPU limit files open: their path depends on the cgroup view,
// which "cgroup view" compares.
func normaliseFD(target string) string {
	if strings.HasPrefix(target, "/sys/fs/cgroup/") {
		return "the cgroup file " + path.Base(target)
	}
	if strings.HasPrefix(target, "pipe:") || strings.HasPrefix(target, "socket:") {
		return inodeSuffix.ReplaceAllString(target, "")
	}
	if strings.HasPrefix(target, "/dev/pts/") {
		return "/dev/pts/N"
	}
	return target
}

// cgroupFacts records which hierarchies the container has a cgroup of its
// own in, how much of each hierarchy it sees, and its limits.
func cgroupFacts(f Facts, cg, host report.Cgroup) {
	f["cgroup.version"] = strconv.Itoa(cg.Version)
	for hierarchy, path := range cg.Paths {
		name := hierarchy
		if name == "" {
			name = "(v2)"
		}
		switch {
		case path == host.Paths[hierarchy]:
			f["cgroup "+name] = "the caller's"
		case path == "/":
			f["cgroup "+name] = "/ (a cgroup namespace's root)"
		default:
			f["cgroup "+name] = fmt.Sprintf("its own, %d levels deep", strings.Count(strings.TrimSuffix(path, "/"), "/"))
		}
	}
	for controller, dir := range cg.Dirs {
		name := controller
		if name == "" {
			name = "(v2)"
		}
		if strings.TrimSuffix(dir, "/") == strings.TrimSuffix("/sys/fs/cgroup/"+controller, "/") {
			f["cgroup view "+name] = "its own cgroup, at the mount point"
		} else {
			f["cgroup view "+name] = "the whole hierarchy"
		}
	}
	for _, name := range limitFiles {
		if value, ok := cg.Files[name]; ok {
			f["limit "+name] = value
		}
	}
}
