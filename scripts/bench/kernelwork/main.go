// Command kernelwork times the kernel's part of a container that bwrap's
// run does not pay and mydocker's (and runc's) must: a cgroup in every
// hierarchy, made and removed; an overlay root filesystem, mounted on the
// image's layer and taken down again; the mounts bwrap's /dev lacks
// (/dev/shm, /dev/mqueue) and the container's view of its cgroups; and
// Docker's default hardening: /sys read-only, the masked and read-only
// paths of /proc and /sys, and the seccomp filter loaded. The bench adds
// these to its floor (scripts/bench/run.sh): they are system calls any
// runtime with cgroups, an overlay and Docker's defaults makes, whatever
// language it is written in.
//
// Usage (as root):
//
//	kernelwork CGROUP_PARENT LOWER SCRATCH RUNS
//
// It prints six medians in milliseconds, tab-separated: the cgroups, the
// overlay as a kept container's, the overlay as a --rm container's
// (volatile: its unmount does not sync the upper filesystem), the
// hardening's mounts, the other mounts (/dev/shm, /dev/mqueue, the cgroup
// view) and the seccomp filter's load. It leaves nothing behind: its
// cgroups are removed in each run, the parent if it made it, and the
// scratch directory's contents.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mydocker-book/mydocker/mydocker/container"
	"github.com/mydocker-book/mydocker/mydocker/seccomp"
	"golang.org/x/sys/unix"
)

// cgroupRoot is where the cgroup hierarchies are mounted, the v2 tree
// alone on a host with cgroup v2 only.
const cgroupRoot = "/sys/fs/cgroup"

// managed are the v1 controllers whose hierarchies mydocker's container
// joins (cgroups.v1Managed); on a hybrid host the controller-less v2 tree
// too.
var managed = []string{"cpu", "cpuset", "memory", "pids", "devices", "freezer"}

func main() {
	if len(os.Args) != 5 {
		fail("usage: kernelwork CGROUP_PARENT LOWER SCRATCH RUNS")
	}
	runs, err := strconv.Atoi(os.Args[4])
	if err != nil || runs < 1 {
		fail("RUNS must be a positive number, not %q", os.Args[4])
	}
	m, err := measure(os.Args[1], os.Args[2], os.Args[3], runs)
	if err != nil {
		fail("%v", err)
	}
	fmt.Printf("%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\n", ms(m.cgroups), ms(m.overlays[0]), ms(m.overlays[1]),
		ms(m.hardening), ms(m.otherMounts), ms(m.seccomp))
}

// overlayKinds are the two ways a container's layer is mounted: durable
// (kept containers) and volatile (--rm).
var overlayKinds = [2]string{"", ",volatile"}

// medians are what measure found, one median per kind of work.
type medians struct {
	cgroups     time.Duration
	overlays    [2]time.Duration // as overlayKinds
	hardening   time.Duration
	otherMounts time.Duration
	seccomp     time.Duration
}

// measure returns the medians of runs rounds of each kind of work, the
// kinds taking turns.
func measure(parent, lower, scratch string, runs int) (medians, error) {
	if err := enterOwnMountNamespace(); err != nil {
		return medians{}, err
	}
	hierarchies, err := cgroupHierarchies()
	if err != nil {
		return medians{}, err
	}
	parents, err := makeParents(hierarchies, parent)
	defer removeAll(parents)
	if err != nil {
		return medians{}, err
	}
	if err := os.MkdirAll(scratch, 0o755); err != nil {
		return medians{}, fmt.Errorf("making the scratch directory: %w", err)
	}
	filter, err := dockersFilter(scratch)
	if err != nil {
		return medians{}, err
	}
	var cgroupTimes, hardeningTimes, otherTimes, seccompTimes []time.Duration
	var overlayTimes [2][]time.Duration
	for i := range runs {
		took, err := timeCgroups(hierarchies, parent, fmt.Sprintf("kernelwork-%d", i))
		if err != nil {
			return medians{}, err
		}
		cgroupTimes = append(cgroupTimes, took)
		dir := filepath.Join(scratch, strconv.Itoa(i))
		for k, options := range overlayKinds {
			took, err = timeOverlay(lower, dir, options)
			if err != nil {
				return medians{}, err
			}
			overlayTimes[k] = append(overlayTimes[k], took)
		}
		took, err = timeHardening(dir)
		if err != nil {
			return medians{}, err
		}
		hardeningTimes = append(hardeningTimes, took)
		if took, err = timeOtherMounts(dir, hierarchies, parent); err != nil {
			return medians{}, err
		}
		otherTimes = append(otherTimes, took)
		if took, err = timeSeccomp(filter); err != nil {
			return medians{}, err
		}
		seccompTimes = append(seccompTimes, took)
	}
	return medians{
		cgroups:     median(cgroupTimes),
		overlays:    [2]time.Duration{median(overlayTimes[0]), median(overlayTimes[1])},
		hardening:   median(hardeningTimes),
		otherMounts: median(otherTimes),
		seccomp:     median(seccompTimes),
	}, nil
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "kernelwork: "+format+"\n", args...)
	os.Exit(1)
}

// enterOwnMountNamespace keeps the overlay mounts out of the host's mount
// table. unshare moves only the calling thread into the new namespace, so
// the goroutine that does the work stays locked to that thread; private
// propagation keeps the mounts from reaching the namespace they came from.
func enterOwnMountNamespace() error {
	runtime.LockOSThread()
	if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
		return fmt.Errorf("a mount namespace of my own: %w", err)
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("making my mounts private: %w", err)
	}
	return nil
}

// hierarchy is one mounted cgroup tree.
type hierarchy struct {
	mount  string
	cpuset bool // a v1 cpuset, whose new cgroups start without CPUs
}

// cgroupHierarchies reads /proc/self/mountinfo: the v2 tree alone where it
// holds the controllers, else each v1 tree of a managed controller and the
// controller-less v2 tree beside them.
func cgroupHierarchies() ([]hierarchy, error) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("reading the mounts: %w", err)
	}
	var found []hierarchy
	for _, line := range strings.Split(string(data), "\n") {
		fields, tail, ok := strings.Cut(line, " - ")
		if !ok || len(strings.Fields(fields)) < 5 || len(strings.Fields(tail)) < 3 {
			continue
		}
		mount, super := strings.Fields(fields)[4], strings.Fields(tail)
		switch {
		case super[0] == "cgroup2" && mount == cgroupRoot:
			return []hierarchy{{mount: mount}}, nil
		case super[0] == "cgroup2":
			found = append(found, hierarchy{mount: mount})
		case super[0] == "cgroup":
			options := strings.Split(super[2], ",")
			if slices.ContainsFunc(options, func(o string) bool { return slices.Contains(managed, o) }) {
				found = append(found, hierarchy{mount: mount, cpuset: slices.Contains(options, "cpuset")})
			}
		}
	}
	if len(found) == 0 {
		return nil, fmt.Errorf("no cgroup hierarchy is mounted")
	}
	return found, nil
}

// makeParents makes the parent in each hierarchy, as a runtime's first
// container does once: it is not part of the timed work.
func makeParents(hierarchies []hierarchy, parent string) ([]string, error) {
	var made []string
	for _, h := range hierarchies {
		dir := filepath.Join(h.mount, parent)
		if err := os.Mkdir(dir, 0o755); os.IsExist(err) {
			continue
		} else if err != nil {
			return made, fmt.Errorf("making the cgroup parent: %w", err)
		}
		made = append(made, dir)
		if h.cpuset {
			if err := copyCpuset(h.mount, dir); err != nil {
				return made, err
			}
		}
	}
	return made, nil
}

// timeCgroups makes one cgroup in every hierarchy, fit to hold a process,
// and removes them again.
func timeCgroups(hierarchies []hierarchy, parent, name string) (time.Duration, error) {
	start := time.Now()
	var made []string
	defer func() { removeAll(made) }() // what a failure left
	for _, h := range hierarchies {
		dir := filepath.Join(h.mount, parent, name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			return 0, fmt.Errorf("making a cgroup: %w", err)
		}
		made = append(made, dir)
		if h.cpuset {
			if err := copyCpuset(filepath.Dir(dir), dir); err != nil {
				return 0, err
			}
		}
	}
	if err := removeAll(made); err != nil {
		return 0, err
	}
	made = nil
	return time.Since(start), nil
}

// A v1 cpuset cgroup refuses processes until it has CPUs and memory nodes.
func copyCpuset(from, to string) error {
	for _, file := range []string{"cpuset.cpus", "cpuset.mems"} {
		value, err := os.ReadFile(filepath.Join(from, file))
		if err != nil {
			return fmt.Errorf("reading the parent's cpuset: %w", err)
		}
		if err := os.WriteFile(filepath.Join(to, file), value, 0); err != nil {
			return fmt.Errorf("writing a cpuset: %w", err)
		}
	}
	return nil
}

// removeAll removes cgroup directories, the deepest last made first.
func removeAll(dirs []string) error {
	var first error
	for _, dir := range slices.Backward(dirs) {
		if err := unix.Rmdir(dir); err != nil && first == nil {
			first = fmt.Errorf("removing the cgroup %s: %w", dir, err)
		}
	}
	return first
}

// timeOverlay mounts an overlay with an empty upper layer on lower, as a
// container's root, with more options if any, then unmounts it and removes
// its directories. A container's overlay is unmounted in the one pass
// over all its mounts when its mount namespace ends, which bwrap's
// namespace gets too: what that pass waits for once is taken off here.
func timeOverlay(lower, dir, options string) (time.Duration, error) {
	start := time.Now()
	upper, work, merged := filepath.Join(dir, "upper"), filepath.Join(dir, "work"), filepath.Join(dir, "merged")
	for _, d := range []string{upper, work, merged} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return 0, fmt.Errorf("making the overlay's directories: %w", err)
		}
	}
	data := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s%s", lower, upper, work, options)
	if err := unix.Mount("overlay", merged, "overlay", 0, data); err != nil {
		os.RemoveAll(dir)
		return 0, fmt.Errorf("mounting the overlay: %w", err)
	}
	if err := unix.Unmount(merged, 0); err != nil {
		return 0, fmt.Errorf("unmounting the overlay: %w", err) // the namespace's end unmounts it
	}
	if err := os.RemoveAll(dir); err != nil {
		return 0, fmt.Errorf("removing the overlay's directories: %w", err)
	}
	took := time.Since(start)
	alone, err := timeUmountAlone(dir)
	return took - alone, err
}

// timeUmountAlone times the unmount of a bind mount that holds nothing:
// what every umount(2) costs, whatever it unmounts, mostly the wait for
// an RCU grace period before the kernel may free the mounts it took off.
func timeUmountAlone(dir string) (time.Duration, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, fmt.Errorf("making %s: %w", dir, err)
	}
	defer os.RemoveAll(dir)
	if err := unix.Mount(dir, dir, "", unix.MS_BIND, ""); err != nil {
		return 0, fmt.Errorf("binding %s: %w", dir, err)
	}
	start := time.Now()
	if err := unix.Unmount(dir, 0); err != nil {
		return 0, fmt.Errorf("unmounting %s: %w", dir, err)
	}
	return time.Since(start), nil
}

// Docker's default masked and read-only paths, as mydocker's
// (container/hardening.go).
var (
	maskedPaths = []string{
		"/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys",
		"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
		"/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
		"/sys/devices/system/cpu/cpu*/thermal_throttle",
	}
	readOnlyPaths = []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}
)

// timeHardening mounts what Docker's defaults add to /proc and /sys in a
// directory dir stands for a container's root: /sys, read-only (bwrap
// mounts none), the masks and the read-only paths. Mounting /proc is left
// out of the time: bwrap pays for a /proc too, and a floor must not count
// anything twice. So is taking them down: a container's mounts go in the
// one pass over all of them when its mount namespace ends, which bwrap's
// gets too, where an umount(2) here would wait on its own.
func timeHardening(dir string) (time.Duration, error) {
	proc, sys := filepath.Join(dir, "proc"), filepath.Join(dir, "sys")
	for _, d := range []string{proc, sys} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return 0, fmt.Errorf("making %s: %w", d, err)
		}
	}
	defer os.RemoveAll(dir)
	if err := unix.Mount("proc", proc, "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return 0, fmt.Errorf("mounting a /proc: %w", err)
	}
	defer unix.Unmount(proc, unix.MNT_DETACH)
	start := time.Now()
	if err := unix.Mount("sysfs", sys, "sysfs", unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return 0, fmt.Errorf("mounting a /sys: %w", err)
	}
	err := protect(dir)
	took := time.Since(start)
	if detach := unix.Unmount(sys, unix.MNT_DETACH); err == nil && detach != nil {
		err = fmt.Errorf("unmounting the /sys: %w", detach)
	}
	return took, err
}

// protect masks and write-protects the paths below root, as a runtime does
// after pivot_root.
func protect(root string) error {
	for _, pattern := range maskedPaths {
		paths, _ := filepath.Glob(filepath.Join(root, pattern))
		for _, path := range paths {
			fi, err := os.Stat(path)
			if err != nil {
				continue
			}
			if fi.IsDir() {
				err = unix.Mount("tmpfs", path, "tmpfs", unix.MS_RDONLY, "")
			} else {
				err = unix.Mount("/dev/null", path, "", unix.MS_BIND, "")
			}
			if err != nil {
				return fmt.Errorf("masking %s: %w", path, err)
			}
		}
	}
	for _, name := range readOnlyPaths {
		path := filepath.Join(root, name)
		if _, err := os.Stat(path); err != nil {
			continue
		}
		if err := unix.Mount(path, path, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("binding %s: %w", path, err)
		}
		if err := unix.Mount("", path, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
			return fmt.Errorf("making %s read-only: %w", path, err)
		}
	}
	return nil
}

// timeOtherMounts mounts, in a directory dir that stands for a container's
// root, what mydocker's init mounts and bwrap's does not: /dev/shm and
// /dev/mqueue in the /dev tmpfs (bwrap's --dev makes /dev/shm a plain
// directory and mounts no mqueue), and the container's view of its
// cgroups, read-only: on cgroup v1 a tmpfs at /sys/fs/cgroup with a
// directory of each hierarchy bound in it, on cgroup v2 the one directory
// bound there. Each bound directory is the parent's, which costs the
// kernel what a container's own would. The /dev tmpfs and the /sys under
// them are mounted before the clock starts: bwrap pays for a /dev, and the
// hardening's time has the /sys. The clock stops before the mounts are
// taken down: a container's go with its mount namespace, in the one pass
// over all its mounts that bwrap's namespace gets too, where each
// umount(2) here would wait for an RCU grace period of its own.
func timeOtherMounts(dir string, hierarchies []hierarchy, parent string) (time.Duration, error) {
	dev, sys := filepath.Join(dir, "dev"), filepath.Join(dir, "sys")
	for _, d := range []string{dev, sys} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return 0, fmt.Errorf("making %s: %w", d, err)
		}
	}
	defer os.RemoveAll(dir)
	if err := unix.Mount("tmpfs", dev, "tmpfs", unix.MS_NOSUID, "mode=755,size=65536k"); err != nil {
		return 0, fmt.Errorf("mounting a /dev: %w", err)
	}
	defer unix.Unmount(dev, unix.MNT_DETACH) // and what is mounted on it
	if err := unix.Mount("sysfs", sys, "sysfs", unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return 0, fmt.Errorf("mounting a /sys: %w", err)
	}
	defer unix.Unmount(sys, unix.MNT_DETACH)
	start := time.Now()
	err := mountDevAndCgroupView(dev, filepath.Join(sys, "fs", "cgroup"), hierarchies, parent)
	return time.Since(start), err
}

// mountDevAndCgroupView makes the mounts of timeOtherMounts, as
// mydocker's init does (container/rootfs_init.go).
func mountDevAndCgroupView(dev, view string, hierarchies []hierarchy, parent string) error {
	mount := func(source, target, fstype string, flags uintptr, data string) error {
		if err := os.MkdirAll(target, 0o755); err != nil {
			return fmt.Errorf("making the mount point %s: %w", target, err)
		}
		if err := unix.Mount(source, target, fstype, flags, data); err != nil {
			return fmt.Errorf("mounting %s on %s: %w", source, target, err)
		}
		return nil
	}
	if err := mount("shm", filepath.Join(dev, "shm"), "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=1777,size=65536k"); err != nil {
		return err
	}
	if err := mount("mqueue", filepath.Join(dev, "mqueue"), "mqueue", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return err
	}
	if len(hierarchies) == 1 && hierarchies[0].mount == cgroupRoot { // cgroup v2
		if err := mount(filepath.Join(cgroupRoot, parent), view, "", unix.MS_BIND, ""); err != nil {
			return err
		}
	} else {
		if err := mount("tmpfs", view, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=755"); err != nil {
			return err
		}
		for _, h := range hierarchies {
			if filepath.Dir(h.mount) != cgroupRoot {
				continue // mounted elsewhere: a container does not see it
			}
			if err := mount(filepath.Join(h.mount, parent), filepath.Join(view, filepath.Base(h.mount)), "", unix.MS_BIND, ""); err != nil {
				return err
			}
		}
	}
	attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOEXEC}
	if err := unix.MountSetattr(unix.AT_FDCWD, view, unix.AT_RECURSIVE, attr); err != nil {
		return fmt.Errorf("making the cgroup view read-only: %w", err)
	}
	return nil
}

// dockersFilter is the seccomp filter mydocker's init loads by default:
// Docker's default profile, for Docker's default capabilities, compiled by
// mydocker's compiler in a cache of its own, removed again.
func dockersFilter(scratch string) (string, error) {
	dir, err := os.MkdirTemp(scratch, "seccomp")
	if err != nil {
		return "", fmt.Errorf("making a seccomp cache: %w", err)
	}
	defer os.RemoveAll(dir)
	return seccomp.Cache{Dir: dir}.Filter("", container.DefaultCapabilities)
}

// timeSeccomp loads the filter as the init does, on a thread of its own
// (the kernel checks the program and translates it for this machine each
// time). A filter can never be taken off a thread: the goroutine keeps its
// thread locked to the end, and Go then ends the thread with it.
func timeSeccomp(filter string) (time.Duration, error) {
	type result struct {
		took time.Duration
		err  error
	}
	done := make(chan result)
	go func() {
		runtime.LockOSThread()
		start := time.Now()
		err := seccomp.Install(filter)
		done <- result{time.Since(start), err}
	}()
	r := <-done
	return r.took, r.err
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
