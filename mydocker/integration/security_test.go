//book:file security

package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mydocker-book/mydocker/mydocker/probe/report"
)

// capabilityNumbers are the numbers of the capabilities the tests name.
var capabilityNumbers = map[string]uint{
	"CAP_CHOWN": 0, "CAP_DAC_OVERRIDE": 1, "CAP_FOWNER": 3, "CAP_FSETID": 4, "CAP_KILL": 5,
	"CAP_SETGID": 6, "CAP_SETUID": 7, "CAP_SETPCAP": 8, "CAP_NET_BIND_SERVICE": 10,
	"CAP_NET_ADMIN": 12, "CAP_NET_RAW": 13, "CAP_SYS_CHROOT": 18, "CAP_SYS_ADMIN": 21,
	"CAP_MKNOD": 27, "CAP_AUDIT_WRITE": 29, "CAP_SETFCAP": 31,
}

// capabilityMask is how /proc/PID/status shows a set of capabilities.
func capabilityMask(names ...string) string {
	var mask uint64
	for _, n := range names {
		mask |= 1 << capabilityNumbers[n]
	}
	return fmt.Sprintf("%016x", mask)
}

var dockersDefault = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
	"CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

// The container's root holds Docker's 14 capabilities, in the bounding,
// permitted and effective sets; nothing inheritable, nothing ambient.
func TestContainerHasDockersDefaultCapabilities(t *testing.T) {
	e := newEnv(t)
	inside, r := e.probe()
	want := capabilityMask(dockersDefault...)
	sec := inside.Security
	assert.Equal(t, []string{want, want, want}, []string{sec.CapBnd, sec.CapPrm, sec.CapEff}, r.String())
	assert.Equal(t, "0000000000000000", sec.CapInh, r.String())
	assert.Equal(t, "0000000000000000", sec.CapAmb, r.String())
}

func TestCapAddAndCapDrop(t *testing.T) {
	e := newEnv(t)
	host, err := report.ReadSecurity("/proc/self/status")
	require.NoError(t, err)
	withoutChown := slices.DeleteFunc(slices.Clone(dockersDefault), func(c string) bool { return c == "CAP_CHOWN" })
	for _, c := range []struct {
		flags []string
		want  string
	}{
		{[]string{"--cap-drop", "ALL"}, "0000000000000000"},
		{[]string{"--cap-drop", "all", "--cap-add", "net_admin"}, capabilityMask("CAP_NET_ADMIN")},
		{[]string{"--cap-drop", "CHOWN", "--cap-add", "CAP_SYS_ADMIN"}, capabilityMask(append(withoutChown, "CAP_SYS_ADMIN")...)},
		{[]string{"--cap-add", "ALL"}, host.CapBnd},
		{[]string{"--privileged"}, host.CapBnd},
	} {
		inside, r := e.probe(c.flags...)
		assert.Equal(t, c.want, inside.Security.CapEff, "%v\n%s", c.flags, r)
		assert.Equal(t, c.want, inside.Security.CapBnd, "%v\n%s", c.flags, r)
	}
}

func TestUnknownCapabilityIsRefusedWith125(t *testing.T) {
	e := newEnv(t)
	r := e.mydocker("run", "--cap-add", "FLY", "--", "true")
	assert.Equal(t, 125, r.code, r.String())
	assert.Contains(t, r.stderr, `unknown capability "FLY"`, r.String())
}

// The escapes and changes of an attack run against an unhardened runtime,
// each tried from inside and each required to fail. They are written so
// that one that succeeded by a regression would do no harm: a sysctl is
// written back with its own value, the clock set to the current time, and
// mounts happen in the container's own namespace.
func TestAttacksFromInsideFail(t *testing.T) {
	e := newEnv(t)
	volume := t.TempDir()
	attacks := map[string]string{
		"core_pattern written":        "cat /proc/sys/kernel/core_pattern > /proc/sys/kernel/core_pattern",
		"a sysctl written":            "cat /proc/sys/kernel/hostname > /proc/sys/kernel/hostname",
		"clock set":                   "! (date -s @$(date +%s) 2>&1 | grep -q \"can't set\")", // busybox's date exits 0 either way
		"/sys remounted read-write":   "mount -o remount,rw /sys",
		"cgroups remounted":           "mount -o remount,rw /sys/fs/cgroup",
		"tmpfs mounted":               "mount -t tmpfs none /tmp",
		"ro volume remounted":         "mount -o remount,rw /data",
		"nested mount namespace":      "unshare -m true",
		"moved out of its cgroup":     "echo $$ > /sys/fs/cgroup/cgroup.procs || echo $$ > /sys/fs/cgroup/pids/cgroup.procs",
		"host memory read":            "test -s /proc/kcore || head -c1 /proc/kcore | grep -q .",
		"kernel keys listed":          "grep -q . /proc/keys",
		"kernel addresses read":       "head -1 /proc/kallsyms | grep -qv '^0000000000000000 '",
		"host firmware listed":        "test -d /sys/firmware && ls /sys/firmware | grep -q .",
		"host interrupts listed":      "grep -q . /proc/interrupts",
		"a chroot escape helper made": "mknod /tmp/mem c 1 1 && head -c1 /tmp/mem >/dev/null",
		"/dev/kmsg made and opened":   "mknod /tmp/kmsg c 1 11 && exec 3>/tmp/kmsg",
	}
	var script strings.Builder
	for name, attack := range attacks {
		fmt.Fprintf(&script, "if ( %s ) >/dev/null 2>&1; then echo 'SUCCEEDED: %s'; fi\n", attack, name)
	}
	r := e.mydocker("run", "-v", volume+":/data:ro", "--", busyboxCmd, "sh", "-c", script.String())
	require.Equal(t, 0, r.code, r.String())
	assert.Empty(t, strings.TrimSpace(r.stdout), "attacks that worked:\n%s", r)
}

// A privileged container is not protected: /proc/sys is writable there, as
// in Docker. (It writes back the value already there.)
func TestPrivilegedLeavesProcWritable(t *testing.T) {
	e := newEnv(t)
	r := e.mydocker("run", "--privileged", "--", busyboxCmd, "sh", "-c",
		"cat /proc/sys/kernel/hostname > /proc/sys/kernel/hostname && grep -c . /proc/interrupts")
	assert.Equal(t, 0, r.code, r.String())
}

// Masked paths are there and empty, and read-only ones are read-only
// mounts, as the container's own mount table says.
func TestMaskedAndReadOnlyPathsAreMounts(t *testing.T) {
	e := newEnv(t)
	inside, r := e.probe()
	options := map[string]string{}
	for _, m := range inside.Mounts {
		options[m.Target] = m.Options
	}
	for _, path := range []string{"/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/proc/fs"} {
		if _, err := os.Stat(filepath.Join("/", path)); err == nil {
			assert.Contains(t, strings.Split(options[path], ","), "ro", "%s should be a read-only mount\n%s", path, r)
		}
	}
	for _, path := range []string{"/proc/kcore", "/proc/keys", "/proc/timer_list"} {
		if _, err := os.Stat(path); err == nil {
			assert.Contains(t, options, path, "%s should be masked\n%s", path, r)
		}
	}
}

// isHardeningMount tells the mounts that mask or write-protect paths of
// /proc and /sys (container/hardening.go) from any other.
func isHardeningMount(target string) bool {
	switch {
	case strings.HasPrefix(target, "/proc/"):
		return true
	case target == "/sys/firmware", target == "/sys/devices/virtual/powercap":
		return true
	}
	return strings.HasPrefix(target, "/sys/devices/system/cpu/") && strings.HasSuffix(target, "/thermal_throttle")
}

// --read-only: the root filesystem refuses writes; a volume and /dev/shm
// keep their own modes.
func TestReadOnlyRootFilesystem(t *testing.T) {
	e := newEnv(t)
	volume := t.TempDir()
	r := e.mydocker("run", "--read-only", "-v", volume+":/data", "--", busyboxCmd, "sh", "-c",
		"touch /data/ok && touch /dev/shm/ok && ! touch /etc/nope 2>/dev/null && echo done")
	require.Equal(t, 0, r.code, r.String())
	assert.Equal(t, "done\n", r.stdout, r.String())
	assert.FileExists(t, filepath.Join(volume, "ok"))
	r = e.mydocker("run", "--", busyboxCmd, "touch", "/etc/fine")
	assert.Equal(t, 0, r.code, "without --read-only the root is writable\n%s", r)
}

// --security-opt no-new-privileges sets no_new_privs for the command;
// Docker's default leaves it unset.
func TestNoNewPrivileges(t *testing.T) {
	e := newEnv(t)
	inside, r := e.probe()
	assert.Equal(t, "0", inside.Security.NoNewPrivs, r.String())
	inside, r = e.probe("--security-opt", "no-new-privileges")
	assert.Equal(t, "1", inside.Security.NoNewPrivs, r.String())
	r = e.mydocker("run", "--security-opt", "apparmor=x", "--", "true")
	assert.Equal(t, 125, r.code, r.String())
	assert.Contains(t, r.stderr, "invalid --security-opt", r.String())
}

// -u runs the command as a user of the image, with no capabilities left;
// numbers need no entry in its /etc/passwd.
func TestUserFlag(t *testing.T) {
	e := newEnv(t)
	inside, r := e.probe("-u", "nobody")
	assert.Equal(t, 65534, inside.UID, r.String())
	assert.Equal(t, "0000000000000000", inside.Security.CapEff, "a user other than root has no capabilities\n%s", r)
	assert.Contains(t, inside.Env, "HOME=/nonexistent", r.String())

	r = e.mydocker("run", "-u", "1000:1000", "--", busyboxCmd, "id")
	require.Equal(t, 0, r.code, r.String())
	assert.Equal(t, "uid=1000 gid=1000\n", r.stdout, "no supplementary groups: none is named for 1000 in the image\n%s", r)

	// The user is switched before the capabilities are limited: with
	// none left, setgroups and setuid could not run any more.
	inside, r = e.probe("--cap-drop", "ALL", "-u", "nobody")
	assert.Equal(t, 65534, inside.UID, r.String())
	assert.Equal(t, "0000000000000000", inside.Security.CapPrm, r.String())
	assert.Equal(t, "0000000000000000", inside.Security.CapBnd, r.String())
	r = e.mydocker("run", "--cap-drop", "ALL", "-u", "1000:1000", "--", busyboxCmd, "id")
	require.Equal(t, 0, r.code, r.String())
	assert.Equal(t, "uid=1000 gid=1000\n", r.stdout, r.String())

	r = e.mydocker("run", "-u", "nosuchuser", "--", "true")
	assert.Equal(t, 125, r.code, r.String())
	assert.Contains(t, r.stderr, "unable to find user nosuchuser", r.String())
}

// --tmpfs gives a writable, size-limited tmpfs, even under --read-only.
func TestTmpfsFlag(t *testing.T) {
	e := newEnv(t)
	r := e.mydocker("run", "--read-only", "--tmpfs", "/run:size=1m,mode=1777", "--", busyboxCmd, "sh", "-c",
		"touch /run/ok && stat -c %a /run && ! dd if=/dev/zero of=/run/big bs=1k count=2048 2>/dev/null && grep ' /run ' /proc/mounts")
	require.Equal(t, 0, r.code, r.String())
	assert.Contains(t, r.stdout, "1777\n", r.String())
	assert.Contains(t, r.stdout, "tmpfs /run tmpfs rw,nosuid,nodev,noexec", r.String())
}

// Docker keeps CAP_MKNOD and lets a container make a node for any device,
// but the devices cgroup (v1) or the device filter (v2) lets it open only
// its own: a node with /dev/kmsg's numbers is made, and opening it fails
// with EPERM. Opening /dev/kmsg write-only needs no capability, so that
// open fails because of the device rules alone.
func TestDeviceNodesCanBeMadeButNotOpened(t *testing.T) {
	e := newEnv(t)
	r := e.mydocker("run", "--", busyboxCmd, "sh", "-c", "mknod /tmp/k c 1 11 && echo made && cat /tmp/k")
	assert.Equal(t, 1, r.code, r.String())
	assert.Equal(t, "made\n", r.stdout, "mknod should succeed\n%s", r)
	assert.Contains(t, r.stderr, "can't open '/tmp/k': Operation not permitted", r.String())
	r = e.mydocker("run", "--", busyboxCmd, "sh", "-c", "mknod /tmp/k c 1 11 && exec 3>/tmp/k")
	assert.NotEqual(t, 0, r.code, r.String())
	assert.Contains(t, r.stderr, "Operation not permitted", r.String())
}

// A block device of the host, made inside, cannot be opened either: the
// container could otherwise read the host's disks, as root with
// CAP_DAC_OVERRIDE and no capability that a block device asks for.
func TestHostBlockDeviceCannotBeOpened(t *testing.T) {
	e := newEnv(t)
	disks, _ := os.ReadDir("/sys/dev/block")
	if len(disks) == 0 {
		t.Skip("this host has no block devices")
	}
	major, minor, _ := strings.Cut(disks[0].Name(), ":")
	r := e.mydocker("run", "--", busyboxCmd, "sh", "-c",
		fmt.Sprintf("mknod /tmp/disk b %s %s && echo made && exec 3</tmp/disk", major, minor))
	assert.NotEqual(t, 0, r.code, r.String())
	assert.Equal(t, "made\n", r.stdout, r.String())
	assert.Contains(t, r.stderr, "Operation not permitted", r.String())
}

// --privileged allows every device, as Docker does: the node opens.
func TestPrivilegedCanOpenAnyDevice(t *testing.T) {
	e := newEnv(t)
	r := e.mydocker("run", "--privileged", "--", busyboxCmd, "sh", "-c",
		"mknod /tmp/k c 1 11 && exec 3</tmp/k && echo opened")
	assert.Equal(t, 0, r.code, r.String())
	assert.Equal(t, "opened\n", r.stdout, r.String())
}

// The devices every container has stay usable under the device rules.
func TestDefaultDevicesWork(t *testing.T) {
	e := newEnv(t)
	r := e.mydocker("run", "--", busyboxCmd, "sh", "-c",
		"echo x > /dev/null && head -c 4 /dev/zero | wc -c && head -c 4 /dev/urandom | wc -c && "+
			"head -c 4 /dev/random | wc -c && ! echo x 2>/dev/null > /dev/full && echo done")
	require.Equal(t, 0, r.code, r.String())
	assert.Equal(t, "4\n4\n4\ndone\n", r.stdout, r.String())
	term := e.startOnTerminal("run", "-it", "--", busyboxCmd, "sh", "-c",
		"tty && echo hi > /dev/tty && exec 4<>/dev/ptmx && echo ptmx opened")
	term.expect("/dev/pts/0")
	term.expect("hi")
	term.expect("ptmx opened")
	assert.Equal(t, 0, term.wait(), term.String())
}

// Docker's seccomp profile is loaded by default (mode 2, filter); it is
// not with seccomp=unconfined, nor with --privileged.
func TestSeccompFilterByDefault(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct {
		flags []string
		want  string
	}{
		{nil, "2"},
		{[]string{"--security-opt", "no-new-privileges"}, "2"},
		{[]string{"--security-opt", "seccomp=unconfined"}, "0"},
		{[]string{"--privileged"}, "0"},
	} {
		inside, r := e.probe(c.flags...)
		assert.Equal(t, c.want, inside.Security.Seccomp, "%v\n%s", c.flags, r)
	}
}

// What Docker's profile answers: clone3 fails with ENOSYS (so that glibc
// falls back to clone, whose flags the filter can read), personality with
// a persona the profile does not list fails with EPERM, an allowed call
// works. Without the filter, clone3(NULL, 0) fails with EINVAL and the
// persona is set. With CAP_SYS_ADMIN the profile allows clone3. The
// filter is there whether it was loaded before the capabilities were
// dropped (Docker's default), after no_new_privs, or for another user.
func TestSeccompAnswersAsDockersProfile(t *testing.T) {
	sameOnEveryCgroupVersion(t)
	e := newEnv(t)
	calls := "for c in 'clone3 0 0' 'personality 0x400000' 'personality 0' 'keyctl 0 0xfffffffd 0' 'getpid'; do " +
		probeCmd + " syscall $c; done"
	filtered := "ENOSYS\nEPERM\nOK\nEPERM\nOK\n"
	for _, c := range []struct {
		flags []string
		want  string
	}{
		{nil, filtered},
		{[]string{"--security-opt", "no-new-privileges"}, filtered},
		{[]string{"-u", "nobody"}, filtered},
		{[]string{"--cap-add", "SYS_ADMIN"}, "EINVAL\nEPERM\nOK\nEPERM\nOK\n"},
	} {
		r := e.mydocker(append(append([]string{"run"}, c.flags...), "--", busyboxCmd, "sh", "-c", calls)...)
		require.Equal(t, 0, r.code, r.String())
		assert.Equal(t, c.want, r.stdout, "%v\n%s", c.flags, r)
	}
	r := e.mydocker("run", "--security-opt", "seccomp=unconfined", "--", busyboxCmd, "sh", "-c", calls)
	require.Equal(t, 0, r.code, r.String())
	lines := strings.Split(r.stdout, "\n")
	assert.Equal(t, []string{"EINVAL", "OK", "OK"}, lines[:3], "without a filter\n%s", r)
	assert.NotEqual(t, "EPERM", lines[3], "keyctl without a filter\n%s", r)
}

// A profile file in Docker's format replaces the default; an unreadable
// one is refused before anything starts.
func TestSeccompProfileFile(t *testing.T) {
	e := newEnv(t)
	profile := filepath.Join(t.TempDir(), "profile.json")
	require.NoError(t, os.WriteFile(profile, []byte(`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
		{"names": ["personality"], "action": "SCMP_ACT_ERRNO", "errnoRet": 5}]}`), 0o644))
	r := e.mydocker("run", "--security-opt", "seccomp="+profile, "--", busyboxCmd, "sh", "-c",
		probeCmd+" syscall personality 0; "+probeCmd+" syscall clone3 0 0")
	require.Equal(t, 0, r.code, r.String())
	assert.Equal(t, "EIO\nEINVAL\n", r.stdout, r.String())

	r = e.mydocker("run", "--security-opt", "seccomp="+profile+".missing", "--", "true")
	assert.Equal(t, 125, r.code, r.String())
	assert.Contains(t, r.stderr, "reading the seccomp profile", r.String())
}

// The filter is compiled by the first container and read back by the
// next with the same capabilities, from the state root's seccomp/, which
// is root's alone and holds one entry per filter.
func TestSeccompFilterIsCompiledOnce(t *testing.T) {
	e := newEnv(t)
	first := e.mydocker("--debug", "run", "--", "true")
	require.Equal(t, 0, first.code, first.String())
	assert.Contains(t, first.stderr, "seccomp: compiled the filter", first.String())
	second := e.mydocker("--debug", "run", "--", "true")
	require.Equal(t, 0, second.code, second.String())
	assert.Contains(t, second.stderr, "seccomp: filter from the cache", second.String())
	assert.NotContains(t, second.stderr, "seccomp: compiled the filter", second.String())

	dir := filepath.Join(e.root, "seccomp")
	info, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), info.Mode().Perm())
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1)
}

// The classes of container-runtime CVEs, each tried against mydocker. (Tar
// traversal, CVE-2014-6407 and CVE-2014-9356, is tested where images are
// unpacked: mydocker/image/unpack_test.go. CVE-2019-5736, overwriting the
// runtime's binary through /proc/self/exe, is not handled yet: chapter 7
// says so.)
func TestCVEClasses(t *testing.T) {
	t.Run("CVE-2024-21626 leaked descriptors and working directory", func(t *testing.T) {
		e := newEnv(t)
		ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
		defer cancel()
		cmd := e.command(ctx, append([]string{"run", "--"}, listOwnDescriptors()...)...)
		cmd.ExtraFiles = openStrayDescriptors(t)
		cmd.Dir = t.TempDir() // a working directory of the host's, which must not follow
		r := e.run(ctx, cmd)
		require.Equal(t, 0, r.code, r.String())
		assert.Equal(t, []string{"0", "1", "2"}, strings.Fields(r.stdout), r.String())
		r = e.mydocker("run", "--", busyboxCmd, "readlink", "/proc/self/cwd")
		assert.Equal(t, "/\n", r.stdout, "the command starts in the container's root\n%s", r)
	})
	t.Run("CVE-2021-30465 symlinked mount destination", func(t *testing.T) {
		e := newEnv(t)
		hostTarget := filepath.Join(e.root, "host-side")
		e.installImage("cve-link", map[string]string{"data": hostTarget})
		volume := t.TempDir()
		r := e.mydocker("run", "-v", volume+":/data", "cve-link", "true")
		require.Equal(t, 0, r.code, r.String())
		assert.NoDirExists(t, hostTarget, "the mount followed the image's link on the host")
	})
	t.Run("CVE-2025-31133 masks are the real /dev/null", func(t *testing.T) {
		e := newEnv(t)
		r := e.mydocker("run", "--", busyboxCmd, "sh", "-c",
			"for f in /dev/null /proc/kcore /proc/keys /proc/timer_list /proc/interrupts; do [ -e $f ] && stat -c '%F %t:%T' $f; done; true")
		require.Equal(t, 0, r.code, r.String())
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		require.GreaterOrEqual(t, len(lines), 2, "/dev/null and at least one masked file\n%s", r)
		for _, line := range lines {
			assert.Equal(t, "character special file 1:3", line, r.String())
		}
	})
	t.Run("inheritable and ambient capabilities", func(t *testing.T) {
		e := newEnv(t)
		for _, flags := range [][]string{nil, {"-u", "nobody"}, {"--cap-add", "ALL"}} {
			inside, r := e.probe(flags...)
			assert.Equal(t, "0000000000000000", inside.Security.CapInh, "%v\n%s", flags, r)
			assert.Equal(t, "0000000000000000", inside.Security.CapAmb, "%v\n%s", flags, r)
		}
	})
}
