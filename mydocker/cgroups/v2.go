//book:file cgroups

package cgroups

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"strconv"

	"github.com/sirupsen/logrus"
)

// v2Cgroup is a container's cgroup on cgroup v2: one directory in the one
// tree, holding the files of every controller.
type v2Cgroup struct {
	root string // where cgroup2 is mounted
	path string // parent/id below it
}

func newV2(root, parent, id string, res Resources) (*v2Cgroup, error) {
	available, err := readFile(root, "cgroup.controllers")
	if err != nil {
		return nil, fmt.Errorf("reading the cgroup v2 controllers: %w", err)
	}
	controllers, err := v2Controllers(strings.Fields(available), res)
	if err != nil {
		return nil, err
	}
	if err := enableControllers(root, parent, controllers); err != nil {
		return nil, err
	}
	cg := &v2Cgroup{root: root, path: filepath.Join(parent, id)}
	if err := makeCgroup(cg.dir()); err != nil {
		return nil, err
	}
	if err := writeAll(cg.dir(), v2Settings(res, exists(cg.dir(), "memory.swap.max"))); err != nil {
		return nil, joinErrors(err, cg.Destroy())
	}
	return cg, nil
}

func (cg *v2Cgroup) dir() string  { return filepath.Join(cg.root, cg.path) }
func (cg *v2Cgroup) Path() string { return "/" + cg.path }

//book:replace cgroups exec
// func (cg *v2Cgroup) Join(pid int) error { return joinCgroup(cg.dir(), pid) }
//book:end

//book:replace cgroups lifecycle
// func (cg *v2Cgroup) Destroy() error { return removeCgroup(cg.dir()) }
//book:end
//book:add lifecycle

func (cg *v2Cgroup) Destroy() error {
	thawForRemoval(cg)
	return removeCgroup(cg.dir())
}

//book:end

//book:add detach

func (cg *v2Cgroup) Procs() ([]int, error) { return readProcs(cg.dir()) }

//book:end detach

//book:add exec

func (cg *v2Cgroup) ForChildren() (func(int) error, error) {
	back, err := openOwnProcs(cg.root)
	if err != nil {
		return nil, err
	}
	if err := joinCgroup(cg.dir(), os.Getpid()); err != nil {
		back.Close()
		return nil, err
	}
	return func(int) error {
		defer back.Close()
		logrus.Debugf("cgroup write %s = %d (back to where we were)", back.Name(), os.Getpid())
		_, err := back.WriteString(strconv.Itoa(os.Getpid()))
		return err
	}, nil
}

// openOwnProcs opens the cgroup.procs file of our own v2 cgroup, to go
// back to it.
func openOwnProcs(root string) (*os.File, error) {
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if path, ok := strings.CutPrefix(line, "0::"); ok {
			return os.OpenFile(filepath.Join(root, path, "cgroup.procs"), os.O_WRONLY, 0)
		}
	}
	return nil, errors.New("/proc/self/cgroup has no cgroup v2 line")
}

//book:end exec

//book:add rootfs

// View is the container's own directory, in place of the whole tree.
func (cg *v2Cgroup) View() []ViewMount {
	return []ViewMount{{Source: cg.dir(), FSType: "cgroup2"}}
}

//book:end rootfs

func (cg *v2Cgroup) LimitPids(limit int64) error {
	return writeAll(cg.dir(), pidsSettings(limit))
}

// v2Controllers picks the controllers to enable for a container: every one
// we manage that the kernel offers, so that its usage is accounted even
// without a limit. A controller that a limit needs must be there.
func v2Controllers(available []string, res Resources) ([]string, error) {
	for _, c := range res.controllersNeeded() {
		if !slices.Contains(available, c) {
			return nil, fmt.Errorf("the cgroup controller %q, needed for %s, is not available: %s/cgroup.controllers lists only %q. "+
				"cgroup v2 gets a controller only when the kernel has it and no cgroup v1 hierarchy holds it: "+
				"if /proc/mounts shows a cgroup v1 mount with %q, unmount it or boot with cgroup_no_v1=%s; or drop the limit",
				c, res.flagFor(c), Root, strings.Join(available, " "), c, c)
		}
	}
	var enable []string
	for _, c := range managed {
		if slices.Contains(available, c) {
			enable = append(enable, c)
		}
	}
	return enable, nil
}

// enableControllers makes the controllers usable in the container's cgroup.
// On cgroup v2 a cgroup has a controller's files only if its parent lists
// the controller in cgroup.subtree_control, and the parent may list it only
// if its own parent does, and so on up to the root: so it is enabled in
// every ancestor, from the root down.
func enableControllers(root, parent string, controllers []string) error {
	dir := root
	for _, name := range append([]string{""}, strings.Split(parent, "/")...) {
		dir = filepath.Join(dir, name)
		if err := makeAncestor(dir, root); err != nil {
			return err
		}
		if err := enableIn(dir, controllers); err != nil {
			return err
		}
	}
	return nil
}

// makeAncestor creates a missing ancestor of the container's cgroup.
// Another mydocker may create it at the same moment: that is fine.
func makeAncestor(dir, root string) error {
	if dir == root || exists(dir, "cgroup.procs") {
		return nil
	}
	logrus.Debugf("mkdir %s", dir)
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("creating the cgroup %s: %w", dir, err)
	}
	return nil
}

// enableIn writes the controllers that are not enabled yet to
// cgroup.subtree_control of dir.
func enableIn(dir string, controllers []string) error {
	current, err := readFile(dir, "cgroup.subtree_control")
	if err != nil {
		return fmt.Errorf("reading the controllers of %s: %w", dir, err)
	}
	var add []string
	for _, c := range controllers {
		if !slices.Contains(strings.Fields(current), c) {
			add = append(add, "+"+c)
		}
	}
	if len(add) == 0 {
		return nil
	}
	// "No internal processes": below the root, a cgroup either holds
	// processes or hands controllers to children, never both, so that a
	// controller never has to share out a resource between a cgroup's own
	// processes and its children. The kernel answers EBUSY; say why. Only
	// the real root, which has no cgroup.type, is exempt: inside a cgroup
	// namespace /sys/fs/cgroup may be an ordinary cgroup.
	isRoot := !exists(dir, "cgroup.type")
	if procs, _ := readFile(dir, "cgroup.procs"); !isRoot && procs != "" {
		return fmt.Errorf("cannot enable controllers in %s: it holds processes (%s), and on cgroup v2 a cgroup that hands controllers down to its children may hold no processes itself; "+
			"choose a --cgroup-parent without processes of its own", dir, strings.Join(strings.Fields(procs), " "))
	}
	return writeFile(dir, "cgroup.subtree_control", strings.Join(add, " "))
}

// v2Settings are the files and values that express res on cgroup v2.
func v2Settings(res Resources, swapAccounted bool) []setting {
	//book:lab cgroups limits
	var s []setting
	if res.Memory > 0 {
		s = append(s, setting{"memory.max", itoa(res.Memory)})
		// memory.swap.max counts swap alone, not memory plus swap as v1 does.
		if swap, unlimited := res.swapLimit(); unlimited && swapAccounted {
			s = append(s, setting{"memory.swap.max", "max"})
		} else if swapAccounted {
			s = append(s, setting{"memory.swap.max", itoa(swap)})
		} else if res.MemorySwap > 0 {
			logrus.Warnf("this kernel does not account swap (no memory.swap.max): --memory-swap is ignored")
		}
	}
	if res.NanoCPUs > 0 {
		s = append(s, setting{"cpu.max", fmt.Sprintf("%d %d", res.cpuQuota(), cpuPeriod)})
	}
	if res.CPUShares > 0 {
		s = append(s, setting{"cpu.weight", itoa(CPUWeight(res.CPUShares))})
	}
	return append(s, cpusetSettings(res)...)
	//book:stub
	// // Lab cgroups, part 1 (labs/03-cgroups/README.md): the same limits in
	// // cgroup v2's files. The cpuset is given.
	// return cpusetSettings(res)
	//book:end
}
