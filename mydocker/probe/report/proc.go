//book:file namespaces

// Package report is what the probe sees inside a container, gathered from
// /proc. The integration tests read the same facts on the host to compare.
package report

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// namespaceKinds are the files under /proc/PID/ns that name a namespace.
var namespaceKinds = []string{"cgroup", "ipc", "mnt", "net", "pid", "user", "uts"}

// Namespaces returns the inode number of each namespace a process is in:
// two processes share a namespace exactly when the numbers are equal.
func Namespaces(procDir string) (map[string]uint64, error) {
	out := map[string]uint64{}
	for _, kind := range namespaceKinds {
		var st unix.Stat_t
		if err := unix.Stat(filepath.Join(procDir, "ns", kind), &st); err != nil {
			return out, err
		}
		out[kind] = st.Ino
	}
	return out, nil
}

// Process is one entry of /proc.
type Process struct {
	PID  int    `json:"pid"`
	Comm string `json:"comm"`
}

// Processes lists the processes a /proc shows, sorted by PID.
func Processes(procDir string) ([]Process, error) {
	entries, err := os.ReadDir(procDir)
	if err != nil {
		return nil, err
	}
	var list []Process
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		comm, err := os.ReadFile(filepath.Join(procDir, e.Name(), "comm"))
		if err != nil {
			continue // it exited while we looked
		}
		list = append(list, Process{PID: pid, Comm: strings.TrimSpace(string(comm))})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].PID < list[j].PID })
	return list, nil
}

// Mount is one line of /proc/PID/mountinfo.
type Mount struct {
	Target      string `json:"target"`
	FSType      string `json:"fstype"`
	Source      string `json:"source"`
	Options     string `json:"options"`
	Propagation string `json:"propagation"` // "private", or the shared:N / master:N tags
}

// Mounts parses a mountinfo file (see proc(5)).
func Mounts(path string) ([]Mount, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var list []Mount
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		m, err := parseMountinfoLine(line)
		if err != nil {
			return list, err
		}
		list = append(list, m)
	}
	return list, nil
}

func parseMountinfoLine(line string) (Mount, error) {
	// 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
	before, after, ok := strings.Cut(line, " - ")
	fields, tail := strings.Fields(before), strings.Fields(after)
	if !ok || len(fields) < 6 || len(tail) < 2 {
		return Mount{}, fmt.Errorf("unexpected mountinfo line %q", line)
	}
	propagation := "private"
	if len(fields) > 6 {
		propagation = strings.Join(fields[6:], " ")
	}
	return Mount{
		Target:      unescapeOctal(fields[4]),
		Options:     fields[5],
		Propagation: propagation,
		FSType:      tail[0],
		Source:      unescapeOctal(tail[1]),
	}, nil
}

// unescapeOctal undoes the \040-style escapes mountinfo uses for spaces.
func unescapeOctal(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// Report is what the container looks like from the inside.
type Report struct {
	Args       []string          `json:"args"`
	PID        int               `json:"pid"`
	PPID       int               `json:"ppid"`
	Hostname   string            `json:"hostname"`
	UID        int               `json:"uid"`
	Env        []string          `json:"env"`
	Namespaces map[string]uint64 `json:"namespaces"`
	ProcSelf   string            `json:"proc_self"` // what /proc/self points to
	Processes  []Process         `json:"processes"` // as listed in /proc
	Mounts     []Mount           `json:"mounts"`
	Foreground bool              `json:"foreground"` // owns its terminal's foreground
	//book:add cgroups
	Cgroup      Cgroup `json:"cgroup"`
	CPUsAllowed string `json:"cpus_allowed"` // Cpus_allowed_list in /proc/self/status
	//book:end
	//book:add security
	Security Security `json:"security"`
	Devices  []Device `json:"devices"` // the entries of /dev
	FDs      []FD     `json:"fds"`     // the descriptors it started with
	//book:end
	Errors []string `json:"errors,omitempty"`
}

// Collect gathers the report for the calling process.
func Collect() Report {
	//book:add security
	// The descriptors first, before the probe opens any of its own.
	fds, fdsErr := OpenFDs("/proc/self/fd")
	//book:end
	r := Report{
		Args:     os.Args,
		PID:      os.Getpid(),
		PPID:     os.Getppid(),
		UID:      os.Getuid(),
		Env:      os.Environ(),
		ProcSelf: readLink("/proc/self"),
	}
	var err error
	if r.Hostname, err = os.Hostname(); err != nil {
		r.Errors = append(r.Errors, err.Error())
	}
	collect(&r, "namespaces", func() (err error) { r.Namespaces, err = Namespaces("/proc/self"); return })
	collect(&r, "processes", func() (err error) { r.Processes, err = Processes("/proc"); return })
	collect(&r, "mounts", func() (err error) { r.Mounts, err = Mounts("/proc/self/mountinfo"); return })
	r.Foreground = ownsForeground()
	//book:add cgroups
	collect(&r, "cgroup", func() (err error) { r.Cgroup, err = ReadCgroup(); return })
	collect(&r, "cpus", func() (err error) { r.CPUsAllowed, err = CPUsAllowed(); return })
	//book:end
	//book:add security
	collect(&r, "security", func() (err error) { r.Security, err = ReadSecurity("/proc/self/status"); return })
	collect(&r, "devices", func() (err error) { r.Devices, err = Devices("/dev"); return })
	collect(&r, "fds", func() error { r.FDs = fds; return fdsErr })
	//book:end
	return r
}

// collect records a failure in the report instead of stopping: a test wants
// to see everything the probe could see.
func collect(r *Report, what string, f func() error) {
	if err := f(); err != nil {
		r.Errors = append(r.Errors, what+": "+err.Error())
	}
}

func readLink(path string) string {
	target, err := os.Readlink(path)
	if err != nil {
		return "error: " + err.Error()
	}
	return target
}

// ownsForeground tells whether the process's group is its terminal's
// foreground group, the one the terminal sends Ctrl-C to.
func ownsForeground() bool {
	pgrp, err := unix.IoctlGetInt(0, unix.TIOCGPGRP)
	return err == nil && pgrp == unix.Getpgrp()
}
