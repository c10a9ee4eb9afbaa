//book:file namespaces

package container

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/mydocker-book/mydocker/mydocker/cgroups"
	"github.com/mydocker-book/mydocker/mydocker/image"
	"github.com/mydocker-book/mydocker/mydocker/state"
)

// A SIGKILL gives mydocker no chance to clean up: the kernel kills the
// container with it (the parent-death signal), but the container's
// directory, and from the cgroups chapter its cgroup, stay. So every run
// starts by removing what killed runs left: this sweep. A container
// belongs to a live run as long as that run holds the lock on the
// container's directory, from its directory step to the end of Delete; the
// kernel drops a process's locks when it dies, however it dies, and a PID
// could be reused, a lock cannot. The detach chapter replaces this sweep
// with real state handling (Reconcile): there, containers outlive their
// run on purpose.

// containersLock guards the list of containers: a run takes it shared
// while it makes and locks its directory, the sweep takes it exclusive, so
// that the sweep never finds a new directory before its run has locked it.
func containersLock(stateRoot string, how int) (unlock func(), err error) {
	return lockPath(filepath.Join(stateRoot, "containers", ".lock"), how)
}

// sweepDeadContainers is the sweep, create's step before the directory.
// What it cannot remove is reported, and the run goes on.
func (c *Container) sweepDeadContainers() error {
	//book:replace namespaces detach
	// dead, err := deadContainers(c.StateRoot)
	// if err != nil {
	// 	logrus.Warnf("looking for containers left by killed runs: %v", err)
	// }
	// for _, d := range dead {
	// 	removeDeadContainer(d)
	// }
	//book:end
	//book:add detach
	Reconcile(c.StateRoot)
	//book:end
	//book:add overlay
	if err := image.RemoveStaleUnpacks(c.StateRoot); err != nil {
		logrus.Warnf("%v", err)
	}
	//book:end
	//book:add images
	image.RemoveAbandonedWrites(c.StateRoot)
	//book:end
	return nil
}

// deadContainers locks the directory of every container whose run is
// gone; the caller removes them, and the kernel releases their locks
// when removeDeadContainer closes them.
func deadContainers(stateRoot string) ([]*os.File, error) {
	entries, err := os.ReadDir(filepath.Join(stateRoot, "containers"))
	if errors.Is(err, fs.ErrNotExist) || len(entries) <= 1 { // none, or only .lock
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	unlock, err := containersLock(stateRoot, unix.LOCK_EX)
	if err != nil {
		return nil, err
	}
	defer unlock()
	var dead []*os.File
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if dir := lockIfDead(filepath.Join(stateRoot, "containers", e.Name())); dir != nil {
			dead = append(dead, dir)
		}
	}
	return dead, nil
}

// lockIfDead returns the container's directory, locked, if no run holds
// its lock; nil if one does.
func lockIfDead(path string) *os.File {
	dir, err := os.Open(path)
	if err != nil {
		return nil
	}
	if unix.Flock(int(dir.Fd()), unix.LOCK_EX|unix.LOCK_NB) != nil {
		dir.Close()
		return nil
	}
	return dir
}

func removeDeadContainer(dir *os.File) {
	defer dir.Close()
	logrus.Debugf("removing %s: the mydocker that ran it was killed", dir.Name())
	//book:add cgroups
	st, err := state.Load(dir.Name())
	if err == nil && st.Cgroup != "" {
		if err := destroyCgroup(st.Cgroup); err != nil {
			logrus.Warnf("removing the cgroup of a killed run: %v", err)
		}
	}
	//book:end
	//book:add netns
	// The id is the directory's name, state or not; the state root is two
	// levels up: STATE_ROOT/containers/ID.
	releaseDeadContainerNetwork(filepath.Dir(filepath.Dir(dir.Name())), filepath.Base(dir.Name()), &st)
	//book:end
	if err := os.RemoveAll(dir.Name()); err != nil {
		logrus.Warnf("removing the directory of a killed run %s: %v; remove it by hand", dir.Name(), err)
	}
}

//book:add detach

// Reconcile settles what killed runs and monitors left, before a command
// reads the containers (ps, logs, inspect, rm) and in every run's sweep:
// the next command after a SIGKILL recognises it, and says it truthfully.
// A removed container's name goes with the stale names, after its
// directory: a name whose directory is gone is free (state.ReserveName).
func Reconcile(stateRoot string) {
	dead, err := deadContainers(stateRoot)
	if err != nil {
		logrus.Warnf("looking for containers left by killed runs: %v", err)
	}
	for _, d := range dead {
		settleDeadContainer(stateRoot, d)
	}
	if err := state.ReleaseStaleNames(stateRoot); err != nil {
		logrus.Warnf("%v", err)
	}
}

// settleDeadContainer handles a container directory no mydocker holds.
// A stopped container is a record, left as it is. One that never got to
// created was never shown to anyone: it goes. One that was created or
// running lost the mydocker that watched it, and with it its init (the
// parent-death signal): it becomes a stopped container without an exit
// code, which says why (or goes, with --rm).
func settleDeadContainer(stateRoot string, dir *os.File) {
	//book:lab detach settle
	st, err := state.Load(dir.Name())
	cfg, recordErr := loadRecord(dir.Name())
	switch {
	case err == nil && st.Status == state.Stopped:
		dir.Close()
	case err != nil || st.Status == state.Creating || recordErr != nil || cfg.AutoRemove:
		removeDeadContainer(dir)
	default:
		recordKilled(dir, st)
	}
	//book:stub
	// // Lab detach, part 3 (labs/08-detach/README.md): settle a container
	// // that no mydocker holds any more: keep a stopped one, remove one that
	// // never got to created (or one run with --rm), and record one that was
	// // created or running as stopped, without an exit code (recordKilled).
	// // Until then what a killed run left stays as it was: "running" for
	// // ever, with its cgroup.
	// dir.Close()
	//book:end detach settle
}

// recordKilled releases what a killed run's container still holds, its
// cgroup, and records it as stopped, for good.
func recordKilled(dir *os.File, st state.State) {
	defer dir.Close()
	//book:add netns
	releaseDeadContainerNetwork(filepath.Dir(filepath.Dir(dir.Name())), filepath.Base(dir.Name()), &st)
	//book:end netns
	if st.Cgroup != "" {
		if err := destroyCgroup(st.Cgroup); err != nil {
			logrus.Warnf("removing the cgroup of a killed run: %v", err)
			return // the next command tries again
		}
	}
	logrus.Debugf("container %s: the mydocker that watched it was killed; recording it as stopped", st.ID)
	now := time.Now()
	st.Status, st.Finished, st.ExitCode, st.Pid, st.PidStartTime, st.Cgroup = state.Stopped, &now, nil, 0, 0, ""
	_ = os.Remove(filepath.Join(dir.Name(), "attach.sock")) // nobody listens on it any more
	st.Error = "the mydocker process that watched the container was killed, and the container with it: its exit status is unknown"
	if err := state.Note(dir.Name(), st); err != nil {
		logrus.Warnf("%v", err)
	}
}

//book:end detach

//book:add cgroups

func destroyCgroup(path string) error {
	cgroup, err := cgroups.Open(path)
	if err != nil {
		return err
	}
	return cgroup.Destroy()
}

//book:end

// lockDir takes the exclusive lock on a container's directory, held until
// the directory is removed.
func lockDir(path string) (*os.File, error) {
	dir, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening the container's directory: %w", err)
	}
	if err := unix.Flock(int(dir.Fd()), unix.LOCK_EX); err != nil {
		dir.Close()
		return nil, fmt.Errorf("locking the container's directory: %w", err)
	}
	return dir, nil
}

// lockPath takes a flock(2) on path, shared or exclusive.
func lockPath(path string, how int) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the lock %s: %w", path, err)
	}
	if err := unix.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}
