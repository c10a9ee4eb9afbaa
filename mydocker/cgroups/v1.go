//book:file cgroups

package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// v1Cgroup is a container's cgroup on cgroup v1: one directory in each
// controller's own tree, each holding that controller's files.
type v1Cgroup struct {
	path string  // parent/id, the same below every mount
	dirs []v1Dir // one per hierarchy the container joins
}

type v1Dir struct {
	controller string // "" for the v2 tree of a hybrid host
	mount      string
	options    string // the hierarchy's controllers, as mounted: "cpu,cpuacct"
}

func (d v1Dir) dir(path string) string { return filepath.Join(d.mount, path) }

// v1Hierarchies finds where each managed controller is mounted, from
// mountinfo. On a hybrid host it adds the v2 tree as controller "": it has
// no controllers, but systemd and other tools find processes by it.
func v1Hierarchies(mountinfo string, hybrid bool) []v1Dir {
	var found []v1Dir
	for _, line := range strings.Split(mountinfo, "\n") {
		fields, tail, ok := strings.Cut(line, " - ")
		if !ok || len(strings.Fields(fields)) < 5 || len(strings.Fields(tail)) < 3 {
			continue
		}
		mount, super := strings.Fields(fields)[4], strings.Fields(tail)
		switch {
		case super[0] == "cgroup2" && hybrid:
			found = append(found, v1Dir{"", mount, ""})
		case super[0] == "cgroup":
			// One mount can carry several controllers, as "cpu,cpuacct" does;
			// their files then share one directory, which the container joins once.
			for _, opt := range strings.Split(super[2], ",") {
				//book:replace cgroups security
				// if slices.Contains(managed, opt) {
				//book:end cgroups security
				//book:add security
				if slices.Contains(v1Managed, opt) {
					//book:end security
					found = append(found, v1Dir{opt, mount, hierarchyOptions(super[2])})
					break
				}
			}
		}
	}
	return found
}

// hierarchyOptions keeps the options that name a v1 hierarchy, its
// controllers (and name=), out of a mount's super options: a new mount of
// the hierarchy must name exactly those.
func hierarchyOptions(super string) string {
	var keep []string
	for _, opt := range strings.Split(super, ",") {
		if opt != "rw" && opt != "ro" && (!strings.Contains(opt, "=") || strings.HasPrefix(opt, "name=")) &&
			!slices.Contains([]string{"noprefix", "clone_children", "xattr", "cpuset_v2_mode", "favordynmods", "nsdelegate"}, opt) {
			keep = append(keep, opt)
		}
	}
	return strings.Join(keep, ",")
}

func newV1(hierarchies []v1Dir, parent, id string, res Resources) (*v1Cgroup, error) {
	if err := checkV1Controllers(hierarchies, res); err != nil {
		return nil, err
	}
	cg := &v1Cgroup{path: filepath.Join(parent, id)}
	for _, h := range hierarchies {
		if err := cg.create(h, res); err != nil {
			return nil, joinErrors(err, cg.Destroy())
		}
	}
	return cg, nil
}

func checkV1Controllers(hierarchies []v1Dir, res Resources) error {
	for _, c := range res.controllersNeeded() {
		if !slices.ContainsFunc(hierarchies, func(h v1Dir) bool { return h.controller == c }) {
			return fmt.Errorf("the cgroup controller %q, needed for %s, is not mounted: mount it with "+
				"mkdir -p %s/%s && mount -t cgroup -o %s cgroup %s/%s, or drop the limit",
				c, res.flagFor(c), Root, c, c, Root, c)
		}
	}
	return nil
}

// create makes the container's directory in one hierarchy and writes the
// limits that belong to it.
func (cg *v1Cgroup) create(h v1Dir, res Resources) error {
	dir := h.dir(cg.path)
	if err := makeCgroup(dir); err != nil {
		return err
	}
	cg.dirs = append(cg.dirs, h)
	if h.controller == "cpuset" {
		if err := initCpuset(h.mount, cg.path); err != nil {
			return err
		}
	}
	return writeAll(dir, v1Settings(h.controller, res, exists(h.mount, "memory.memsw.limit_in_bytes")))
}

// initCpuset fills in cpuset.cpus and cpuset.mems on the way down from the
// hierarchy's root. A new v1 cpuset cgroup starts with both empty, and the
// kernel refuses to put a process in a cpuset with no CPUs or no memory
// nodes: writing its PID fails with ENOSPC, "no space left on device". So
// each empty one gets its parent's.
func initCpuset(mount, path string) error {
	parent := mount
	for _, name := range strings.Split(path, "/") {
		dir := filepath.Join(parent, name)
		for _, file := range []string{"cpuset.cpus", "cpuset.mems"} {
			if err := copyIfEmpty(parent, dir, file); err != nil {
				return err
			}
		}
		parent = dir
	}
	return nil
}

func copyIfEmpty(parent, dir, file string) error {
	if value, err := readFile(dir, file); err != nil || value != "" {
		return err
	}
	value, err := readFile(parent, file)
	if err != nil {
		return err
	}
	return writeFile(dir, file, value)
}

// v1Settings are the files and values that express res in one v1
// controller's directory.
func v1Settings(controller string, res Resources, swapAccounted bool) []setting {
	//book:lab cgroups limits
	var s []setting
	switch controller {
	case "memory":
		if res.Memory > 0 {
			s = append(s, setting{"memory.limit_in_bytes", itoa(res.Memory)})
			// v1 counts memory plus swap, and needs it at least as large as
			// the memory limit: so it is written second.
			if swap, unlimited := res.swapLimit(); unlimited && swapAccounted {
				s = append(s, setting{"memory.memsw.limit_in_bytes", "-1"})
			} else if swapAccounted {
				s = append(s, setting{"memory.memsw.limit_in_bytes", itoa(res.Memory + swap)})
			} else if res.MemorySwap > 0 {
				logrus.Warnf("this kernel does not account swap (no memory.memsw.limit_in_bytes; boot with swapaccount=1): --memory-swap is ignored")
			}
		}
	case "cpu":
		if res.NanoCPUs > 0 {
			s = append(s, setting{"cpu.cfs_period_us", itoa(cpuPeriod)}, setting{"cpu.cfs_quota_us", itoa(res.cpuQuota())})
		}
		if res.CPUShares > 0 {
			s = append(s, setting{"cpu.shares", itoa(res.CPUShares)})
		}
	case "cpuset":
		s = cpusetSettings(res)
	}
	return s
	//book:stub
	// // Lab cgroups, part 1 (labs/03-cgroups/README.md): the files of each v1
	// // controller that hold the limits in res (memory, swap, CPU quota and
	// // shares). The cpuset is given. Until then nothing is limited.
	// if controller == "cpuset" {
	// 	return cpusetSettings(res)
	// }
	// return nil
	//book:end
}

func (cg *v1Cgroup) Path() string { return "/" + cg.path }

//book:add rootfs

// View is the container's own directory in each hierarchy it joined, each
// where the hierarchy is mounted below /sys/fs/cgroup.
func (cg *v1Cgroup) View() []ViewMount {
	var view []ViewMount
	for _, h := range cg.dirs {
		name, err := filepath.Rel(Root, h.mount)
		if err != nil || strings.Contains(name, "/") || name == "." || name == ".." {
			continue // mounted elsewhere: the container does not see it
		}
		v := ViewMount{Target: name, Source: h.dir(cg.path), FSType: "cgroup", Options: h.options}
		if h.controller == "" {
			v.FSType, v.Options = "cgroup2", ""
		}
		view = append(view, v)
	}
	return view
}

//book:end rootfs

//book:replace cgroups exec
// // Join moves pid into the container's directory of every hierarchy: on v1,
// // membership is per hierarchy, and a process left out of one is not limited
// // by it.
// func (cg *v1Cgroup) Join(pid int) error {
// 	for _, h := range cg.dirs {
// 		if err := joinCgroup(h.dir(cg.path), pid); err != nil {
// 			return err
// 		}
// 	}
// 	return nil
// }
//book:end

// LimitPids writes pids.max in the pids hierarchy.
func (cg *v1Cgroup) LimitPids(limit int64) error {
	for _, h := range cg.dirs {
		if h.controller == "pids" {
			return writeAll(h.dir(cg.path), pidsSettings(limit))
		}
	}
	return nil
}

//book:add detach

// Procs reads the first hierarchy: a process is in every one of them.
func (cg *v1Cgroup) Procs() ([]int, error) {
	if len(cg.dirs) == 0 {
		return nil, fmt.Errorf("cgroup %s: no cgroup v1 hierarchy is mounted", cg.path)
	}
	return readProcs(cg.dirs[0].dir(cg.path))
}

//book:end detach

//book:add exec

// ForChildren writes the calling thread's id into tasks, which in v1 moves
// that one thread, in every hierarchy with controllers. The hybrid layout's
// controller-less v2 hierarchy moves whole processes only: there, as on v2,
// all of mydocker exec goes in and comes back once the child is born, so
// the child is never seen outside its container's cgroup.
func (cg *v1Cgroup) ForChildren() (func(int) error, error) {
	tid := unix.Gettid()
	var back []*os.File
	finish := func(int) error {
		var errs []error
		for _, procs := range back {
			logrus.Debugf("cgroup write %s = %d (back to where we were)", procs.Name(), os.Getpid())
			_, err := procs.WriteString(strconv.Itoa(os.Getpid()))
			errs = append(errs, err, procs.Close())
		}
		return errors.Join(errs...)
	}
	for _, h := range cg.dirs {
		var err error
		if h.controller == "" {
			err = joinWholeProcess(h.mount, h.dir(cg.path), &back)
		} else {
			err = writeFile(h.dir(cg.path), "tasks", strconv.Itoa(tid))
		}
		if err != nil {
			_ = finish(0)
			return nil, err
		}
	}
	return finish, nil
}

// joinWholeProcess moves this process into dir of a v2 hierarchy mounted
// at root and adds to back the cgroup.procs file it came from.
func joinWholeProcess(root, dir string, back *[]*os.File) error {
	procs, err := openOwnProcs(root)
	if err != nil {
		return err
	}
	if err := joinCgroup(dir, os.Getpid()); err != nil {
		procs.Close()
		return err
	}
	*back = append(*back, procs)
	return nil
}

//book:end exec

func (cg *v1Cgroup) Destroy() error {
	//book:add lifecycle
	thawForRemoval(cg)
	//book:end
	var errs []error
	for _, h := range cg.dirs {
		errs = append(errs, removeCgroup(h.dir(cg.path)))
	}
	return errors.Join(errs...)
}
