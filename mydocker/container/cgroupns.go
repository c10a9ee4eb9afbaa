//book:file cgroups

package container

import (
	"fmt"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// enterCgroupNamespace gives the container a cgroup namespace of its own,
// rooted at the cgroup the init is in when it calls unshare(2): from then
// on /proc/PID/cgroup shows that cgroup as "/" ("0::/" on cgroup v2), and
// a cgroup filesystem mounted from inside shows it as the root. unshare(2)
// changes the calling thread only, in a Go program as in any other: the
// init locked its goroutine to the thread that will exec, and execve keeps
// that thread's namespaces.
func enterCgroupNamespace() error {
	//book:replace cgroups exec
	// // It must come after mydocker has moved the init into the
	// // container's cgroup (create's join step, done before the init gets its
	// // configuration): with CLONE_NEWCGROUP among the clone flags, the
	// // namespace would be rooted at mydocker's own cgroup.
	//book:end
	//book:add exec
	// The init was born in the container's cgroup (birth.go), but
	// CLONE_NEWCGROUP among the clone flags would still root the namespace
	// at mydocker's own cgroup on cgroup v2: the kernel copies the parent's
	// namespaces before it places the child with CLONE_INTO_CGROUP. So the
	// init unshares, once it runs in its cgroup.
	//book:end
	logrus.Debug("unshare(CLONE_NEWCGROUP): the container's cgroup becomes its root")
	if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
		return fmt.Errorf("entering a cgroup namespace of the container's own: %w", err)
	}
	return nil
}
