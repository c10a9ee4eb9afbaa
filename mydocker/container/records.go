//book:file detach

package container

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/mydocker-book/mydocker/mydocker/state"
)

// Record is what mydocker keeps of a container, for ps, logs, inspect and
// rm: its configuration and its state, read from its directory.
type Record struct {
	Config
	State state.State
	Dir   string
	//book:add lifecycle
	Paused bool // its cgroup is frozen
	//book:end
}

// LogPath is the record's log file, for a detached container.
func (r Record) LogPath() string { return logPath(r.Dir, r.ID) }

// Records lists every container of the state root, after settling what
// killed runs left (Reconcile). A container still being created has no
// record yet and is not listed, as Docker lists none before it exists.
func Records(stateRoot string) ([]Record, error) {
	Reconcile(stateRoot)
	ids, err := state.IDs(stateRoot)
	if err != nil {
		return nil, err
	}
	var list []Record
	for _, id := range ids {
		if r, err := readRecord(stateRoot, id); err == nil {
			list = append(list, r)
		}
	}
	return list, nil
}

// FindRecord reads the record of the container ref names (a name, an id
// or a unique prefix of one).
func FindRecord(stateRoot, ref string) (Record, error) {
	Reconcile(stateRoot)
	id, err := state.Find(stateRoot, ref)
	if err != nil {
		return Record{}, err
	}
	r, err := readRecord(stateRoot, id)
	if errors.Is(err, os.ErrNotExist) {
		return r, fmt.Errorf("%w: %s (it is being created, or was just removed)", state.ErrNoSuchContainer, ref)
	}
	return r, err
}

func readRecord(stateRoot, id string) (Record, error) {
	dir := state.ContainerDir(stateRoot, id)
	st, err := state.Load(dir)
	if err != nil {
		return Record{}, err
	}
	if st.Status == state.Creating {
		return Record{}, os.ErrNotExist
	}
	cfg, err := loadRecord(dir)
	if err != nil {
		return Record{}, err
	}
	//book:replace detach lifecycle
	// return Record{Config: cfg, State: st, Dir: dir}, nil
	//book:end
	//book:add lifecycle
	return Record{Config: cfg, State: st, Dir: dir, Paused: isPaused(st)}, nil
	//book:end
}

// Remove removes a stopped container: its directory, then its name. With
// force, a running one is killed first, as `docker rm -f` does; without,
// it is refused.
func Remove(stateRoot, ref string, force bool) error {
	r, err := FindRecord(stateRoot, ref)
	if err != nil {
		return err
	}
	dir, err := os.Open(r.Dir)
	if err != nil {
		return fmt.Errorf("opening the directory of container %s: %w", r.ID, err)
	}
	defer dir.Close()
	if unix.Flock(int(dir.Fd()), unix.LOCK_EX|unix.LOCK_NB) != nil {
		switch {
		case r.State.Status == state.Stopped:
			// Another command's Reconcile, reading the record for a moment.
		case !force:
			// A mydocker holds it: the container is being created, or runs.
			//book:replace detach lifecycle
			// return fmt.Errorf("container %s is %s: stop it before removing it, or remove it with rm -f", ref, r.State.Status)
			//book:end
			//book:add lifecycle
			// Docker's words, now that there is a stop.
			return fmt.Errorf("cannot remove container %q: container is %s: stop the container before removing or force remove", ref, r.State.Status)
			//book:end
		default:
			//book:replace detach lifecycle
			// if err := signalInit(r.State, unix.SIGKILL); err != nil {
			// 	return err
			// }
			//book:end
			//book:add lifecycle
			if err := signalContainer(r, unix.SIGKILL); err != nil {
				return err
			}
			//book:end
		}
		if err := waitForLock(dir, 10*time.Second); err != nil {
			return fmt.Errorf("container %s: the mydocker that holds it did not let it go: %w", ref, err)
		}
	}
	// Ours now. The mydocker that ran it may have removed it already (--rm).
	if _, err := os.Stat(r.Dir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	logrus.Debugf("removing %s", r.Dir)
	if err := os.RemoveAll(r.Dir); err != nil {
		return fmt.Errorf("removing the directory of container %s: %w", r.ID, err)
	}
	if r.Name != "" {
		return state.ReleaseName(stateRoot, r.Name, r.ID)
	}
	return nil
}

// signalInit sends a signal to a container's init; SIGKILL, the signal of
// rm -f, ends every process of its PID namespace. The PID is checked
// against its start time first: a PID that names another process now must
// not get it.
func signalInit(st state.State, sig unix.Signal) error {
	if st.Pid == 0 {
		return nil
	}
	started, err := state.ProcessStartTime(st.Pid)
	if err != nil || started != st.PidStartTime {
		return nil // the init is gone already
	}
	logrus.Debugf("kill(%d, %s)", st.Pid, unix.SignalName(sig))
	if err := unix.Kill(st.Pid, sig); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("sending %s to the container's init (PID %d): %w", unix.SignalName(sig), st.Pid, err)
	}
	return nil
}

// waitForLock takes the exclusive lock on a container's directory, which
// its mydocker drops once it has recorded the end.
func waitForLock(dir *os.File, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for unix.Flock(int(dir.Fd()), unix.LOCK_EX|unix.LOCK_NB) != nil {
		if time.Now().After(deadline) {
			return fmt.Errorf("still locked after %s", timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}

// StillWatched tells whether a mydocker still holds the container: its
// run or its monitor, which holds the directory's lock until it has
// recorded the end. (The state file alone could say "running" for ever
// after a SIGKILL.)
func (r Record) StillWatched() bool {
	dir, err := os.Open(r.Dir)
	if err != nil {
		return false
	}
	defer dir.Close()
	if unix.Flock(int(dir.Fd()), unix.LOCK_SH|unix.LOCK_NB) == nil {
		return false
	}
	// Another command's Reconcile also holds the lock, for a moment,
	// while it reads the state: a stopped container is not watched.
	st, err := state.Load(r.Dir)
	return err == nil && st.Status != state.Stopped
}
