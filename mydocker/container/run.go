//book:file namespaces

package container

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/mydocker-book/mydocker/mydocker/cgroups"
)

// namespaces are the views of the kernel each container gets its own copy of.
var namespaces = []struct {
	flag uintptr
	name string
}{
	{unix.CLONE_NEWUTS, "CLONE_NEWUTS"}, // hostname and domain name
	{unix.CLONE_NEWPID, "CLONE_NEWPID"}, // process ids: the init is PID 1
	{unix.CLONE_NEWNS, "CLONE_NEWNS"},   // the mount table
	{unix.CLONE_NEWIPC, "CLONE_NEWIPC"}, // System V IPC and POSIX message queues
}

func cloneFlags() (flags uintptr, names []string) {
	for _, ns := range namespaces {
		flags |= ns.flag
		names = append(names, ns.name)
	}
	return flags, names
}

// Run starts the container and waits for it. It returns the container's exit
// status: the command's own, or 128+N when the command was killed by signal N.
func Run(cfg Config) (int, error) {
	if err := checkTerminal(cfg); err != nil {
		return 0, err
	}
	//book:replace namespaces proc
	// cmd := newInitProcess(cfg)
	// if err := startInit(cmd); err != nil {
	// 	return 0, err
	// }
	// defer restoreForeground(cfg)
	//book:end
	//book:add proc
	signals := catchSignals()
	defer signal.Stop(signals)
	//book:add rootfs
	if err := prepareRootfs(&cfg); err != nil {
		removeContainerDir(cfg)
		return 0, err
	}
	defer removeContainerDir(cfg)
	//book:end
	//book:add volumes
	if err := prepareVolumes(cfg.Volumes); err != nil {
		return 0, err
	}
	//book:end
	//book:add cgroups
	cgroup, err := cgroups.New(cfg.CgroupParent, cfg.ID, cfg.Resources)
	if err != nil {
		return 0, err
	}
	defer removeCgroup(cgroup)
	//book:end
	//book:add rootfs
	if err := stopIfInterrupted(signals); err != nil {
		return 0, err
	}
	//book:end
	cmd, pipes, err := newInitProcess(cfg)
	if err != nil {
		return 0, err
	}
	if err := startInit(cmd); err != nil {
		pipes.close()
		return 0, err
	}
	defer restoreForeground(cfg)
	//book:add cgroups
	// The init is waiting for its configuration, so the command cannot
	// have started yet: it will start inside the cgroup, limits and all.
	if err := cgroup.Join(cmd.Process.Pid); err != nil {
		pipes.close()
		killInit(cmd)
		return 0, err
	}
	//book:end
	if err := sendConfig(pipes.config, cfg); err != nil {
		pipes.exec.Close()
		killInit(cmd)
		return 0, err
	}
	//book:add rootfs
	stopConsole, err := attachConsole(pipes.console, cfg)
	if err != nil {
		pipes.exec.Close()
		killInit(cmd)
		return 0, err
	}
	defer stopConsole()
	//book:end
	if err := waitForExec(pipes.exec); err != nil {
		_ = cmd.Wait()
		return 0, err
	}
	stopForwarding := forwardSignals(signals, cmd.Process)
	defer stopForwarding()
	//book:end
	return waitForExit(cmd)
}

//book:replace namespaces proc
// // newInitProcess prepares "mydocker init" with the user's command on its
// // command line. The child starts in new namespaces: the kernel creates them in
// // the clone(2) call itself, so the init never runs outside them.
// func newInitProcess(cfg Config) *exec.Cmd {
// 	args := append(globalFlags(cfg), "init", "--hostname", cfg.Hostname, "--")
// 	cmd := exec.Command("/proc/self/exe", append(args, cfg.Args...)...)
// 	cmd.SysProcAttr = initSysProcAttr(cfg)
// 	cmd.Env = containerEnv(cfg)
// 	attachStdio(cmd, cfg)
// 	return cmd
// }
//book:end

//book:add proc

// newInitProcess prepares "mydocker init" and its two pipes. The command
// line stays "mydocker init": the user's arguments go through the config
// pipe, so none of them is split, truncated or mistaken for a flag of ours,
// and the init waits on that pipe until we are ready for it. The exec pipe
// tells us when the init has become the user's command.
func newInitProcess(cfg Config) (*exec.Cmd, initPipes, error) {
	configRead, configWrite, err := os.Pipe()
	if err != nil {
		return nil, initPipes{}, fmt.Errorf("creating the config pipe to the init: %w", err)
	}
	execRead, execWrite, err := os.Pipe()
	if err != nil {
		configRead.Close()
		configWrite.Close()
		return nil, initPipes{}, fmt.Errorf("creating the exec pipe to the init: %w", err)
	}
	cmd := exec.Command("/proc/self/exe", append(globalFlags(cfg), "init")...)
	cmd.SysProcAttr = initSysProcAttr(cfg)
	cmd.Env = containerEnv(cfg)
	attachStdio(cmd, cfg)
	// ExtraFiles[i] becomes descriptor 3+i in the child: see initPipeFD and execPipeFD.
	cmd.ExtraFiles = []*os.File{configRead, execWrite}
	pipes := initPipes{config: configWrite, exec: execRead}
	//book:add rootfs
	if cfg.TTY {
		ours, theirs, err := newConsoleSocket()
		if err != nil {
			pipes.close()
			configRead.Close()
			execWrite.Close()
			return nil, initPipes{}, err
		}
		cmd.ExtraFiles = append(cmd.ExtraFiles, theirs) // consoleSocketFD
		pipes.console = ours
	}
	//book:end
	return cmd, pipes, nil
}

//book:end

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

func startInit(cmd *exec.Cmd) error {
	_, names := cloneFlags()
	logrus.Debugf("clone(%s) and exec %s", strings.Join(names, "|"), strings.Join(cmd.Args, " "))
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting the container's init: %w", err)
	}
	// The child has its own copies of these descriptors now.
	for _, f := range cmd.ExtraFiles {
		f.Close()
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

// statusOf turns a wait status into a shell-style exit status.
func statusOf(ws syscall.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

//book:add cgroups

// removeCgroup removes the container's cgroup once the container is over.
// A failure does not change the container's exit status: it is reported,
// with the cgroup's path, so it can be removed by hand.
func removeCgroup(cgroup cgroups.Cgroup) {
	if err := cgroup.Destroy(); err != nil {
		logrus.Warnf("%v", err)
	}
}

//book:end
