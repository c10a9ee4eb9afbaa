// Command kernelwork times the kernel's part of a container that bwrap's
// run does not pay and mydocker's (and runc's) must: a cgroup in every
// hierarchy, made and removed, and an overlay root filesystem, mounted on
// the image's layer and taken down again. The bench adds these to its floor
// (scripts/bench/run.sh): they are system calls any runtime with cgroups
// and an overlay makes, whatever language it is written in.
//
// Usage (as root):
//
//	kernelwork CGROUP_PARENT LOWER SCRATCH RUNS
//
// It prints three medians in milliseconds, tab-separated: the cgroups, the
// overlay as a kept container's, and the overlay as a --rm container's
// (volatile: its unmount does not sync the upper filesystem). It leaves nothing behind: its cgroups are removed in each run, the
// parent if it made it, and the scratch directory's contents.
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

	"golang.org/x/sys/unix"
)

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
	cgroups, overlays, err := measure(os.Args[1], os.Args[2], os.Args[3], runs)
	if err != nil {
		fail("%v", err)
	}
	fmt.Printf("%.2f\t%.2f\t%.2f\n", ms(cgroups), ms(overlays[0]), ms(overlays[1]))
}

// overlayKinds are the two ways a container's layer is mounted: durable
// (kept containers) and volatile (--rm).
var overlayKinds = [2]string{"", ",volatile"}

// measure returns the medians of runs rounds of each kind of work, the
// kinds taking turns.
func measure(parent, lower, scratch string, runs int) (cgroups time.Duration, overlays [2]time.Duration, err error) {
	if err := enterOwnMountNamespace(); err != nil {
		return 0, overlays, err
	}
	hierarchies, err := cgroupHierarchies()
	if err != nil {
		return 0, overlays, err
	}
	parents, err := makeParents(hierarchies, parent)
	defer removeAll(parents)
	if err != nil {
		return 0, overlays, err
	}
	var cgroupTimes []time.Duration
	var overlayTimes [2][]time.Duration
	for i := range runs {
		took, err := timeCgroups(hierarchies, parent, fmt.Sprintf("kernelwork-%d", i))
		if err != nil {
			return 0, overlays, err
		}
		cgroupTimes = append(cgroupTimes, took)
		for k, options := range overlayKinds {
			took, err = timeOverlay(lower, filepath.Join(scratch, strconv.Itoa(i)), options)
			if err != nil {
				return 0, overlays, err
			}
			overlayTimes[k] = append(overlayTimes[k], took)
		}
	}
	return median(cgroupTimes), [2]time.Duration{median(overlayTimes[0]), median(overlayTimes[1])}, nil
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
		case super[0] == "cgroup2" && mount == "/sys/fs/cgroup":
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
// its directories.
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
	return time.Since(start), nil
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
