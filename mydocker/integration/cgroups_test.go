//book:file cgroups

package integration

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/mydocker-book/mydocker/mydocker/probe/report"
)

func TestContainerRunsInItsOwnCgroupWithItsLimits(t *testing.T) {
	e := newEnv(t)
	lastCPU := strconv.Itoa(runtime.NumCPU() - 1)
	inside, r := e.probe("-m", "64m", "--memory-swap", "96m", "--cpus", "0.5", "--cpu-shares", "512",
		"--pids-limit", "50", "--cpuset-cpus", lastCPU, "--cpuset-mems", "0")
	e.requireOwnCgroup(inside.Cgroup, r)
	want := map[string]string{
		"memory.max": "67108864", "memory.swap.max": "33554432", // v2 counts swap alone
		"cpu.max": "50000 100000", "cpu.weight": "59", // 512 shares, in the runc/crun/youki mapping
		"cpuset.cpus": lastCPU, "cpuset.mems": "0", "pids.max": "50",
	}
	if inside.Cgroup.Version == 1 {
		want = map[string]string{
			"memory.limit_in_bytes": "67108864", "memory.memsw.limit_in_bytes": "100663296", // v1 counts memory plus swap
			"cpu.cfs_quota_us": "50000", "cpu.cfs_period_us": "100000", "cpu.shares": "512",
			"cpuset.cpus": lastCPU, "cpuset.mems": "0", "pids.max": "50",
		}
	}
	for file, value := range want {
		assert.Equal(t, value, inside.Cgroup.Files[file], "%s, seen from inside\n%s", file, r)
	}
	assert.Equal(t, lastCPU, inside.CPUsAllowed, "the scheduler should keep the container on CPU %s\n%s", lastCPU, r)
}

func TestWithoutLimitsTheCgroupLimitsNothing(t *testing.T) {
	e := newEnv(t)
	inside, r := e.probe()
	e.requireOwnCgroup(inside.Cgroup, r)
	want := map[string]string{"memory.max": "max", "cpu.max": "max 100000", "cpu.weight": "100", "pids.max": "max"}
	if inside.Cgroup.Version == 1 {
		// A new v1 cpuset starts empty: mydocker must have copied the
		// parent's CPUs and memory nodes, or the init could not join it.
		want = map[string]string{
			"cpu.cfs_quota_us": "-1", "cpu.shares": "1024", "pids.max": "max",
			"cpuset.cpus": readCgroupFile(t, "/sys/fs/cgroup/cpuset", "cpuset.cpus"),
			"cpuset.mems": readCgroupFile(t, "/sys/fs/cgroup/cpuset", "cpuset.mems"),
		}
	}
	for file, value := range want {
		assert.Equal(t, value, inside.Cgroup.Files[file], "%s, seen from inside\n%s", file, r)
	}
}

func TestMemoryLimitOOMKillsTheContainer(t *testing.T) {
	e := newEnv(t)
	limit := []string{"run", "-m", "32m", "--memory-swap", "32m", "--"}
	r := e.mydocker(append(limit, probeCmd, "alloc", "8")...)
	assert.Equal(t, 0, r.code, "8 MiB fits in 32\n%s", r)
	assert.Equal(t, "allocated 8 MiB\n", r.stdout, r.String())

	r = e.mydocker(append(limit, probeCmd, "alloc", "128")...)
	assert.Equal(t, 137, r.code, "the kernel's OOM killer ends the container with SIGKILL\n%s", r)
	assert.NotContains(t, r.stdout, "allocated", r.String())

	// A shell survives its child's OOM kill, so the probe can read the
	// cgroup's counter afterwards.
	r = e.mydocker(append(limit, "sh", "-c", probeCmd+" alloc 128; echo status=$?; exec "+probeCmd)...)
	status, inside := splitReport(t, r)
	assert.Equal(t, "status=137", status, r.String())
	file := map[int]string{1: "memory.oom_control", 2: "memory.events"}[inside.Cgroup.Version]
	assert.Positive(t, inside.Cgroup.Counter(file, "oom_kill"), "%s should count the OOM kill\n%s", file, r)
}

func TestSmallestMemoryLimitStillStartsTheContainer(t *testing.T) {
	e := newEnv(t)
	r := e.mydocker("run", "-m", "6m", "--memory-swap", "6m", "--", probeCmd, "exit", "0")
	assert.Equal(t, 0, r.code, r.String())
}

func TestPidsLimitStopsForks(t *testing.T) {
	e := newEnv(t)
	r := e.mydocker("run", "--pids-limit", "20", "--", probeCmd, "spawn", "100", busyboxCmd, "sleep", "60")
	require.Equal(t, 0, r.code, r.String())
	started, inside := splitReport(t, r)
	var n int
	_, err := fmt.Sscanf(started, "started %d: resource temporarily unavailable", &n)
	require.NoError(t, err, "fork should fail with EAGAIN at the limit\n%s", r)
	assert.Positive(t, n, r.String())
	assert.LessOrEqual(t, len(inside.Processes), 20, "processes in the container\n%s", r)
	current, err := strconv.Atoi(inside.Cgroup.Files["pids.current"])
	require.NoError(t, err, r.String())
	assert.LessOrEqual(t, current, 20, "tasks (processes and threads) in the cgroup\n%s", r)
	assert.Positive(t, inside.Cgroup.Counter("pids.events", "max"), "pids.events should count the refused forks\n%s", r)
}

// CPU limits are checked with the kernel's own counters, not with timings:
// the scheduler throttled the container whenever it used up its quota. The
// quota is small, so that even on a busy machine, where the container gets
// less than a whole CPU, it runs out of it.
func TestCPUQuotaThrottlesTheContainer(t *testing.T) {
	e := newEnv(t)
	r := e.mydocker("run", "--cpus", "0.2", "--", probeCmd, "spin", "200ms")
	require.Equal(t, 0, r.code, r.String())
	inside := decodeReport(t, r.stdout, r)
	if inside.Cgroup.Version == 2 {
		assert.Equal(t, "20000 100000", inside.Cgroup.Files["cpu.max"], r.String())
		assert.Positive(t, inside.Cgroup.Counter("cpu.stat", "throttled_usec"), r.String())
	} else {
		assert.Equal(t, "20000", inside.Cgroup.Files["cpu.cfs_quota_us"], r.String())
		assert.Positive(t, inside.Cgroup.Counter("cpu.stat", "throttled_time"), r.String())
	}
	// 200ms of CPU at 20ms per 100ms period takes about 10 periods (the
	// scheduler lets a group overrun a little and pays it back later);
	// without the quota it would fit in 2 or 3.
	assert.GreaterOrEqual(t, inside.Cgroup.Counter("cpu.stat", "nr_periods"), int64(6), r.String())
	assert.Positive(t, inside.Cgroup.Counter("cpu.stat", "nr_throttled"), r.String())
}

func TestCgroupIsRemovedWhenTheContainerIsKilled(t *testing.T) {
	e := newEnv(t)
	run := e.start("run", "-m", "32m", "--", probeCmd, "sleep")
	run.expectLine("ready")
	require.NotEmpty(t, e.containerCgroups(), "the container's cgroup, while it runs")
	assert.Equal(t, 137, run.killContainer(), run.String())
	assert.Empty(t, e.containerCgroups(), "mydocker removes the cgroup before it exits\n%s", run)
}

func TestDebugTracesEveryCgroupWrite(t *testing.T) {
	e := newEnv(t)
	r := e.mydocker("--debug", "run", "-m", "32m", "--pids-limit", "10", "--", probeCmd, "exit", "0")
	require.Equal(t, 0, r.code, r.String())
	file := "memory.max"
	if cgroupVersion(t) == 1 {
		file = "memory.limit_in_bytes"
	}
	assert.Regexp(t, `cgroup write /sys/fs/cgroup/\S*`+e.cgroupParent+`/[0-9a-f]{64}/`+file+` = 33554432`, r.stderr)
	assert.Regexp(t, `cgroup write \S+/pids.max = 10`, r.stderr)
	//book:replace cgroups exec
	// assert.Regexp(t, `cgroup write \S+/cgroup.procs = \d+`, r.stderr)
	//book:end
	assert.Regexp(t, `rmdir /sys/fs/cgroup/\S*`+e.cgroupParent+`/[0-9a-f]{64}`, r.stderr)
	//book:replace cgroups exec
	//
	// // The init gets its configuration, and so runs the command, only once
	// // it is in the cgroup.
	// joined, sent := strings.Index(r.stderr, "/cgroup.procs = "), strings.Index(r.stderr, "sending the command")
	// assert.True(t, joined >= 0 && joined < sent, "the init must join its cgroup before it is sent the command\n%s", r)
	//book:end
}

func TestBadLimitsAreRefusedWith125(t *testing.T) {
	e := newEnv(t)
	ncpu := runtime.NumCPU()
	for _, tc := range []struct {
		flags []string
		want  string
	}{
		{[]string{"-m", "abc"}, `invalid --memory "abc": use a number of bytes with a unit, such as 64m or 1g`},
		{[]string{"-m", "1m"}, "too small: a container needs at least 6MiB to start; use -m 6m or more"},
		{[]string{"--memory-swap", "64m"}, "it needs a memory limit too: add -m"},
		{[]string{"--cpus", strconv.Itoa(ncpu + 1)}, fmt.Sprintf("this machine has %d CPUs, so use a value from 0.01 to %d", ncpu, ncpu)},
		{[]string{"--cpus", "half"}, "use a positive number of CPUs"},
		{[]string{"--cpuset-cpus", "99"}, fmt.Sprintf("CPUs 99 do not exist here: this machine has CPUs 0-%d", ncpu-1)},
		{[]string{"--cgroup-parent", "../escape"}, "without . or .."},
	} {
		r := e.mydocker(append(append([]string{"run"}, tc.flags...), "--", probeCmd)...)
		assert.Equal(t, 125, r.code, r.String())
		assert.Contains(t, r.stderr, tc.want, r.String())
	}
	assert.Empty(t, e.containerCgroups(), "nothing is created for a refused container")
}

// On cgroup v2 a controller reaches a cgroup only through every ancestor's
// cgroup.subtree_control. The test's parent is created here, bare.
func TestControllersAreEnabledInEveryAncestor(t *testing.T) {
	requireCgroupV2(t)
	e := newEnv(t)
	outer := filepath.Join("/sys/fs/cgroup", e.cgroupParent)
	require.NoError(t, os.Mkdir(outer, 0o755))
	e.removeAlso(filepath.Join(e.cgroupParent, "inner"))
	require.Empty(t, readCgroupFile(t, outer, "cgroup.subtree_control"))

	// The host's cgroup namespace, so that the path says where the cgroup is.
	inside, r := e.probe("--cgroupns", "host", "--cgroup-parent", e.cgroupParent+"/inner", "-m", "32m", "--cpus", "1", "--pids-limit", "10", "--cpuset-cpus", "0")
	assert.Regexp(t, `^/`+e.cgroupParent+`/inner/[0-9a-f]{64}$`, inside.Cgroup.Paths[""], r.String())
	for _, file := range []string{"memory.max", "cpu.max", "pids.max", "cpuset.cpus"} {
		assert.NotEqual(t, "max", inside.Cgroup.Files[file], "%s\n%s", file, r)
	}
	for _, dir := range []string{"/sys/fs/cgroup", outer, filepath.Join(outer, "inner")} {
		enabled := strings.Fields(readCgroupFile(t, dir, "cgroup.subtree_control"))
		assert.Subset(t, enabled, []string{"cpu", "cpuset", "memory", "pids"}, "cgroup.subtree_control of %s", dir)
	}
}

// On cgroup v2 a cgroup that hands controllers to children cannot hold
// processes itself, so a parent that holds one is refused, with the reason.
func TestParentWithProcessesIsRefusedOnCgroupV2(t *testing.T) {
	requireCgroupV2(t)
	e := newEnv(t)
	parent := filepath.Join("/sys/fs/cgroup", e.cgroupParent)
	require.NoError(t, os.Mkdir(parent, 0o755))
	sleeper := exec.Command(busyboxBin, "sleep", "60")
	require.NoError(t, sleeper.Start())
	t.Cleanup(func() { _ = sleeper.Process.Kill(); _ = sleeper.Wait() })
	require.NoError(t, os.WriteFile(filepath.Join(parent, "cgroup.procs"), []byte(strconv.Itoa(sleeper.Process.Pid)), 0o644))

	r := e.mydocker("run", "--pids-limit", "10", "--", probeCmd)
	assert.Equal(t, 125, r.code, r.String())
	assert.Contains(t, r.stderr, "it holds processes ("+strconv.Itoa(sleeper.Process.Pid)+"), and on cgroup v2 a cgroup that hands controllers down to its children may hold no processes itself", r.String())
}

// splitReport separates the first line a container printed from the
// probe's report after it.
func splitReport(t *testing.T, r result) (string, report.Report) {
	t.Helper()
	first, rest, _ := strings.Cut(r.stdout, "\n")
	return first, decodeReport(t, rest, r)
}

func decodeReport(t *testing.T, output string, r result) report.Report {
	t.Helper()
	var rep report.Report
	require.NoError(t, json.Unmarshal([]byte(output), &rep), "the probe's output is not its JSON report\n%s", r)
	require.Empty(t, rep.Errors, "the probe could not see everything\n%s", r)
	return rep
}

// requireOwnCgroup checks that the container is in a new cgroup under the
// test's parent, named after the container, in every hierarchy.
func (e *env) requireOwnCgroup(cg report.Cgroup, r result) {
	e.t.Helper()
	hierarchies := map[int][]string{2: {""}, 1: {"memory", "cpu", "cpuset", "pids"}}[cg.Version]
	if cg.Version == 1 && report.IsCgroup2("/sys/fs/cgroup/unified") {
		hierarchies = append(hierarchies, "") // hybrid: the v2 tree tracks the container too
	}
	own := regexp.MustCompile(`^/` + e.cgroupParent + `/[0-9a-f]{64}$`)
	for _, h := range hierarchies {
		if cg.Version == 2 && cg.PathOf(h) == "/" {
			continue // a cgroup namespace of its own (Docker's default on v2): its root is the container's cgroup
		}
		require.Regexp(e.t, own, cg.PathOf(h), "the container's cgroup in hierarchy %q\n%s", h, r)
	}
}

// Docker's default is a cgroup namespace of the container's own on cgroup
// v2 and the host's on v1 (from chapter 4 on, when the container has a
// /sys/fs/cgroup of its own; the host's before); --cgroupns chooses, on
// either. The namespace's root is the container's cgroup, not mydocker's:
// the init enters it once mydocker has moved it there.
func TestCgroupNamespace(t *testing.T) {
	e := newEnv(t)
	host := report.Collect()
	version := cgroupVersion(t)
	hierarchy := map[int]string{2: "", 1: "memory"}[version]
	own := regexp.MustCompile(`^/` + e.cgroupParent + `/[0-9a-f]{64}$`)
	for _, c := range []struct {
		flags   []string
		private bool
	}{
		//book:replace cgroups rootfs
		// {nil, false}, // the host's until the container mounts its own cgroup (chapter 4)
		//book:end
		//book:add rootfs
		{nil, version == 2},
		//book:end
		{[]string{"--cgroupns", "private"}, true},
		{[]string{"--cgroupns", "host"}, false},
	} {
		inside, r := e.probe(append(c.flags, "-m", "48m")...)
		if c.private {
			assert.NotEqual(t, host.Namespaces["cgroup"], inside.Namespaces["cgroup"], "%v: a cgroup namespace of its own\n%s", c.flags, r)
			assert.Equal(t, "/", inside.Cgroup.PathOf(hierarchy), "%v: its cgroup is the namespace's root\n%s", c.flags, r)
		} else {
			assert.Equal(t, host.Namespaces["cgroup"], inside.Namespaces["cgroup"], "%v: the host's cgroup namespace\n%s", c.flags, r)
			assert.Regexp(t, own, inside.Cgroup.PathOf(hierarchy), "%v: the host's path of its cgroup\n%s", c.flags, r)
		}
	}
	r := e.mydocker("run", "--cgroupns", "shared", "--", "true")
	assert.Equal(t, 125, r.code, r.String())
	assert.Contains(t, r.stderr, `invalid --cgroupns "shared": it is host or private`, r.String())
}

func requireCgroupV2(t *testing.T) {
	if cgroupVersion(t) != 2 {
		t.Skip("this host has cgroup v1 controllers; make test-vm runs this test on cgroup v2")
	}
}

func cgroupVersion(t *testing.T) int {
	if report.IsCgroup2("/sys/fs/cgroup") {
		return 2
	}
	return 1
}

func readCgroupFile(t *testing.T, dir, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, name))
	require.NoError(t, err)
	return strings.TrimSpace(string(data))
}

// cgroupMounts lists the mounted cgroup hierarchies: the one v2 tree, or one
// per v1 hierarchy (and the v2 tree of a hybrid host).
func cgroupMounts() []string {
	hosts, _ := report.Mounts("/proc/self/mountinfo")
	var mounts []string
	for _, m := range hosts {
		if m.FSType == "cgroup" || m.FSType == "cgroup2" {
			mounts = append(mounts, m.Target)
		}
	}
	return mounts
}

// ourCgroupPrefix starts the name of every cgroup parent this test binary
// uses (see newEnv); "mydocker" is mydocker's default parent, which a test
// would use by mistake.
var ourCgroupPrefix = fmt.Sprintf("mydocker-test-%d-", os.Getpid())

func isOurCgroup(path string) bool {
	top, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	return strings.HasPrefix(top, ourCgroupPrefix) || top == "mydocker"
}

// ourCgroups lists, for the leak check, every cgroup our tests' containers
// could leave behind, in every hierarchy: they are found by name, so that
// other programs' cgroups on the machine are left out.
func ourCgroups() []string {
	var list []string
	for _, mount := range cgroupMounts() {
		_ = filepath.WalkDir(mount, func(path string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() && path != mount && isOurCgroup(strings.TrimPrefix(path, mount)) {
				list = append(list, path)
			}
			return nil
		})
	}
	return list
}

// inOurCgroups tells whether a process is in one of our cgroups.
func inOurCgroups(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return false
	}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if parts := strings.SplitN(line, ":", 3); len(parts) == 3 && isOurCgroup(parts[2]) {
			return true
		}
	}
	return false
}

// containerCgroups lists the cgroups under the test's parent.
func (e *env) containerCgroups() []string {
	var list []string
	for _, mount := range cgroupMounts() {
		entries, _ := os.ReadDir(filepath.Join(mount, e.cgroupParent))
		for _, entry := range entries {
			if entry.IsDir() {
				list = append(list, filepath.Join(mount, e.cgroupParent, entry.Name()))
			}
		}
	}
	return list
}

// removeAlso names a cgroup below the test's parent that the test made, so
// that it is removed at the end, before the parent.
func (e *env) removeAlso(path string) {
	e.t.Cleanup(func() { removeInEveryHierarchy(e.t, path) })
}

// removeCgroupParent removes the test's parent, in every hierarchy where
// mydocker made it. It must be empty: a container's cgroup left in it keeps
// it there, and the leak check names both.
func (e *env) removeCgroupParent() {
	removeInEveryHierarchy(e.t, e.cgroupParent)
}

// parentOwners maps each test's cgroup parent to the test's name.
var parentOwners sync.Map

// parentsLeftAtTheEnd runs once every test and its cleanup are over: a
// cgroup parent of this test binary still there was made after its
// test's leak check, by a mydocker the test left running. It names the
// test, and removes what it finds, by name.
func parentsLeftAtTheEnd() error {
	var left []string
	for _, mount := range cgroupMounts() {
		entries, _ := os.ReadDir(mount)
		for _, entry := range entries {
			if !entry.IsDir() || !strings.HasPrefix(entry.Name(), ourCgroupPrefix) {
				continue
			}
			owner, known := parentOwners.Load(entry.Name())
			if !known {
				owner = "no test's parent"
			}
			left = append(left, fmt.Sprintf("%s (%v)", filepath.Join(mount, entry.Name()), owner))
			if err := unix.Rmdir(filepath.Join(mount, entry.Name())); err != nil {
				left = append(left, fmt.Sprintf("  which could not be removed: %v", err))
			}
		}
	}
	if len(left) > 0 {
		return fmt.Errorf("cgroup parents left after every test had cleaned up:\n  %s", strings.Join(left, "\n  "))
	}
	return nil
}

func removeInEveryHierarchy(t *testing.T, path string) {
	for _, mount := range cgroupMounts() {
		if err := unix.Rmdir(filepath.Join(mount, path)); err != nil && !errors.Is(err, unix.ENOENT) {
			t.Logf("removing the cgroup %s: %v", filepath.Join(mount, path), err)
		}
	}
}

// sweepCgroups removes whatever a failed test left under its own cgroup
// parent, by name: it kills the processes still there, then removes the
// cgroups, deepest first.
func (e *env) sweepCgroups() {
	for _, mount := range cgroupMounts() {
		var dirs []string
		_ = filepath.WalkDir(filepath.Join(mount, e.cgroupParent), func(path string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, path)
			}
			return nil
		})
		for i := len(dirs) - 1; i >= 0; i-- {
			killCgroupProcesses(dirs[i])
			_ = removeWhenEmpty(dirs[i], patient(2*time.Second))
		}
	}
}

func killCgroupProcesses(dir string) {
	//book:add lifecycle
	// A frozen task dies of SIGKILL only once thawed (cgroup v1).
	_ = os.WriteFile(filepath.Join(dir, "freezer.state"), []byte("THAWED"), 0)
	_ = os.WriteFile(filepath.Join(dir, "cgroup.freeze"), []byte("0"), 0)
	//book:end
	procs, _ := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	for _, field := range strings.Fields(string(procs)) {
		if pid, err := strconv.Atoi(field); err == nil {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// removeWhenEmpty removes a cgroup, retrying while the kernel says it is
// busy: processes take a moment to leave it after they are killed.
func removeWhenEmpty(dir string, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		err := unix.Rmdir(dir)
		if err == nil || !errors.Is(err, unix.EBUSY) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// removeLeftoverCgroup removes the cgroups of a container whose mydocker
// was killed, once the kernel has ended its processes.
func (e *env) removeLeftoverCgroup() {
	e.t.Helper()
	left := e.containerCgroups()
	require.NotEmpty(e.t, left, "the killed container's cgroup")
	for _, dir := range left {
		require.NoError(e.t, removeWhenEmpty(dir, patient(5*time.Second)), "the killed container's processes should be gone")
	}
}

// Docker accepts --pids-limit 1, and so does mydocker: the limit is
// written when the init, a Go program with several threads, is about to
// exec, and the command then runs as the one task the limit allows.
func TestPidsLimitOfOneRunsOneProcess(t *testing.T) {
	e := newEnv(t)
	for _, limit := range []string{"1", "2", "4"} {
		r := e.mydocker("run", "--pids-limit", limit, "--", busyboxCmd, "true")
		assert.Equal(t, 0, r.code, r.String())
	}
	// ls is not one of sh's builtins: running it takes a second process.
	r := e.mydocker("run", "--pids-limit", "1", "--", busyboxCmd, "sh", "-c", "ls / >/dev/null && echo forked")
	assert.NotEqual(t, 0, r.code, r.String())
	assert.NotContains(t, r.stdout, "forked", "a second process must not start\n%s", r)
}
