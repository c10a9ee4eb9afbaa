//book:file cgroups

package report

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Cgroup is what a process can see of its own cgroup.
type Cgroup struct {
	Version int `json:"version"` // 2 when /sys/fs/cgroup is the v2 tree, else 1
	// Paths maps each hierarchy of /proc/self/cgroup to the process's cgroup
	// in it: "memory", "cpu,cpuacct" and so on on v1, "" for the v2 tree.
	Paths map[string]string `json:"paths"`
	// Files holds the limit and counter files of the cgroup, by name.
	Files map[string]string `json:"files"`
	//book:add rootfs
	// Dirs says where the files of each controller were read: below the
	// hierarchy's mount point at the path of /proc/self/cgroup (the whole
	// hierarchy is visible), or at the mount point itself (only the
	// container's own cgroup is, as runc mounts it on cgroup v1).
	Dirs map[string]string `json:"dirs,omitempty"`
	//book:end
}

// cgroupFiles are the files the probe reads, by controller. On v2 they all
// sit in one directory; on v1 each controller has its own.
var cgroupFiles = map[int]map[string][]string{
	2: {"": {
		"memory.max", "memory.swap.max", "memory.events", "memory.current",
		"cpu.max", "cpu.weight", "cpu.stat",
		"cpuset.cpus", "cpuset.mems", "cpuset.cpus.effective",
		"pids.max", "pids.current", "pids.events",
	}},
	1: {
		"memory": {"memory.limit_in_bytes", "memory.memsw.limit_in_bytes", "memory.oom_control", "memory.failcnt", "memory.usage_in_bytes"},
		"cpu":    {"cpu.cfs_quota_us", "cpu.cfs_period_us", "cpu.shares", "cpu.stat"},
		"cpuset": {"cpuset.cpus", "cpuset.mems"},
		"pids":   {"pids.max", "pids.current", "pids.events"},
	},
}

// ReadCgroup reads /proc/self/cgroup, then the files of each controller
// under /sys/fs/cgroup. A file missing on this kernel is left out.
func ReadCgroup() (Cgroup, error) {
	cg := Cgroup{Version: 1, Paths: map[string]string{}, Files: map[string]string{}}
	//book:add rootfs
	cg.Dirs = map[string]string{}
	//book:end
	if IsCgroup2("/sys/fs/cgroup") {
		cg.Version = 2
	}
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return cg, err
	}
	// Each line is "hierarchy-ID:controllers:path".
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if parts := strings.SplitN(line, ":", 3); len(parts) == 3 {
			cg.Paths[parts[1]] = parts[2]
		}
	}
	for controller, files := range cgroupFiles[cg.Version] {
		dir := filepath.Join("/sys/fs/cgroup", controller, cg.PathOf(controller))
		//book:add rootfs
		// Without a cgroup namespace, the container's own cgroup is mounted
		// at the mount point (chapter 4, as runc does), where the path of
		// /proc/self/cgroup is missing.
		if _, err := os.Stat(dir); err != nil {
			dir = filepath.Join("/sys/fs/cgroup", controller)
		}
		cg.Dirs[controller] = dir
		//book:end
		for _, name := range files {
			if value, err := os.ReadFile(filepath.Join(dir, name)); err == nil {
				cg.Files[name] = strings.TrimSpace(string(value))
			}
		}
	}
	return cg, nil
}

// IsCgroup2 tells whether dir is a cgroup v2 mount.
func IsCgroup2(dir string) bool {
	var st unix.Statfs_t
	return unix.Statfs(dir, &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC
}

// PathOf finds the cgroup in the hierarchy of one controller, which on v1
// may be mounted together with others, as in "cpu,cpuacct"; "" is the v2
// tree.
func (cg Cgroup) PathOf(controller string) string {
	for hierarchy, path := range cg.Paths {
		if slices.Contains(strings.Split(hierarchy, ","), controller) {
			return path
		}
	}
	return ""
}

// Counter reads one "key value" line of a file like memory.events or
// cpu.stat; it returns -1 when the key is not there.
func (cg Cgroup) Counter(file, key string) int64 {
	scanner := bufio.NewScanner(strings.NewReader(cg.Files[file]))
	for scanner.Scan() {
		if fields := strings.Fields(scanner.Text()); len(fields) == 2 && fields[0] == key {
			n, _ := strconv.ParseInt(fields[1], 10, 64)
			return n
		}
	}
	return -1
}

// CPUsAllowed is the list of CPUs the scheduler lets the process run on.
func CPUsAllowed() (string, error) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if value, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
			return strings.TrimSpace(value), nil
		}
	}
	return "", nil
}
