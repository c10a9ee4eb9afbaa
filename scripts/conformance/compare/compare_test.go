package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mydocker-book/mydocker/mydocker/probe/report"
)

func TestMountFlags(t *testing.T) {
	assert.Equal(t, "ro,nosuid,nodev,noexec", mountFlags("noexec,ro,relatime,nodev,nosuid"))
	assert.Equal(t, "rw", mountFlags("rw,relatime"))
	assert.Equal(t, "rw,nosuid", mountFlags("rw,nosuid"))
}

func TestPropagation(t *testing.T) {
	assert.Equal(t, "private", propagation("private"))
	assert.Equal(t, "private", propagation(""))
	assert.Equal(t, "slave", propagation("master:1"))
	assert.Equal(t, "shared,slave", propagation("shared:7 master:3"))
}

func TestNormaliseFD(t *testing.T) {
	assert.Equal(t, "pipe", normaliseFD("pipe:[1180988]"))
	assert.Equal(t, "socket", normaliseFD("socket:[42]"))
	assert.Equal(t, "anon_inode:[eventpoll]", normaliseFD("anon_inode:[eventpoll]"))
	assert.Equal(t, "/dev/pts/N", normaliseFD("/dev/pts/3"))
	assert.Equal(t, "/dev/null", normaliseFD("/dev/null"))
	assert.Equal(t, "the cgroup file cpu.max", normaliseFD("/sys/fs/cgroup/docker/abc/cpu.max"))
}

var host = report.Report{
	Namespaces: map[string]uint64{"net": 1, "pid": 2},
	Cgroup:     report.Cgroup{Version: 1, Paths: map[string]string{"memory": "/session", "freezer": "/"}},
}

func TestFlatten(t *testing.T) {
	r := report.Report{
		PID:        1,
		Hostname:   "c",
		Env:        []string{"PATH=/bin", "HOME=/root"},
		Namespaces: map[string]uint64{"net": 1, "pid": 99},
		Mounts: []report.Mount{
			{Target: "/", FSType: "overlay", Options: "rw,relatime", Propagation: "master:4"},
			{Target: "/proc/sys", FSType: "proc", Options: "ro,nosuid,nodev,noexec,relatime"},
			{Target: "/proc/kcore", FSType: "tmpfs", Options: "rw,nosuid"},
			{Target: "/sys/firmware", FSType: "tmpfs", Options: "ro,relatime"},
			{Target: "/sys/fs/cgroup/memory", FSType: "cgroup", Options: "ro,nosuid,nodev,noexec,relatime"},
		},
		Devices: []report.Device{{Name: "null", Mode: "c0666", Major: 1, Minor: 3}, {Name: "ptmx", Mode: "l0777", Link: "pts/ptmx"}},
		FDs:     []report.FD{{FD: 0, Target: "/dev/null"}, {FD: 1, Target: "pipe:[5]"}},
		Cgroup: report.Cgroup{
			Version: 1,
			Paths:   map[string]string{"memory": "/parent/id", "freezer": "/"},
			Files:   map[string]string{"memory.limit_in_bytes": "67108864", "memory.usage_in_bytes": "123"},
			Dirs:    map[string]string{"memory": "/sys/fs/cgroup/memory"},
		},
		Security: report.Security{CapEff: "00000000a80425fb", Seccomp: "2"},
	}
	f := Flatten(r, host)
	for fact, value := range map[string]string{
		"pid":                               "1",
		"hostname":                          "c",
		"env PATH":                          "set",
		"namespace net":                     "the host's",
		"namespace pid":                     "own",
		"mount / fstype":                    "overlay",
		"mount / propagation":               "slave",
		"read-only /proc/sys":               "ro,nosuid,nodev,noexec",
		"masked /proc/kcore":                "a bind mount of /dev/null",
		"masked /sys/firmware":              "a read-only tmpfs",
		"mount /sys/fs/cgroup/memory flags": "ro,nosuid,nodev,noexec",
		"dev null device":                   "1:3",
		"dev ptmx link":                     "pts/ptmx",
		"fd 1":                              "pipe",
		"cgroup memory":                     "its own, 2 levels deep",
		"cgroup freezer":                    "the caller's",
		"cgroup view memory":                "its own cgroup, at the mount point",
		"limit memory.limit_in_bytes":       "67108864",
		"security.cap_eff":                  "00000000a80425fb",
		"security.seccomp":                  "2",
	} {
		assert.Equal(t, value, f[fact], fact)
	}
	assert.NotContains(t, f, "mount /proc/sys", "a read-only path is not also a mount")
	assert.NotContains(t, f, "limit memory.usage_in_bytes", "counters are not limits")
	assert.NotContains(t, f, "dev null link")
}

func TestCheck(t *testing.T) {
	docker := Facts{"security.seccomp": "2", "mount /etc/hosts": "present", "mount /etc/hosts flags": "rw", "hostname": "c"}
	mydocker := Facts{"security.seccomp": "2", "masked /proc/interrupts": "a bind mount of /dev/null", "hostname": "c"}
	diffs := Compare(docker, mydocker)
	require.Equal(t, []Difference{
		{"masked /proc/interrupts", "", "a bind mount of /dev/null"},
		{"mount /etc/hosts", "present", ""},
		{"mount /etc/hosts flags", "rw", ""},
	}, diffs)

	check := func(list string) (bool, string) {
		known, err := parseKnown(list)
		require.NoError(t, err)
		var out strings.Builder
		return Check(&out, diffs, known, "differences.txt"), out.String()
	}
	ok, out := check("# comment\n\nmount /etc/hosts* | no network files yet\nmasked /proc/interrupts | newer Docker\n")
	assert.True(t, ok, out)
	assert.Contains(t, out, "no network files yet")

	ok, out = check("mount /etc/hosts* | no network files yet\n")
	assert.False(t, ok, "a difference the file does not list fails")
	assert.Contains(t, out, "masked /proc/interrupts | \n")

	ok, out = check("mount /etc/hosts* | no network files yet\nmasked /proc/interrupts | newer Docker\nsecurity.seccomp | gone\n")
	assert.False(t, ok, "a line that matches no difference fails")
	assert.Contains(t, out, "line 3: security.seccomp")

	ok, _ = check("mount /etc/hosts | only the mount itself\nmasked /proc/interrupts | newer Docker\n")
	assert.False(t, ok, "without a *, a line matches one fact exactly")
}

func TestParseKnown(t *testing.T) {
	_, err := parseKnown("mount /etc/hosts\n")
	assert.ErrorContains(t, err, "line 1")
	_, err = parseKnown("mount /etc/hosts |  \n")
	assert.Error(t, err, "a reason is required")
	known, err := parseKnown("a.b* | why | and more\n")
	require.NoError(t, err)
	assert.Equal(t, "why | and more", known[0].Reason)
	assert.True(t, known[0].match.MatchString("a.b flags"))
	assert.False(t, known[0].match.MatchString("axb"), "a dot is a dot")
}
