//book:file proc

package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/mydocker-book/mydocker/mydocker/probe/report"
)

func TestCommandIsPID1AndProcIsTheContainers(t *testing.T) {
	e := newEnv(t)
	inside, r := e.probe()
	assert.Equal(t, 1, inside.PID, "the init execs the command, so the command is PID 1\n%s", r)
	assert.Equal(t, 0, inside.PPID, "PID 1's parent is outside its namespace\n%s", r)
	assert.Equal(t, "1", inside.ProcSelf, "/proc belongs to the container's PID namespace\n%s", r)
	assert.Equal(t, []report.Process{{PID: 1, Comm: "probe"}}, inside.Processes, "the container's /proc lists only its own processes\n%s", r)
}

// The kernel protects a PID namespace's init from signals it has no handler
// for when they come from inside the namespace, SIGKILL included.
func TestPID1IgnoresUnhandledSignalsFromInside(t *testing.T) {
	e := newEnv(t)
	r := e.mydocker("run", "--", "sh", "-c", "kill -9 $$; echo survived")
	assert.Equal(t, 0, r.code, r.String())
	assert.Equal(t, "survived\n", r.stdout, r.String())
}

func TestSignalsAreForwardedToTheContainer(t *testing.T) {
	e := newEnv(t)
	run := e.start("run", "--", probeCmd, "wait-signals")
	run.expectLine("ready")
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2} {
		run.signal(sig)
		run.expectLine("signal: " + unix.SignalName(sig))
	}
	run.signal(syscall.SIGTERM)
	run.expectLine("signal: SIGTERM")
	assert.Equal(t, 0, run.wait(), "the probe exits 0 on SIGTERM, and mydocker passes that on\n%s", run)
}

// A PID 1 without a handler ignores the forwarded SIGTERM: that is why
// "docker stop" falls back to SIGKILL after a grace period.
func TestForwardedTERMDoesNotStopPID1WithoutHandler(t *testing.T) {
	e := newEnv(t)
	run := e.start("--debug", "run", "--", "sh", "-c", "echo ready; exec "+busyboxCmd+" sleep 60")
	run.expectLine("ready")
	run.waitForPID1("busybox")
	run.signal(syscall.SIGTERM)
	time.Sleep(500 * time.Millisecond)
	run.requireRunning("the container stopped on a SIGTERM it does not handle")
	assert.Contains(t, run.String(), "forwarding SIGTERM")
	assert.Equal(t, 137, run.killContainer(), run.String())
}

func TestCtrlCReachesTheContainerNotMydocker(t *testing.T) {
	e := newEnv(t)
	term := e.startOnTerminal("--debug", "run", "-it", "--", probeCmd, "wait-signals")
	term.expect("ready")
	term.send("\x03") // what the terminal sends for Ctrl-C
	term.expect("signal: SIGINT")
	term.signal(syscall.SIGTERM) // forwarded, ends the probe
	assert.Equal(t, 0, term.wait(), term.String())
	assert.NotContains(t, term.String(), "forwarding SIGINT", "Ctrl-C should go to the container's process group only")
	assert.Contains(t, term.String(), "forwarding SIGTERM")
}

// With -i on a terminal, the container reads the terminal, so it is its
// foreground group: Ctrl-C reaches it once, from the terminal, and mydocker
// does not forward a second copy.
func TestCtrlCReachesAnInteractiveContainerOnce(t *testing.T) {
	e := newEnv(t)
	term := e.startOnTerminal("--debug", "run", "-i", "--", probeCmd, "wait-signals")
	term.expect("ready")
	term.send("\x03")
	term.expect("signal: SIGINT")
	term.signal(syscall.SIGTERM)
	assert.Equal(t, 0, term.wait(), term.String())
	assert.Equal(t, 1, strings.Count(term.String(), "signal: SIGINT"), term.String())
}

// Now that the command is PID 1, Ctrl-C does not stop one that has no
// handler for SIGINT, just as "docker run -it IMAGE sleep 60" ignores it.
func TestCtrlCDoesNotStopPID1WithoutHandler(t *testing.T) {
	e := newEnv(t)
	term := e.startOnTerminal("run", "-it", "--", "sh", "-c", "echo ready; exec "+busyboxCmd+" sleep 60")
	term.expect("ready")
	term.waitForPID1("busybox")
	term.send("\x03")
	time.Sleep(500 * time.Millisecond)
	term.requireRunning("PID 1 stopped on a Ctrl-C it does not handle")
	assert.Equal(t, 137, term.killContainer(), term.String())
}

// A failure in the init, before the command runs, is reported by mydocker
// itself through the exec pipe.
func TestStartupFailureIsReportedByMydocker(t *testing.T) {
	e := newEnv(t)
	r := e.mydocker("--debug", "run", "--", "no-such-command-anywhere")
	assert.Equal(t, 127, r.code, r.String())
	assert.Regexp(t, `(?m)^mydocker: "no-such-command-anywhere": command not found`, r.stderr, r.String())
	assert.NotContains(t, r.stderr, "the init has exec'd the command", r.String())

	r = e.mydocker("--debug", "run", "--", probeCmd, "exit", "0")
	assert.Contains(t, r.stderr, "the init has exec'd the command", r.String())
}

// On a systemd host "/" is a shared mount, so a mount made in a new mount
// namespace propagates back unless the container makes its tree private.
// This host's "/" may be private, so the test builds a shared one: it runs
// mydocker inside a mount namespace of its own whose tree is shared, and
// checks that namespace is exactly as before, with a /proc that still works.
// The tree is made private first, then shared: that gives it peer groups
// of its own. (unshare --propagation shared would keep the host's on a
// systemd host, and a mydocker that forgot the private step, such as a
// lab's, would mount its /proc on the real host's.)
func TestHostMountsAndProcSurviveOnASharedRoot(t *testing.T) {
	e := newEnv(t)
	dir := e.root
	// Every step runs even if one fails, so the assertions below say what broke.
	script := strings.Join([]string{
		"mount --make-rshared /",
		"cat /proc/self/mountinfo > " + filepath.Join(dir, "before"),
		strings.Join(withImage([]string{mydockerBin, "run", "--", probeCmd}), " ") + " > " + filepath.Join(dir, "container.json"),
		"cat /proc/self/mountinfo > " + filepath.Join(dir, "after"),
		"echo $$ > " + filepath.Join(dir, "shell.pid"),
		probeBin + " > " + filepath.Join(dir, "host.json"),
	}, "; ")
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c", script)
	cmd.Env = e.environ()
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "script: %s\noutput:\n%s", script, out)

	before, after := readFile(t, dir, "before"), readFile(t, dir, "after")
	assert.Equal(t, before, after, "the container's mounts leaked into the (shared) host namespace")
	assert.Contains(t, before, "shared:", "the test's namespace should have a shared root")

	var inside, host report.Report
	require.NoError(t, json.Unmarshal([]byte(readFile(t, dir, "container.json")), &inside))
	for _, m := range inside.Mounts {
		assert.NotContains(t, m.Propagation, "shared", "mount %s in the container is still shared", m.Target)
	}
	require.NoError(t, json.Unmarshal([]byte(readFile(t, dir, "host.json")), &host))
	shellPID, err := strconv.Atoi(strings.TrimSpace(readFile(t, dir, "shell.pid")))
	require.NoError(t, err)
	assert.Contains(t, pidsOf(host.Processes), shellPID, "the host's /proc should still show host processes")
}

func readFile(t *testing.T, dir, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, name))
	require.NoError(t, err)
	return string(data)
}

// waitForPID1 waits until the container's first process runs the program
// comm: "ready" comes from the shell before it execs, and a signal sent in
// between would reach the shell, not the program under test.
func (r *running) waitForPID1(comm string) {
	r.t.Helper()
	pid := r.containerPID()
	require.Eventually(r.t, func() bool {
		data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		return strings.TrimSpace(string(data)) == comm
	}, patient(10*time.Second), 10*time.Millisecond, "PID 1 did not become %s\n%s", comm, r)
}
