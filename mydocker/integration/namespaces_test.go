//book:file namespaces

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/mydocker-book/mydocker/mydocker/probe/report"
	"github.com/mydocker-book/mydocker/mydocker/state"
)

func TestContainerHasItsOwnNamespaces(t *testing.T) {
	e := newEnv(t)
	inside, r := e.probe()
	host := report.Collect()
	//book:replace namespaces netns
	// for _, kind := range []string{"uts", "pid", "mnt", "ipc"} {
	// 	assert.NotEqual(t, host.Namespaces[kind], inside.Namespaces[kind], "the container should have its own %s namespace\n%s", kind, r)
	// }
	// for _, kind := range []string{"net", "user"} {
	// 	assert.Equal(t, host.Namespaces[kind], inside.Namespaces[kind], "this stage does not create a %s namespace yet\n%s", kind, r)
	// }
	//book:end
	//book:add netns
	for _, kind := range []string{"uts", "pid", "mnt", "ipc", "net"} {
		assert.NotEqual(t, host.Namespaces[kind], inside.Namespaces[kind], "the container should have its own %s namespace\n%s", kind, r)
	}
	assert.Equal(t, host.Namespaces["user"], inside.Namespaces["user"], "this stage does not create a user namespace yet\n%s", r)
	//book:end
	//book:replace namespaces cgroups
	// assert.Equal(t, host.Namespaces["cgroup"], inside.Namespaces["cgroup"], "this stage does not create a cgroup namespace yet\n%s", r)
	//book:end
}

func TestHostnameIsTheContainers(t *testing.T) {
	e := newEnv(t)
	hostBefore, err := os.Hostname()
	require.NoError(t, err)

	inside, r := e.probe("-h", "box")
	assert.Equal(t, "box", inside.Hostname, r.String())
	assert.Contains(t, inside.Env, "HOSTNAME=box", r.String())

	inside, r = e.probe()
	assert.Regexp(t, regexp.MustCompile(`^[0-9a-f]{12}$`), inside.Hostname, "the default hostname is the short container id\n%s", r)

	hostAfter, err := os.Hostname()
	require.NoError(t, err)
	assert.Equal(t, hostBefore, hostAfter, "the host's hostname must not change")
}

func TestArgumentsArriveIntact(t *testing.T) {
	e := newEnv(t)
	args := []string{"two  spaces", "", "-h", "--debug", "$HOME", `"quoted"`, "a;b", "ünï"}
	r := e.mydocker(append([]string{"run", "--", probeCmd}, args...)...)
	require.Equal(t, 0, r.code, r.String())
	var rep report.Report
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep), r.String())
	assert.Equal(t, append([]string{probeCmd}, args...), rep.Args, r.String())

	r = e.mydocker("run", "--", "sh", "-c", `echo a; echo "b  c"`)
	assert.Equal(t, "a\nb  c\n", r.stdout, r.String())
}

// An argument is bytes, not text: one that is not valid UTF-8 (a Latin-1
// file name) reaches the command byte for byte.
func TestNonUTF8ArgumentsArriveByteForByte(t *testing.T) {
	e := newEnv(t)
	r := e.mydocker("run", "--", busyboxCmd, "sh", "-c", `printf %s "$1" | od -An -tx1`, "sh", "caf\xe9")
	require.Equal(t, 0, r.code, r.String())
	assert.Equal(t, "63 61 66 e9", strings.TrimSpace(r.stdout), r.String())
}

// Descriptors that mydocker's caller left open without close-on-exec (here a
// directory of the host, a file and a socket) never reach the command: it
// holds its standard input, output and error, and nothing else.
func TestOnlyStdioReachesTheCommand(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := e.command(ctx, append([]string{"run", "--"}, listOwnDescriptors()...)...)
	cmd.ExtraFiles = openStrayDescriptors(t) // descriptors 3, 4, 5 in mydocker
	r := e.run(ctx, cmd)
	require.Equal(t, 0, r.code, r.String())
	assert.Equal(t, []string{"0", "1", "2"}, strings.Fields(r.stdout), r.String())
}

// listOwnDescriptors is a command that prints the descriptors it holds.
// [ is a builtin of busybox's sh, so /proc/self is the shell itself, and
// the check opens no descriptor of its own.
func listOwnDescriptors() []string {
	return []string{busyboxCmd, "sh", "-c", "for fd in $(seq 0 64); do [ -e /proc/self/fd/$fd ] && echo $fd; done; exit 0"}
}

// openStrayDescriptors opens a directory of the host, a file and a socket,
// without close-on-exec once they are given to a child.
func openStrayDescriptors(t *testing.T) []*os.File {
	dir, err := os.Open("/")
	require.NoError(t, err)
	file, err := os.CreateTemp(t.TempDir(), "open-file")
	require.NoError(t, err)
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	require.NoError(t, err)
	socket, other := os.NewFile(uintptr(fds[0]), "socket"), os.NewFile(uintptr(fds[1]), "other")
	t.Cleanup(func() { dir.Close(); file.Close(); socket.Close(); other.Close() })
	return []*os.File{dir, file, socket}
}

// The hostname is bytes too, in the UTS namespace and in $HOSTNAME.
func TestNonUTF8HostnameArrivesByteForByte(t *testing.T) {
	e := newEnv(t)
	r := e.mydocker("run", "-h", "b\xe4x", "--", busyboxCmd, "sh", "-c", `hostname | od -An -tx1; printf %s "$HOSTNAME" | od -An -tx1`)
	require.Equal(t, 0, r.code, r.String())
	assert.Equal(t, []string{"62 e4 78 0a", "62 e4 78"}, strings.Split(strings.TrimSpace(r.stdout), "\n "), r.String())
}

// What the kernel would take but no program expects is refused: a slash, a
// newline, more than 64 bytes. 64 bytes are fine.
func TestBadHostnamesAreRefusedWith125(t *testing.T) {
	e := newEnv(t)
	for _, name := range []string{"a/b", "a\nb", strings.Repeat("x", 65)} {
		r := e.mydocker("run", "-h", name, "--", "true")
		assert.Equal(t, 125, r.code, r.String())
		assert.Contains(t, r.stderr, "invalid hostname", r.String())
	}
	long := strings.Repeat("x", 64)
	inside, r := e.probe("-h", long)
	assert.Equal(t, long, inside.Hostname, r.String())
}

// The hidden init refuses to run anywhere but as a container's PID 1: by
// hand, it would change the host's hostname and mounts.
func TestInitCannotBeRunByHand(t *testing.T) {
	e := newEnv(t)
	before, err := os.Hostname()
	require.NoError(t, err)
	//book:replace namespaces proc
	// r := e.mydocker("init", "--hostname", "changed-by-hand", "--", "true")
	//book:end
	//book:add proc
	r := e.mydocker("init")
	//book:end
	assert.Equal(t, 125, r.code, r.String())
	assert.Contains(t, r.stderr, "cannot be run by hand", r.String())
	after, err := os.Hostname()
	require.NoError(t, err)
	assert.Equal(t, before, after)
}

// An init whose mydocker is already gone never runs the command. The kernel
// kills the init when mydocker dies only if mydocker dies after the clone
// set the init's parent-death signal; a mydocker killed before that moment
// must be noticed by the init itself. The test starts the init as mydocker
// would, as PID 1 of new namespaces, with the pipe from mydocker already
// closed at mydocker's end: as it would be after a SIGKILL.
func TestAnInitWhoseMydockerIsGoneNeverRunsTheCommand(t *testing.T) {
	e := newEnv(t)
	fromMydocker, closedEnd, err := os.Pipe()
	require.NoError(t, err)
	defer fromMydocker.Close()
	require.NoError(t, closedEnd.Close())
	// An init that ran the command anyway would wait for it forever.
	ctx, cancel := context.WithTimeout(t.Context(), patient(10*time.Second))
	defer cancel()
	//book:replace namespaces proc
	// cmd := e.command(ctx, "init", "--hostname", "orphan", "--", probeCmd, "sleep")
	// cmd.ExtraFiles = []*os.File{fromMydocker} // the lifeline
	//book:end
	//book:add proc
	toMydocker, initEnd, err := os.Pipe()
	require.NoError(t, err)
	defer toMydocker.Close()
	cmd := e.command(ctx, "init")
	cmd.ExtraFiles = []*os.File{fromMydocker, initEnd} // the config and exec pipes
	//book:end
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWPID | unix.CLONE_NEWUTS | unix.CLONE_NEWNS | unix.CLONE_NEWIPC}
	//book:replace namespaces proc
	// r := e.run(ctx, cmd)
	// told := r.stderr
	//book:end
	//book:add proc
	r := e.run(ctx, cmd)
	initEnd.Close()
	message, err := io.ReadAll(toMydocker)
	require.NoError(t, err)
	told := string(message)
	//book:end
	assert.Equal(t, 125, r.code, r.String())
	assert.NotContains(t, r.stdout, "ready", "the command ran\n%s", r)
	//book:replace namespaces proc
	// assert.Contains(t, told, "mydocker exited before the container could start", r.String())
	//book:end
	//book:add proc
	assert.Contains(t, told, "reading the configuration from the parent", r.String())
	//book:end
}

// The state root is root's alone, even when it was made looser before: no
// other user of the host may reach a container's files (from the overlay
// chapter on, its writable layer, setuid programs and all).
func TestStateRootIsPrivateToRoot(t *testing.T) {
	e := newEnv(t)
	require.NoError(t, os.Chmod(e.root, 0o755)) // as an older mydocker, or install -D, left it
	run := e.start("run", "--", probeCmd, "sleep")
	run.expectLine("ready")
	dir := e.onlyContainerDir()
	for _, path := range []string{e.root, filepath.Dir(dir), dir} {
		info, err := os.Stat(path)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o700), info.Mode().Perm(), "%s", path)
	}
	nobody := exec.Command(busyboxBin, "ls", dir)
	nobody.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := nobody.CombinedOutput()
	assert.Error(t, err, "nobody could list the container's directory:\n%s", out)
	assert.Equal(t, 128+int(syscall.SIGKILL), run.killContainer(), run.String())
}

func TestExitStatusIsTheCommands(t *testing.T) {
	e := newEnv(t)
	for _, status := range []string{"0", "3", "255"} {
		r := e.mydocker("run", "--", probeCmd, "exit", status)
		assert.Equal(t, status, strconv.Itoa(r.code), r.String())
	}
}

func TestCommandNotFoundIs127(t *testing.T) {
	e := newEnv(t)
	r := e.mydocker("run", "--", "no-such-command-anywhere")
	assert.Equal(t, 127, r.code, r.String())
	assert.Contains(t, r.stderr, "command not found", r.String())
}

func TestCommandNotExecutableIs126(t *testing.T) {
	e := newEnv(t)
	//book:replace namespaces rootfs
	// script := filepath.Join(e.root, "not-executable")
	// require.NoError(t, os.WriteFile(script, []byte("#!/bin/sh\necho hi\n"), 0o644))
	//book:end
	//book:add rootfs
	script := "/etc/passwd" // in the image, and not executable
	//book:end
	r := e.mydocker("run", "--", script)
	assert.Equal(t, 126, r.code, r.String())
	assert.Contains(t, r.stderr, "cannot be executed", r.String())
}

func TestMydockerOwnErrorsAre125(t *testing.T) {
	e := newEnv(t)
	r := e.mydocker("run", "--no-such-flag", "--", probeCmd)
	assert.Equal(t, 125, r.code, r.String())
	assert.Contains(t, r.stderr, "flag provided but not defined", r.String())

	r = e.mydocker("run")
	assert.Equal(t, 125, r.code, r.String())
	assert.Regexp(t, "run needs (an image and )?a command", r.stderr, r.String())

	r = e.mydocker("run", "-t", "--", probeCmd) // standard input is not a terminal here
	assert.Equal(t, 125, r.code, r.String())
	assert.Contains(t, r.stderr, "not a TTY", r.String())
}

func TestNonRootIsRefusedWith125(t *testing.T) {
	e := newEnv(t)
	cmd := e.command(t.Context(), "run", "--", probeCmd)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	require.Error(t, err, string(out))
	assert.Equal(t, 125, cmd.ProcessState.ExitCode(), string(out))
	assert.Contains(t, string(out), "needs root", string(out))
}

func TestKilledContainerReportsSignal(t *testing.T) {
	e := newEnv(t)
	run := e.start("run", "--", probeCmd, "sleep")
	run.expectLine("ready")
	assert.Equal(t, 128+int(syscall.SIGKILL), run.killContainer(), run.String())
}

// A container in the foreground dies with its mydocker, even when mydocker
// is killed without a chance to clean up; the leak check proves it.
func TestContainerDiesWithMydocker(t *testing.T) {
	e := newEnv(t)
	run := e.start("run", "--", probeCmd, "sleep")
	run.expectLine("ready")
	e.waitForStatus(state.Running)
	run.signal(syscall.SIGKILL)
	run.wait()
	//book:add cgroups
	// Nobody is left to remove the container's cgroup: it stays behind,
	// empty once the kernel has killed the container.
	e.removeLeftoverCgroup()
	//book:end
	// And its directory, whose state file still says "running", with the
	// PID and start time of an init that is gone: enough to tell it is dead.
	st, err := state.Load(e.onlyContainerDir())
	require.NoError(t, err)
	assert.Equal(t, state.Running, st.Status)
	assert.Eventually(t, func() bool {
		startTime, err := state.ProcessStartTime(st.Pid)
		return err != nil || startTime != st.PidStartTime
	}, patient(5*time.Second), 10*time.Millisecond, "the init (PID %d) should be gone, its PID free or another process's", st.Pid)
	e.removeLeftoverContainerDir()
}

// mydocker killed at random moments, and the state root and the cgroups
// still come clean: the next ordinary run sweeps away what the killed runs
// left (sweep.go): their directories, their cgroups, their half-unpacked
// layers. The leak check then finds nothing.
func TestTheNextRunSweepsWhatKilledRunsLeft(t *testing.T) {
	e := newEnv(t)
	for range 50 {
		//book:add overlay
		if rand.IntN(2) == 0 {
			// Unpack again, so that some kills land in the unpacking.
			layers, _ := filepath.Glob(filepath.Join(e.root, "layers", "[0-9a-f]*"))
			for _, l := range layers {
				require.NoError(t, os.RemoveAll(l))
			}
		}
		//book:end
		run := e.start("run", "--", probeCmd, "sleep")
		time.Sleep(time.Duration(rand.IntN(40)) * time.Millisecond)
		run.signal(syscall.SIGKILL)
		run.wait()
	}
	r := e.mydocker("run", "--", "true")
	require.Equal(t, 0, r.code, r.String())
	left, _ := filepath.Glob(filepath.Join(e.root, "containers", "[0-9a-f]*"))
	assert.Empty(t, left, "container directories left by the killed runs")
	//book:add overlay
	stale, _ := filepath.Glob(filepath.Join(e.root, "layers", ".unpacking-*"))
	assert.Empty(t, stale, "half-unpacked layers left by the killed runs")
	//book:end
}

// While the container runs, its state file names its init: the host PID of
// the container's first process, and that process's start time.
func TestStateFileRecordsTheRunningContainer(t *testing.T) {
	e := newEnv(t)
	run := e.start("run", "--", probeCmd, "sleep")
	run.expectLine("ready")
	st := e.waitForStatus(state.Running)
	dir := e.onlyContainerDir()
	assert.Equal(t, filepath.Base(dir), st.ID)
	assert.Equal(t, state.Running, st.Status)
	assert.Equal(t, run.containerPID(), st.Pid)
	startTime, err := state.ProcessStartTime(st.Pid)
	require.NoError(t, err)
	assert.Equal(t, startTime, st.PidStartTime)
	require.NotNil(t, st.Started)
	assert.False(t, st.Started.Before(st.Created), "started %v before it was created %v", st.Started, st.Created)
	assert.Nil(t, st.ExitCode)
	info, err := os.Stat(filepath.Join(dir, state.FileName))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "the state file is root's alone")
	assert.Equal(t, 128+int(syscall.SIGKILL), run.killContainer(), run.String())
}

// waitForStatus waits until the state file of the test's only container
// has the status: mydocker writes it just after the command has started,
// so the command may well say "ready" first.
func (e *env) waitForStatus(want state.Status) state.State {
	e.t.Helper()
	var st state.State
	require.Eventually(e.t, func() bool {
		var err error
		st, err = state.Load(e.onlyContainerDir())
		return err == nil && st.Status == want
	}, patient(10*time.Second), 5*time.Millisecond, "the container's state never became %q: %+v", want, st)
	return st
}

func TestInteractiveShellOnATerminal(t *testing.T) {
	e := newEnv(t)
	term := e.startOnTerminal("run", "-it", "--", "sh")
	term.send("echo $((6*7))\n")
	term.expect("42")
	term.send("exit 3\n")
	assert.Equal(t, 3, term.wait(), term.String())
}

func TestTTYContainerOwnsTheTerminal(t *testing.T) {
	e := newEnv(t)
	term := e.startOnTerminal("run", "-it", "--", probeCmd)
	require.Equal(t, 0, term.wait(), term.String())
	assert.Contains(t, term.String(), `"foreground": true`, "the container should be the terminal's foreground process group")
}

//book:replace namespaces proc
// // At this stage the container still mounts nothing: it sees the host's
// // /proc, so it lists the host's processes, and the init runs the command as
// // its child.
// func TestContainerStillSeesTheHostsProc(t *testing.T) {
// 	e := newEnv(t)
// 	inside, r := e.probe()
// 	assert.NotEqual(t, 1, inside.PID, "the init runs the command as its child\n%s", r)
// 	assert.Equal(t, 1, inside.PPID, "the command's parent is the init, PID 1\n%s", r)
// 	assert.Contains(t, pidsOf(inside.Processes), os.Getpid(), "the host's /proc shows the test's own process\n%s", r)
// 	assert.NotEqual(t, strconv.Itoa(inside.PID), inside.ProcSelf, "/proc/self names the host's PID, not the container's\n%s", r)
// }
//
// // Ctrl-C reaches the command, which dies of it; the init waits, as a shell
// // does, and passes 128+SIGINT on.
// func TestCtrlCStopsTheCommand(t *testing.T) {
// 	e := newEnv(t)
// 	term := e.startOnTerminal("run", "-it", "--", "sh", "-c", "echo ready; exec "+busyboxCmd+" sleep 60")
// 	term.expect("ready")
// 	term.send("\x03")
// 	assert.Equal(t, 128+int(syscall.SIGINT), term.wait(), term.String())
// }
//
// // The init is PID 1 and protected from signals it does not handle, but the
// // command is not: it can kill itself.
// func TestCommandKilledBySignalReports128PlusN(t *testing.T) {
// 	e := newEnv(t)
// 	r := e.mydocker("run", "--", "sh", "-c", "kill -9 $$")
// 	assert.Equal(t, 137, r.code, r.String())
// }
//book:end

// startOnTerminal runs mydocker with a new pseudo-terminal as its
// controlling terminal, as if typed in a terminal window.
func (e *env) startOnTerminal(args ...string) *terminal {
	e.t.Helper()
	return e.startCommandOnTerminal(e.command(e.t.Context(), args...))
}

// startCommandOnTerminal starts cmd, made by command, on a new terminal.
func (e *env) startCommandOnTerminal(cmd *exec.Cmd) *terminal {
	e.t.Helper()
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 33, Cols: 101})
	require.NoError(e.t, err)
	term := &terminal{running: &running{t: e.t, cmd: cmd, done: make(chan struct{})}, tty: tty}
	// Reading the terminal ends with EIO once mydocker is gone.
	term.watch(tty, func() { tty.Close() })
	return term
}

// terminal is a running mydocker whose terminal the test types into.
type terminal struct {
	*running
	tty *os.File
}

func (term *terminal) send(keys string) {
	term.t.Helper()
	_, err := term.tty.Write([]byte(keys))
	require.NoError(term.t, err)
}

// expect waits until the terminal has shown text.
func (term *terminal) expect(text string) {
	term.t.Helper()
	term.waitForOutput(fmt.Sprintf("%q", text), func(output string) bool {
		return strings.Contains(output, text)
	})
}
