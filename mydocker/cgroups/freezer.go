//book:file lifecycle

package cgroups

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// The freezer stops every task of a cgroup where it stands, as if the
// scheduler forgot them, and lets them go on later: `pause` and
// `unpause`. Unlike SIGSTOP, which a process can see (its parent gets
// SIGCHLD, a shell prints "Stopped") and which one process sends to
// another, freezing is invisible to the tasks and covers the whole
// cgroup, processes started a moment before included.

// freezeTimeout is how long Freeze waits for the last task to freeze.
const freezeTimeout = 5 * time.Second

// waitFor calls done until it reports true, with short pauses that grow:
// a freeze usually takes well under a millisecond, but a task in the
// middle of a system call freezes only when it gets out of it.
func waitFor(what string, done func() (bool, error)) error {
	deadline := time.Now().Add(freezeTimeout)
	pause := 100 * time.Microsecond
	for {
		ok, err := done()
		if err != nil || ok {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: not done after %s", what, freezeTimeout)
		}
		time.Sleep(pause)
		pause = min(2*pause, 10*time.Millisecond)
	}
}

// v1: freezer.state in the freezer hierarchy. Writing FROZEN starts the
// freeze; the file reads FREEZING until every task is frozen, and a task
// that cannot freeze yet (in an uninterruptible sleep) keeps it there:
// writing FROZEN again retries the ones left.

func (cg *v1Cgroup) freezerDir() (string, error) {
	for _, h := range cg.dirs {
		if h.controller == "freezer" {
			return h.dir(cg.path), nil
		}
	}
	return "", fmt.Errorf("cgroup %s: the freezer hierarchy is not mounted: mount it with "+
		"mkdir -p %s/freezer && mount -t cgroup -o freezer cgroup %s/freezer", cg.path, Root, Root)
}

func (cg *v1Cgroup) Freeze() error {
	//book:lab lifecycle freeze
	dir, err := cg.freezerDir()
	if err != nil {
		return err
	}
	err = waitFor("freezing cgroup "+cg.path, func() (bool, error) {
		if err := writeFile(dir, "freezer.state", "FROZEN"); err != nil {
			return false, err
		}
		state, err := readFile(dir, "freezer.state")
		return state == "FROZEN", err
	})
	if err != nil {
		// Half frozen is the worst state to leave a container in.
		_ = writeFile(dir, "freezer.state", "THAWED")
	}
	return err
	//book:stub
	// // Lab lifecycle, part 2 (labs/10-lifecycle/README.md): freeze the
	// // cgroup with freezer.state in its freezer directory (freezerDir),
	// // and return once every task is frozen (waitFor). Until then pause
	// // changes nothing.
	// return nil
	//book:end lifecycle freeze
}

func (cg *v1Cgroup) Thaw() error {
	dir, err := cg.freezerDir()
	if err != nil {
		return err
	}
	return waitFor("thawing cgroup "+cg.path, func() (bool, error) {
		if err := writeFile(dir, "freezer.state", "THAWED"); err != nil {
			return false, err
		}
		state, err := readFile(dir, "freezer.state")
		return state == "THAWED", err
	})
}

// Frozen counts a freeze under way as frozen: its tasks are stopping.
func (cg *v1Cgroup) Frozen() (bool, error) {
	dir, err := cg.freezerDir()
	if err != nil {
		return false, err
	}
	state, err := readFile(dir, "freezer.state")
	return state != "THAWED", err
}

// v2: cgroup.freeze asks for the freeze (1) or its end (0), and
// cgroup.events says when the kernel is done: "frozen 1". Every
// non-root cgroup has both files; no controller is involved. (A program
// that waits long would poll(2) cgroup.events, which the kernel marks
// modified on each change; a few reads do here.)

func (cg *v2Cgroup) Freeze() error {
	//book:lab lifecycle freeze
	if err := writeFile(cg.dir(), "cgroup.freeze", "1"); err != nil {
		return err
	}
	err := waitFor("freezing cgroup "+cg.path, func() (bool, error) { return cg.eventsSay("frozen 1") })
	if err != nil {
		_ = writeFile(cg.dir(), "cgroup.freeze", "0")
	}
	return err
	//book:stub
	// // Lab lifecycle, part 2 (labs/10-lifecycle/README.md): freeze the
	// // cgroup with cgroup.freeze, and return once cgroup.events says it is
	// // frozen (waitFor, eventsSay). Until then pause changes nothing.
	// return nil
	//book:end lifecycle freeze
}

func (cg *v2Cgroup) Thaw() error {
	if err := writeFile(cg.dir(), "cgroup.freeze", "0"); err != nil {
		return err
	}
	return waitFor("thawing cgroup "+cg.path, func() (bool, error) { return cg.eventsSay("frozen 0") })
}

// Frozen is what was asked for: a freeze under way counts as frozen.
func (cg *v2Cgroup) Frozen() (bool, error) {
	want, err := readFile(cg.dir(), "cgroup.freeze")
	return want == "1", err
}

func (cg *v2Cgroup) eventsSay(line string) (bool, error) {
	events, err := readFile(cg.dir(), "cgroup.events")
	if err != nil {
		return false, err
	}
	return strings.Contains("\n"+events+"\n", "\n"+line+"\n"), nil
}

// Removed tells whether err says that the cgroup was removed while we
// used it, which a thaw that lets a killed container die must expect: its
// watcher removes the cgroup as soon as the init is gone. The kernel says
// so in two ways. A file looked up after the rmdir is not there (ENOENT);
// a file opened before it stays open, but every read or write of it fails
// with ENODEV, as the file of a device that was unplugged.
func Removed(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ENODEV)
}

// thawForRemoval thaws a frozen cgroup that is about to be removed: its
// tasks have been sent SIGKILL (the container's init died, and the
// kernel killed the rest of its PID namespace), but on v1 a frozen task
// does not die until it is thawed, and a cgroup with a task in it cannot
// be removed. A watcher killed while its container was paused leaves
// exactly that.
func thawForRemoval(cg interface {
	Frozen() (bool, error)
	Thaw() error
}) {
	if frozen, err := cg.Frozen(); err == nil && frozen {
		logrus.Debug("thawing the cgroup before removing it: its killed tasks die only once thawed")
		_ = cg.Thaw()
	}
}
