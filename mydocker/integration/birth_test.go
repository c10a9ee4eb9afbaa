//book:file exec

package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The init is cloned into its cgroup, never moved there (create.go,
// startInItsCgroup): it is in the container's cgroup of every hierarchy,
// no write moved it, and the thread of mydocker that cloned it stood in the
// cgroup only for the clone.
func TestTheInitIsBornInItsCgroup(t *testing.T) {
	e := newEnv(t)
	run := e.start("--debug", "run", "--name", "born", "-m", "32m", "--", probeCmd, "sleep")
	run.expectLine("ready")
	init := run.containerPID()
	id := e.inspect("born", "{{.Id}}")
	e.requireInEveryHierarchy(init, id)
	assert.NotRegexp(t, `cgroup.procs = `+strconv.Itoa(init)+`\b`, run.outputSoFar(), "the init was moved")
	placed := strings.Index(run.outputSoFar(), "(CLONE_INTO_CGROUP)")
	if cgroupVersion(t) == 1 {
		placed = strings.Index(run.outputSoFar(), "/tasks = 0")
	}
	started := strings.Index(run.outputSoFar(), "init started")
	assert.True(t, placed >= 0 && placed < started, "the cgroup is chosen before the clone\n%s", run)
	requireNoThreadIn(t, run.cmd.Process.Pid, id, "mydocker run")
	assert.Equal(t, 137, run.killContainer(), run.String())
}

// A detached container's monitor cloned its init the same way, and lives on
// beside it: none of its threads may stay in the container's cgroup, where
// pause would freeze it and the container's limits would count it.
func TestTheMonitorIsNotInItsContainersCgroup(t *testing.T) {
	e := newEnv(t)
	id := e.runDetached("--", probeCmd, "sleep")
	init, err := strconv.Atoi(e.inspect(id, "{{.State.Pid}}"))
	require.NoError(t, err)
	e.requireInEveryHierarchy(init, id)
	requireNoThreadIn(t, monitorOf(t, init), id, "the monitor")
}

// Ten monitors clone their inits at once, each thread moving itself into
// its own container's cgroups and back: every container's cgroups hold its
// init alone, and no monitor's thread stays in any container's cgroup.
func TestParallelBirthsLeaveEachCgroupToItsInit(t *testing.T) {
	e := newEnv(t)
	const n = 10
	runs := make([]result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runs[i] = e.mydocker("run", "-d", "--", probeCmd, "sleep")
		}()
	}
	wg.Wait()
	inits := map[string]int{}
	for _, r := range runs {
		id := strings.TrimSpace(r.stdout)
		if r.code == 0 {
			t.Cleanup(func() { e.mydocker("rm", "-f", id) })
		}
		require.Equal(t, 0, r.code, "%s", r)
		pid, err := strconv.Atoi(e.inspect(id, "{{.State.Pid}}"))
		require.NoError(t, err)
		inits[id] = pid
	}
	for id, init := range inits {
		e.requireInEveryHierarchy(init, id)
		for _, dir := range e.containerCgroups() {
			if filepath.Base(dir) == id {
				procs, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
				require.NoError(t, err)
				assert.Equal(t, strconv.Itoa(init), strings.TrimSpace(string(procs)), "the processes in %s", dir)
			}
		}
		monitor := monitorOf(t, init)
		for other := range inits {
			requireNoThreadIn(t, monitor, other, "the monitor of "+id[:12])
		}
	}
}

// requireInEveryHierarchy checks that the process is in the container's
// cgroup of every hierarchy where mydocker made one.
func (e *env) requireInEveryHierarchy(pid int, id string) {
	e.t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	require.NoError(e.t, err)
	inside := 0
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		fields := strings.SplitN(line, ":", 3)
		if len(fields) == 3 && strings.HasSuffix(fields[2], "/"+e.cgroupParent+"/"+id) {
			inside++
		}
	}
	var made int
	for _, dir := range e.containerCgroups() {
		if filepath.Base(dir) == id {
			made++
		}
	}
	require.NotZero(e.t, made, "the container has no cgroup")
	assert.Equal(e.t, made, inside, "PID %d is in %d of the container's %d cgroups:\n%s", pid, inside, made, data)
}

// requireNoThreadIn checks that no thread of pid is in a cgroup named id.
func requireNoThreadIn(t *testing.T, pid int, id, who string) {
	t.Helper()
	files, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/cgroup", pid))
	require.NoError(t, err)
	require.NotEmpty(t, files, "%s (PID %d) has no threads", who, pid)
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err == nil {
			assert.NotContains(t, string(data), id, "a thread of %s stayed in the container's cgroup: %s", who, file)
		}
	}
}
