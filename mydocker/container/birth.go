//book:file exec

package container

import (
	"errors"
	"fmt"
	"os/exec"
	"runtime"

	"golang.org/x/sys/unix"
)

// startInItsCgroup clones the init straight into the container's cgroup
// (cgroups.Birth), instead of moving it there after the clone: no move
// means no wait for the kernel's grace period, and not one instruction of
// the init runs outside the container's limits.
func (c *Container) startInItsCgroup(cmd *exec.Cmd) error {
	// On cgroup v1 the cloning thread itself stands in the container's
	// cgroup for a moment, and the child is born where its thread is: this
	// goroutine must stay on the thread, and no other goroutine may run on
	// it, from the move until the move back.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	birth, err := c.cgroup.Birth()
	if err != nil {
		return err
	}
	if birth.CgroupFD >= 0 {
		cmd.SysProcAttr.UseCgroupFD, cmd.SysProcAttr.CgroupFD = true, birth.CgroupFD
	}
	err = startProcess(cmd)
	if errors.Is(err, unix.ENOSYS) && cmd.SysProcAttr.UseCgroupFD {
		err = fmt.Errorf("%w: clone3(2) with CLONE_INTO_CGROUP needs Linux 5.7 or later, "+
			"and no seccomp filter around mydocker that refuses clone3 (as Docker's default profile does)", err)
	}
	return errors.Join(err, birth.Done())
}
