//book:file namespaces

// Package state keeps what mydocker knows about a container on disk, in
// the container's directory under the state root: its id, its init's PID,
// where it is in its life. Any later mydocker command (ps, stop, a cleanup
// after a crash) learns about the container from this file alone.
package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/mydocker-book/mydocker/mydocker/atomicfile"
	"github.com/mydocker-book/mydocker/mydocker/network"
)

// Status is where a container is in its life. The names are those of the
// OCI runtime specification, which runc and every other runtime use.
type Status string

const (
	Creating Status = "creating" // being made: its directory has no state file yet
	Created  Status = "created"  // ready; its command has not started
	Running  Status = "running"  // its command runs
	Stopped  Status = "stopped"  // its command has exited
)

// State is the content of state.json.
type State struct {
	ID     string `json:"id"`
	Status Status `json:"status"`
	// Pid is the init's PID on the host, 0 before there is an init. A PID is
	// reused once its process is gone, so it names the container's init
	// only together with PidStartTime.
	Pid          int        `json:"pid"`
	Cgroup       string     `json:"cgroup,omitempty"`       // its cgroup's path below the cgroup root, once made
	PidStartTime uint64     `json:"pidStartTime,omitempty"` // see ProcessStartTime
	Created      time.Time  `json:"created"`
	Started      *time.Time `json:"started,omitempty"`
	Finished     *time.Time `json:"finished,omitempty"`
	ExitCode     *int       `json:"exitCode,omitempty"` // as a shell shows it: 128+N for signal N
	//book:add detach
	// Error says why a stopped container has no exit code: the mydocker
	// that watched it was killed before it could record one (Reconcile).
	Error string `json:"error,omitempty"`
	//book:end
	//book:add netns
	// Endpoint is the container's address and veth pair while it has
	// them: from its start until it stops.
	Endpoint *network.Endpoint `json:"endpoint,omitempty"`
	//book:end
}

// FileName is the state file's name in the container's directory.
const FileName = "state.json"

// Save writes s to dir/state.json so that a reader sees the old file or
// the new one, never half of either: the new content goes to a temporary
// file beside it, is flushed to the disk (fsync), and is then renamed over
// the old file, which rename(2) does atomically. A crash at any moment
// leaves a whole state file.
func Save(dir string, s State) error { return save(dir, s, true) }

// Note writes s as Save does, but without waiting for the disk. It is for
// what matters only while the machine runs, such as the cgroup of a create
// in progress: after a reboot that cgroup is gone anyway.
func Note(dir string, s State) error { return save(dir, s, false) }

func save(dir string, s State, durable bool) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the state of container %s: %w", s.ID, err)
	}
	if err := atomicfile.Write(filepath.Join(dir, FileName), append(data, '\n'), durable); err != nil {
		return fmt.Errorf("saving the state of container %s in %s: %w", s.ID, dir, err)
	}
	return nil
}

// Load reads dir/state.json.
func Load(dir string) (State, error) {
	var s State
	data, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		return s, fmt.Errorf("reading the container's state: %w", err)
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return s, fmt.Errorf("reading the container's state in %s: %w: the file is damaged; remove the directory by hand", dir, err)
	}
	return s, nil
}

// ProcessStartTime is when process pid started, in clock ticks after the
// machine booted: field 22 of /proc/PID/stat. The kernel never changes it
// for a process, and a new process that gets the same PID later has a
// later one, so a PID and its start time together name one process for
// good.
func ProcessStartTime(pid int) (uint64, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("reading the start time of PID %d: %w", pid, err)
	}
	return startTimeFromStat(stat)
}

// startTimeFromStat reads field 22 of a /proc/PID/stat line.
func startTimeFromStat(stat []byte) (uint64, error) {
	fields, err := StatFields(stat)
	if err != nil {
		return 0, err
	}
	const startTime = 22 - 3 // fields[0] is field 3, the state
	if len(fields) <= startTime {
		return 0, fmt.Errorf("unexpected /proc/PID/stat: %d fields after the command name", len(fields))
	}
	return strconv.ParseUint(string(fields[startTime]), 10, 64)
}

// StatFields are the fields of a /proc/PID/stat line from the third, the
// state, on: fields[0] is field 3. The second field, the command's name in
// parentheses, may itself hold spaces and parentheses, so the fields are
// counted from the last ')'.
func StatFields(stat []byte) ([][]byte, error) {
	end := bytes.LastIndexByte(stat, ')')
	if end < 0 {
		return nil, errors.New("unexpected /proc/PID/stat: no ')' after the command name")
	}
	return bytes.Fields(stat[end+1:]), nil
}
