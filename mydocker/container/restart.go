//book:file lifecycle

package container

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"

	"golang.org/x/sys/unix"

	"github.com/mydocker-book/mydocker/mydocker/logs"
	"github.com/mydocker-book/mydocker/mydocker/state"
)

// `mydocker start` runs a stopped container again: the same id, name and
// configuration, and the same writable layer, so the files its command
// wrote are still there. It goes through create and start as run -d does,
// with a monitor, but create finds the container's directory instead of
// making one (Config.Restarting):
//
//   - the directory is locked as it is, never made or removed;
//   - the name is still the container's;
//   - the log is added to;
//   - the layer's directories are kept (prepareRootfs);
//   - a new cgroup, init and console, as for any start.
//
// The configuration comes from the container's exact record
// (config.wire): config.json, for people and tools, is JSON, which
// replaces bytes that are not UTF-8; and the compiled seccomp filter is
// not in it.

// exactRecordFile is the container's configuration in the wire format of
// the config pipe (wire.go), byte for byte.
const exactRecordFile = "config.wire"

func encodeRecord(cfg Config) []byte {
	cfg.Restarting = false
	return appendValue(nil, reflect.ValueOf(cfg))
}

func decodeRecord(data []byte) (Config, error) {
	var cfg Config
	if err := readValue(bufio.NewReader(bytes.NewReader(data)), reflect.ValueOf(&cfg).Elem()); err != nil {
		return cfg, fmt.Errorf("reading the container's exact record: %w", err)
	}
	return cfg, nil
}

// RecordedConfig is a stopped container's configuration, ready to start
// it again.
func RecordedConfig(stateRoot, ref string) (Config, error) {
	r, err := FindRecord(stateRoot, ref)
	if err != nil {
		return Config{}, err
	}
	if r.State.Status != state.Stopped {
		return Config{}, fmt.Errorf("container %s is %s: start runs a stopped container", ref, r.State.Status)
	}
	cfg := r.Config
	// From now on a monitor watches it, with a log, whichever way run
	// started it the first time.
	cfg.Detach, cfg.Restarting = true, true
	return cfg, nil
}

// reopenDirectory is the directory step of a restart: the container's
// own, locked, and stopped. Until its new init exists it is recorded as
// created: if this mydocker is killed before, the next command's
// Reconcile removes the new cgroup and records it as stopped again.
func (c *Container) reopenDirectory() error {
	dir := containerDir(c.Config)
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("opening the container's directory: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		return &Error{Code: 1, Err: fmt.Errorf("container %s is in use by another mydocker command: try again", c.ID)}
	}
	st, err := state.Load(dir)
	if err == nil && st.Status != state.Stopped {
		err = fmt.Errorf("container %s is %s: start runs a stopped container", c.ID, st.Status)
	}
	if err != nil {
		f.Close()
		return err
	}
	c.dir, c.lock, c.nameReserved = dir, f, c.Name != ""
	st.Status, st.Error = state.Created, ""
	c.state = st
	return nil
}

// openLogToAdd opens a restarted container's log to add to it, or makes
// one for a container that ran in the foreground before.
func openLogToAdd(path string) (*logs.File, error) {
	f, err := logs.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return logs.Create(path)
	}
	return f, err
}

// removeStaleSocket removes the attach socket a killed watcher may have
// left: a socket file cannot be listened on again while it exists.
func (c *Container) removeStaleSocket() {
	_ = os.Remove(filepath.Join(c.dir, "attach.sock"))
}
