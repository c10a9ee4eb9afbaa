//book:file detach

package container

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
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

// Handover is what the watcher is given: the init and the descriptors.
type Handover struct {
	Pid            int
	Lock           int // the container's directory, locked
	Stdout, Stderr int // our ends of the container's output
	Stdin          int // our end of its input with -i, or -1
}

// handOver execs the watcher. If the exec fails, this process watches:
// it is only slower to carry.
func (c *Container) handOver() int {
	h := Handover{Pid: c.init.Process.Pid, Lock: int(c.lock.Fd()), Stdin: -1}
	h.Stdout, h.Stderr = int(c.output[0].Fd()), int(c.output[1].Fd())
	keep := []int{h.Lock, h.Stdout, h.Stderr}
	if c.stdin != nil {
		h.Stdin = int(c.stdin.Fd())
		keep = append(keep, h.Stdin)
	}
	for _, fd := range keep {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, 0); err != nil {
			logrus.Warnf("keeping descriptor %d for the watcher: %v", fd, err)
			return c.watch(c.init.Process)
		}
	}
	args := append(globalFlags(c.Config), "--root", c.StateRoot, "watch",
		"--pid", strconv.Itoa(h.Pid), "--lock", strconv.Itoa(h.Lock),
		"--stdout", strconv.Itoa(h.Stdout), "--stderr", strconv.Itoa(h.Stderr), "--stdin", strconv.Itoa(h.Stdin), c.ID)
	// One P: the watcher is idle nearly all its life, and every P and
	// thread the Go runtime starts keeps memory for as long as it lives.
	env := append(withoutMonitorEnv(os.Environ()), "GOMAXPROCS=1")
	logrus.Debugf("execve(/proc/self/exe, %q): the monitor becomes the container's watcher", args)
	err := syscall.Exec("/proc/self/exe", append([]string{"mydocker"}, args...), env)
	logrus.Warnf("starting the watcher: %v; this monitor watches the container itself", err)
	return c.watch(c.init.Process)
}

func withoutMonitorEnv(env []string) []string {
	var out []string
	for _, v := range env {
		if len(v) < len(MonitorEnv)+1 || v[:len(MonitorEnv)+1] != MonitorEnv+"=" {
			out = append(out, v)
		}
	}
	return out
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
	c.lock = os.NewFile(uintptr(h.Lock), dir)
	c.output = []*os.File{os.NewFile(uintptr(h.Stdout), "stdout"), os.NewFile(uintptr(h.Stderr), "stderr")}
	if h.Stdin >= 0 {
		c.stdin = os.NewFile(uintptr(h.Stdin), "stdin")
	}
	for _, fd := range []int{h.Lock, h.Stdout, h.Stderr, h.Stdin} {
		if fd >= 0 {
			unix.CloseOnExec(fd)
		}
	}
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
	var copying sync.WaitGroup
	for i, name := range []string{"stdout", "stderr"} {
		copying.Add(1)
		go func() {
			defer copying.Done()
			copyToLog(c.log, name, c.output[i])
		}()
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
	c.Delete()
	return status
}

// copyToLog copies one of the container's streams into the log until its
// end. The log's writer never fails, so the container never blocks on a
// full pipe because the log cannot be written.
func copyToLog(log *logs.File, name string, from io.Reader) {
	if log == nil {
		_, _ = io.Copy(io.Discard, from)
		return
	}
	stream := log.Stream(name)
	_, _ = io.Copy(stream, from)
	stream.Close()
}
