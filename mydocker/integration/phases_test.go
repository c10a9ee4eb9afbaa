//book:file namespaces

package integration

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A container goes through the phases create, start, wait and delete, each
// a list of named steps (container/create.go, container/start.go). The
// tests' build of mydocker (-tags faults, package faults) can make any step
// fail; these tests make each one fail in turn and check that nothing is
// left: no process, mount, cgroup or directory (the leak check), and no
// descriptor open in mydocker as it exits.

// createSteps and startSteps are the steps of each phase, in order, as
// this stage has them.
var createSteps = []string{
	//book:add proc
	"signals",
	//book:end
	"sweep",
	"directory",
	//book:add detach
	"name",
	"log",
	"attach",
	//book:end
	//book:add images
	"image",
	//book:end
	//book:add rootfs
	"rootfs",
	//book:end
	//book:add volumes
	"volumes",
	//book:end
	//book:add cgroups
	"cgroup",
	//book:end
	//book:add rootfs
	"interrupted",
	//book:end
	//book:add proc
	"init",
	//book:end
	//book:replace cgroups exec
	// "join",
	//book:end
	//book:add netns
	"network",
	//book:end
	//book:add detach
	"record",
	//book:end
	"created",
}

var startSteps = []string{
	//book:replace namespaces proc
	// "init",
	//book:end
	//book:add proc
	"config",
	//book:end
	//book:add rootfs
	"console",
	//book:end
	//book:add proc
	"ready",
	//book:end
	//book:add cgroups
	"pids",
	//book:end
	//book:add proc
	"exec",
	"signals",
	//book:end
	"running",
}

func allSteps() []string {
	var steps []string
	for _, s := range createSteps {
		steps = append(steps, "create/"+s)
	}
	for _, s := range startSteps {
		steps = append(steps, "start/"+s)
	}
	return steps
}

// faultReport is what the fault-injecting mydocker writes as it exits.
type faultReport struct {
	Steps       []string          `json:"steps"`
	Descriptors map[string]string `json:"descriptors"`
}

// runArgs is a run that uses every step: limits for the cgroup, a volume.
func runArgs(t *testing.T, flags ...string) []string {
	args := append([]string{"run"}, flags...)
	//book:add cgroups
	args = append(args, "-m", "64m", "--pids-limit", "64")
	//book:end
	//book:add volumes
	args = append(args, "-v", t.TempDir()+":/data")
	//book:end
	return append(args, "--", busyboxCmd, "true")
}

// withFault makes cmd the fault-injecting mydocker, failing at step ("" for
// none), with its report in a file of the test's.
func withFault(t *testing.T, cmd *exec.Cmd, step string) (reportFile string) {
	reportFile = filepath.Join(t.TempDir(), "faults.json")
	cmd.Path, cmd.Args[0] = mydockerFaultsBin, mydockerFaultsBin
	cmd.Env = append(cmd.Env, "MYDOCKER_FAULT="+step, "MYDOCKER_FAULT_REPORT="+reportFile)
	return reportFile
}

// runWithFault runs a container with the fault-injecting mydocker, failing
// at step ("" for none), and returns what it did and its report.
func (e *env) runWithFault(step string) (result, faultReport) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := e.command(ctx, runArgs(e.t)...)
	reportFile := withFault(e.t, cmd, step)
	r := e.run(ctx, cmd)
	return r, readFaultReport(e.t, reportFile)
}

func readFaultReport(t *testing.T, file string) faultReport {
	t.Helper()
	data, err := os.ReadFile(file)
	require.NoError(t, err, "the fault-injecting mydocker wrote no report")
	var rep faultReport
	require.NoError(t, json.Unmarshal(data, &rep))
	return rep
}

// runtimeDescriptors are what the Go runtime itself keeps open (its
// network poller), and the directory the report was listed from.
var runtimeDescriptors = regexp.MustCompile(`^(anon_inode:\[eventpoll\]|anon_inode:\[eventfd\]|/proc/\d+/fd)$`)

// requireNoDescriptorsLeft fails if mydocker exited holding a descriptor it
// did not have when it started, other than the Go runtime's own: a pipe or
// socket to the init, a pidfd, a file of the container.
func requireNoDescriptorsLeft(t *testing.T, rep faultReport) {
	t.Helper()
	for fd, what := range rep.Descriptors {
		assert.Regexp(t, runtimeDescriptors, what, "descriptor %s was left open", fd)
	}
}

// Without a fault, a run passes every step of create and start, in order:
// if a chapter adds a step, the lists above must name it.
func TestARunPassesEveryStepInOrder(t *testing.T) {
	e := newEnv(t)
	r, rep := e.runWithFault("")
	require.Equal(t, 0, r.code, r.String())
	assert.Equal(t, allSteps(), rep.Steps)
	requireNoDescriptorsLeft(t, rep)
}

// Each step of create and start, made to fail, ends the run with 125 and
// the step's error; the steps before it are undone.
func TestAFailureAtAnyStepLeavesNothingBehind(t *testing.T) {
	for _, step := range allSteps() {
		t.Run(step, func(t *testing.T) {
			e := newEnv(t)
			r, rep := e.runWithFault(step)
			assert.Equal(t, 125, r.code, r.String())
			assert.Contains(t, r.stderr, "mydocker: fault injected at "+step, r.String())
			require.NotEmpty(t, rep.Steps)
			assert.Equal(t, step, rep.Steps[len(rep.Steps)-1], "the run went on after the failed step")
			requireNoDescriptorsLeft(t, rep)
		})
	}
}

//book:add rootfs

// The same with -t, where start also passes the container's terminal
// over the console socket.
func TestAFailureWithATerminalLeavesNothingBehind(t *testing.T) {
	sameOnEveryCgroupVersion(t)
	for _, step := range allSteps() {
		t.Run(step, func(t *testing.T) {
			e := newEnv(t)
			cmd := e.command(t.Context(), runArgs(t, "-it")...)
			reportFile := withFault(t, cmd, step)
			term := e.startCommandOnTerminal(cmd)
			assert.Equal(t, 125, term.wait(), term.String())
			assert.Contains(t, term.String(), "mydocker: fault injected at "+step)
			rep := readFaultReport(t, reportFile)
			assert.Equal(t, step, rep.Steps[len(rep.Steps)-1], "the run went on after the failed step")
			requireNoDescriptorsLeft(t, rep)
		})
	}
}

//book:end

//book:add proc

// An init that dies before it is ready, without a word (as a Go program
// does when the kernel refuses it a thread), is mydocker's failure: 125,
// never the init's own exit status taken for the command's.
func TestAnInitThatDiesBeforeExecIs125(t *testing.T) {
	e := newEnv(t)
	r, rep := e.runWithFault("init/ready")
	assert.Equal(t, 125, r.code, r.String())
	assert.Contains(t, r.stderr, "mydocker: the container's init died before it could run the command (exit status 2): this is mydocker's failure", r.String())
	requireNoDescriptorsLeft(t, rep)
}

//book:end
