//book:file namespaces

package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"

	"github.com/mydocker-book/mydocker/mydocker/faults"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// namespaces are the views of the kernel each container gets its own copy of.
var namespaces = []struct {
	flag uintptr
	name string
}{
	//book:lab namespaces namespaces
	{unix.CLONE_NEWUTS, "CLONE_NEWUTS"}, // hostname and domain name
	{unix.CLONE_NEWPID, "CLONE_NEWPID"}, // process ids: the init is PID 1
	{unix.CLONE_NEWNS, "CLONE_NEWNS"},   // the mount table
	{unix.CLONE_NEWIPC, "CLONE_NEWIPC"}, // System V IPC and POSIX message queues
	//book:stub
	// // Lab namespaces, part 1 (labs/01-namespaces/README.md): which other
	// // views of the kernel does a container need a copy of? Add them here.
	// // The two below are given: without them the hostname would be set on
	// // the host, and the init, which checks that it is PID 1, would refuse
	// // to start.
	// {unix.CLONE_NEWUTS, "CLONE_NEWUTS"},
	// {unix.CLONE_NEWPID, "CLONE_NEWPID"},
	//book:end namespaces namespaces
	//book:add netns
	{unix.CLONE_NEWNET, "CLONE_NEWNET"}, // links, addresses, routes, ports, netfilter
	//book:end
}

func cloneFlags() (flags uintptr, names []string) {
	for _, ns := range namespaces {
		flags |= ns.flag
		names = append(names, ns.name)
	}
	return flags, names
}

//book:add netns

// cloneFlagNames names the namespace flags among flags, for the trace:
// --network host clones without CLONE_NEWNET.
func cloneFlagNames(flags uintptr) (names []string) {
	for _, ns := range namespaces {
		if flags&ns.flag != 0 {
			names = append(names, ns.name)
		}
	}
	return names
}

//book:end

//book:replace namespaces proc
// // newInitProcess prepares "mydocker init" with the user's command on its
// // command line. The child starts in new namespaces: the kernel creates them in
// // the clone(2) call itself, so the init never runs outside them. Its
// // descriptor 3 is the read end of a pipe, the lifeline, whose write end we
// // keep (see checkLifeline).
// func newInitProcess(cfg Config) (cmd *exec.Cmd, lifeline *os.File, err error) {
// 	initEnd, lifeline, err := os.Pipe()
// 	if err != nil {
// 		return nil, nil, fmt.Errorf("creating the lifeline pipe to the init: %w", err)
// 	}
// 	args := append(globalFlags(cfg), "init", "--hostname", cfg.Hostname, "--")
// 	cmd = exec.Command("/proc/self/exe", append(args, cfg.Args...)...)
// 	cmd.SysProcAttr = initSysProcAttr(cfg)
// 	cmd.Env = containerEnv(cfg)
// 	attachStdio(cmd, cfg)
// 	cmd.ExtraFiles = []*os.File{initEnd} // descriptor 3
// 	return cmd, lifeline, nil
// }
//book:end

//book:add proc

// newInitProcess prepares "mydocker init" and the pipes to it. The command
// line stays "mydocker init": the user's arguments go through the config
// pipe, so none of them is split, truncated or mistaken for a flag of ours,
// and the init waits on that pipe until we are ready for it. The exec pipe
// tells us when the init has become the user's command. On failure, every
// pipe made so far is closed again.
func newInitProcess(cfg Config) (cmd *exec.Cmd, pipes initPipes, retErr error) {
	var theirs []*os.File // the init's ends, in the order of its descriptors
	defer func() {
		if retErr != nil {
			pipes.close()
			closeAll(theirs)
		}
	}()
	configRead, configWrite, err := os.Pipe()
	if err != nil {
		return nil, pipes, fmt.Errorf("creating the config pipe to the init: %w", err)
	}
	pipes.config, theirs = configWrite, append(theirs, configRead) // initPipeFD
	execRead, execWrite, err := os.Pipe()
	if err != nil {
		return nil, pipes, fmt.Errorf("creating the exec pipe to the init: %w", err)
	}
	pipes.exec, theirs = execRead, append(theirs, execWrite) // execPipeFD
	pipes.messages = json.NewDecoder(execRead)
	//book:add rootfs
	if cfg.TTY {
		ours, init, err := newConsoleSocket()
		if err != nil {
			return nil, pipes, err
		}
		pipes.console, theirs = ours, append(theirs, init) // consoleSocketFD
	}
	//book:end rootfs
	cmd = exec.Command("/proc/self/exe", append(globalFlags(cfg), "init")...)
	cmd.SysProcAttr = initSysProcAttr(cfg)
	cmd.Env = append(containerEnv(cfg), faults.InitEnv()...)
	attachStdio(cmd, cfg)
	// ExtraFiles[i] becomes descriptor 3+i in the child.
	cmd.ExtraFiles = theirs
	return cmd, pipes, nil
}

// closeAll closes the files that are open.
func closeAll(files []*os.File) {
	for _, f := range files {
		if f != nil {
			f.Close()
		}
	}
}

//book:end proc

// globalFlags passes --debug on, so the init traces its steps too.
func globalFlags(cfg Config) []string {
	if cfg.Debug {
		return []string{"--debug"}
	}
	return nil
}

// parentDeathSignal is what the kernel sends the init when mydocker dies.
const parentDeathSignal = unix.SIGKILL

func initSysProcAttr(cfg Config) *syscall.SysProcAttr {
	flags, _ := cloneFlags()
	//book:add netns
	if !ownsNetworkNamespace(cfg) {
		flags &^= unix.CLONE_NEWNET // --network host: the host's own network
	}
	//book:end
	attr := &syscall.SysProcAttr{
		Cloneflags: flags,
		// A container in the foreground must not outlive the mydocker that
		// started it, even when mydocker is killed with SIGKILL.
		Pdeathsig: parentDeathSignal,
	}
	setProcessGroup(attr, cfg)
	return attr
}

func attachStdio(cmd *exec.Cmd, cfg Config) {
	if cfg.Interactive {
		cmd.Stdin = os.Stdin
	}
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
}

// startProcess clones and starts the init.
func startProcess(cmd *exec.Cmd) error {
	//book:replace namespaces netns
	// _, names := cloneFlags()
	//book:end
	//book:add netns
	names := cloneFlagNames(cmd.SysProcAttr.Cloneflags)
	//book:end
	logrus.Debugf("clone(%s) and exec %s", strings.Join(names, "|"), strings.Join(cmd.Args, " "))
	//book:add proc
	// Started or not, the init's ends of the pipes are of no more use
	// here: the child has its own copies, and a copy left open in mydocker
	// would keep a pipe from ever reaching its end of file.
	defer closeAll(cmd.ExtraFiles)
	//book:end
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting the container's init: %w", err)
	}
	logrus.Debugf("init started: PID %d on the host, PID 1 in its namespace", cmd.Process.Pid)
	return nil
}

// waitForExit reaps cmd and returns its status as a shell reports it. For
// the init that is the end of the container: when the init dies, the kernel
// kills every other process of its PID namespace.
func waitForExit(cmd *exec.Cmd) (int, error) {
	var exitErr *exec.ExitError
	if err := cmd.Wait(); errors.As(err, &exitErr) {
		return statusOf(exitErr.Sys().(syscall.WaitStatus)), nil
	} else if err != nil {
		return 0, fmt.Errorf("waiting for %s: %w", cmd.Path, err)
	}
	return 0, nil
}

// describeStatus says in words what a shell-style status means.
func describeStatus(status int) string {
	if status > 128 {
		return "killed by " + unix.SignalName(unix.Signal(status-128))
	}
	return fmt.Sprintf("exit status %d", status)
}

// statusOf turns a wait status into a shell-style exit status.
func statusOf(ws syscall.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// exited tells whether cmd was started and has been reaped since.
func exited(cmd *exec.Cmd) bool { return cmd.ProcessState != nil }

// killProcess ends a started process that is not wanted any more, and
// reaps it. SIGKILL cannot be caught, and the kernel delivers it even to a
// PID namespace's init when it comes from outside the namespace.
func killProcess(cmd *exec.Cmd) {
	if cmd.Process == nil || exited(cmd) {
		return
	}
	logrus.Debugf("kill(%d, SIGKILL): the container's init is not wanted any more", cmd.Process.Pid)
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
}
