//book:file proc

package container

import (
	"fmt"
	"strings"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// makeMountsPrivate stops mount events from crossing between the container
// and the host. A new mount namespace starts as a copy of the parent's, and
// on systemd hosts "/" is a shared mount: without this step, mounting /proc
// here would also mount it on the host's /proc, and the host would be left
// looking at the dead container's processes.
func makeMountsPrivate() error {
	//book:lab proc private
	logrus.Debug(`mount("", "/", "", MS_REC|MS_PRIVATE)`)
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("making the mount tree private: %w", err)
	}
	return nil
	//book:stub
	// // Lab proc, part 1 (labs/02-proc/README.md): stop mount events from
	// // crossing between the container and the host, before any mount.
	// // Until then the init refuses to go on: its mounts would reach the host.
	// return errors.New("lab proc, part 1: makeMountsPrivate is not written yet (labs/02-proc/README.md)")
	//book:end proc private
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

//book:add rootfs

// mount is mount(2), traced.
func mount(source, target, fstype string, flags uintptr, data string) error {
	logrus.Debugf("mount(%q, %q, %q, %s, %q)", source, target, fstype, mountFlagNames(flags), data)
	if err := unix.Mount(source, target, fstype, flags, data); err != nil {
		return fmt.Errorf("mounting %s (%s) on %s: %w", source, fstype, target, err)
	}
	return nil
}

// flagNames names the bits of a flags argument, for the --debug trace.
type flagNames []struct {
	flag uintptr
	name string
}

func (f flagNames) names(flags uintptr) string {
	var names []string
	for _, n := range f {
		if flags&n.flag != 0 {
			names = append(names, n.name)
		}
	}
	if len(names) == 0 {
		return "0"
	}
	return strings.Join(names, "|")
}

var mountFlagNames = flagNames{
	{unix.MS_RDONLY, "MS_RDONLY"}, {unix.MS_NOSUID, "MS_NOSUID"}, {unix.MS_NODEV, "MS_NODEV"},
	{unix.MS_NOEXEC, "MS_NOEXEC"}, {unix.MS_STRICTATIME, "MS_STRICTATIME"}, {unix.MS_REMOUNT, "MS_REMOUNT"},
	{unix.MS_BIND, "MS_BIND"}, {unix.MS_REC, "MS_REC"}, {unix.MS_PRIVATE, "MS_PRIVATE"},
}.names

// makeReadOnly makes the mount at target, and every mount below it,
// read-only. A bind mount shares its files with its source: this changes
// only the mounts, in the container's namespace, not the host's view.
func makeReadOnly(target string) error {
	return setMountAttributes(target, unix.MOUNT_ATTR_RDONLY, "MOUNT_ATTR_RDONLY")
}

// setMountAttributes sets the attributes (MOUNT_ATTR_*, named for the
// trace) on the mount at target and every mount below it, in one call.
func setMountAttributes(target string, attrs uint64, names string) error {
	logrus.Debugf("mount_setattr(%q, AT_RECURSIVE, %s)", target, names)
	attr := &unix.MountAttr{Attr_set: attrs}
	if err := unix.MountSetattr(unix.AT_FDCWD, target, unix.AT_RECURSIVE, attr); err != nil {
		return fmt.Errorf("setting %s on %s: %w", names, target, err)
	}
	return nil
}

//book:end
