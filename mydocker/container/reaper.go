//book:file lifecycle

package container

import (
	"fmt"
	"os"
	osexec "os/exec"
	"os/signal"
	"path"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// --init puts a small init between the container's PID 1 and its command,
// as Docker does with tini. A container is meant to be one process, but
// its command may start others and leave them: when a process dies, its
// children become the children of PID 1, which must wait(2) for them when
// they exit, or they stay zombies, each holding a PID (and a place under
// --pids-limit) until PID 1 exits. A shell or a server written as PID 1
// rarely does this; and as PID 1 it gets no signal it has not installed a
// handler for, so SIGTERM does nothing to it (stop waits, then kills).
// The reaper does both jobs: it waits for every child, and passes every
// signal it gets on to the command.
//
// The reaper is mydocker itself: the init bind-mounts mydocker's binary,
// read-only, at /dev/init (on the container's own /dev, so the image is
// not changed) and execs it as `/dev/init reap -- CMD...`, after harden,
// with the container's user, capabilities and filter. Read-only matters:
// the binary is the host's, and the container can reach it through
// /proc/1/exe; a write through a read-only mount fails with EROFS.

// ReaperPath is where the reaper's binary appears in the container.
const ReaperPath = "/dev/init"

// ReaperTasks is what the reaper takes of --pids-limit: a Go program is
// several threads (measured: up to 7 here, one P at a time), where tini,
// in C, is one. A limit that leaves the Go runtime no thread to start
// kills PID 1 with "failed to create new OS thread", and the container
// with it, so run refuses --init with a --pids-limit this low.
const ReaperTasks = 8

// mountReaper binds mydocker's binary at ReaperPath, read-only, before
// pivot_root: a bind mount's source must be in the caller's mount
// namespace, and once the host's root is detached the binary is not.
// /proc/self/exe is the kernel's link to the binary the init runs.
func mountReaper(enabled bool) func(string) error {
	return func(rootfs string) error {
		if !enabled {
			return nil
		}
		// In the container's own /dev, a tmpfs over whatever the image has
		// there; found inside the root like every mount point.
		dev, err := resolveInRoot(rootfs, path.Dir(ReaperPath))
		if err != nil {
			return err
		}
		target := filepath.Join(dev, path.Base(ReaperPath))
		f, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY|unix.O_NOFOLLOW, 0o500)
		if err != nil {
			return fmt.Errorf("making %s for --init: %w", ReaperPath, err)
		}
		f.Close()
		binary, err := ownBinary()
		if err != nil {
			return err
		}
		if err := mount(binary, target, "", unix.MS_BIND, ""); err != nil {
			return err
		}
		if err := mount("", target, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV, ""); err != nil {
			return err
		}
		return checkSameFile(target, "/proc/self/exe")
	}
}

// ownBinary is the path of the binary this process runs, in this mount
// namespace. /proc/self/exe itself cannot be the source of the bind: the
// kernel keeps the mount the binary was found on, which is the host's
// mount namespace (run exec'd it before the clone made ours), and a bind
// mount's source must be in the caller's.
func ownBinary() (string, error) {
	binary, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return "", fmt.Errorf("finding mydocker's binary for --init: %w", err)
	}
	return binary, nil
}

// checkSameFile makes sure that what was bound is the binary running: the
// path could have been replaced on the host in between.
func checkSameFile(a, b string) error {
	var sa, sb unix.Stat_t
	if err := unix.Stat(a, &sa); err != nil {
		return err
	}
	if err := unix.Stat(b, &sb); err != nil {
		return err
	}
	if sa.Dev != sb.Dev || sa.Ino != sb.Ino {
		return fmt.Errorf("--init: mydocker's binary was replaced while the container started: try again")
	}
	return nil
}

// withReaper is the command line the init execs with --init.
func withReaper(args []string) []string {
	return append([]string{ReaperPath, "reap", "--exec-fd", strconv.Itoa(execPipeFD), "--"}, args...)
}

// keepExecPipeForReaper leaves the exec pipe open across the execve of
// the reaper, which closes it itself (Reap).
func keepExecPipeForReaper() error {
	logrus.Debugf("fcntl(%d, F_SETFD, 0): the reaper closes the exec pipe once it listens for signals", execPipeFD)
	if _, err := unix.FcntlInt(execPipeFD, unix.F_SETFD, 0); err != nil {
		return fmt.Errorf("keeping the exec pipe for the reaper: %w", err)
	}
	return nil
}

// Reap is the reaper's life as PID 1: it starts args, passes on the
// signals it gets, waits for every process that ends, and exits with the
// command's status when the command has ended (the kernel then kills
// whatever the command left).
//
// The init's exec pipe (descriptor execFD) comes along, open: run waits
// for it to close before it says the container runs, and the reaper closes
// it only once it listens for signals. In between, the Go runtime has
// installed its own handlers, which end a program on SIGTERM without a
// signal.Notify, with status 2: a `stop` just after `run -d` did exactly
// that. If the command cannot start, the reaper says why on the pipe, as
// the init would have, and run exits with 126 or 127.
func Reap(args []string, execFD int) int {
	unix.CloseOnExec(execFD) // never the command's
	exec := os.NewFile(uintptr(execFD), "exec-pipe")
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "mydocker reap: no command")
		return ExitRuntimeError
	}
	// One P: the reaper waits nearly all its life, and fewer Ps need fewer
	// threads, each a task under --pids-limit.
	runtime.GOMAXPROCS(1)
	// Every signal is caught before the command starts: none is lost
	// between its start and the loop below.
	signals := make(chan os.Signal, 32)
	signal.Notify(signals)
	child, err := startChild(args)
	if err != nil {
		return reportFailure(exec, commandError(args[0], err))
	}
	// Listening, with the command started: now run -d may say the
	// container runs, and a stop just after it finds the signal handled.
	exec.Close()
	for sig := range signals {
		s := sig.(syscall.Signal)
		switch s {
		case unix.SIGCHLD:
			if status, done := reapChildren(child); done {
				return status
			}
		case unix.SIGURG:
			// The Go runtime's own signal for preempting goroutines.
		default:
			logrus.Debugf("reaper: kill(%d, %s)", child, unix.SignalName(s))
			_ = unix.Kill(child, s)
		}
	}
	return 0
}

// startChild starts the command with the reaper's standard streams and
// environment, and returns its PID. os.StartProcess, not exec.Cmd: the
// reaper waits for every PID itself, and Cmd.Wait would race with it.
func startChild(args []string) (int, error) {
	path, err := osexec.LookPath(args[0])
	if err != nil {
		return 0, err
	}
	// A process group of its own, in the terminal's foreground if there is
	// one: Ctrl-C reaches the command once, from the terminal, and not
	// a second time through the reaper.
	_, noTerminal := unix.IoctlGetTermios(0, unix.TCGETS)
	attr := &os.ProcAttr{
		Files: []*os.File{os.Stdin, os.Stdout, os.Stderr},
		Sys:   &syscall.SysProcAttr{Setpgid: true, Foreground: noTerminal == nil, Ctty: 0},
	}
	p, err := os.StartProcess(path, args, attr)
	if err != nil {
		return 0, err
	}
	return p.Pid, nil
}

// reapChildren waits for every child that has ended (one SIGCHLD can
// stand for many), and reports the command's status once it has ended.
func reapChildren(command int) (status int, commandEnded bool) {
	//book:lab lifecycle reap
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if err != nil || pid <= 0 {
			return status, commandEnded
		}
		if pid == command {
			status, commandEnded = statusOf(syscall.WaitStatus(ws)), true
		}
	}
	//book:stub
	// // Lab lifecycle, part 3 (labs/10-lifecycle/README.md): wait for every
	// // child that has ended, the orphans that became ours included, without
	// // blocking. Until then only the command is waited for, and every
	// // orphan stays a zombie.
	// var ws unix.WaitStatus
	// pid, err := unix.Wait4(command, &ws, unix.WNOHANG, nil)
	// if err != nil || pid != command {
	// 	return 0, false
	// }
	// return statusOf(syscall.WaitStatus(ws)), true
	//book:end lifecycle reap
}
