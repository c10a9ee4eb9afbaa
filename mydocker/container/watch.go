//book:file detach

package container

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/mydocker-book/mydocker/mydocker/cgroups"
	"github.com/mydocker-book/mydocker/mydocker/logs"
	"github.com/mydocker-book/mydocker/mydocker/state"
)

// Once the container runs, the monitor turns into the watcher: it execs
// `mydocker watch`, a fresh start of its own binary that only waits. The
// process stays the same, so the init stays its child, and the
// descriptors it needs cross the exec: the lock on the container's
// directory (a flock belongs to the open file, which the exec keeps), our
// ends of the container's output and input. Everything creating the
// container took (the image's metadata, the seccomp filter, the command
// line's parser at work) is left behind: the watcher lives as long as the
// container, and one more container costs one more watcher (make bench
// measures it). containerd's shim and Podman's conmon are small programs
// of their own for the same reason.

// Handover is what the watcher is given: the init and the descriptors
// (-1 for one it does not have).
type Handover struct {
	Pid            int
	Lock           int // the container's directory, locked
	Stdout, Stderr int // our ends of the container's output, without -t
	Stdin          int // our end of its input, with -i and without -t
	Console        int // the master of its pty, with -t
	Attach         int // the attach socket
}

// handOver execs the watcher. If the exec fails, this process watches:
// it is only heavier to carry.
func (c *Container) handOver() int {
	h := Handover{Pid: c.init.Process.Pid, Lock: fdOf(c.lock), Stdout: -1, Stderr: -1,
		Stdin: fdOf(c.stdin), Console: fdOf(c.console), Attach: fdOf(c.attachSocket)}
	if len(c.output) == 2 {
		h.Stdout, h.Stderr = fdOf(c.output[0]), fdOf(c.output[1])
	}
	for _, fd := range []int{h.Lock, h.Stdout, h.Stderr, h.Stdin, h.Console, h.Attach} {
		if fd < 0 {
			continue
		}
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, 0); err != nil {
			logrus.Warnf("keeping descriptor %d for the watcher: %v", fd, err)
			return c.watch(c.init.Process)
		}
	}
	args := append(globalFlags(c.Config), "--root", c.StateRoot, "watch", "--pid", strconv.Itoa(h.Pid),
		"--lock", strconv.Itoa(h.Lock), "--stdout", strconv.Itoa(h.Stdout), "--stderr", strconv.Itoa(h.Stderr),
		"--stdin", strconv.Itoa(h.Stdin), "--console", strconv.Itoa(h.Console), "--attach", strconv.Itoa(h.Attach), c.ID)
	// One P: the watcher is idle nearly all its life, and every P and
	// thread the Go runtime starts keeps memory for as long as it lives.
	env := append(withoutEnv(os.Environ(), MonitorEnv), "GOMAXPROCS=1")
	logrus.Debugf("execve(/proc/self/exe, %q): the monitor becomes the container's watcher", args)
	err := syscall.Exec("/proc/self/exe", append([]string{"mydocker"}, args...), env)
	logrus.Warnf("starting the watcher: %v; this monitor watches the container itself", err)
	return c.watch(c.init.Process)
}

// fdOf is a file's descriptor, -1 for none.
func fdOf(f *os.File) int {
	if f == nil {
		return -1
	}
	return int(f.Fd())
}

// fileOf takes over a descriptor the monitor handed over, -1 for none.
func fileOf(fd int, name string) *os.File {
	if fd < 0 {
		return nil
	}
	unix.CloseOnExec(fd)
	return os.NewFile(uintptr(fd), name)
}

// withoutEnv is env without the variable name.
func withoutEnv(env []string, name string) []string {
	return slices.DeleteFunc(env, func(kv string) bool { return strings.HasPrefix(kv, name+"=") })
}

// Watch is the watcher's life: it rebuilds the container from its record
// and the descriptors it was given, and watches it.
func Watch(stateRoot, id string, h Handover) (int, error) {
	dir := state.ContainerDir(stateRoot, id)
	cfg, err := loadRecord(dir)
	if err != nil {
		return 0, err
	}
	st, err := state.Load(dir)
	if err != nil {
		return 0, err
	}
	c := &Container{Config: cfg, dir: dir, state: st, nameReserved: cfg.Name != ""}
	c.lock = fileOf(h.Lock, dir)
	if h.Stdout >= 0 {
		c.output = []*os.File{fileOf(h.Stdout, "stdout"), fileOf(h.Stderr, "stderr")}
	}
	c.stdin, c.console, c.attachSocket = fileOf(h.Stdin, "stdin"), fileOf(h.Console, "pty master"), fileOf(h.Attach, "attach.sock")
	if st.Cgroup != "" {
		if c.cgroup, err = cgroups.Open(st.Cgroup); err != nil {
			return 0, err
		}
	}
	if c.log, err = logs.Open(logPath(dir, id)); err != nil {
		return 0, err
	}
	init, err := os.FindProcess(h.Pid) // our child: the exec kept it ours
	if err != nil {
		return 0, fmt.Errorf("finding the container's init (PID %d): %w", h.Pid, err)
	}
	return c.watch(init), nil
}

// watch copies the container's output into the log until it ends, waits
// for the init, records its status and releases the container as a run
// does: its cgroup, and its directory too with --rm.
func (c *Container) watch(init *os.Process) int {
	if c.log == nil { // watching in the monitor, after a failed exec
		var err error
		if c.log, err = logs.Open(logPath(c.dir, c.ID)); err != nil {
			logrus.Warnf("%v", err)
		}
	}
	signals := make(chan os.Signal, 16)
	signal.Notify(signals, forwardedSignals...)
	stopForwarding := forwardSignals(signals, init)
	var input io.Writer
	switch {
	case c.console != nil:
		input = c.console
	case c.stdin != nil:
		input = c.stdin
	}
	hub := &attachHub{clients: map[net.Conn]chan []byte{}}
	if c.attachSocket != nil {
		hub = serveAttach(c.attachSocket, input, c.console)
		c.attachSocket = nil // serveAttach has taken it
	}
	var copying sync.WaitGroup
	follow := func(name string, kind byte, from io.Reader) {
		copying.Add(1)
		go func() {
			defer copying.Done()
			copyOutput(c.log, hub, name, kind, from)
		}()
	}
	if c.console != nil {
		follow("stdout", frameStdout, c.console) // a terminal has one stream
	} else if len(c.output) == 2 {
		follow("stdout", frameStdout, c.output[0])
		follow("stderr", frameStderr, c.output[1])
	}
	status := 0
	if ps, err := init.Wait(); err != nil {
		logrus.Warnf("waiting for the container's init: %v", err)
	} else {
		status = statusOf(ps.Sys().(syscall.WaitStatus))
	}
	stopForwarding()
	signal.Stop(signals)
	copying.Wait() // the pipes end when the container's last process is gone
	c.closeLog()   // every line is in the log before the state says stopped
	c.init = nil   // reaped above
	c.recordExit(status)
	hub.finish(status, c.dir)
	c.Delete()
	return status
}

// copyOutput copies one of the container's streams into the log and to
// the attached clients until its end. Neither may block the container:
// the log's writer never fails, and a client that cannot keep up is
// dropped. A pty's master answers EIO, not end of file, once the last
// process holding its other side is gone.
func copyOutput(log *logs.File, hub *attachHub, name string, kind byte, from io.Reader) {
	var stream io.WriteCloser
	if log != nil {
		stream = log.Stream(name)
		defer stream.Close()
	}
	buf := make([]byte, 32<<10)
	for {
		n, err := from.Read(buf)
		if n > 0 {
			if stream != nil {
				_, _ = stream.Write(buf[:n])
			}
			hub.broadcast(kind, buf[:n])
		}
		if err != nil {
			return
		}
	}
}
