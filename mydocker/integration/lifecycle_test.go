//book:file lifecycle

package integration

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A shell that catches a signal, once it has said it is ready. As PID 1
// of its namespace, busybox sh gets only the signals it has a handler for.
func trapping(signal, onIt string) []string {
	return []string{busyboxCmd, "sh", "-c", "trap '" + onIt + "' " + signal + "; echo ready; while :; do " + busyboxCmd + " sleep 0.05; done"}
}

// waitForLog waits until the container's log holds want.
func (e *env) waitForLog(ref, want string) {
	e.t.Helper()
	deadline := time.Now().Add(patient(20 * time.Second))
	for {
		r := e.mydocker("logs", ref)
		if strings.Contains(r.stdout, want) {
			return
		}
		require.True(e.t, time.Now().Before(deadline), "%q never showed in the log of %s\n%s", want, ref, r)
		time.Sleep(20 * time.Millisecond)
	}
}

// timed runs mydocker and says how long it took.
func (e *env) timed(args ...string) (result, time.Duration) {
	e.t.Helper()
	start := time.Now()
	r := e.mydocker(args...)
	return r, time.Since(start)
}

// The kernel delivers no signal to a namespace's init that the init has
// no handler for (except SIGKILL and SIGSTOP from an ancestor namespace),
// so `sleep` as PID 1 ignores SIGTERM: stop waits its grace period out,
// then kills.
func TestStopKillsAPID1WithoutAHandlerAfterTheGracePeriod(t *testing.T) {
	e := newEnv(t)
	e.runDetached("--name", "sleeper", "--", busyboxCmd, "sleep", "1000")
	r, took := e.timed("stop", "-t", "1", "sleeper")
	require.Equal(t, 0, r.code, "%s", r)
	assert.Equal(t, "sleeper\n", r.stdout)
	assert.GreaterOrEqual(t, took, time.Second, "SIGTERM did nothing: stop waited the second")
	assert.Less(t, took, 4*time.Second, "then SIGKILL ended it at once")
	assert.Equal(t, "exited 137", e.inspect("sleeper", "{{.State.Status}} {{.State.ExitCode}}"), "128+9: killed")

	r = e.mydocker("stop", "sleeper")
	assert.Equal(t, 0, r.code, "stopping a stopped container does nothing, as in Docker\n%s", r)
	require.Equal(t, 0, e.mydocker("start", "sleeper").code)
	r = e.mydocker("rm", "sleeper")
	assert.Equal(t, 1, r.code, "%s", r)
	assert.Contains(t, r.stderr, `cannot remove container "sleeper": container is running: stop the container before removing or force remove`)
}

func TestStopLetsAHandlerFinish(t *testing.T) {
	e := newEnv(t)
	e.runDetached(append([]string{"--name", "polite", "--"}, trapping("TERM", "echo bye; exit 7")...)...)
	e.waitForLog("polite", "ready")
	r, took := e.timed("stop", "polite")
	require.Equal(t, 0, r.code, "%s", r)
	assert.Less(t, took, 5*time.Second, "the handler ran at once; stop did not wait its 10 seconds")
	assert.Equal(t, "7", e.inspect("polite", "{{.State.ExitCode}}"))
	assert.Contains(t, e.mydocker("logs", "polite").stdout, "bye\n")
}

func TestStopSignalOfTheContainerAndOfTheCommand(t *testing.T) {
	e := newEnv(t)
	e.runDetached(append([]string{"--name", "usr1", "--stop-signal", "SIGUSR1", "--"}, trapping("USR1", "exit 5")...)...)
	e.waitForLog("usr1", "ready")
	assert.Equal(t, "SIGUSR1", e.inspect("usr1", "{{.Config.StopSignal}}"))
	require.Equal(t, 0, e.mydocker("stop", "usr1").code)
	assert.Equal(t, "5", e.inspect("usr1", "{{.State.ExitCode}}"))

	e.runDetached(append([]string{"--name", "int", "--"}, trapping("INT", "exit 6")...)...)
	e.waitForLog("int", "ready")
	require.Equal(t, 0, e.mydocker("stop", "-s", "int", "int").code)
	assert.Equal(t, "6", e.inspect("int", "{{.State.ExitCode}}"))

	r := e.mydocker("run", "--stop-signal", "NOPE", "--", "true")
	assert.Equal(t, 125, r.code, "%s", r)
	assert.Contains(t, r.stderr, "invalid signal NOPE")
}

func TestKill(t *testing.T) {
	sameOnEveryCgroupVersion(t)
	e := newEnv(t)
	e.runDetached(append([]string{"--name", "target", "--"}, trapping("USR1", "echo got USR1")...)...)
	e.waitForLog("target", "ready")
	r := e.mydocker("kill", "-s", "USR1", "target")
	require.Equal(t, 0, r.code, "%s", r)
	assert.Equal(t, "target\n", r.stdout)
	e.waitForLog("target", "got USR1")
	assert.Equal(t, "running", e.inspect("target", "{{.State.Status}}"), "a handled signal does not end it")

	require.Equal(t, 0, e.mydocker("kill", "target").code)
	e.waitUntilExited("target")
	assert.Equal(t, "137", e.inspect("target", "{{.State.ExitCode}}"), "SIGKILL by default")

	r = e.mydocker("kill", "target")
	assert.Equal(t, 1, r.code, "%s", r)
	assert.Contains(t, r.stderr, "cannot kill: container target is not running")
	r = e.mydocker("kill", "-s", "NOPE", "target")
	assert.Equal(t, 1, r.code, "%s", r)
	assert.Contains(t, r.stderr, "invalid signal NOPE")
}

func TestWaitPrintsTheExitCode(t *testing.T) {
	sameOnEveryCgroupVersion(t)
	e := newEnv(t)
	e.runDetached("--name", "three", "--", busyboxCmd, "sh", "-c", "sleep 0.3; exit 3")
	r, took := e.timed("wait", "three")
	require.Equal(t, 0, r.code, "%s", r)
	assert.Equal(t, "3\n", r.stdout)
	assert.Greater(t, took, 100*time.Millisecond, "it waited")
	r = e.mydocker("wait", "three")
	assert.Equal(t, "3\n", r.stdout, "and again, once it has exited\n%s", r)
	r = e.mydocker("wait", "nosuch")
	assert.Equal(t, 1, r.code, "%s", r)
}

// counter runs a loop that writes an ever larger number to /tmp/n.
func (e *env) counter(name string, flags ...string) (read func() string) {
	e.t.Helper()
	// Written aside and renamed: "> /tmp/n" empties the file before it
	// writes, and a commit that pauses the container in between would
	// keep an empty file (one CI run in many did).
	args := append(append([]string{"--name", name}, flags...), "--", busyboxCmd, "sh", "-c",
		"i=0; while :; do i=$((i+1)); echo $i > /tmp/n.new; "+busyboxCmd+" mv -f /tmp/n.new /tmp/n; "+busyboxCmd+" sleep 0.01; done")
	e.runDetached(args...)
	file := filepath.Join("/proc", e.inspect(name, "{{.State.Pid}}"), "root/tmp/n")
	read = func() string {
		data, _ := os.ReadFile(file)
		return strings.TrimSpace(string(data))
	}
	deadline := time.Now().Add(patient(10 * time.Second))
	for read() == "" {
		require.True(e.t, time.Now().Before(deadline), "the counter never started")
		time.Sleep(10 * time.Millisecond)
	}
	return read
}

func TestPauseFreezesEveryProcess(t *testing.T) {
	e := newEnv(t)
	read := e.counter("busy")
	r := e.mydocker("pause", "busy")
	require.Equal(t, 0, r.code, "%s", r)
	assert.Equal(t, "busy\n", r.stdout)
	frozen := read()
	time.Sleep(200 * time.Millisecond)
	assert.Equal(t, frozen, read(), "no process of the container ran while it was paused")
	assert.Equal(t, "paused true", e.inspect("busy", "{{.State.Status}} {{.State.Paused}}"))
	assert.Regexp(t, `Up .* \(Paused\) +busy\n`, e.mydocker("ps").stdout)

	r = e.mydocker("pause", "busy")
	assert.Equal(t, 1, r.code, "%s", r)
	assert.Contains(t, r.stderr, "container busy is already paused")
	r = e.mydocker("exec", "busy", "true")
	assert.Equal(t, 1, r.code, "%s", r)
	assert.Contains(t, r.stderr, "container busy is paused: unpause it before exec")

	require.Equal(t, 0, e.mydocker("unpause", "busy").code)
	deadline := time.Now().Add(patient(5 * time.Second))
	for read() == frozen && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	assert.NotEqual(t, frozen, read(), "it counts again")
	assert.Equal(t, "running false", e.inspect("busy", "{{.State.Status}} {{.State.Paused}}"))
	r = e.mydocker("unpause", "busy")
	assert.Equal(t, 1, r.code, "%s", r)
	assert.Contains(t, r.stderr, "container busy is not paused")
}

// On cgroup v1 a frozen task does not even die of SIGKILL until it is
// thawed: stop, kill and rm -f thaw after they have sent it.
func TestAPausedContainerCanBeStoppedKilledAndRemoved(t *testing.T) {
	for _, how := range [][]string{{"stop", "-t", "1"}, {"kill"}, {"rm", "-f"}} {
		t.Run(how[0], func(t *testing.T) {
			e := newEnv(t)
			e.counter("frozen")
			require.Equal(t, 0, e.mydocker("pause", "frozen").code)
			require.Equal(t, "paused", e.inspect("frozen", "{{.State.Status}}"), "it is paused for real")
			r, took := e.timed(append(how, "frozen")...)
			require.Equal(t, 0, r.code, "%s", r)
			assert.Less(t, took, 5*time.Second, "%s", r)
			if how[0] == "rm" {
				assert.Contains(t, e.mydocker("ps", "-a").stdout, "CONTAINER ID")
				assert.NotContains(t, e.mydocker("ps", "-a").stdout, "frozen")
				return
			}
			e.waitUntilExited("frozen")
			assert.Equal(t, "137", e.inspect("frozen", "{{.State.ExitCode}}"))
		})
	}
}

func TestContainerPrune(t *testing.T) {
	e := newEnv(t)
	e.runDetached("--name", "alive", "--", busyboxCmd, "sleep", "1000")
	var exited []string
	for _, name := range []string{"exitedone", "exitedtwo"} {
		require.Equal(t, 0, e.mydocker("run", "--keep", "--name", name, "--", busyboxCmd, "sh", "-c", "echo data > /kept").code)
		exited = append(exited, e.inspect(name, "{{.Id}}"))
	}
	r := e.mydocker("container", "prune", "-f")
	require.Equal(t, 0, r.code, "%s", r)
	assert.True(t, strings.HasPrefix(r.stdout, "Deleted Containers:\n"), "%s", r)
	for _, id := range exited {
		assert.Contains(t, r.stdout, id+"\n")
	}
	assert.Regexp(t, `\nTotal reclaimed space: [0-9.]+kB\n$`, r.stdout, "their writable layers")
	ps := e.mydocker("ps", "-a")
	assert.Contains(t, ps.stdout, "alive")
	assert.NotContains(t, ps.stdout, "exited")

	r = e.mydocker("container", "prune", "-f")
	assert.Equal(t, "Total reclaimed space: 0B\n", r.stdout, "%s", r)
}

func TestEnvironmentFlags(t *testing.T) {
	sameOnEveryCgroupVersion(t)
	e := newEnv(t)
	envFile := filepath.Join(t.TempDir(), "env")
	require.NoError(t, os.WriteFile(envFile, []byte("# a comment\n\nFROM_FILE=1\n  OVERRIDDEN=file\nMYDOCKER_ROOT\n"), 0o600))
	r := e.mydocker("run", "--env-file", envFile, "-e", "OVERRIDDEN=flag", "-e", "PATH=/bin", "-e", "EMPTY=",
		"-e", "UNSET_IN_CALLER", "-e", "BYTES=caf\xe9", "--", busyboxCmd, "env")
	require.Equal(t, 0, r.code, "%s", r)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	assert.Equal(t, "PATH=/bin", lines[0], "an override keeps the default's place, as in Docker")
	for _, want := range []string{"FROM_FILE=1", "OVERRIDDEN=flag", "MYDOCKER_ROOT=" + e.root, "EMPTY=", "BYTES=caf\xe9", "HOME=/root"} {
		assert.Contains(t, lines, want, "%s", r)
	}
	assert.NotContains(t, r.stdout, "UNSET_IN_CALLER", "KEY alone, unset in the caller, is left out")

	r = e.mydocker("run", "-e", "=x", "--", "true")
	assert.Equal(t, 125, r.code, "%s", r)
	assert.Contains(t, r.stderr, `invalid environment variable "=x"`)
	r = e.mydocker("run", "--env-file", "/no/such/file", "--", "true")
	assert.Equal(t, 125, r.code, "%s", r)
}

func TestHomeFollowsTheUserUnlessSet(t *testing.T) {
	sameOnEveryCgroupVersion(t)
	e := newEnv(t)
	for flags, want := range map[string]string{
		"":                            "/root",
		"-u nobody":                   "/nonexistent",
		"-u nobody -e HOME=/tmp/mine": "/tmp/mine",
	} {
		r := e.mydocker(append(append([]string{"run"}, strings.Fields(flags)...), "--", busyboxCmd, "sh", "-c", "echo $HOME")...)
		require.Equal(t, 0, r.code, "%s", r)
		assert.Equal(t, want+"\n", r.stdout, "run %s", flags)
	}
}

func TestWorkdirAndEntrypoint(t *testing.T) {
	sameOnEveryCgroupVersion(t)
	e := newEnv(t)
	r := e.mydocker("run", "-w", "/new/dir", "--", busyboxCmd, "pwd")
	require.Equal(t, 0, r.code, "%s", r)
	assert.Equal(t, "/new/dir\n", r.stdout, "made, as Docker does")
	r = e.mydocker("run", "--cap-drop", "ALL", "-u", "nobody", "-w", "/root", "--", busyboxCmd, "sh", "-c", "pwd; ls")
	assert.Equal(t, 1, r.code, "%s", r)
	assert.Equal(t, "/root\n", r.stdout, "entered as root before the user switch, as runc does")
	assert.Contains(t, r.stderr, "Permission denied", "but the user may not read it")
	r = e.mydocker("run", "-w", "/etc/passwd", "--", busyboxCmd, "pwd")
	assert.Equal(t, 125, r.code, "%s", r)
	assert.Contains(t, r.stderr, "making the working directory /etc/passwd: mkdir /etc/passwd: not a directory")
	r = e.mydocker("run", "-w", "relative", "--", busyboxCmd, "pwd")
	assert.Equal(t, 125, r.code, "%s", r)

	r = e.mydocker("run", "--keep", "--name", "echoer", "--entrypoint", busyboxCmd, "--", "echo", "hi")
	require.Equal(t, 0, r.code, "%s", r)
	assert.Equal(t, "hi\n", r.stdout)
	assert.Equal(t, "["+busyboxCmd+"] [echo hi] "+busyboxCmd, e.inspect("echoer", "{{.Config.Entrypoint}} {{.Config.Cmd}} {{.Path}}"))
	require.Equal(t, 0, e.mydocker("rm", "echoer").code)

	e.runDetached("--name", "srv", "-w", "/srv", "--", busyboxCmd, "sleep", "1000")
	r = e.mydocker("exec", "srv", busyboxCmd, "pwd")
	assert.Equal(t, "/srv\n", r.stdout, "exec starts where the container's command did\n%s", r)
}

// start runs the same container again: what it wrote is still there.
func TestStartKeepsTheWritableLayer(t *testing.T) {
	e := newEnv(t)
	count := []string{"--", busyboxCmd, "sh", "-c", "echo x >> /written; wc -l < /written; exit 3"}
	r := e.mydocker(append([]string{"run", "--keep", "--name", "keeper"}, count...)...)
	require.Equal(t, 3, r.code, "%s", r)
	assert.Equal(t, "1\n", r.stdout)
	id := e.inspect("keeper", "{{.Id}}")
	t.Cleanup(func() { e.mydocker("rm", "-f", id) })

	r = e.mydocker("start", "-a", "keeper")
	assert.Equal(t, 3, r.code, "start -a exits with the container's status\n%s", r)
	assert.Equal(t, "2\n", r.stdout, "the file written by the first run is still there\n%s", r)

	r = e.mydocker("start", "keeper")
	require.Equal(t, 0, r.code, "%s", r)
	assert.Equal(t, "keeper\n", r.stdout)
	assert.Equal(t, "3\n", e.mydocker("wait", "keeper").stdout)
	assert.Equal(t, "2\n3\n", e.mydocker("logs", "keeper").stdout, "the log of both starts")
	assert.Equal(t, id, e.inspect("keeper", "{{.Id}}"), "the same container")
}

// A start writes the container's record again, and must replace each of
// its files whole: rewritten in place, a start killed half-way through
// left a record the next command could not read, and the container, taken
// for a create that never finished, was removed with its layer.
func TestAStartReplacesTheRecordWhole(t *testing.T) {
	e := newEnv(t)
	r := e.mydocker("run", "--keep", "--name", "recorded", "--", busyboxCmd, "true")
	require.Equal(t, 0, r.code, "%s", r)
	id := e.inspect("recorded", "{{.Id}}")
	t.Cleanup(func() { e.mydocker("rm", "-f", id) })
	dir := filepath.Join(e.root, "containers", id)
	files := []string{"config.json", "config.wire", "seccomp.bpf"}
	before := map[string]os.FileInfo{}
	for _, name := range files {
		fi, err := os.Stat(filepath.Join(dir, name))
		require.NoError(t, err)
		before[name] = fi
	}

	r = e.mydocker("start", "-a", "recorded")
	require.Equal(t, 0, r.code, "%s", r)
	for _, name := range files {
		fi, err := os.Stat(filepath.Join(dir, name))
		require.NoError(t, err)
		assert.False(t, os.SameFile(before[name], fi), "%s: a new file renamed over the old one, not the old one rewritten", name)
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, entry := range entries {
		assert.False(t, strings.HasPrefix(entry.Name(), "."), "a temporary file left behind: %s", entry.Name())
	}
}

// The restarted container gets every restriction again (the compiled
// filter is not in config.json), and its arguments byte for byte.
func TestStartKeepsTheRestrictionsAndTheBytes(t *testing.T) {
	sameOnEveryCgroupVersion(t)
	e := newEnv(t)
	r := e.mydocker("run", "--keep", "--name", "exact", "--cap-drop", "ALL", "--", busyboxCmd, "sh", "-c",
		`printf '%s|' "$1" | od -An -c; grep -E '^(Seccomp|CapEff):' /proc/self/status`, "sh", "caf\xe9")
	require.Equal(t, 0, r.code, "%s", r)
	first := r.stdout
	assert.Contains(t, first, "Seccomp:\t2")
	assert.Contains(t, first, "351")
	t.Cleanup(func() { e.mydocker("rm", "-f", "exact") })
	r = e.mydocker("start", "-a", "exact")
	require.Equal(t, 0, r.code, "%s", r)
	assert.Equal(t, first, r.stdout)
}

func TestAFailedStartLeavesTheContainerStopped(t *testing.T) {
	e := newEnv(t)
	volume := filepath.Join(t.TempDir(), "vol")
	r := e.mydocker("run", "--keep", "--name", "fragile", "-v", volume+":/data", "--", busyboxCmd, "touch", "/data/ok")
	require.Equal(t, 0, r.code, "%s", r)
	t.Cleanup(func() { e.mydocker("rm", "-f", "fragile") })
	require.NoError(t, os.RemoveAll(volume))
	require.NoError(t, os.WriteFile(volume, nil, 0o600)) // a file cannot be mounted on /data

	r = e.mydocker("start", "fragile")
	assert.Equal(t, 1, r.code, "%s", r)
	assert.Equal(t, "exited 0", e.inspect("fragile", "{{.State.Status}} {{.State.ExitCode}}"), "as it was")
	for _, cg := range ourCgroups() {
		assert.NotContains(t, cg, e.inspect("fragile", "{{.Id}}"), "the failed start's cgroup is gone")
	}

	require.NoError(t, os.Remove(volume))
	r = e.mydocker("start", "-a", "fragile")
	assert.Equal(t, 0, r.code, "and it starts once the cause is gone\n%s", r)
}

func TestRestart(t *testing.T) {
	e := newEnv(t)
	e.runDetached("--name", "again", "--", busyboxCmd, "sleep", "1000")
	pid := e.inspect("again", "{{.State.Pid}}")
	r, took := e.timed("restart", "-t", "1", "again")
	require.Equal(t, 0, r.code, "%s", r)
	assert.Equal(t, "again\n", r.stdout)
	assert.Less(t, took, 5*time.Second)
	assert.Equal(t, "running", e.inspect("again", "{{.State.Status}}"))
	assert.NotEqual(t, pid, e.inspect("again", "{{.State.Pid}}"), "a new init")

	r = e.mydocker("start", "again")
	assert.Equal(t, 0, r.code, "starting a running container does nothing, as in Docker\n%s", r)
}

// Whichever step of a start fails, the container stays as it was: stopped,
// with its exit code and its layer, and nothing of the failed start left
// (the harness checks cgroups and processes after each).
func TestEveryFailedStepOfStartLeavesTheContainerStopped(t *testing.T) {
	e := newEnv(t)
	r := e.mydocker("run", "--keep", "--name", "kept", "--", busyboxCmd, "sh", "-c", "echo x >> /written; wc -l < /written; exit 4")
	require.Equal(t, 4, r.code, "%s", r)
	t.Cleanup(func() { e.mydocker("rm", "-f", "kept") })
	for _, step := range allSteps() {
		ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
		cmd := e.command(ctx, "start", "kept")
		withFault(t, cmd, step)
		r := e.run(ctx, cmd)
		cancel()
		assert.Equal(t, 1, r.code, "a start failing at %s fails\n%s", step, r)
		assert.Equal(t, "exited 4", e.inspect("kept", "{{.State.Status}} {{.State.ExitCode}}"), "after a failure at %s", step)
	}
	// A start that failed after the command was running (start/running)
	// may have let it write a line: at least the first run's is there.
	r = e.mydocker("start", "-a", "kept")
	assert.Regexp(t, `^([2-9]|\d\d)\n$`, r.stdout, "the layer is the one the first run wrote\n%s", r)
}

// zombies counts the container's processes that have exited and that no
// one has waited for.
func (e *env) zombies(ref string) int {
	e.t.Helper()
	r := e.mydocker("exec", ref, busyboxCmd, "ps", "-o", "stat")
	require.Equal(e.t, 0, r.code, "%s", r)
	return strings.Count(r.stdout, "Z")
}

// Orphans become PID 1's children; `sleep` as PID 1 never waits for
// them, the reaper does.
func TestInitReapsOrphans(t *testing.T) {
	sameOnEveryCgroupVersion(t)
	e := newEnv(t)
	for name, flags := range map[string][]string{"bare": nil, "reaped": {"--init"}} {
		e.runDetached(append(append([]string{"--name", name}, flags...), "--", busyboxCmd, "sleep", "1000")...)
		r := e.mydocker("exec", name, busyboxCmd, "sh", "-c", "for i in 1 2 3 4 5; do "+busyboxCmd+" true & done")
		require.Equal(t, 0, r.code, "%s", r)
	}
	deadline := time.Now().Add(patient(10 * time.Second))
	for e.zombies("bare") < 5 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	assert.Equal(t, 5, e.zombies("bare"), "without --init the five stay zombies")
	assert.Equal(t, 0, e.zombies("reaped"), "with --init none is left")
	r := e.mydocker("exec", "reaped", busyboxCmd, "ps", "-o", "pid,args")
	assert.Regexp(t, `\n +1 /dev/init reap --exec-fd 4 -- `+busyboxCmd+` sleep 1000\n`, r.stdout, "the reaper is PID 1\n%s", r)
	assert.Equal(t, "true", e.inspect("reaped", "{{.HostConfig.Init}}"))
}

// The reaper passes SIGTERM on to the command, which is not PID 1 and
// dies of it: stop does not wait its grace period out.
//
// run -d says the container runs only once the reaper listens: a stop
// just after it is never the Go runtime's default for SIGTERM (exit 2).
func TestInitPassesSignalsOn(t *testing.T) {
	sameOnEveryCgroupVersion(t)
	e := newEnv(t)
	for i := range 10 {
		name := fmt.Sprintf("polite%d", i)
		e.runDetached("--init", "--name", name, "--", busyboxCmd, "sleep", "1000")
		r, took := e.timed("stop", name)
		require.Equal(t, 0, r.code, "%s", r)
		assert.Less(t, took, 3*time.Second)
		assert.Equal(t, "143", e.inspect(name, "{{.State.ExitCode}}"), "128+15: the command died of SIGTERM")
	}
}

func TestInitKeepsStatusesAndTheHostBinarySafe(t *testing.T) {
	e := newEnv(t)
	r := e.mydocker("run", "--init", "--", busyboxCmd, "sh", "-c", "exit 3")
	assert.Equal(t, 3, r.code, "%s", r)
	r = e.mydocker("run", "--init", "--", "no-such-command")
	assert.Equal(t, 127, r.code, "%s", r)
	r = e.mydocker("run", "--init", "--", busyboxCmd, "sh", "-c", "echo x > /proc/1/exe")
	assert.Equal(t, 1, r.code, "%s", r)
	assert.Contains(t, r.stderr, "Read-only file system", "mydocker's binary, bound read-only")
	assert.NotContains(t, e.mydocker("run", "--", busyboxCmd, "ls", "/dev").stdout, "init", "only with --init")
	r = e.mydocker("run", "--init", "--pids-limit", "4", "--", "true")
	assert.Equal(t, 125, r.code, "a limit that would kill the reaper is refused\n%s", r)
	assert.Contains(t, r.stderr, "--init with --pids-limit 4: the reaper is a Go program")
	r = e.mydocker("run", "--init", "--pids-limit", "16", "--", busyboxCmd, "sh", "-c", busyboxCmd+" true & wait")
	assert.Equal(t, 0, r.code, "%s", r)
}

// A watcher killed while its container is paused: the kernel sends the
// init its parent-death SIGKILL, which a frozen task (v1) takes only once
// thawed. The next command thaws the cgroup before it removes it.
func TestAPausedContainerWhoseWatcherIsKilledIsCleanedUp(t *testing.T) {
	e := newEnv(t)
	e.counter("orphan")
	pid, err := strconv.Atoi(e.inspect("orphan", "{{.State.Pid}}"))
	require.NoError(t, err)
	require.Equal(t, 0, e.mydocker("pause", "orphan").code)
	require.NoError(t, syscall.Kill(monitorOf(t, pid), syscall.SIGKILL))

	r := e.mydocker("ps", "-a")
	assert.Regexp(t, `Exited \(unknown\) .* ago +orphan\n`, r.stdout, "%s", r)
	assert.Empty(t, r.stderr, "the cgroup was removed without a warning")
	waitDead(t, pid)
	id := e.inspect("orphan", "{{.Id}}")
	for _, cg := range ourCgroups() {
		assert.NotContains(t, cg, id, "the killed container's cgroup is gone")
	}
}

// SIGKILL at random moments of start (its monitor), stop and pause: the
// next commands must still see the container truthfully, start it again
// with its layer, and leave nothing behind (the leak check).
func TestSIGKILLDuringStartStopAndPause(t *testing.T) {
	e := newEnv(t)
	e.runDetached("--name", "victim", "--", busyboxCmd, "sh", "-c", "echo x >> /written; exec "+busyboxCmd+" sleep 1000")
	seed := uint64(time.Now().UnixNano())
	t.Logf("the delays' seed: %d", seed)
	rng := rand.New(rand.NewPCG(seed, 10))
	t.Cleanup(func() { e.mydocker("unpause", "victim"); e.mydocker("rm", "-f", "victim") })
	for i := range 24 {
		delay := time.Duration(rng.IntN(30_000)) * time.Microsecond
		switch i % 3 {
		case 0: // start, its monitor killed while it creates or starts
			before := e.monitors()
			run := e.start("start", "victim")
			time.Sleep(delay)
			for _, pid := range e.monitors() {
				if !slices.Contains(before, pid) {
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
			}
			run.wait()
		case 1: // stop, killed before or after its SIGKILL
			e.mydocker("start", "victim")
			e.killAfter(delay, "stop", "-t", "0", "victim")
		case 2: // pause, killed while it freezes
			e.mydocker("start", "victim")
			e.killAfter(delay, "pause", "victim")
			e.mydocker("unpause", "victim")
		}
		ps := e.mydocker("ps", "-a")
		require.Empty(t, ps.stderr, "the next command settles what the kill left, silently (round %d)", i)
		assert.Regexp(t, `(Up .*|Exited \((unknown|137|0)\) .* ago) +victim\n`, ps.stdout, "round %d", i)
		e.mydocker("stop", "-t", "0", "victim")
	}
	require.Equal(t, 0, e.mydocker("start", "victim").code)
	r := e.mydocker("exec", "victim", busyboxCmd, "sh", "-c", "wc -l < /written")
	require.Equal(t, 0, r.code, "%s", r)
	t.Logf("lines written by the starts that got that far: %s", strings.TrimSpace(r.stdout))
	assert.NotEqual(t, "1\n", r.stdout, "the layer kept every start's line")
}

// As Docker does, stop thaws a paused container after its stop signal:
// the handler runs, and stop need not wait out the grace period.
func TestStopOfAPausedContainerLetsItsHandlerRun(t *testing.T) {
	e := newEnv(t)
	e.runDetached(append([]string{"--name", "sleepy", "--"}, trapping("TERM", "echo bye; exit 7")...)...)
	e.waitForLog("sleepy", "ready")
	require.Equal(t, 0, e.mydocker("pause", "sleepy").code)
	r, took := e.timed("stop", "-t", "10", "sleepy")
	require.Equal(t, 0, r.code, "%s", r)
	assert.Less(t, took, 5*time.Second, "the handler ran once thawed")
	assert.Equal(t, "7", e.inspect("sleepy", "{{.State.ExitCode}}"))
	assert.Contains(t, e.mydocker("logs", "sleepy").stdout, "bye\n")
}
