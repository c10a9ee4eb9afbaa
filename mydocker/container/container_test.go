//book:file namespaces

package container

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func TestStatusOfFollowsTheShell(t *testing.T) {
	// A wait status holds the exit code in bits 8-15, or the signal in bits 0-6.
	exited := func(code int) syscall.WaitStatus { return syscall.WaitStatus(code << 8) }
	killedBy := func(sig syscall.Signal) syscall.WaitStatus { return syscall.WaitStatus(sig) }

	assert.Equal(t, 0, statusOf(exited(0)))
	assert.Equal(t, 3, statusOf(exited(3)))
	assert.Equal(t, 255, statusOf(exited(255)))
	assert.Equal(t, 137, statusOf(killedBy(syscall.SIGKILL)))
	assert.Equal(t, 143, statusOf(killedBy(syscall.SIGTERM)))
}

func TestCommandErrorTellsNotFoundFromNotExecutable(t *testing.T) {
	cases := []struct {
		err  error
		code int
	}{
		{exec.ErrNotFound, ExitNotFound},
		{&exec.Error{Name: "x", Err: exec.ErrNotFound}, ExitNotFound},
		{&os.PathError{Op: "stat", Path: "/x", Err: unix.ENOENT}, ExitNotFound},
		{&os.PathError{Op: "exec", Path: "/x", Err: unix.EACCES}, ExitCannotInvoke},
		{unix.ENOEXEC, ExitCannotInvoke},
	}
	for _, c := range cases {
		t.Run(fmt.Sprint(c.err), func(t *testing.T) {
			var failed *Error
			require.True(t, errors.As(commandError("x", c.err), &failed))
			assert.Equal(t, c.code, failed.Code)
			if c.code == ExitCannotInvoke {
				assert.ErrorIs(t, failed, c.err, "why it cannot be executed stays visible")
			}
		})
	}
}

func TestContainerEnvDoesNotInheritTheCallers(t *testing.T) {
	t.Setenv("SECRET_OF_THE_CALLER", "x")
	env := containerEnv(Config{Hostname: "box"})
	assert.Contains(t, env, "HOSTNAME=box")
	assert.NotContains(t, env, "SECRET_OF_THE_CALLER=x")
	assert.NotContains(t, env, "TERM=xterm", "TERM only with a terminal")
	assert.Contains(t, containerEnv(Config{Hostname: "box", TTY: true}), "TERM=xterm")
}

func TestIDs(t *testing.T) {
	id := NewID()
	assert.Regexp(t, `^[0-9a-f]{64}$`, id)
	assert.Equal(t, id[:12], ShortID(id))
	assert.NotEqual(t, id, NewID())
}

// The namespaces of the lab's part 1: UTS, PID, mount and IPC; from the
// netns chapter on, network too.
func TestCloneFlagsCreateTheNamespaces(t *testing.T) {
	flags, names := cloneFlags()
	//book:replace namespaces netns
	// assert.Equal(t, uintptr(unix.CLONE_NEWUTS|unix.CLONE_NEWPID|unix.CLONE_NEWNS|unix.CLONE_NEWIPC), flags)
	// assert.Equal(t, []string{"CLONE_NEWUTS", "CLONE_NEWPID", "CLONE_NEWNS", "CLONE_NEWIPC"}, names)
	//book:end
	//book:add netns
	assert.Equal(t, uintptr(unix.CLONE_NEWUTS|unix.CLONE_NEWPID|unix.CLONE_NEWNS|unix.CLONE_NEWIPC|unix.CLONE_NEWNET), flags)
	assert.Equal(t, []string{"CLONE_NEWUTS", "CLONE_NEWPID", "CLONE_NEWNS", "CLONE_NEWIPC", "CLONE_NEWNET"}, names)
	//book:end
}

//book:add netns

func TestTheHostsNetworkIsClonedWithoutANetworkNamespace(t *testing.T) {
	bridged := initSysProcAttr(Config{Network: NetworkBridge}).Cloneflags
	host := initSysProcAttr(Config{Network: NetworkHost}).Cloneflags
	assert.NotZero(t, bridged&unix.CLONE_NEWNET)
	assert.Equal(t, bridged&^unix.CLONE_NEWNET, host)
	assert.Equal(t, []string{"CLONE_NEWUTS", "CLONE_NEWPID", "CLONE_NEWNS", "CLONE_NEWIPC"}, cloneFlagNames(host))
}

//book:end
