//book:file lifecycle

package container

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/mydocker-book/mydocker/mydocker/cgroups"
	"github.com/mydocker-book/mydocker/mydocker/state"
)

// The commands of a container's life after run: kill, stop, wait, pause,
// unpause and prune. None of them is the container's parent: the run or
// monitor that started it is, and it alone can wait for the init. They act
// through what any process may use: a signal to the init's PID (checked
// against its start time, as rm -f does), the freezer of its cgroup, and
// the lock on its directory, which that run or monitor holds until it has
// recorded the end.

// ErrNotRunning is the error of kill and pause for a container whose
// command is not running.
var ErrNotRunning = errors.New("is not running")

// runningRecord finds a container that runs, for a command that needs one.
func runningRecord(stateRoot, ref string) (Record, error) {
	r, err := FindRecord(stateRoot, ref)
	if err != nil {
		return r, err
	}
	if r.State.Status != state.Running {
		return r, fmt.Errorf("container %s %w", ref, ErrNotRunning)
	}
	return r, nil
}

// Kill sends sig to the container's init, as `docker kill` does. SIGKILL
// ends the whole container: the init is its PID namespace's first
// process, and when it dies the kernel kills every other one.
func Kill(stateRoot, ref string, sig unix.Signal) error {
	r, err := runningRecord(stateRoot, ref)
	if err != nil {
		return fmt.Errorf("cannot kill: %w", err)
	}
	return signalContainer(r, sig)
}

// signalContainer sends sig to the init, then thaws a paused container
// when the signal is meant to end it, as Docker does: SIGKILL (on cgroup
// v1 a frozen task does not die until it is thawed; v2 kills frozen
// tasks, and the thaw costs nothing there), the container's stop signal
// (its handler must run), and any signal for a container without a
// --stop-signal. Another signal stays pending until unpause.
func signalContainer(r Record, sig unix.Signal) error {
	if err := signalInit(r.State, sig); err != nil {
		return err
	}
	if r.Paused && endsContainer(r.Config, sig) {
		return thaw(r.State)
	}
	return nil
}

// endsContainer tells whether sig is one that Docker thaws a paused
// container for.
func endsContainer(cfg Config, sig unix.Signal) bool {
	if sig == unix.SIGKILL || cfg.StopSignal == "" {
		return true
	}
	stop, err := ParseSignal(cfg.StopSignal)
	return err == nil && stop == sig
}

// Stop asks the container to stop with sig (its --stop-signal, SIGTERM by
// default), gives it timeout to exit, then kills it, as `docker stop`
// does. A stopped container is left as it is.
func Stop(stateRoot, ref string, sig unix.Signal, timeout time.Duration) error {
	r, err := FindRecord(stateRoot, ref)
	if err != nil || r.State.Status != state.Running {
		return err
	}
	//book:lab lifecycle stop
	logrus.Debugf("kill(%d, %s): asking the container to stop, for up to %s", r.State.Pid, unix.SignalName(sig), timeout)
	if err := signalContainer(r, sig); err != nil {
		return err
	}
	if released(r.Dir, timeout) {
		return nil
	}
	logrus.Debugf("kill(%d, SIGKILL): the container did not stop within %s", r.State.Pid, timeout)
	if err := signalContainer(r, unix.SIGKILL); err != nil {
		return err
	}
	if !released(r.Dir, 30*time.Second) {
		return fmt.Errorf("container %s: killed, but the mydocker that watches it has not recorded its end after 30s", ref)
	}
	return nil
	//book:stub
	// // Lab lifecycle, part 1 (labs/10-lifecycle/README.md): ask the
	// // container to stop with sig, give it timeout to exit (released tells
	// // when it has), then kill it and wait for its end. Until then stop
	// // sends sig and returns: a PID 1 without a handler for it runs on.
	// return signalContainer(r, sig)
	//book:end lifecycle stop
}

// released waits until no mydocker holds the container's directory: its
// run or monitor has recorded the end (or the directory is gone, --rm).
func released(dir string, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		if !(Record{Dir: dir}).StillWatched() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// WaitFor blocks until the container has stopped and returns its exit
// status, as `docker wait` prints it. The lock on its directory is the
// signal: flock without LOCK_NB sleeps in the kernel until its holder
// lets go, with no polling.
func WaitFor(stateRoot, ref string) (int, error) {
	r, err := FindRecord(stateRoot, ref)
	if err != nil {
		return 0, err
	}
	dir, err := os.Open(r.Dir)
	if err != nil {
		return 0, fmt.Errorf("opening the directory of container %s: %w", ref, err)
	}
	if err := unix.Flock(int(dir.Fd()), unix.LOCK_SH); err != nil {
		dir.Close()
		return 0, fmt.Errorf("waiting for container %s: %w", ref, err)
	}
	dir.Close()
	st, err := state.Load(r.Dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return 0, fmt.Errorf("container %s was removed as it exited (--rm): its exit status went with it", ref)
	case err != nil:
		return 0, err
	case st.ExitCode == nil:
		return 0, fmt.Errorf("container %s: its exit status is unknown: %s", ref, st.Error)
	}
	return *st.ExitCode, nil
}

// Pause freezes every process of the container (cgroups/freezer.go).
func Pause(stateRoot, ref string) error {
	r, err := runningRecord(stateRoot, ref)
	if err != nil {
		return err
	}
	if r.Paused {
		return fmt.Errorf("container %s is already paused", ref)
	}
	cg, err := cgroups.Open(r.State.Cgroup)
	if err != nil {
		return err
	}
	return cg.Freeze()
}

// Unpause thaws a paused container.
func Unpause(stateRoot, ref string) error {
	r, err := FindRecord(stateRoot, ref)
	if err != nil {
		return err
	}
	if !r.Paused {
		return fmt.Errorf("container %s is not paused", ref)
	}
	return thaw(r.State)
}

func thaw(st state.State) error {
	cg, err := cgroups.Open(st.Cgroup)
	if err != nil {
		return err
	}
	// A thaw that lets a killed container die races with its watcher,
	// which removes the cgroup once the container is gone: done, then.
	if err := cg.Thaw(); err != nil && !cgroups.Removed(err) {
		return err
	}
	return nil
}

// isPaused tells whether a running container's cgroup is frozen: the
// freezer is the truth, so no state file can disagree with it.
func isPaused(st state.State) bool {
	if st.Status != state.Running || st.Cgroup == "" {
		return false
	}
	cg, err := cgroups.Open(st.Cgroup)
	if err != nil {
		return false
	}
	frozen, err := cg.Frozen()
	return err == nil && frozen
}

// Pruned is what Prune removed.
type Pruned struct {
	IDs   []string
	Bytes int64 // the space their directories took: mostly their writable layers
}

// Prune removes every stopped container, as `docker container prune`.
// A container that another command holds at that moment stays.
func Prune(stateRoot string) (Pruned, error) {
	var pruned Pruned
	records, err := Records(stateRoot)
	if err != nil {
		return pruned, err
	}
	var errs []error
	for _, r := range records {
		if r.State.Status != state.Stopped {
			continue
		}
		size := diskUsage(r.Dir)
		if err := Remove(stateRoot, r.ID, false); err != nil {
			errs = append(errs, err)
			continue
		}
		pruned.IDs = append(pruned.IDs, r.ID)
		pruned.Bytes += size
	}
	return pruned, errors.Join(errs...)
}

// diskUsage is the space the files below dir take, counted once per
// inode, as du does.
func diskUsage(dir string) int64 {
	var total int64
	seen := map[uint64]bool{}
	_ = filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err != nil {
			return nil
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && !seen[st.Ino] {
			seen[st.Ino] = true
			total += st.Blocks * 512
		}
		return nil
	})
	return total
}

// ParseSignal reads a signal as Docker's commands take it: a name with or
// without SIG, in any case, or a number.
func ParseSignal(s string) (unix.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n <= 0 || n > 64 {
			return 0, fmt.Errorf("invalid signal %s: numbers go from 1 to 64", s)
		}
		return unix.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	return 0, fmt.Errorf("invalid signal %s: use a name such as TERM, KILL or SIGUSR1, or a number", s)
}
