//book:file cgroups

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

// Cgroup is one container's cgroup, on either version of the interface.
type Cgroup interface {
	// Join moves a process into the cgroup. Its children are born there.
	Join(pid int) error
	// Destroy removes the cgroup once its processes have exited.
	Destroy() error
	// Path is the cgroup's name, as /proc/PID/cgroup shows it.
	Path() string
}

// Root is where the cgroup filesystems are mounted.
const Root = "/sys/fs/cgroup"

// Mode is how the cgroup filesystems are laid out on this host.
type Mode int

const (
	// Unified is cgroup v2 alone: one tree at /sys/fs/cgroup.
	Unified Mode = iota
	// Legacy is cgroup v1 alone: one tree per controller under /sys/fs/cgroup.
	Legacy
	// Hybrid is cgroup v1 for the controllers, plus a v2 tree without
	// controllers at /sys/fs/cgroup/unified that only tracks processes.
	Hybrid
)

func (m Mode) String() string {
	return [...]string{"cgroup v2 (unified)", "cgroup v1 (legacy)", "cgroup v1 (hybrid)"}[m]
}

// DetectMode tells the layouts apart by the filesystem type mounted at
// /sys/fs/cgroup, as runc does.
func DetectMode() (Mode, error) {
	if isCgroup2(Root) {
		return Unified, nil
	}
	var st unix.Statfs_t
	if err := unix.Statfs(Root, &st); err != nil {
		return 0, fmt.Errorf("no cgroup filesystem at %s: %w: mount cgroup2 there (mount -t cgroup2 none %s)", Root, err, Root)
	}
	if isCgroup2(filepath.Join(Root, "unified")) {
		return Hybrid, nil
	}
	return Legacy, nil
}

func isCgroup2(dir string) bool {
	var st unix.Statfs_t
	return unix.Statfs(dir, &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC
}

// New creates the cgroup parent/id with the limits in res, on whichever
// interface this host has. The caller must Destroy it.
func New(parent, id string, res Resources) (Cgroup, error) {
	mode, err := DetectMode()
	if err != nil {
		return nil, err
	}
	logrus.Debugf("cgroups: %s", mode)
	if mode == Unified {
		return newV2(Root, parent, id, res)
	}
	mounts, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("finding the cgroup v1 mounts: %w", err)
	}
	return newV1(v1Hierarchies(string(mounts), mode == Hybrid), parent, id, res)
}

// CleanParent checks a --cgroup-parent and returns it relative to the
// cgroup root: "mydocker" and "/mydocker" both mean /sys/fs/cgroup/mydocker.
func CleanParent(parent string) (string, error) {
	clean := strings.Trim(filepath.Clean("/"+parent), "/")
	if parent == "" || clean == "" || clean != strings.Trim(parent, "/") {
		return "", fmt.Errorf("cgroup parent %q: use a plain path below the cgroup root, such as mydocker or tests/mine, without . or ..", parent)
	}
	return clean, nil
}

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

// joinCgroup moves pid into the cgroup at dir.
func joinCgroup(dir string, pid int) error {
	return writeFile(dir, "cgroup.procs", strconv.Itoa(pid))
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
