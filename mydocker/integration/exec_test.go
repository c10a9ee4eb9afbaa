//book:file exec

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/mydocker-book/mydocker/mydocker/probe/report"
)

// execProbe runs the probe with mydocker exec and decodes its report.
func (e *env) execProbe(args ...string) report.Report {
	e.t.Helper()
	r := e.mydocker(append(append([]string{"exec"}, args...), probeCmd)...)
	require.Equal(e.t, 0, r.code, "%s", r)
	var rep report.Report
	require.NoError(e.t, json.Unmarshal([]byte(r.stdout), &rep), "the probe's output is not its JSON report\n%s", r)
	return rep
}

// runProbeDetached runs the probe's report in a detached container that
// then stays up, and returns the container's name and the report.
func (e *env) runProbeDetached(name string, flags ...string) report.Report {
	e.t.Helper()
	args := append(append([]string{"--name", name}, flags...), "--", busyboxCmd, "sh", "-c", probeCmd+"; exec "+busyboxCmd+" sleep 1000")
	e.runDetached(args...)
	r := e.mydocker("logs", name)
	deadline := time.Now().Add(patient(20 * time.Second))
	for !strings.Contains(r.stdout, "\n}") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		r = e.mydocker("logs", name)
	}
	var rep report.Report
	require.NoError(e.t, json.Unmarshal([]byte(r.stdout), &rep), "the probe's report in the log\n%s", r)
	return rep
}

func TestExecJoinsEveryNamespaceTheCgroupAndTheRoot(t *testing.T) {
	e := newEnv(t)
	inside := e.runProbeDetached("box")
	exec := e.execProbe("box")
	for _, ns := range []string{"uts", "ipc", "mnt", "pid", "cgroup", "net"} {
		assert.Equal(t, inside.Namespaces[ns], exec.Namespaces[ns], "the %s namespace", ns)
	}
	assert.Equal(t, inside.Hostname, exec.Hostname)
	assert.Equal(t, inside.Cgroup.Paths, exec.Cgroup.Paths, "the container's cgroup, in every hierarchy")
	assert.Equal(t, mountTargets(inside.Mounts), mountTargets(exec.Mounts), "the container's mount table: its root")
	assert.Equal(t, 0, exec.PPID, "its parent, mydocker exec, is outside the container's PID namespace")
	assert.NotEqual(t, 1, exec.PID)
	assert.Contains(t, pidsOf(exec.Processes), 1, "it sees the container's processes")
}

func mountTargets(mounts []report.Mount) []string {
	var targets []string
	for _, m := range mounts {
		targets = append(targets, m.Target+" "+m.FSType)
	}
	return targets
}

func TestExecGetsTheContainersRestrictions(t *testing.T) {
	for _, flags := range [][]string{
		nil,
		{"--cap-drop", "ALL", "--security-opt", "no-new-privileges"},
		{"-u", "nobody"},
		{"--cap-drop", "ALL", "-u", "nobody"},
	} {
		t.Run(strings.Join(flags, " "), func(t *testing.T) {
			e := newEnv(t)
			inside := e.runProbeDetached("box", flags...)
			exec := e.execProbe("box")
			assert.Equal(t, inside.Security, exec.Security, "capabilities, no_new_privs and seccomp as the container's command has them")
			assert.Equal(t, inside.UID, exec.UID)
		})
	}
}

// exec -u switches the user before it limits the capabilities, as run
// does: a container without CAP_SETUID can still be entered as any user.
func TestExecUserInAContainerWithoutCapabilities(t *testing.T) {
	e := newEnv(t)
	e.runDetached("--name", "box", "--cap-drop", "ALL", "--", busyboxCmd, "sleep", "1000")
	r := e.mydocker("exec", "-u", "1000:1000", "box", busyboxCmd, "sh", "-c", "id; grep CapEff /proc/self/status")
	require.Equal(t, 0, r.code, "%s", r)
	assert.Equal(t, "uid=1000 gid=1000\nCapEff:\t0000000000000000\n", r.stdout)
	r = e.mydocker("exec", "-u", "root", "box", busyboxCmd, "sh", "-c", "id -u; grep CapEff /proc/self/status")
	require.Equal(t, 0, r.code, "%s", r)
	assert.Equal(t, "0\nCapEff:\t0000000000000000\n", r.stdout, "root keeps none of the dropped capabilities")
}

func TestExecPassesArgumentsAndEnvironmentIntact(t *testing.T) {
	e := newEnv(t)
	e.runDetached("--name", "box", "--", busyboxCmd, "sleep", "1000")
	r := e.mydocker("exec", "-e", "GREETING=caf\xe9 au lait", "-w", "/etc", "box", busyboxCmd, "sh", "-c",
		`printf '%s|' "$1" "$2" "$GREETING" "$PWD" "$HOSTNAME" | od -An -c`, "sh", "a  b", "caf\xe9")
	require.Equal(t, 0, r.code, "%s", r)
	assert.Contains(t, strings.Join(strings.Fields(r.stdout), " "), `a b | c a f 351 | c a f 351 a u l a i t | / e t c |`)
}

func TestExecExitStatus(t *testing.T) {
	e := newEnv(t)
	e.runDetached("--name", "box", "--", busyboxCmd, "sleep", "1000")
	assert.Equal(t, 42, e.mydocker("exec", "box", busyboxCmd, "sh", "-c", "exit 42").code)
	r := e.mydocker("exec", "box", "no-such-command")
	assert.Equal(t, 127, r.code, "%s", r)
	r = e.mydocker("exec", "box", "/etc/passwd")
	assert.Equal(t, 126, r.code, "%s", r)
	r = e.mydocker("exec", "-w", "/no/such/dir", "box", "true")
	assert.Equal(t, 126, r.code, "%s", r)
	r = e.mydocker("exec", "nosuch", "true")
	assert.Equal(t, 1, r.code, "%s", r)

	require.Equal(t, 0, e.mydocker("run", "--keep", "--name", "done", "--", "true").code)
	r = e.mydocker("exec", "done", "true")
	assert.Equal(t, 1, r.code, "a stopped container is refused, as Docker does\n%s", r)
	assert.Contains(t, r.stderr, "container done is not running")
	require.Equal(t, 0, e.mydocker("rm", "done").code)
}

func TestExecOnlyStdioReachesTheCommand(t *testing.T) {
	e := newEnv(t)
	e.runDetached("--name", "box", "--", busyboxCmd, "sleep", "1000")
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := e.command(ctx, append([]string{"exec", "box"}, listOwnDescriptors()...)...)
	cmd.ExtraFiles = openStrayDescriptors(t)
	r := e.run(ctx, cmd)
	require.Equal(t, 0, r.code, r.String())
	assert.Equal(t, []string{"0", "1", "2"}, strings.Fields(r.stdout), r.String())
}

func TestExecWithATerminal(t *testing.T) {
	e := newEnv(t)
	id := e.runDetached("--name", "box", "--", busyboxCmd, "sleep", "1000")
	term := e.startOnTerminal("exec", "-it", "box", "sh")
	term.send("tty; stty size; echo $TERM; echo in $(hostname)\n")
	term.expect("/dev/pts/") // a terminal of the container's own devpts
	term.expect("33 101")
	term.expect("xterm")
	term.expect("in " + id[:12]) // the container's hostname: its UTS namespace
	term.send("exit 4\n")
	assert.Equal(t, 4, term.wait(), "%s", term)
}

// CVE-2019-5736: a process that the container can see must never expose
// mydocker's binary through /proc/PID/exe. The process mydocker exec
// starts is a copy of it until its execve, with the container's
// capabilities: the kernel lets a process with the same user and no fewer
// capabilities open its exe, unless it is not dumpable (then only
// CAP_SYS_PTRACE, which a container lacks, opens it). It is not dumpable
// because mydocker exec is not: dumpability belongs to the memory, which
// the clone copies. The check reads /proc/PID/task/TID/exe of the thread
// of mydocker exec that started the command (it has the container's
// restrictions and waits for the command), as a caller without
// CAP_SYS_PTRACE: refused; and, to show that the check can succeed, the
// exe of the container's own dumpable init: read.
func TestExecIsNotDumpable(t *testing.T) {
	sameOnEveryCgroupVersion(t)
	e := newEnv(t)
	id := e.runDetached("--name", "box", "--", busyboxCmd, "sleep", "1000")
	run := e.start("exec", "box", busyboxCmd, "sh", "-c", "echo ready; exec sleep 1000")
	run.expectLine("ready")
	readExe := func(path string) (string, error) {
		out, err := exec.Command(probeBin, "readexe", path).CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	initPID := e.inspect(id, "{{.State.Pid}}")
	out, err := readExe("/proc/" + initPID + "/exe")
	require.NoError(t, err, "the check works: a dumpable process with fewer capabilities can be read: %s", out)

	containerCaps := capEff(t, "/proc/"+initPID+"/status")
	var restricted string
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*", run.cmd.Process.Pid))
	require.NoError(t, err)
	for _, task := range tasks {
		if capEff(t, task+"/status") == containerCaps {
			restricted = task
		}
	}
	require.NotEmpty(t, restricted, "a thread of mydocker exec holds the container's capabilities")
	out, err = readExe(restricted + "/exe")
	assert.Error(t, err, "mydocker exec must not be dumpable, or the container could reach its binary: %s", out)
	assert.Contains(t, out, "permission denied")
	run.kill()
}

// capEff is the CapEff line of a /proc status file.
func capEff(t *testing.T, status string) string {
	t.Helper()
	data, err := os.ReadFile(status)
	require.NoError(t, err)
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("%s has no CapEff", status)
	return ""
}

func TestExecDoesNotOutliveItsContainer(t *testing.T) {
	e := newEnv(t)
	e.runDetached("--name", "box", "--", busyboxCmd, "sleep", "1000")
	run := e.start("exec", "box", busyboxCmd, "sh", "-c", "echo ready; exec sleep 1000")
	run.expectLine("ready")
	require.Equal(t, 0, e.mydocker("rm", "-f", "box").code)
	assert.Equal(t, 137, run.wait(), "the exec'd command dies with the container's PID namespace\n%s", run)
}

// The route CVE-2019-5736 really took: a command that is a script
// starting #!/proc/self/exe makes the kernel run, during the child's
// execve, whatever binary the process that execs runs. mydocker exec runs
// from a sealed copy in memory: the binary the container can reach that
// way cannot be written, even through a descriptor opened while it ran.
func TestExecRunsFromASealedCopy(t *testing.T) {
	sameOnEveryCgroupVersion(t)
	e := newEnv(t)
	e.runDetached("--name", "box", "--", busyboxCmd, "sleep", "1000")
	run := e.start("exec", "box", busyboxCmd, "sh", "-c", "echo ready; exec sleep 1000")
	run.expectLine("ready")
	exe := fmt.Sprintf("/proc/%d/exe", run.cmd.Process.Pid)
	target, err := os.Readlink(exe)
	require.NoError(t, err)
	// require: the write below must never reach the binary on the host.
	require.True(t, strings.HasPrefix(target, "/memfd:mydocker"), "mydocker exec runs from a memfd, not %s", target)
	held, err := os.OpenFile(exe, unix.O_PATH, 0)
	require.NoError(t, err)
	defer held.Close()
	run.kill()
	f, err := os.OpenFile(fmt.Sprintf("/proc/self/fd/%d", held.Fd()), os.O_WRONLY, 0)
	if err == nil {
		_, err = f.Write([]byte("overwritten"))
		f.Close()
	}
	assert.Error(t, err, "the copy is sealed against writes")

	r := e.mydocker("exec", "box", busyboxCmd, "sh", "-c", `printf '#!/proc/self/exe --version\n' > /evil && chmod +x /evil`)
	require.Equal(t, 0, r.code, "%s", r)
	r = e.mydocker("exec", "box", "/evil")
	assert.Contains(t, r.stdout, "mydocker version", "the route exists: the container made mydocker run inside it\n%s", r)
	data, err := os.ReadFile(mydockerBin)
	require.NoError(t, err)
	assert.NotContains(t, string(data[:min(len(data), 64)]), "overwritten", "the binary on the host is intact")
}
