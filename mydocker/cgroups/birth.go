//book:file exec

package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// Birth makes the next process the calling thread clones be born in a
// container's cgroup, so that it never has to be moved there.
//
// Moving a running process costs a wait: the kernel must keep every
// thread of the process from forking while it moves them, and the lock
// that does so is cheap for fork and dear for the mover, who waits for an
// RCU grace period (10 to 20 ms; chapter 3 measured it). A child born in
// its cgroup is never moved. There are two ways to that:
//
//   - on a cgroup v2 hierarchy, clone3(2) with CLONE_INTO_CGROUP and a
//     descriptor of the cgroup's directory (in Go: SysProcAttr.UseCgroupFD
//     and CgroupFD) creates the child there;
//   - on a cgroup v1 hierarchy, a thread may move itself alone, by writing
//     0 into tasks: with no other thread to hold still, the kernel takes
//     no global lock. Its children are born where it is, and it moves back
//     once the child has started.
//
// The caller holds the thread locked (runtime.LockOSThread) from before
// Birth until after Done, and starts the child in between.
type Birth struct {
	// CgroupFD is the directory of the cgroup v2 hierarchy, for
	// CLONE_INTO_CGROUP, or -1 where there is none (cgroup v1 alone).
	CgroupFD int
	undo     []func() error
}

// Done moves the thread back where it came from and closes the descriptor.
func (b *Birth) Done() error {
	var errs []error
	for i := len(b.undo) - 1; i >= 0; i-- {
		errs = append(errs, b.undo[i]())
	}
	b.undo, b.CgroupFD = nil, -1
	return errors.Join(errs...)
}

// Birth opens the one directory: cgroup v2 needs no move at all.
func (cg *v2Cgroup) Birth() (*Birth, error) {
	b := &Birth{CgroupFD: -1}
	return b, b.openForClone(cg.dir())
}

// Birth moves the calling thread into the container's directory of every
// hierarchy with controllers, and opens the hybrid host's v2 directory.
func (cg *v1Cgroup) Birth() (_ *Birth, err error) {
	b := &Birth{CgroupFD: -1}
	defer func() {
		if err != nil {
			err = joinErrors(err, b.Done())
		}
	}()
	own, err := os.ReadFile("/proc/thread-self/cgroup")
	if err != nil {
		return nil, fmt.Errorf("reading the thread's cgroups: %w", err)
	}
	for _, h := range cg.dirs {
		if h.controller == "" {
			err = b.openForClone(h.dir(cg.path))
		} else {
			err = b.moveThread(h, ownPath(string(own), h.controller), h.dir(cg.path))
		}
		if err != nil {
			return nil, err
		}
	}
	return b, nil
}

// openForClone opens a v2 cgroup directory for CLONE_INTO_CGROUP. The
// kernel takes no O_PATH descriptor there: it is opened for reading.
func (b *Birth) openForClone(dir string) error {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening the cgroup %s for clone3: %w", dir, err)
	}
	logrus.Debugf("open %s: the init is cloned into it (CLONE_INTO_CGROUP)", dir)
	b.CgroupFD = fd
	b.undo = append(b.undo, func() error { return unix.Close(fd) })
	return nil
}

// moveThread moves the calling thread from its cgroup in hierarchy h,
// at from, into the directory to. The way back is opened first, so that it
// is there whatever happens next.
func (b *Birth) moveThread(h v1Dir, from, to string) error {
	if from == "" {
		return fmt.Errorf("/proc/thread-self/cgroup has no line for the %s hierarchy", h.controller)
	}
	back, err := os.OpenFile(filepath.Join(h.mount, from, "tasks"), os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("opening the way back to our own cgroup: %w", err)
	}
	b.undo = append(b.undo, func() error {
		logrus.Debugf("cgroup write %s = 0 (this thread, back where it was)", back.Name())
		_, err := back.WriteString("0")
		return errors.Join(err, back.Close())
	})
	return writeFile(to, "tasks", "0")
}

// ownPath finds, in the text of /proc/thread-self/cgroup, the cgroup of
// the v1 hierarchy that holds controller ("4:cpu,cpuacct:/user.slice").
func ownPath(procCgroup, controller string) string {
	for _, line := range strings.Split(procCgroup, "\n") {
		fields := strings.SplitN(line, ":", 3)
		if len(fields) == 3 && fields[1] != "" {
			for _, c := range strings.Split(fields[1], ",") {
				if c == controller {
					return fields[2]
				}
			}
		}
	}
	return ""
}
