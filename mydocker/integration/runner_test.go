//book:file namespaces

package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mydocker-book/mydocker/mydocker/probe/report"
)

// commandTimeout is how long one mydocker command may take.
var commandTimeout = patient(60 * time.Second)

// patient stretches a wait for something to happen by the factor in
// MYDOCKER_TEST_PATIENCE (a whole number, 1 when unset). Under emulation
// (make vagrant-test's VM) everything runs about ten times slower, and a
// wait sized for the host fails there before anything has gone wrong.
// Bounds that prove something happened promptly (a stop that did not
// wait its grace period) are not stretched: they would stop proving it.
func patient(d time.Duration) time.Duration {
	return d * time.Duration(patienceFactor())
}

var patienceFactor = sync.OnceValue(func() int {
	n, err := strconv.Atoi(os.Getenv("MYDOCKER_TEST_PATIENCE"))
	if err != nil || n < 1 {
		return 1
	}
	return n
})

//book:add cgroups

// envCount numbers the tests' environments.
var envCount atomic.Int64

//book:end

// env is one test's private world: its state root and its leak check.
type env struct {
	t    *testing.T
	root string
	//book:add cgroups
	cgroupParent string // the test's own parent for its containers' cgroups
	//book:end
	//book:add netns
	bridge, subnet string // the test's own default network
	//book:end
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, root: t.TempDir()}
	//book:add cgroups
	// Registered first, so it runs last: once the leak check has reported
	// what a failed test left, the machine is cleaned for the next tests.
	t.Cleanup(e.sweepCgroups)
	//book:end
	before := takeSnapshot()
	t.Cleanup(func() { checkLeaks(t, before) })
	//book:add bridge
	t.Cleanup(forwardDuringTest(t))
	//book:end
	//book:add cgroups
	// Unique on the machine, even with several test binaries at once.
	e.cgroupParent = fmt.Sprintf("mydocker-test-%d-%d", os.Getpid(), envCount.Add(1))
	parentOwners.Store(e.cgroupParent, t.Name())
	// Cleanups run last-in first-out: the parent goes before the leak check.
	t.Cleanup(e.removeCgroupParent)
	//book:end
	//book:add netns
	e.bridge, e.subnet = testNetwork(envCount.Load())
	// Before the leak check: the bridge goes once no port is left on it,
	// and, before that, every address must have been given back.
	t.Cleanup(e.removeBridge)
	t.Cleanup(e.checkAddressesReleased)
	//book:end
	t.Cleanup(e.checkContainerDirsRemoved)
	//book:add rootfs
	e.installTestImage()
	//book:end
	return e
}

// sameOnEveryCgroupVersion marks a test whose subject does not depend on
// the cgroup version. The test VM, there for cgroup v2 and four times
// slower under emulation, skips it (scripts/vm/init sets
// MYDOCKER_TEST_VM); the host runs it.
func sameOnEveryCgroupVersion(t *testing.T) {
	if os.Getenv("MYDOCKER_TEST_VM") != "" {
		t.Skip("the same on cgroup v1 and v2: the host runs it")
	}
}

// environ is the environment mydocker runs with in the tests.
func (e *env) environ() []string {
	env := append(os.Environ(), "MYDOCKER_ROOT="+e.root)
	//book:add cgroups
	env = append(env, "MYDOCKER_CGROUP_PARENT="+e.cgroupParent)
	//book:end
	//book:add netns
	env = append(env, "MYDOCKER_BRIDGE="+e.bridge, "MYDOCKER_BRIDGE_SUBNET="+e.subnet)
	//book:end
	return env
}

// result is one finished mydocker command, printable in failure messages.
type result struct {
	args           []string
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("command: %s\nexit status: %d\nstdout:\n%s\nstderr:\n%s",
		strings.Join(r.args, " "), r.code, r.stdout, r.stderr)
}

func (e *env) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, mydockerBin, withImage(args)...)
	cmd.Env = e.environ()
	return cmd
}

// withImage puts the test image where a container's command starts: the
// tests write "run [FLAGS] -- CMD", and from the rootfs chapter on, run
// wants "run [FLAGS] IMAGE CMD" ("--" only ends the flags).
func withImage(args []string) []string {
	//book:add detach
	args = withRm(args)
	//book:end
	//book:add rootfs
	if i := slices.Index(args, "--"); i >= 0 && slices.Contains(args[:i], "run") {
		return slices.Concat(args[:i+1], []string{testImageName}, args[i+1:])
	}
	//book:end
	return args
}

//book:add detach

// withRm adds --rm to a foreground run: from the detach chapter on, a
// container stays after it has exited, until rm, and the earlier chapters'
// tests expect nothing to be left. A test that wants the container kept
// says --keep, which only the harness knows.
func withRm(args []string) []string {
	i := slices.Index(args, "run")
	if i < 0 {
		return args
	}
	flags := args[i+1:]
	if end := slices.Index(flags, "--"); end >= 0 {
		flags = flags[:end]
	}
	if k := slices.Index(flags, "--keep"); k >= 0 {
		return slices.Concat(args[:i+1+k], args[i+2+k:])
	}
	if slices.Contains(flags, "-d") || slices.Contains(flags, "--detach") || slices.Contains(flags, "--rm") {
		return args
	}
	return slices.Concat(args[:i+1], []string{"--rm"}, args[i+1:])
}

//book:end

// mydocker runs mydocker with args and waits for it.
func (e *env) mydocker(args ...string) result {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	return e.run(ctx, e.command(ctx, args...))
}

// run runs cmd, made by command with ctx, and waits for it.
func (e *env) run(ctx context.Context, cmd *exec.Cmd) result {
	e.t.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{args: append([]string{filepath.Base(cmd.Path)}, cmd.Args[1:]...), stdout: stdout.String(), stderr: stderr.String()}
	if exitErr, ok := err.(*exec.ExitError); ok {
		r.code = exitErr.ExitCode()
	} else if err != nil {
		e.t.Fatalf("running mydocker: %v\n%s", err, r)
	}
	if ctx.Err() != nil {
		e.t.Fatalf("mydocker did not finish within %v\n%s", commandTimeout, r)
	}
	return r
}

// probe runs the probe in a container (with the given run flags) and
// decodes its report.
func (e *env) probe(runFlags ...string) (report.Report, result) {
	e.t.Helper()
	args := append(append([]string{"run"}, runFlags...), "--", probeCmd)
	r := e.mydocker(args...)
	require.Equal(e.t, 0, r.code, "the probe failed\n%s", r)
	var rep report.Report
	require.NoError(e.t, json.Unmarshal([]byte(r.stdout), &rep), "the probe's output is not its JSON report\n%s", r)
	require.Empty(e.t, rep.Errors, "the probe could not see everything\n%s", r)
	return rep, r
}

// running is a mydocker command in the background, whose output the test
// watches.
type running struct {
	t      *testing.T
	cmd    *exec.Cmd
	mu     sync.Mutex
	output strings.Builder // stdout and stderr, for expectLine and failure messages
	done   chan struct{}   // closed when mydocker has exited
	code   int
}

func (e *env) start(args ...string) *running {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	r := &running{t: e.t, cmd: e.command(ctx, args...), done: make(chan struct{})}
	stdout, err := r.cmd.StdoutPipe()
	require.NoError(e.t, err)
	r.cmd.Stderr = r
	require.NoError(e.t, r.cmd.Start())
	r.watch(stdout, cancel)
	return r
}

// watch collects mydocker's output until it ends, then records its exit
// status; after runs once mydocker is gone.
func (r *running) watch(output io.Reader, after func()) {
	go func() {
		_, _ = io.Copy(r, output) // os/exec wants the pipe drained before Wait
		_ = r.cmd.Wait()
		r.code = statusOf(r.cmd.ProcessState)
		after()
		close(r.done)
	}()
	// A test that fails half-way must not leave mydocker running.
	r.t.Cleanup(r.kill)
}

// statusOf is the shell's view of an exit: the status, or 128+N for signal N.
func statusOf(state *os.ProcessState) int {
	if ws, ok := state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return state.ExitCode()
}

// Write collects mydocker's output.
func (r *running) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.output.Write(p)
}

func (r *running) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return fmt.Sprintf("command: %s\noutput:\n%s", strings.Join(r.cmd.Args, " "), r.output.String())
}

// expectLine waits for a line of standard output equal to want.
func (r *running) expectLine(want string) {
	r.t.Helper()
	r.waitForOutput(fmt.Sprintf("the line %q", want), func(output string) bool {
		return strings.Contains("\n"+output, "\n"+want+"\n")
	})
}

// waitForOutput waits until seen holds for mydocker's output so far, and
// fails the test if mydocker exits first or 20 seconds pass.
func (r *running) waitForOutput(what string, seen func(output string) bool) {
	r.t.Helper()
	deadline := time.After(patient(20 * time.Second))
	for !seen(r.outputSoFar()) {
		select {
		case <-r.done:
			if seen(r.outputSoFar()) {
				return
			}
			r.t.Fatalf("mydocker exited before printing %s\n%s", what, r)
		case <-deadline:
			r.t.Fatalf("mydocker did not print %s within %v\n%s", what, patient(20*time.Second), r)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (r *running) outputSoFar() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.output.String()
}

func (r *running) signal(sig syscall.Signal) {
	r.t.Helper()
	require.NoError(r.t, r.cmd.Process.Signal(sig), "sending %v to mydocker", sig)
}

// wait returns mydocker's exit status.
func (r *running) wait() int {
	r.t.Helper()
	select {
	case <-r.done:
		return r.code
	case <-time.After(commandTimeout):
		r.t.Fatalf("mydocker did not exit\n%s\n%s", r, describeOurProcesses())
		return -1
	}
}

// kill ends mydocker if it still runs. It does not wait for ever: a
// container that survives mydocker keeps the output pipes open, and the
// leak check will name it.
func (r *running) kill() {
	_ = r.cmd.Process.Kill()
	select {
	case <-r.done:
	case <-time.After(patient(5 * time.Second)):
	}
}

// requireRunning fails the test if mydocker has already exited.
func (r *running) requireRunning(why string) {
	r.t.Helper()
	select {
	case <-r.done:
		r.t.Fatalf("%s\n%s", why, r)
	default:
	}
}

// killContainer sends SIGKILL to the container's first process, which the
// kernel delivers from the host even to a PID 1, and returns mydocker's
// exit status.
func (r *running) killContainer() int {
	r.t.Helper()
	require.NoError(r.t, syscall.Kill(r.containerPID(), syscall.SIGKILL))
	return r.wait()
}

// containerPID is the host PID of the container's first process: the
// child of mydocker.
func (r *running) containerPID() int {
	r.t.Helper()
	children := childrenOf(r.cmd.Process.Pid)
	require.Len(r.t, children, 1, "mydocker should have exactly one child, the container's init\n%s", r)
	return children[0]
}
