//book:file namespaces

// Package integration runs the built mydocker of one stage as root and
// checks what its containers see, through the probe program. Every test gets
// its own state root, and a leak check after it fails the test when anything
// it created is still there.
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
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mydocker-book/mydocker/chapters"
	"github.com/mydocker-book/mydocker/mydocker/probe/report"
)

// Built (or copied) once per test binary, in TestMain.
var (
	mydockerBin string
	probeBin    string
	// busyboxBin is a static C program for the tests that need one: unlike
	// the probe (Go installs signal handlers), its "sleep" keeps the kernel's
	// default signal actions.
	busyboxBin string
	// probeCmd and busyboxCmd are the same programs as a container names
	// them: the host's files until the rootfs chapter, then the copies in
	// the test image.
	probeCmd, busyboxCmd string
)

const commandTimeout = 60 * time.Second

func TestMain(m *testing.M) {
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "The integration tests create namespaces and mounts, so they need root.\n"+
			"Run them as root: sudo make test (or sudo make test CH=<slug>).")
		os.Exit(1)
	}
	os.Exit(runTests(m))
}

// runTests builds what the tests need, runs them, and removes what it
// built, also when a build fails half-way.
func runTests(m *testing.M) int {
	binDir, err := buildBinaries()
	if binDir != "" {
		defer os.RemoveAll(binDir)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	setContainerPaths()
	//book:add rootfs
	imageDir, err := buildTestImage()
	if imageDir != "" {
		defer os.RemoveAll(imageDir)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	//book:end
	return m.Run()
}

// buildBinaries builds this stage's mydocker and a static probe into a
// directory every user may read, since containers may run as other users.
func buildBinaries() (string, error) {
	if dir := os.Getenv("MYDOCKER_TEST_BINARIES"); dir != "" {
		return usePrebuilt(dir)
	}
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	fmt.Fprintf(os.Stderr, "integration tests of %s\n", describeStage(root))
	dir, err := os.MkdirTemp("", "mydocker-test-bin-")
	if err != nil {
		return "", err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return dir, err
	}
	mydockerBin, probeBin = filepath.Join(dir, "mydocker"), filepath.Join(dir, "probe")
	for _, b := range []struct{ out, pkg string }{{mydockerBin, "./mydocker"}, {probeBin, "./mydocker/probe"}} {
		cmd := exec.Command(goBinary(), "build", "-o", b.out, b.pkg)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return dir, fmt.Errorf("building %s: %v\n%s", b.pkg, err, out)
		}
	}
	busyboxBin = filepath.Join(dir, "busybox")
	if err := copyBusybox(busyboxBin); err != nil {
		return dir, err
	}
	return dir, nil
}

// usePrebuilt takes mydocker, probe and busybox from dir, for machines that
// have no Go toolchain, such as the cgroup v2 test VM. It returns "" so that
// runTests removes nothing.
func usePrebuilt(dir string) (string, error) {
	fmt.Fprintf(os.Stderr, "integration tests with the binaries in %s\n", dir)
	mydockerBin, probeBin, busyboxBin = filepath.Join(dir, "mydocker"), filepath.Join(dir, "probe"), filepath.Join(dir, "busybox")
	for _, bin := range []string{mydockerBin, probeBin, busyboxBin} {
		if _, err := os.Stat(bin); err != nil {
			return "", fmt.Errorf("MYDOCKER_TEST_BINARIES: %w", err)
		}
	}
	return "", nil
}

func setContainerPaths() {
	//book:replace namespaces rootfs
	// probeCmd, busyboxCmd = probeBin, busyboxBin
	//book:end
	//book:add rootfs
	probeCmd, busyboxCmd = "/usr/local/bin/probe", "/bin/busybox"
	//book:end
}

func copyBusybox(to string) error {
	from, err := exec.LookPath("busybox")
	if err != nil {
		return fmt.Errorf("the tests need a static busybox: install busybox-static (scripts/provision.sh does)")
	}
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, data, 0o755)
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for ; dir != "/"; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
	}
	return "", fmt.Errorf("no go.mod above the test directory")
}

// describeStage names the stage under test, from the STAGE file the
// generator writes (the final source has none).
func describeStage(root string) string {
	data, err := os.ReadFile(filepath.Join(root, "STAGE"))
	if err != nil {
		return "the final source"
	}
	slug := strings.TrimSpace(string(data))
	ch, err := chapters.Find(slug)
	if err != nil {
		return "unknown stage " + slug
	}
	return fmt.Sprintf("stage %q (chapter %d of %d: %s)", slug, ch.Number, len(chapters.All()), ch.Title)
}

// goBinary finds the go command even under sudo, whose PATH may lack it.
func goBinary() string {
	if path, err := exec.LookPath("go"); err == nil {
		return path
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

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
	//book:add cgroups
	// Unique on the machine, even with several test binaries at once.
	e.cgroupParent = fmt.Sprintf("mydocker-test-%d-%d", os.Getpid(), envCount.Add(1))
	// Cleanups run last-in first-out: the parent goes before the leak check.
	t.Cleanup(e.removeCgroupParent)
	//book:end
	//book:add rootfs
	e.installTestImage()
	t.Cleanup(e.checkContainerDirsRemoved)
	//book:end
	return e
}

// environ is the environment mydocker runs with in the tests.
func (e *env) environ() []string {
	env := append(os.Environ(), "MYDOCKER_ROOT="+e.root)
	//book:add cgroups
	env = append(env, "MYDOCKER_CGROUP_PARENT="+e.cgroupParent)
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
	//book:add rootfs
	if i := slices.Index(args, "--"); i >= 0 && slices.Contains(args[:i], "run") {
		return slices.Concat(args[:i+1], []string{testImageName}, args[i+1:])
	}
	//book:end
	return args
}

// mydocker runs mydocker with args and waits for it.
func (e *env) mydocker(args ...string) result {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := e.command(ctx, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{args: append([]string{"mydocker"}, args...), stdout: stdout.String(), stderr: stderr.String()}
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
	deadline := time.After(20 * time.Second)
	for !seen(r.outputSoFar()) {
		select {
		case <-r.done:
			if seen(r.outputSoFar()) {
				return
			}
			r.t.Fatalf("mydocker exited before printing %s\n%s", what, r)
		case <-deadline:
			r.t.Fatalf("mydocker did not print %s within 20s\n%s", what, r)
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
	case <-time.After(5 * time.Second):
	}
}

// describeOurProcesses shows, for a failure message, what the kernel says
// about each process running a binary of the tests.
func describeOurProcesses() string {
	var b strings.Builder
	for _, pid := range ourPIDs() {
		status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		b.WriteString(fmt.Sprintf("PID %d:\n", pid))
		for _, line := range strings.Split(string(status), "\n") {
			for _, field := range []string{"Name:", "State:", "PPid:", "NSpid:", "SigPnd:", "ShdPnd:", "SigBlk:", "SigIgn:", "SigCgt:"} {
				if strings.HasPrefix(line, field) {
					b.WriteString("  " + line + "\n")
				}
			}
		}
	}
	return b.String()
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

func childrenOf(parent int) []int {
	var children []int
	for _, pid := range allPIDs() {
		if ppid, err := parentOf(pid); err == nil && ppid == parent {
			children = append(children, pid)
		}
	}
	return children
}

func allPIDs() []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

func parentOf(pid int) (int, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces and parentheses: fields start after the last ')'.
	fields := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
	return strconv.Atoi(fields[1])
}

// snapshot is what a test could leak, taken before and after it.
type snapshot map[string][]string

// resources are the kinds of things a test could leave behind. Later
// chapters add cgroups, network devices and more.
var resources = map[string]func() []string{
	"host mounts":                      hostMounts,
	"mydocker processes":               ourProcesses,
	"processes in a new PID namespace": processesInOtherPIDNamespaces,
	//book:add cgroups
	"cgroups": ourCgroups,
	//book:end
}

func takeSnapshot() snapshot {
	s := snapshot{}
	for name, list := range resources {
		s[name] = list()
	}
	return s
}

// checkLeaks fails the test for anything present now that was not before.
// Processes take a moment to die after their parent, so it retries briefly.
func checkLeaks(t *testing.T, before snapshot) {
	var leaks []string
	for attempt := 0; attempt < 50; attempt++ {
		leaks = leaks[:0]
		for name, list := range resources {
			for _, item := range list() {
				if !slices.Contains(before[name], item) {
					leaks = append(leaks, name+": "+item)
				}
			}
		}
		if len(leaks) == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("the test left these behind:\n  %s", strings.Join(leaks, "\n  "))
}

func hostMounts() []string {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return []string{"cannot read /proc/self/mountinfo: " + err.Error()}
	}
	return strings.Split(strings.TrimSpace(string(data)), "\n")
}

// ourProcesses lists the processes running the binaries the tests built:
// every container process and every mydocker.
func ourProcesses() []string {
	var list []string
	for _, pid := range ourPIDs() {
		exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		list = append(list, fmt.Sprintf("PID %d (%s)", pid, exe))
	}
	return list
}

func ourPIDs() []int {
	var pids []int
	for _, pid := range allPIDs() {
		exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		if err != nil {
			continue
		}
		exe = strings.TrimSuffix(exe, " (deleted)")
		if exe == mydockerBin || exe == probeBin || exe == busyboxBin {
			pids = append(pids, pid)
		}
	}
	return pids
}

func pidsOf(processes []report.Process) []int {
	var pids []int
	for _, p := range processes {
		pids = append(pids, p.PID)
	}
	return pids
}

// processesInOtherPIDNamespaces lists the processes that are not in the
// test's own PID namespace: every container process, whatever its binary.
func processesInOtherPIDNamespaces() []string {
	host, err := os.Readlink("/proc/self/ns/pid")
	if err != nil {
		return []string{"cannot read /proc/self/ns/pid: " + err.Error()}
	}
	var list []string
	for _, pid := range allPIDs() {
		ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid))
		if err != nil || ns == host {
			continue
		}
		//book:add cgroups
		// From now on every container process is in one of our cgroups:
		// the containers of other programs on the machine are not ours.
		if !inOurCgroups(pid) {
			continue
		}
		//book:end
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		list = append(list, fmt.Sprintf("PID %d (%s) in %s", pid, strings.TrimSpace(string(comm)), ns))
	}
	return list
}
