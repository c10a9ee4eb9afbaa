//book:file cgroups

// This file holds what cgroup v1 (v1.go) and cgroup v2 (v2.go) share: the
// controllers this package manages, reading and writing cgroup files, the
// settings both versions write alike, and creating, joining and removing a
// cgroup directory.

package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// managed are the controllers whose files this package writes.
var managed = []string{"cpu", "cpuset", "memory", "pids"}

// writeFile sets one cgroup file. The kernel checks the value at write time,
// so its error is the one to show: EINVAL for a value it does not accept,
// EBUSY or ENOSPC for a state it does not allow.
func writeFile(dir, name, value string) error {
	path := filepath.Join(dir, name)
	logrus.Debugf("cgroup write %s = %s", path, value)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return fmt.Errorf("opening %s: %w", path, err)
	}
	defer f.Close()
	if _, err := f.WriteString(value); err != nil {
		return fmt.Errorf("writing %q to %s: %w", value, path, err)
	}
	return nil
}

func readFile(dir, name string) (string, error) {
	data, err := os.ReadFile(filepath.Join(dir, name))
	return strings.TrimSpace(string(data)), err
}

func exists(dir, name string) bool {
	_, err := os.Stat(filepath.Join(dir, name))
	return err == nil
}

// joinErrors adds to err that cleaning up after it failed too, if it did.
func joinErrors(err, cleanup error) error {
	if cleanup == nil {
		return err
	}
	return fmt.Errorf("%w (and cleaning up failed: %v)", err, cleanup)
}

// setting is one value to write into one cgroup file.
type setting struct{ file, value string }

func writeAll(dir string, settings []setting) error {
	for _, s := range settings {
		if err := writeFile(dir, s.file, s.value); err != nil {
			return err
		}
	}
	return nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func cpusetSettings(res Resources) []setting {
	var s []setting
	if res.CpusetCpus != "" {
		s = append(s, setting{"cpuset.cpus", res.CpusetCpus})
	}
	if res.CpusetMems != "" {
		s = append(s, setting{"cpuset.mems", res.CpusetMems})
	}
	return s
}

// pidsSettings is pids.max for a --pids-limit, if one was given. Unlike the
// other limits it is not written when the cgroup is made (see
// Cgroup.LimitPids).
func pidsSettings(limit int64) []setting {
	if limit == 0 {
		return nil
	}
	return []setting{{"pids.max", pidsMax(limit)}}
}

func pidsMax(limit int64) string {
	if limit < 0 {
		return "max"
	}
	return itoa(limit)
}

// joinCgroup moves pid into the cgroup at dir.
func joinCgroup(dir string, pid int) error {
	//book:lab cgroups join
	return writeFile(dir, "cgroup.procs", strconv.Itoa(pid))
	//book:stub
	// // Lab cgroups, part 2 (labs/03-cgroups/README.md): move the process pid
	// // into the cgroup dir. Until then the container runs in our own cgroup,
	// // with none of its limits.
	// logrus.Debugf("lab cgroups, part 2: joinCgroup(%s, %d) is not written yet", dir, pid)
	// return nil
	//book:end
}

// makeCgroup creates a container's cgroup directory. It must be new: a
// leftover one would hand us its old limits and processes.
func makeCgroup(dir string) error {
	if !exists(filepath.Dir(dir), "cgroup.procs") {
		logrus.Debugf("mkdir -p %s", filepath.Dir(dir))
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return fmt.Errorf("creating the cgroup parent %s: %w", filepath.Dir(dir), err)
	}
	logrus.Debugf("mkdir %s", dir)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return fmt.Errorf("creating the cgroup %s: %w", dir, err)
	}
	return nil
}

// removeCgroup removes a cgroup directory. rmdir is the only way: the files
// inside are the kernel's and cannot be deleted. The kernel refuses with
// EBUSY while a process is still in the cgroup, and the last processes of a
// container may take a moment to finish exiting after its init, so it retries
// for a while.
func removeCgroup(dir string) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := unix.Rmdir(dir)
		if err == nil || errors.Is(err, unix.ENOENT) {
			logrus.Debugf("rmdir %s", dir)
			return nil
		}
		if !errors.Is(err, unix.EBUSY) || time.Now().After(deadline) {
			procs, _ := readFile(dir, "cgroup.procs")
			return fmt.Errorf("removing the cgroup %s: %w (processes still in it: %q); remove it with rmdir once they have exited",
				dir, err, strings.Fields(procs))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

//book:add detach

// readProcs reads a cgroup's cgroup.procs: one PID a line.
func readProcs(dir string) ([]int, error) {
	data, err := readFile(dir, "cgroup.procs")
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, field := range strings.Fields(data) {
		pid, err := strconv.Atoi(field)
		if err != nil {
			return nil, fmt.Errorf("%s/cgroup.procs: %q is not a PID", dir, field)
		}
		pids = append(pids, pid)
	}
	return pids, nil
}

//book:end detach
