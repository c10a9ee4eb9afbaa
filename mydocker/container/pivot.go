//book:file rootfs

package container

import (
	"fmt"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// pivotRoot makes rootfs the root of the container's mount namespace and
// detaches the host's root from it. Unlike chroot, which only changes
// where one process's paths start, pivot_root moves the whole namespace:
// once the old root is unmounted, there is no path left to the host's
// files, whatever a process does with chdir("..") or chroot.
//
// pivot_root(".", ".") is the shortest form: it stacks the old root on top
// of the new one at "/", so the old root can be unmounted right there,
// without a directory in the image to park it in.
func pivotRoot(rootfs string) error {
	//book:lab rootfs pivot
	if err := unix.Chdir(rootfs); err != nil {
		return fmt.Errorf("entering the root filesystem %s: %w", rootfs, err)
	}
	logrus.Debug(`pivot_root(".", ".")`)
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root into %s: %w", rootfs, err)
	}
	logrus.Debug(`umount2(".", MNT_DETACH): the host's root is gone from the container`)
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detaching the old root: %w", err)
	}
	return unix.Chdir("/")
	//book:stub
	// // Lab rootfs, part 1 (labs/04-rootfs/README.md): make rootfs the root of
	// // the container's mount namespace, and leave no path to the host's root.
	// // Until then the init refuses to go on: the container would see the host's files.
	// return fmt.Errorf("lab rootfs, part 1: pivotRoot(%s) is not written yet (labs/04-rootfs/README.md)", rootfs)
	//book:end
}
