//book:file namespaces

package container

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"

	"github.com/mydocker-book/mydocker/mydocker/faults"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

//book:replace namespaces proc
// // Init runs as the first process of the new namespaces, PID 1. It sets the
// // hostname, then runs the user's command as its child and passes the
// // command's exit status back as its own.
// func Init(hostname string, args []string) (int, error) {
// 	if err := checkIsInit(); err != nil {
// 		return 0, err
// 	}
// 	if err := checkLifeline(); err != nil {
// 		return 0, err
// 	}
// 	if err := setHostname(hostname); err != nil {
// 		return 0, err
// 	}
// 	if err := closeInheritedDescriptors(); err != nil {
// 		return 0, err
// 	}
// 	return runChild(args)
// }
//
// // runChild runs the command as a child of the init: the init stays PID 1,
// // waiting for it, and the command gets the next free PID.
// func runChild(args []string) (int, error) {
// 	cmd := exec.Command(args[0], args[1:]...)
// 	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
// 	logrus.Debugf("starting %q as a child of the init", args)
// 	if err := cmd.Start(); err != nil {
// 		return 0, commandError(args[0], err)
// 	}
// 	// Like a shell waiting for a command, the init ignores the terminal's
// 	// Ctrl-C and Ctrl-\ and lets the command decide. (Only now: a child
// 	// started while they are ignored would inherit that.)
// 	signal.Ignore(unix.SIGINT, unix.SIGQUIT)
// 	return waitForExit(cmd)
// }
//
// // lifelineFD is the init's end of mydocker's lifeline (ExtraFiles[0]).
// const lifelineFD = 3
//
// // checkLifeline makes sure that mydocker is still alive. The kernel kills
// // the init when mydocker dies (the parent-death signal, which Go sets in
// // the child right after the clone), but only if mydocker dies after that
// // moment: killed in between, it would leave the init running with nobody
// // to wait for it. getppid() cannot tell, as it says 0 for a parent outside
// // the PID namespace (and Go's own check, which relies on it, kills the
// // child with a signal that PID 1 of a namespace ignores from itself). The
// // lifeline can: a hang-up means its only writer, mydocker, is gone; no
// // hang-up means mydocker outlived the setting, and the kernel does the rest.
// func checkLifeline() error {
// 	fds := []unix.PollFd{{Fd: lifelineFD, Events: unix.POLLIN}}
// 	logrus.Debug("poll(lifeline, timeout 0): is mydocker still alive?")
// 	if _, err := unix.Poll(fds, 0); err != nil {
// 		return fmt.Errorf("checking that mydocker is alive: %w", err)
// 	}
// 	if fds[0].Revents&unix.POLLHUP != 0 {
// 		return errors.New("mydocker exited before the container could start")
// 	}
// 	return nil
// }
//book:end

//book:add proc

// Init runs as the first process of the new namespaces, PID 1. It waits for
// its configuration on the pipe, prepares the mounts and the hostname, and
// then becomes the user's command, so on success it never returns. On
// failure it tells the parent why and returns the status to exit with.
func Init() int {
	if err := checkIsInit(); err != nil {
		fmt.Fprintf(os.Stderr, "mydocker: %v\n", err)
		return ExitRuntimeError
	}
	// The kernel keeps some of what the init sets per thread, and execve
	// keeps only the calling thread's: so the init runs on one thread to
	// the end, the one that will exec (see keepParentDeathSignal).
	runtime.LockOSThread()
	ends := openInitEnds()
	return reportFailure(ends.exec, startContainer(ends))
}

func startContainer(ends initEnds) error {
	// A successful execve must close our end of the exec pipe: that is how
	// the parent learns that the command runs.
	unix.CloseOnExec(execPipeFD)
	cfg, err := readConfig(ends.config)
	if err != nil {
		return err
	}
	if err := makeMountsPrivate(); err != nil {
		return err
	}
	//book:add cgroups
	if cfg.PrivateCgroupNS {
		if err := enterCgroupNamespace(); err != nil {
			return err
		}
	}
	//book:end cgroups
	//book:replace proc rootfs
	// if err := mountProc(); err != nil {
	// 	return err
	// }
	//book:end proc rootfs
	//book:add rootfs
	if err := enterRootfs(cfg); err != nil {
		return err
	}
	if cfg.TTY {
		if err := setUpConsole(); err != nil {
			return err
		}
	}
	//book:end rootfs
	if err := setHostname(cfg.Hostname); err != nil {
		return err
	}
	//book:add lifecycle
	if err := enterWorkDir(cfg.WorkDir); err != nil {
		return err
	}
	//book:end lifecycle
	//book:add security
	if err := harden(cfg); err != nil {
		return err
	}
	//book:end security
	//book:add lifecycle
	if cfg.Init {
		// The command is looked up here too, so that a missing one is
		// still 127 from run, before the reaper starts.
		if _, err := exec.LookPath(cfg.Args[0]); err != nil {
			return commandError(cfg.Args[0], err)
		}
		cfg.Args = withReaper(cfg.Args)
	}
	//book:end lifecycle
	return execCommand(cfg.Args, ends)
}

// execCommand replaces the init with the user's command. execve keeps the
// PID, so the command is PID 1: it receives the signals meant for the
// container, and when it exits the container is over.
func execCommand(args []string, ends initEnds) error {
	path, err := exec.LookPath(args[0])
	if err != nil {
		return commandError(args[0], err)
	}
	if err := closeInheritedDescriptors(); err != nil {
		return err
	}
	//book:add lifecycle
	if args[0] == ReaperPath {
		if err := keepExecPipeForReaper(); err != nil {
			return err
		}
	}
	//book:end lifecycle
	if err := keepParentDeathSignal(); err != nil {
		return err
	}
	faults.Crash("init", "ready")
	if err := readyToExec(ends); err != nil {
		return err
	}
	logrus.Debugf("execve(%q, %q)", path, args)
	if err := unix.Exec(path, args, os.Environ()); err != nil {
		return commandError(args[0], err)
	}
	return nil
}

// keepParentDeathSignal makes sure the command still dies with mydocker.
// The parent-death signal belongs to a thread, not to a process: Go's
// os/exec set it on the init's first thread (with prctl, in the child
// right after the clone), but the Go runtime may have run Init
// on another thread, and after execve only the calling thread's setting
// is left. Init locked its goroutine to the thread it runs on, the one that
// will exec: that thread sets the signal again.
func keepParentDeathSignal() error {
	logrus.Debugf("prctl(PR_SET_PDEATHSIG, %s) on the thread that will exec", unix.SignalName(parentDeathSignal))
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(parentDeathSignal), 0, 0, 0); err != nil {
		return fmt.Errorf("setting the parent-death signal: %w", err)
	}
	return nil
}

//book:end proc

// checkIsInit refuses to run the init anywhere but as the first process of
// a new PID namespace, where mydocker run starts it. Run by hand on the
// host, it would set the host's hostname and remount the host's mounts.
func checkIsInit() error {
	if os.Getpid() != 1 {
		return errors.New("mydocker init is the first process of a container, started by mydocker run: it cannot be run by hand")
	}
	return nil
}

// CheckHostname refuses a hostname that the kernel would take but that no
// program expects: sethostname(2) accepts any 64 bytes, while a "/" makes
// file names built from the hostname wrong, and a newline or NUL breaks
// every file that lists hostnames one a line. (Docker has stopped checking
// hostnames at all; mydocker refuses only these.) Other bytes are passed
// on exactly.
func CheckHostname(name string) error {
	const hostNameMax = 64 // HOST_NAME_MAX: the kernel's limit
	if len(name) > hostNameMax {
		return fmt.Errorf("invalid hostname %q: %d bytes, more than the kernel's limit of %d", name, len(name), hostNameMax)
	}
	if strings.ContainsAny(name, "/\n\x00") {
		return fmt.Errorf("invalid hostname %q: it may not hold a slash, a newline or a NUL byte", name)
	}
	return nil
}

func setHostname(name string) error {
	//book:lab namespaces hostname
	logrus.Debugf("sethostname(%q)", name)
	if err := unix.Sethostname([]byte(name)); err != nil {
		return fmt.Errorf("setting the hostname to %q: %w", name, err)
	}
	return nil
	//book:stub
	// // Lab namespaces, part 2 (labs/01-namespaces/README.md): give the
	// // container its hostname, in its own UTS namespace, byte for byte.
	// // Until then the container keeps the host's name.
	// logrus.Debugf("lab namespaces, part 2: setHostname(%q) is not written yet", name)
	// return nil
	//book:end namespaces hostname
}

// commandError tells "not there" (127) from "there but not runnable" (126),
// as a shell and Docker do.
func commandError(name string, err error) error {
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
		return &Error{Code: ExitNotFound, Err: fmt.Errorf(
			"%q: command not found in the container: check its name, or give its full path", name)}
	}
	return &Error{Code: ExitCannotInvoke, Err: fmt.Errorf(
		"%q cannot be executed: %w: check that it is an executable file (chmod +x) built for this machine", name, err)}
}

// closeInheritedDescriptors makes sure the command starts with standard
// input, output and error only. Whoever started mydocker may have left
// descriptors open without close-on-exec (a shell's `exec 9</`), and every
// fork and exec passes such descriptors on: a directory of the host held
// open inside the container is a way out of its root (runc's
// CVE-2024-21626 was one). Marking every descriptor from 3 up close-on-exec
// keeps them usable until the exec, and gone after it.
func closeInheritedDescriptors() error {
	logrus.Debug("close_range(3, ~0U, CLOSE_RANGE_CLOEXEC)")
	err := unix.CloseRange(3, math.MaxUint32, unix.CLOSE_RANGE_CLOEXEC)
	if errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EINVAL) {
		err = markEachCloseOnExec() // kernels before 5.11
	}
	if err != nil {
		return fmt.Errorf("marking inherited descriptors close-on-exec: %w", err)
	}
	return nil
}

// markEachCloseOnExec does what close_range does, one descriptor at a time.
func markEachCloseOnExec() error {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return err
	}
	for _, e := range entries {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			unix.CloseOnExec(fd)
		}
	}
	return nil
}
