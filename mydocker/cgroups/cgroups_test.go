//book:file cgroups

package cgroups

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCPUWeightMatchesTheThreeFixedPoints(t *testing.T) {
	for shares, weight := range map[int64]int64{
		0: 1, 2: 1, 3: 2, 512: 59, 1024: 100, 2048: 174, 262144: 10000, 1 << 20: 10000,
	} {
		assert.Equal(t, weight, CPUWeight(shares), "shares %d", shares)
	}
}

func TestParseList(t *testing.T) {
	set, err := ParseList("0-2,4")
	require.NoError(t, err)
	assert.Equal(t, map[int]bool{0: true, 1: true, 2: true, 4: true}, set)
	for _, bad := range []string{"", "a", "1-", "3-1", "1,,2", "-1", "1x"} {
		_, err := ParseList(bad)
		assert.Error(t, err, "%q", bad)
	}
}

func TestCheckSaysWhatToDo(t *testing.T) {
	ncpu := int64(runtime.NumCPU())
	for _, tc := range []struct {
		res  Resources
		want string
	}{
		{Resources{Memory: 1 << 20}, "too small: a container needs at least 6MiB to start; use -m 6m or more"},
		{Resources{MemorySwap: 64 << 20}, "it needs a memory limit too: add -m"},
		{Resources{Memory: 64 << 20, MemorySwap: 32 << 20}, "must be at least as large"},
		{Resources{NanoCPUs: (ncpu + 1) * 1e9}, "use a value from 0.01 to"},
		{Resources{NanoCPUs: 1e6}, "out of range"},
		{Resources{CPUShares: 1}, "use a value from 2 to 262144"},
		{Resources{CpusetCpus: "99"}, "--cpuset-cpus 99: CPUs 99 do not exist here: this machine has CPUs 0-"},
		{Resources{CpusetCpus: "0-"}, "write it like 0-2,4"},
		{Resources{CpusetMems: "7"}, "memory nodes 7 do not exist here"},
	} {
		err := tc.res.Check()
		if assert.Error(t, err, "%+v", tc.res) {
			assert.Contains(t, err.Error(), tc.want)
		}
	}
	assert.NoError(t, Resources{Memory: MinMemory, MemorySwap: -1, NanoCPUs: 1e7, CPUShares: 1024, CpusetCpus: "0", CpusetMems: "0", PidsLimit: 10}.Check())
}

func TestV2Settings(t *testing.T) {
	res := Resources{Memory: 64 << 20, NanoCPUs: 5e8, CPUShares: 512, CpusetCpus: "0", PidsLimit: 20}
	assert.Equal(t, []setting{
		{"memory.max", "67108864"},
		{"memory.swap.max", "67108864"}, // Docker's default: as much swap again
		{"cpu.max", "50000 100000"},
		{"cpu.weight", "59"},
		{"cpuset.cpus", "0"},
	}, v2Settings(res, true), "pids.max comes later, from LimitPids")
	res = Resources{Memory: 64 << 20, MemorySwap: 64 << 20, PidsLimit: -1}
	assert.Equal(t, []setting{{"memory.max", "67108864"}, {"memory.swap.max", "0"}}, v2Settings(res, true))
	assert.Equal(t, []setting{{"memory.max", "67108864"}}, v2Settings(res, false))
}

func TestPidsSettings(t *testing.T) {
	assert.Empty(t, pidsSettings(0))
	assert.Equal(t, []setting{{"pids.max", "20"}}, pidsSettings(20))
	assert.Equal(t, []setting{{"pids.max", "max"}}, pidsSettings(-1))
}

func TestV1Settings(t *testing.T) {
	res := Resources{Memory: 64 << 20, NanoCPUs: 15e8, CPUShares: 512, CpusetMems: "0", PidsLimit: 20}
	assert.Equal(t, []setting{{"memory.limit_in_bytes", "67108864"}, {"memory.memsw.limit_in_bytes", "134217728"}},
		v1Settings("memory", res, true))
	assert.Equal(t, []setting{{"cpu.cfs_period_us", "100000"}, {"cpu.cfs_quota_us", "150000"}, {"cpu.shares", "512"}},
		v1Settings("cpu", res, true))
	assert.Equal(t, []setting{{"cpuset.mems", "0"}}, v1Settings("cpuset", res, true))
	assert.Empty(t, v1Settings("pids", res, true), "pids.max comes later, from LimitPids")
	res.MemorySwap = -1
	assert.Equal(t, []setting{{"memory.limit_in_bytes", "67108864"}, {"memory.memsw.limit_in_bytes", "-1"}},
		v1Settings("memory", res, true))
}

func TestV1HierarchiesFromMountinfo(t *testing.T) {
	mountinfo := `30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
33 30 0:30 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 30 0:33 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw`
	want := []v1Dir{{"cpu", "/sys/fs/cgroup/cpu,cpuacct", "cpu,cpuacct"}, {"cpuset", "/sys/fs/cgroup/cpuset", "cpuset"}, {"memory", "/sys/fs/cgroup/memory", "memory"}}
	//book:add lifecycle
	want = append(want, v1Dir{"freezer", "/sys/fs/cgroup/freezer", "freezer"})
	//book:end
	assert.Equal(t, want, v1Hierarchies(mountinfo, false))
	assert.Equal(t, append(want, v1Dir{"", "/sys/fs/cgroup/unified", ""}), v1Hierarchies(mountinfo, true))

	err := checkV1Controllers(want, Resources{PidsLimit: 10})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"pids", needed for --pids-limit, is not mounted: mount it with mkdir -p /sys/fs/cgroup/pids && mount -t cgroup -o pids`)
}

func TestV2ControllersMissing(t *testing.T) {
	_, err := v2Controllers([]string{"memory", "pids"}, Resources{CpusetCpus: "0"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"cpuset", needed for --cpuset-cpus/--cpuset-mems, is not available`)
	enable, err := v2Controllers([]string{"cpuset", "io", "memory", "pids"}, Resources{})
	require.NoError(t, err)
	assert.Equal(t, []string{"cpuset", "memory", "pids"}, enable)
}

// fakeCgroup makes a directory that looks like a cgroup to enableControllers:
// the files it reads, and cgroup.type, which only a non-root cgroup has.
func fakeCgroup(t *testing.T, dir, procs string, isRoot bool) {
	files := map[string]string{"cgroup.procs": procs, "cgroup.subtree_control": ""}
	if !isRoot {
		files["cgroup.type"] = "domain"
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	for name, content := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
}

func TestEnableControllersInEveryAncestor(t *testing.T) {
	root := t.TempDir()
	fakeCgroup(t, root, "1\n", true) // the root may hold processes
	fakeCgroup(t, filepath.Join(root, "a"), "", false)
	fakeCgroup(t, filepath.Join(root, "a", "b"), "", false)
	require.NoError(t, os.WriteFile(filepath.Join(root, "a", "cgroup.subtree_control"), []byte("memory\n"), 0o644))

	require.NoError(t, enableControllers(root, "a/b", []string{"cpu", "memory"}))
	for dir, want := range map[string]string{"": "+cpu +memory", "a": "+cpu", "a/b": "+cpu +memory"} {
		got, err := readFile(filepath.Join(root, dir), "cgroup.subtree_control")
		require.NoError(t, err)
		assert.Equal(t, want, got, "cgroup.subtree_control of %q", dir)
	}
}

func TestEnableControllersRefusesAnAncestorWithProcesses(t *testing.T) {
	// A cgroup namespace's root is an ordinary cgroup: the rule applies there too.
	nsRoot := t.TempDir()
	fakeCgroup(t, nsRoot, "7\n", false)
	err := enableControllers(nsRoot, "mydocker", []string{"memory"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "it holds processes (7)")

	root := t.TempDir()
	fakeCgroup(t, root, "", true)
	fakeCgroup(t, filepath.Join(root, "busy"), "42\n", false)
	err = enableControllers(root, "busy", []string{"memory"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "it holds processes (42), and on cgroup v2 a cgroup that hands controllers down to its children may hold no processes itself")
}

func TestCleanParent(t *testing.T) {
	for in, want := range map[string]string{"mydocker": "mydocker", "/mydocker/": "mydocker", "a/b": "a/b"} {
		got, err := CleanParent(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got)
	}
	for _, bad := range []string{"", "/", "..", "a/../b", "a//b", "./a"} {
		_, err := CleanParent(bad)
		assert.Error(t, err, "%q", bad)
	}
}

// A v1 hierarchy is mounted again under the options that name it, its
// controllers, and none of the mount's other options.
func TestHierarchyOptions(t *testing.T) {
	assert.Equal(t, "cpu,cpuacct", hierarchyOptions("rw,cpu,cpuacct"))
	assert.Equal(t, "name=systemd", hierarchyOptions("rw,xattr,release_agent=/lib/systemd/systemd-cgroups-agent,name=systemd"))
	assert.Equal(t, "cpuset", hierarchyOptions("ro,cpuset,noprefix"))
}

func TestNamespaceFlag(t *testing.T) {
	private, err := Namespace("private")
	assert.NoError(t, err)
	assert.True(t, private)
	private, err = Namespace("host")
	assert.NoError(t, err)
	assert.False(t, private)
	_, err = Namespace("shared")
	assert.ErrorContains(t, err, "it is host or private")
}

//book:add rootfs

// A container sees its own cgroup only: in each v1 hierarchy mounted
// directly below /sys/fs/cgroup, or as the whole of /sys/fs/cgroup on v2.
func TestViewIsTheContainersOwnCgroup(t *testing.T) {
	v1 := &v1Cgroup{path: "mydocker/id", dirs: []v1Dir{
		{"cpu", "/sys/fs/cgroup/cpu,cpuacct", "cpu,cpuacct"},
		{"", "/sys/fs/cgroup/unified", ""},
		{"memory", "/elsewhere/memory", "memory"},
	}}
	assert.Equal(t, []ViewMount{
		{Target: "cpu,cpuacct", Source: "/sys/fs/cgroup/cpu,cpuacct/mydocker/id", FSType: "cgroup", Options: "cpu,cpuacct"},
		{Target: "unified", Source: "/sys/fs/cgroup/unified/mydocker/id", FSType: "cgroup2"},
	}, v1.View())
	v2 := &v2Cgroup{root: Root, path: "mydocker/id"}
	assert.Equal(t, []ViewMount{{Source: "/sys/fs/cgroup/mydocker/id", FSType: "cgroup2"}}, v2.View())
}

//book:end rootfs
