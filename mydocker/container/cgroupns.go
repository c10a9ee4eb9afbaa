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
	// The init is born in the container's cgroup now (birth.go), so
	// CLONE_NEWCGROUP among the clone flags would do as well: for a
	// namespace made by clone, the kernel takes as root the cgroup the
	// child is born in, CLONE_INTO_CGROUP's included. The unshare stays,
	// one mechanism for every chapter (chapter 9, exercise 8, tries it).
	//book:end
	logrus.Debug("unshare(CLONE_NEWCGROUP): the container's cgroup becomes its root")
	if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
		return fmt.Errorf("entering a cgroup namespace of the container's own: %w", err)
	}
	return nil
}
