//book:file detach

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/mydocker-book/mydocker/mydocker/state"
)

var fullID = regexp.MustCompile(`^[0-9a-f]{64}$`)

// runDetached runs `mydocker run -d` with args and returns the id it
// printed.
func (e *env) runDetached(args ...string) string {
	e.t.Helper()
	r := e.mydocker(append([]string{"run", "-d"}, args...)...)
	require.Equal(e.t, 0, r.code, "run -d failed\n%s", r)
	id := strings.TrimSpace(r.stdout)
	require.Regexp(e.t, fullID, id, "run -d prints the container's full id and nothing else\n%s", r)
	e.t.Cleanup(func() { e.mydocker("rm", "-f", id) })
	return id
}

// inspect returns what `mydocker inspect -f FORMAT REF` prints.
func (e *env) inspect(ref, format string) string {
	e.t.Helper()
	r := e.mydocker("inspect", "-f", format, ref)
	require.Equal(e.t, 0, r.code, "%s", r)
	return strings.TrimSpace(r.stdout)
}

// waitUntilExited waits until the container is recorded as stopped.
func (e *env) waitUntilExited(ref string) {
	e.t.Helper()
	deadline := time.Now().Add(patient(20 * time.Second))
	for e.inspect(ref, "{{.State.Status}}") != "exited" {
		require.True(e.t, time.Now().Before(deadline), "container %s did not exit within %v", ref, patient(20*time.Second))
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRunDetachedReturnsOnceTheCommandRuns(t *testing.T) {
	e := newEnv(t)
	id := e.runDetached("--", probeCmd, "sleep")
	assert.Equal(t, "running true", e.inspect(id, "{{.State.Status}} {{.State.Running}}"))
	pid, err := strconv.Atoi(e.inspect(id, "{{.State.Pid}}"))
	require.NoError(t, err)
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	require.NoError(t, err, "State.Pid is a live process")
	assert.Equal(t, probeCmd+"\x00sleep\x00", string(cmdline), "the command runs: the init has exec'd it")

	ps := e.mydocker("ps", "--no-trunc")
	require.Equal(t, 0, ps.code, "%s", ps)
	assert.Regexp(t, `(?m)^`+id+` +`+testImageName+` +"`+regexp.QuoteMeta(probeCmd)+` sleep" +.* ago +Up `, ps.stdout)

	rm := e.mydocker("rm", id)
	assert.Equal(t, 1, rm.code, "a running container is not removed without -f\n%s", rm)
	//book:replace detach lifecycle
	// assert.Contains(t, rm.stderr, "is running: stop it before removing it, or remove it with rm -f")
	//book:end
	//book:add lifecycle
	assert.Contains(t, rm.stderr, "container is running: stop the container before removing or force remove")
	//book:end
	rm = e.mydocker("rm", "-f", id[:8])
	require.Equal(t, 0, rm.code, "%s", rm)
	assert.Equal(t, id[:8]+"\n", rm.stdout, "rm prints each container as it was named")
	assert.NoDirExists(t, filepath.Join(e.root, "containers", id))
	waitDead(t, pid) // rm -f killed the container's init
}

func TestADetachedContainerIsWatchedByItsMonitor(t *testing.T) {
	e := newEnv(t)
	id := e.runDetached("--", probeCmd, "sleep")
	pid, err := strconv.Atoi(e.inspect(id, "{{.State.Pid}}"))
	require.NoError(t, err)
	monitor := monitorOf(t, pid)
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", monitor))
	require.NoError(t, err)
	assert.Equal(t, mydockerBin, exe, "the init's parent is mydocker's monitor")
	// The monitor reports the running container, then execs the watcher:
	// in between, and during the exec, its command line reads empty.
	var cmdline []byte
	deadline := time.Now().Add(patient(5 * time.Second))
	for !strings.Contains(string(cmdline), "\x00watch\x00") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		cmdline, err = os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", monitor))
		require.NoError(t, err)
	}
	assert.Contains(t, string(cmdline), "\x00watch\x00", "once the container runs, the monitor becomes the watcher")
	sid, err := unix.Getsid(monitor)
	require.NoError(t, err)
	assert.Equal(t, monitor, sid, "the monitor leads a session of its own, without a terminal")
}

func TestOnlyStdioReachesADetachedCommand(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := e.command(ctx, append([]string{"run", "-d", "--name", "fds", "--"}, listOwnDescriptors()...)...)
	cmd.ExtraFiles = openStrayDescriptors(t) // descriptors 3, 4, 5 in mydocker run -d
	r := e.run(ctx, cmd)
	require.Equal(t, 0, r.code, r.String())
	e.waitUntilExited("fds")
	logs := e.mydocker("logs", "fds")
	assert.Equal(t, []string{"0", "1", "2"}, strings.Fields(logs.stdout), "neither run -d's descriptors nor the monitor's reach the command")
	require.Equal(t, 0, e.mydocker("rm", "fds").code)
}

func TestLogsKeepEachStreamInDockersFormat(t *testing.T) {
	e := newEnv(t)
	id := e.runDetached("--name", "talker", "--", busyboxCmd, "sh", "-c",
		`echo out1; echo err1 >&2; printf 'half a line, '; sleep 0.1; echo 'the rest'; printf 'caf\351\n'; printf end`)
	e.waitUntilExited("talker")
	r := e.mydocker("logs", "talker")
	require.Equal(t, 0, r.code, "%s", r)
	assert.Equal(t, "out1\nhalf a line, the rest\ncaf\uFFFD\nend", r.stdout, "bytes that are not UTF-8 come back as U+FFFD, as in Docker's json-file logs")
	assert.Equal(t, "err1\n", r.stderr)

	data, err := os.ReadFile(filepath.Join(e.root, "containers", id, id+"-json.log"))
	require.NoError(t, err)
	var entries []struct{ Log, Stream, Time string }
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var entry struct{ Log, Stream, Time string }
		require.NoError(t, json.Unmarshal([]byte(line), &entry), "every line is one JSON object:\n%s", data)
		_, err = time.Parse(time.RFC3339Nano, entry.Time)
		assert.NoError(t, err, "the time is RFC 3339 with nanoseconds, as Docker writes it")
		entries = append(entries, entry)
	}
	var logged []string
	for _, entry := range entries {
		logged = append(logged, entry.Stream+": "+entry.Log)
	}
	assert.ElementsMatch(t, []string{"stdout: out1\n", "stderr: err1\n", "stdout: half a line, the rest\n", "stdout: caf\uFFFD\n", "stdout: end"}, logged,
		"one entry a line, a line written in two parts included; the last, without newline, when the container ends")

	// The two streams are copied side by side, so err1 may land anywhere
	// among stdout's entries (on a slow machine after caf), as in Docker's
	// log: the tail is the file's last two entries, each on its stream.
	want := map[string]string{}
	for _, entry := range entries[len(entries)-2:] {
		want[entry.Stream] += entry.Time + " " + entry.Log
	}
	r = e.mydocker("logs", "--tail", "2", "-t", id[:12])
	require.Equal(t, 0, r.code, "%s", r)
	assert.Equal(t, want["stdout"], r.stdout, "the last two entries, each with its time as the log has it (RFC 3339, nanoseconds)")
	assert.Equal(t, want["stderr"], r.stderr)
	require.Equal(t, 0, e.mydocker("rm", "talker").code)
}

func TestAnExitedContainerStaysUntilRemoved(t *testing.T) {
	e := newEnv(t)
	r := e.mydocker("run", "--keep", "--name", "done", "--", probeCmd, "exit", "3")
	require.Equal(t, 3, r.code, "%s", r)
	assert.Equal(t, "exited 3 0", e.inspect("done", "{{.State.Status}} {{.State.ExitCode}} {{.State.Pid}}"))
	ps := e.mydocker("ps")
	assert.NotContains(t, ps.stdout, "done", "ps lists running containers only")
	ps = e.mydocker("ps", "-a")
	assert.Regexp(t, `Exited \(3\) .* ago +done\n`, ps.stdout)
	logs := e.mydocker("logs", "done")
	assert.Equal(t, 1, logs.code)
	assert.Contains(t, logs.stderr, "ran in the foreground")

	again := e.mydocker("run", "--name", "done", "--", "true")
	assert.Equal(t, 125, again.code, "%s", again)
	assert.Contains(t, again.stderr, `the container name "done" is already in use by container`)
	require.Equal(t, 0, e.mydocker("rm", "done").code)
	r = e.mydocker("run", "--name", "done", "--", "true")
	assert.Equal(t, 0, r.code, "a removed container's name is free again\n%s", r)
}

func TestRunDetachedFailsWithRunsExitCodes(t *testing.T) {
	e := newEnv(t)
	r := e.mydocker("run", "-d", "--", "no-such-command-anywhere")
	assert.Equal(t, 127, r.code, "%s", r)
	assert.Empty(t, r.stdout, "no id for a container that never ran")
	r = e.mydocker("run", "-d", "--name", "-bad", "--", "true")
	assert.Equal(t, 125, r.code, "%s", r)
	assert.Contains(t, r.stderr, `invalid container name "-bad"`)
	ps := e.mydocker("ps", "-a", "-q")
	assert.Empty(t, ps.stdout, "a run that failed leaves no container")
}

func TestRemoveOnExit(t *testing.T) {
	e := newEnv(t)
	id := e.runDetached("--rm", "--", "true")
	deadline := time.Now().Add(patient(20 * time.Second))
	for {
		if _, err := os.Stat(filepath.Join(e.root, "containers", id)); os.IsNotExist(err) {
			break
		}
		require.True(t, time.Now().Before(deadline), "run -d --rm left the container after it exited")
		time.Sleep(20 * time.Millisecond)
	}
}

func TestFindingContainers(t *testing.T) {
	sameOnEveryCgroupVersion(t)
	e := newEnv(t)
	var ids []string
	for range 20 {
		ids = append(ids, e.runDetached("--rm", "--", probeCmd, "sleep"))
	}
	// Among 20 random ids, two share a first hex digit for sure.
	byDigit := map[byte][]string{}
	for _, id := range ids {
		byDigit[id[0]] = append(byDigit[id[0]], id)
	}
	for digit, same := range byDigit {
		if len(same) < 2 {
			continue
		}
		r := e.mydocker("inspect", "-f", "{{.Id}}", string(digit))
		assert.Equal(t, 1, r.code, "%s", r)
		assert.Contains(t, r.stderr, "is the start of the ids of")
		break
	}
	r := e.mydocker("inspect", "nosuch")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "no such container: nosuch")
	assert.Equal(t, ids[0], e.inspect(ids[0][:12], "{{.Id}}"))
}

func TestParallelRunsAndReaders(t *testing.T) {
	sameOnEveryCgroupVersion(t)
	e := newEnv(t)
	stop := make(chan struct{})
	var readers sync.WaitGroup
	var torn []string
	var mu sync.Mutex
	for range 2 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				for _, args := range [][]string{{"ps", "-a"}, {"inspect", "-f", "{{.State.Status}}"}} {
					if args[0] == "inspect" {
						ids := strings.Fields(e.mydocker("ps", "-a", "-q", "--no-trunc").stdout)
						if len(ids) == 0 {
							continue
						}
						args = append(args, ids...)
					}
					if r := e.mydocker(args...); r.code != 0 || r.stderr != "" {
						mu.Lock()
						torn = append(torn, r.String())
						mu.Unlock()
					}
				}
			}
		}()
	}
	var runs sync.WaitGroup
	ids := make([]string, 20)
	for i := range ids {
		runs.Add(1)
		go func() {
			defer runs.Done()
			r := e.mydocker("run", "-d", "--", probeCmd, "sleep")
			if r.code == 0 {
				ids[i] = strings.TrimSpace(r.stdout)
			} else {
				mu.Lock()
				torn = append(torn, r.String())
				mu.Unlock()
			}
		}()
	}
	runs.Wait()
	close(stop)
	readers.Wait()
	assert.Empty(t, torn, "every run started, and no reader failed")
	ps := e.mydocker("ps", "-q", "--no-trunc")
	assert.Len(t, strings.Fields(ps.stdout), 20, "%s", ps)
	r := e.mydocker(append([]string{"rm", "-f"}, ids...)...)
	assert.Equal(t, 0, r.code, "%s", r)
}

func TestAKilledMonitorLeavesARecordTheNextCommandSettles(t *testing.T) {
	e := newEnv(t)
	id := e.runDetached("--name", "orphan", "--", probeCmd, "sleep")
	pid, err := strconv.Atoi(e.inspect(id, "{{.State.Pid}}"))
	require.NoError(t, err)
	monitor := monitorOf(t, pid)
	require.NoError(t, syscall.Kill(monitor, syscall.SIGKILL))
	waitDead(t, pid)

	ps := e.mydocker("ps", "-a")
	assert.Regexp(t, `Exited \(unknown\) .* ago +orphan\n`, ps.stdout, "ps says what it knows")
	assert.Contains(t, e.inspect("orphan", "{{.State.Error}}"), "was killed")
	for _, cg := range ourCgroups() {
		assert.NotContains(t, cg, id, "the killed run's cgroup is gone")
	}
	require.Equal(t, 0, e.mydocker("rm", "orphan").code)
}

func TestRemoveNeverKillsAProcessThatReusedThePID(t *testing.T) {
	sameOnEveryCgroupVersion(t)
	e := newEnv(t)
	id := e.runDetached("--name", "victim", "--", probeCmd, "sleep")
	// Pretend the init's PID now belongs to another process, this test's:
	// same PID, another start time.
	statePath := filepath.Join(e.root, "containers", id, "state.json")
	data, err := os.ReadFile(statePath)
	require.NoError(t, err)
	var st map[string]any
	require.NoError(t, json.Unmarshal(data, &st))
	realPid := int(st["pid"].(float64))
	st["pid"] = os.Getpid()
	data, err = json.Marshal(st)
	require.NoError(t, err)
	// Atomically, as mydocker writes it: the watcher reads this file as it
	// starts, and a half-written one would make it fail, and the container
	// die with it.
	require.NoError(t, os.WriteFile(statePath+".test", data, 0o600))
	require.NoError(t, os.Rename(statePath+".test", statePath))
	r := e.mydocker("rm", "-f", "victim")
	assert.NotEqual(t, 0, r.code, "the container's real init still runs, so its mydocker keeps the lock\n%s", r)
	// The test is alive to read this: rm -f did not kill it.
	require.NoError(t, syscall.Kill(realPid, syscall.SIGKILL))
	e.waitUntilExited("victim")
	require.Equal(t, 0, e.mydocker("rm", "victim").code)
}

// monitorOf is a detached container's monitor: its init's parent.
func monitorOf(t *testing.T, initPID int) int {
	t.Helper()
	ppid, err := parentOf(initPID)
	require.NoError(t, err)
	return ppid
}

// waitDead waits until a process has exited: gone, or a zombie that the
// machine's init has not reaped yet.
func waitDead(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(patient(20 * time.Second))
	for {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return
		}
		if fields, err := state.StatFields(stat); err == nil && string(fields[0]) == "Z" {
			return
		}
		require.True(t, time.Now().Before(deadline), "PID %d is still there", pid)
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSIGKILLAtRandomMomentsLeavesNothingAfterCleanup kills mydocker (the
// run -d that waits, its monitor, a foreground run, an rm) at random
// moments, fifty times; then the next commands must see every container
// truthfully, and rm -f must leave nothing: the leak check proves it.
func TestSIGKILLAtRandomMomentsLeavesNothingAfterCleanup(t *testing.T) {
	e := newEnv(t)
	seed := uint64(time.Now().UnixNano())
	t.Logf("the delays' seed: %d", seed)
	rng := rand.New(rand.NewPCG(seed, 8))
	for i := range 50 {
		delay := time.Duration(rng.IntN(40_000)) * time.Microsecond
		name := fmt.Sprintf("k%d", i)
		switch i % 4 {
		case 0: // run -d, killed while it waits for the monitor's report
			e.killAfter(delay, "run", "-d", "--name", name, "--", probeCmd, "sleep")
		case 1: // a monitor, killed while it creates, starts or watches
			before := e.monitors()
			r := e.start("run", "-d", "--name", name, "--", probeCmd, "sleep")
			time.Sleep(delay)
			for _, pid := range e.monitors() {
				if !slices.Contains(before, pid) {
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
			}
			r.wait()
		case 2: // a foreground run
			e.killAfter(delay, "run", "--keep", "--name", name, "--", probeCmd, "sleep")
		case 3: // an rm -f of a running container
			if r := e.mydocker("run", "-d", "--name", name, "--", probeCmd, "sleep"); r.code == 0 {
				e.killAfter(delay, "rm", "-f", name)
			}
		}
	}
	// A run -d killed while it waits leaves its monitor going on, which may
	// still be starting that container: Created, for a moment, is true.
	// One that stays Created is not.
	var ps result
	deadline := time.Now().Add(patient(10 * time.Second))
	for {
		ps = e.mydocker("ps", "-a")
		if !regexp.MustCompile(`\bCreated\b`).MatchString(ps.stdout) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	require.Equal(t, 0, ps.code, "%s", ps)
	require.Empty(t, ps.stderr, "the next command settles what the kills left, silently")
	for _, line := range strings.Split(strings.TrimSpace(ps.stdout), "\n")[1:] {
		assert.Regexp(t, `(Up .*|Exited \((unknown|137)\) .* ago) +k\d+$`, line, "every container is shown truthfully")
	}
	ids := strings.Fields(e.mydocker("ps", "-a", "-q", "--no-trunc").stdout)
	if len(ids) > 0 {
		r := e.mydocker(append([]string{"rm", "-f"}, ids...)...)
		require.Equal(t, 0, r.code, "%s", r)
	}
	names, _ := os.ReadDir(filepath.Join(e.root, "names"))
	assert.Empty(t, names, "no name outlives its container")
}

// killAfter starts mydocker with args and kills it with SIGKILL after
// delay (or lets it finish first).
func (e *env) killAfter(delay time.Duration, args ...string) {
	e.t.Helper()
	r := e.start(args...)
	time.Sleep(delay)
	_ = r.cmd.Process.Signal(syscall.SIGKILL)
	r.wait()
}

// monitors are the monitors of the test's containers: the mydocker
// processes with the monitor's variable, for the test's state root.
func (e *env) monitors() []int {
	var pids []int
	for _, pid := range ourPIDs() {
		env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		if err != nil {
			continue
		}
		vars := strings.Split(string(env), "\x00")
		if slices.ContainsFunc(vars, func(v string) bool { return strings.HasPrefix(v, "MYDOCKER_MONITOR_ID=") }) &&
			slices.Contains(vars, "MYDOCKER_ROOT="+e.root) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func TestLogsFollowUntilTheContainerStops(t *testing.T) {
	e := newEnv(t)
	e.runDetached("--name", "ticker", "--", busyboxCmd, "sh", "-c", `for i in 1 2 3; do echo "tick $i"; sleep 0.2; done`)
	r := e.mydocker("logs", "-f", "ticker")
	require.Equal(t, 0, r.code, "logs -f ends when the container does\n%s", r)
	assert.Equal(t, "tick 1\ntick 2\ntick 3\n", r.stdout)
	require.Equal(t, 0, e.mydocker("rm", "ticker").code)
}

func TestTopListsTheContainersProcesses(t *testing.T) {
	e := newEnv(t)
	id := e.runDetached("--", busyboxCmd, "sh", "-c", "sleep 1000 & exec sleep 999")
	pid := e.inspect(id, "{{.State.Pid}}")
	first := regexp.MustCompile(`(?m)^(root|0) +` + pid + ` +\d+ +\d\d:\d\d +00:00:0\d +sleep 999$`)
	second := regexp.MustCompile(`(?m)^(root|0) +\d+ +` + pid + ` +.* sleep 1000$`)
	var r result
	deadline := time.Now().Add(patient(10 * time.Second))
	for {
		r = e.mydocker("top", id)
		require.Equal(t, 0, r.code, "%s", r)
		if (first.MatchString(r.stdout) && second.MatchString(r.stdout)) || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond) // the shell has not forked, or its processes not exec'd, yet
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	require.Len(t, lines, 3, "a header and the container's two processes\n%s", r)
	assert.Regexp(t, `^UID +PID +PPID +STIME +TIME +CMD$`, lines[0])
	assert.Regexp(t, first, r.stdout, "host PIDs, as docker top shows them")
	assert.Regexp(t, second, r.stdout)
	require.Equal(t, 0, e.mydocker("rm", "-f", id).code)
	r = e.mydocker("top", id)
	assert.Equal(t, 1, r.code)
}

func TestAttachToABackgroundShellAndDetach(t *testing.T) {
	e := newEnv(t)
	e.runDetached("-it", "--name", "shell", "--", "sh")
	term := e.startOnTerminal("attach", "shell")
	term.send("echo $((6*7)); stty size\n")
	term.expect("42")
	term.expect("33 101") // the attaching terminal's size, passed on
	term.send("\x10\x11") // Ctrl-P Ctrl-Q
	assert.Equal(t, 1, term.wait(), "as docker attach, 1 after the detach keys\n%s", term)
	assert.Contains(t, term.String(), "read escape sequence")
	assert.Equal(t, "running", e.inspect("shell", "{{.State.Status}}"), "detaching leaves the container running")

	again := e.startOnTerminal("attach", "shell")
	again.send("exit 7\n")
	assert.Equal(t, 7, again.wait(), "attach ends with the container's status\n%s", again)
	e.waitUntilExited("shell")
	logs := e.mydocker("logs", "shell")
	assert.Contains(t, logs.stdout, "42", "a terminal's output is logged too")
	require.Equal(t, 0, e.mydocker("rm", "shell").code)
}

func TestAttachWithoutATerminal(t *testing.T) {
	e := newEnv(t)
	e.runDetached("-i", "--name", "echoer", "--", busyboxCmd, "sh", "-c",
		`while read -r line; do echo "got $line"; echo "err $line" >&2; done`)
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	r := &running{t: t, cmd: e.command(ctx, "attach", "echoer"), done: make(chan struct{})}
	keys, err := r.cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := r.cmd.StdoutPipe()
	require.NoError(t, err)
	r.cmd.Stderr = r
	require.NoError(t, r.cmd.Start())
	r.watch(stdout, cancel)
	_, err = keys.Write([]byte("one\n"))
	require.NoError(t, err)
	r.expectLine("got one")
	r.waitForOutput("the error line", func(out string) bool { return strings.Contains(out, "err one\n") })
	require.NoError(t, keys.Close())
	// The end of attach's input is not the end of the container's, which
	// runs on (as with docker run -di): attach goes on until it exits.
	time.Sleep(200 * time.Millisecond)
	r.requireRunning("attach must not end with its input")
	require.Equal(t, 0, e.mydocker("rm", "-f", "echoer").code)
	assert.Equal(t, 137, r.wait(), "attach ends with the container's status: killed by rm -f\n%s", r)
}

func TestAnAttachClientThatDoesNotReadNeverBlocksTheContainer(t *testing.T) {
	sameOnEveryCgroupVersion(t)
	e := newEnv(t)
	id := e.runDetached("-i", "--name", "chatty", "--", busyboxCmd, "sh", "-c",
		`read -r go; i=0; while [ $i -lt 20000 ]; do echo "line $i of a container that talks a lot"; i=$((i+1)); done; echo done`)
	dir, err := os.Open(filepath.Join(e.root, "containers", id))
	require.NoError(t, err)
	defer dir.Close()
	conn, err := net.Dial("unix", fmt.Sprintf("/proc/self/fd/%d/attach.sock", dir.Fd()))
	require.NoError(t, err, "the attach socket")
	defer conn.Close()
	// A frame of keys (kind 0, length 3, "go\n"), then never a read.
	_, err = conn.Write([]byte{0, 0, 0, 0, 3, 'g', 'o', '\n'})
	require.NoError(t, err)
	e.waitUntilExited("chatty")
	logs := e.mydocker("logs", "--tail", "1", "chatty")
	assert.Equal(t, "done\n", logs.stdout, "the container ran to its end while a client did not read")
	require.Equal(t, 0, e.mydocker("rm", "chatty").code)
}

func TestRemoveWhileOtherCommandsReadTheRecords(t *testing.T) {
	sameOnEveryCgroupVersion(t)
	e := newEnv(t)
	stop := make(chan struct{})
	readers := make(chan struct{})
	go func() {
		defer close(readers)
		for {
			select {
			case <-stop:
				return
			default:
				e.mydocker("ps", "-a")
			}
		}
	}()
	for i := range 30 {
		name := fmt.Sprintf("r%d", i)
		require.Equal(t, 0, e.mydocker("run", "--keep", "--name", name, "--", "true").code)
		r := e.mydocker("rm", name)
		assert.Equal(t, 0, r.code, "another command reading the records must not make rm fail\n%s", r)
	}
	close(stop)
	<-readers
}

func TestDebugTraceOfADetachedRunStaysOutOfTheLog(t *testing.T) {
	e := newEnv(t)
	r := e.mydocker("--debug", "run", "-d", "--name", "traced", "--", busyboxCmd, "sh", "-c", "echo out; echo err >&2")
	require.Equal(t, 0, r.code, "%s", r)
	t.Cleanup(func() { e.mydocker("rm", "-f", "traced") })
	assert.Contains(t, r.stderr, "mydocker init[1] debug: execve(", "run -d --debug shows the init's steps")
	e.waitUntilExited("traced")
	logs := e.mydocker("logs", "traced")
	assert.Equal(t, "out\n", logs.stdout)
	assert.Equal(t, "err\n", logs.stderr, "the log holds the command's output only, not mydocker's trace")
}
