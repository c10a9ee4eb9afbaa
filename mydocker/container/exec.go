//book:file exec

package container

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/mydocker-book/mydocker/mydocker/cgroups"
	"github.com/mydocker-book/mydocker/mydocker/seccomp"
	"github.com/mydocker-book/mydocker/mydocker/state"
)

// ExecConfig is what `mydocker exec` was asked for.
type ExecConfig struct {
	Container   string   // its name, id or a unique prefix of the id
	Args        []string // the command, exactly as typed
	Env         []string // -e NAME=VALUE, added to the container's
	WorkDir     string   // -w, in the container; "" for /
	User        string   // -u; "" for the container's user
	Interactive bool
	TTY         bool
	StateRoot   string
}

// A running container is a set of namespaces, a cgroup, a root and a set
// of restrictions. To run one more process in it, mydocker exec puts one
// of its own threads into all of them, and starts the process from that
// thread: a child is born in the namespaces, root, cgroup, credentials and
// seccomp filter of the thread that clones it.
//
// Joining a mount namespace is the hard part in Go. setns(CLONE_NEWNS)
// refuses (EINVAL) a caller that shares its filesystem information (root
// and working directory) with another thread, and every thread of a Go
// program shares it. runc joins from C code that runs before the Go
// runtime starts its threads (nsexec, a cgo constructor), as the original
// book did. This binary stays static (CGO_ENABLED=0), so the thread that
// joins first gives itself filesystem information of its own,
// unshare(CLONE_FS), which only that thread then sees, and the thread is
// never handed back to the Go runtime: it ends with its goroutine.

// namespaceKinds are the namespaces a process can join, in the order they
// are joined. Their files are all open before the first setns, so the
// order matters little here (a user namespace, which would have to come
// first, is never joined); the mount namespace comes last so that the
// steps after it, and only those, see the container's paths.
var namespaceKinds = []struct {
	name string
	flag int
}{
	{"ipc", unix.CLONE_NEWIPC},
	{"uts", unix.CLONE_NEWUTS},
	{"net", unix.CLONE_NEWNET},
	{"pid", unix.CLONE_NEWPID},
	{"cgroup", unix.CLONE_NEWCGROUP},
	{"mnt", unix.CLONE_NEWNS},
}

// Exec runs a command in a running container and returns its status.
func Exec(ec ExecConfig) (int, error) {
	if err := runFromSealedCopy(); err != nil {
		return 0, err
	}
	r, err := FindRecord(ec.StateRoot, ec.Container)
	if err != nil {
		return 0, &Error{Code: 1, Err: err}
	}
	if r.State.Status != state.Running || !r.StillWatched() {
		return 0, &Error{Code: 1, Err: fmt.Errorf("container %s is not running: exec needs a running container (mydocker ps lists them)", ec.Container)}
	}
	//book:add lifecycle
	if r.Paused {
		// The command would be born frozen, in the container's cgroup.
		return 0, &Error{Code: 1, Err: fmt.Errorf("container %s is paused: unpause it before exec", ec.Container)}
	}
	//book:end
	if ec.TTY && !isTerminal(os.Stdin) {
		return 0, &Error{Code: 1, Err: errors.New("the input device is not a TTY: drop -t, or run mydocker exec from a terminal")}
	}
	// CVE-2019-5736: between the clone and its execve, the new process is
	// a copy of mydocker inside the container's PID namespace, and the
	// container could open /proc/PID/exe (the sealed copy, since
	// runFromSealedCopy) and its other /proc files, such as the
	// descriptors it holds on the host. A process that is not
	// dumpable (a property of its memory, which the clone copies) keeps
	// its /proc files to root with CAP_SYS_PTRACE, which a container does
	// not have; execve of the command makes it dumpable again.
	//book:lab exec dumpable
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return 0, fmt.Errorf("making mydocker exec non-dumpable: %w", err)
	}
	//book:stub
	// // Lab exec, part 3 (labs/09-exec/README.md): keep the container from
	// // reaching mydocker's binary through /proc/PID/exe (CVE-2019-5736).
	// // Until then the command is a dumpable copy of mydocker until its
	// // execve.
	//book:end exec dumpable
	// Only 0, 1 and 2 may reach the command, whatever the caller of
	// mydocker exec left open (closeInheritedDescriptors says why).
	if err := unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		return 0, fmt.Errorf("marking inherited descriptors close-on-exec: %w", err)
	}
	target, err := openTarget(r)
	if err != nil {
		return 0, err
	}
	defer target.close()
	started := make(chan execStart, 1)
	done := make(chan execResult, 1)
	go func() {
		// Never unlocked: the thread ends inside the container with
		// this goroutine, after it has waited for the command.
		runtime.LockOSThread()
		status, err := execInContainer(r, ec, target, started)
		done <- execResult{status, err}
	}()
	return followCommand(ec, started, done)
}

// target is what a process joins: the init's namespaces and its cgroup,
// opened while the init's PID is known to be the init's.
type target struct {
	namespaces []namespaceFile
	cgroup     cgroups.Cgroup
	filter     string // the container's seccomp filter, "" for none
}

type namespaceFile struct {
	name string
	flag int
	file *os.File
}

func (t *target) close() {
	for _, ns := range t.namespaces {
		ns.file.Close()
	}
}

// openTarget opens the init's namespaces that differ from ours. The PID
// could name another process if the init had exited, so its start time is
// checked once the files are open: a namespace file, once open, stays the
// namespace it was.
func openTarget(r Record) (*target, error) {
	t := &target{}
	for _, kind := range namespaceKinds {
		theirs := fmt.Sprintf("/proc/%d/ns/%s", r.State.Pid, kind.name)
		if sameFile(theirs, "/proc/self/ns/"+kind.name) {
			continue
		}
		f, err := os.Open(theirs)
		if err != nil {
			t.close()
			return nil, fmt.Errorf("opening the container's %s namespace: %w", kind.name, err)
		}
		t.namespaces = append(t.namespaces, namespaceFile{kind.name, kind.flag, f})
	}
	if started, err := state.ProcessStartTime(r.State.Pid); err != nil || started != r.State.PidStartTime {
		t.close()
		return nil, &Error{Code: 1, Err: fmt.Errorf("container %s is not running: its init has just exited", r.ID)}
	}
	var err error
	if t.cgroup, err = cgroups.Open(r.State.Cgroup); err != nil {
		t.close()
		return nil, err
	}
	data, err := os.ReadFile(filepath.Join(r.Dir, filterFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.close()
		return nil, fmt.Errorf("reading the container's seccomp filter: %w", err)
	}
	t.filter = string(data)
	return t, nil
}

func sameFile(a, b string) bool {
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(sa, sb)
}

type execStart struct {
	master *os.File // with -t: the pty's master, here to copy
	pid    int      // 0 if the command could not be started
	// finish completes the cgroup's placement (ForChildren). It runs on
	// another thread than the joined one, which has dropped the
	// capabilities a move between cgroups may need (CAP_SYS_NICE, between
	// cpusets).
	finish func(child int) error
}

type execResult struct {
	status int
	err    error
}

// execInContainer runs on its own locked thread: it joins the container,
// takes on its restrictions, starts the command and waits for it.
func execInContainer(r Record, ec ExecConfig, t *target, started chan<- execStart) (int, error) {
	finish, err := t.cgroup.ForChildren()
	if err != nil {
		started <- execStart{finish: func(int) error { return nil }}
		return 0, err
	}
	cmd, master, err := startInContainer(r, ec, t)
	if err != nil {
		started <- execStart{finish: finish}
		return 0, err
	}
	started <- execStart{master: master, pid: cmd.Process.Pid, finish: finish}
	var exitErr *exec.ExitError
	if err := cmd.Wait(); errors.As(err, &exitErr) {
		return statusOf(exitErr.Sys().(syscall.WaitStatus)), nil
	} else if err != nil {
		return 0, err
	}
	return 0, nil
}

// startInContainer joins the namespaces, takes on the container's
// restrictions and starts the command, all on this thread.
func startInContainer(r Record, ec ExecConfig, t *target) (*exec.Cmd, *os.File, error) {
	if err := joinNamespaces(t.namespaces); err != nil {
		return nil, nil, err
	}
	cmd, master, slave, err := commandInContainer(r, ec)
	if err != nil {
		return nil, nil, err
	}
	if err := switchExecUser(r, ec, cmd); err != nil {
		closeAll([]*os.File{master, slave})
		return nil, nil, err
	}
	if err := restrictThread(r.Config, t.filter); err != nil {
		closeAll([]*os.File{master, slave})
		return nil, nil, err
	}
	logrus.Debugf("starting %q in the container", cmd.Args)
	err = cmd.Start()
	closeAll([]*os.File{slave}) // the child has its own copy
	if errors.Is(err, unix.EAGAIN) {
		closeAll([]*os.File{master})
		return nil, nil, &Error{Code: ExitCannotInvoke, Err: fmt.Errorf("starting %q in the container: %w: "+
			"it holds as many processes as its --pids-limit allows", ec.Args[0], err)}
	}
	if err != nil {
		closeAll([]*os.File{master})
		return nil, nil, commandError(ec.Args[0], err)
	}
	return cmd, master, nil
}

// joinNamespaces moves the calling thread into the namespaces, after
// giving it filesystem information of its own (see above).
func joinNamespaces(namespaces []namespaceFile) error {
	//book:lab exec join
	logrus.Debug("unshare(CLONE_FS): this thread's root and working directory, its own")
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		return fmt.Errorf("unsharing the thread's filesystem information: %w", err)
	}
	for _, ns := range namespaces {
		logrus.Debugf("setns(%s)", ns.name)
		if err := unix.Setns(int(ns.file.Fd()), ns.flag); err != nil {
			return fmt.Errorf("joining the container's %s namespace: %w", ns.name, err)
		}
	}
	return nil
	//book:stub
	// // Lab exec, part 1 (labs/09-exec/README.md): move this thread into
	// // each of the container's namespaces, which the command then starts
	// // in. Until then it runs on the host, beside the container.
	// logrus.Debugf("lab exec, part 1: joinNamespaces(%d namespaces) is not written yet", len(namespaces))
	// return nil
	//book:end exec join
}

// commandInContainer prepares the command, once the thread is in the
// container's mount namespace: the paths it looks up are the container's.
func commandInContainer(r Record, ec ExecConfig) (cmd *exec.Cmd, master, slave *os.File, err error) {
	workDir := ec.WorkDir
	//book:add lifecycle
	if workDir == "" {
		workDir = r.WorkDir // the container's -w
	}
	//book:end
	if workDir == "" {
		workDir = "/"
	}
	if err := unix.Chdir(workDir); err != nil {
		return nil, nil, nil, &Error{Code: ExitCannotInvoke, Err: fmt.Errorf("changing to the working directory %s in the container: %w", workDir, err)}
	}
	env := execEnv(r.Config, ec)
	// No parent-death signal: in the container's PID namespace the
	// child's parent (this process, outside) shows as PID 0, and Go's
	// child code takes that for a dead parent and kills itself. If
	// mydocker exec dies, the command lives on, adopted by a reaper on the
	// host's side (its parent still shows as 0 inside), and dies with the
	// container's PID namespace.
	cmd = &exec.Cmd{Args: ec.Args, Env: env, SysProcAttr: &syscall.SysProcAttr{}}
	path, err := lookPathIn(ec.Args[0], env)
	if err != nil {
		return nil, nil, nil, commandError(ec.Args[0], err)
	}
	cmd.Path = path
	if !ec.TTY {
		cmd.Stdin = os.Stdin
		if !ec.Interactive {
			cmd.Stdin = nil
		}
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		setProcessGroup(cmd.SysProcAttr, Config{Interactive: ec.Interactive})
		return cmd, nil, nil, nil
	}
	if master, slave, err = openPty(); err != nil { // the container's /dev/ptmx: its own devpts
		return nil, nil, nil, err
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr.Setsid, cmd.SysProcAttr.Setctty, cmd.SysProcAttr.Ctty = true, true, 0
	return cmd, master, slave, nil
}

// switchExecUser switches this thread to the user of -u, or else to the
// container's, before the capabilities are limited, as harden does: the
// command inherits the thread. (Go's Credential would switch in the child
// instead, after the limit, without the CAP_SETUID a --cap-drop ALL
// container has dropped.)
func switchExecUser(r Record, ec ExecConfig, cmd *exec.Cmd) error {
	spec := ec.User
	if spec == "" {
		spec = r.User
	}
	if spec == "" {
		return nil
	}
	u, err := lookUpUser(spec)
	if err != nil {
		return err
	}
	//book:replace exec lifecycle
	// cmd.Env = setEnv(cmd.Env, "HOME", u.Home)
	//book:end
	//book:add lifecycle
	if !envHas(append(r.Env, ec.Env...), "HOME") { // -e HOME=... of run or exec
		cmd.Env = setEnv(cmd.Env, "HOME", u.Home)
	}
	//book:end
	if err := becomeUser(u); err != nil {
		return fmt.Errorf("%w (user %s)", err, spec)
	}
	return nil
}

// execEnv is the container's environment with -e on top, as Docker gives
// an exec'd process.
func execEnv(cfg Config, ec ExecConfig) []string {
	env := containerEnv(cfg)
	if ec.TTY {
		env = setEnv(env, "TERM", "xterm")
	}
	for _, kv := range ec.Env {
		name, value, _ := strings.Cut(kv, "=")
		env = setEnv(env, name, value)
	}
	return env
}

func setEnv(env []string, name, value string) []string {
	return append(withoutEnv(env, name), name+"="+value)
}

// lookPathIn finds a command as a shell in the container would, along the
// PATH of its environment, in the container's root.
func lookPathIn(name string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	path := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	for _, dir := range filepath.SplitList(path) {
		candidate := filepath.Join(dir, name)
		if st, err := os.Stat(candidate); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return candidate, nil
		}
	}
	return "", exec.ErrNotFound
}

// restrictThread gives the thread the container's restrictions, which the
// command inherits: the seccomp filter, the capabilities and no_new_privs,
// in harden's order, after switchExecUser.
func restrictThread(cfg Config, filter string) error {
	//book:lab exec restrict
	if cfg.Privileged {
		return nil
	}
	if !cfg.NoNewPrivs {
		if err := seccomp.Install(filter); err != nil {
			return err
		}
	}
	if err := limitCapabilities(cfg.Capabilities); err != nil {
		return err
	}
	if cfg.NoNewPrivs {
		if err := setNoNewPrivs(); err != nil {
			return err
		}
		return seccomp.Install(filter)
	}
	return nil
	//book:stub
	// // Lab exec, part 2 (labs/09-exec/README.md): give this thread the
	// // container's restrictions, in harden's order, for the command to
	// // inherit. Until then it has all of mydocker's capabilities and no
	// // filter.
	// logrus.Debugf("lab exec, part 2: restrictThread is not written yet (filter of %d bytes)", len(filter))
	// return nil
	//book:end exec restrict
}

// followCommand connects the user's terminal to the command, as run does,
// and forwards signals, until the command exits.
func followCommand(ec ExecConfig, started <-chan execStart, done <-chan execResult) (int, error) {
	s := <-started                                                         // always sent, before done
	if err := s.finish(s.pid); err != nil && !errors.Is(err, unix.ESRCH) { // ESRCH: it has exited already
		logrus.Warnf("%v", err)
	}
	if s.pid == 0 {
		res := <-done
		return res.status, res.err
	}
	signals := make(chan os.Signal, 16)
	signal.Notify(signals, forwardedSignals...)
	defer signal.Stop(signals)
	process, _ := os.FindProcess(s.pid)
	stop := forwardSignals(signals, process)
	defer stop()
	if s.master != nil {
		stopConsole, err := proxyTerminal(s.master, ec.Interactive)
		if err != nil {
			_ = process.Kill()
			<-done
			return 0, err
		}
		res := <-done
		stopConsole()
		return res.status, res.err
	}
	res := <-done
	return res.status, res.err
}

// filterFile keeps the container's compiled seccomp filter beside its
// record, for exec to load the very same one.
const filterFile = "seccomp.bpf"

// sealedEnv marks a mydocker exec that runs from its sealed copy.
const sealedEnv = "MYDOCKER_SEALED"

// runFromSealedCopy re-executes mydocker exec from a copy of its binary in
// memory, sealed against writes (a memfd), once. The container decides
// what the command is: a script that starts with #!/proc/self/exe makes
// the kernel, during the child's execve, run the binary of the process
// that execs, mydocker, inside the container, where it is dumpable again
// and a process of the container can open its /proc/PID/exe and write
// through it once it has exited. That was CVE-2019-5736's route into
// runc; runc's first fix was this copy. The binary reached that way is the
// sealed copy: writing to it fails, and the one on the host is never in
// reach.
func runFromSealedCopy() error {
	if os.Getenv(sealedEnv) != "" {
		os.Unsetenv(sealedEnv)
		return nil
	}
	self, err := os.Open("/proc/self/exe")
	if err != nil {
		return fmt.Errorf("opening our own binary: %w", err)
	}
	defer self.Close()
	fd, err := unix.MemfdCreate("mydocker", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return fmt.Errorf("creating a sealed copy of mydocker: %w", err)
	}
	copied := os.NewFile(uintptr(fd), "mydocker (sealed)")
	defer copied.Close()
	if _, err := io.Copy(copied, self); err != nil {
		return fmt.Errorf("copying mydocker into memory: %w", err)
	}
	const seals = unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, seals); err != nil {
		return fmt.Errorf("sealing the copy of mydocker: %w", err)
	}
	logrus.Debugf("execve(/proc/self/fd/%d): mydocker exec goes on from a sealed copy of its binary", fd)
	err = syscall.Exec(fmt.Sprintf("/proc/self/fd/%d", fd), os.Args, append(os.Environ(), sealedEnv+"=1"))
	return fmt.Errorf("re-executing from the sealed copy of mydocker: %w", err)
}
