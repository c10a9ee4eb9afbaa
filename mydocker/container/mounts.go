//book:file proc

package container

import (
	"fmt"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// makeMountsPrivate stops mount events from crossing between the container
// and the host. A new mount namespace starts as a copy of the parent's, and
// on systemd hosts "/" is a shared mount: without this step, mounting /proc
// here would also mount it on the host's /proc, and the host would be left
// looking at the dead container's processes.
func makeMountsPrivate() error {
	logrus.Debug(`mount("", "/", "", MS_REC|MS_PRIVATE)`)
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("making the mount tree private: %w", err)
	}
	return nil
}

//book:replace proc rootfs
// // mountProc mounts a procfs that belongs to the container's PID namespace:
// // /proc shows the processes of the namespace that mounted it, so ps, top and
// // /proc/self only make sense inside the container after this.
// func mountProc() error {
// 	const flags = unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC
// 	logrus.Debug(`mount("proc", "/proc", "proc", MS_NOSUID|MS_NODEV|MS_NOEXEC)`)
// 	if err := unix.Mount("proc", "/proc", "proc", flags, ""); err != nil {
// 		return fmt.Errorf("mounting /proc: %w", err)
// 	}
// 	return nil
// }
//book:end
