//book:file rootfs

package container

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// enterRootfs makes the image the container's root. Everything is mounted
// under the new root while the host's tree is still reachable, then
// pivot_root swaps the roots and the old one is detached.
func enterRootfs(cfg Config) error {
	steps := []func(string) error{
		mountRootfs(cfg),
		mountFilesystems,
		makeDevices,
		bindCgroupsReadOnly,
		//book:add volumes
		mountVolumes(cfg.Volumes),
		//book:end
		pivotRoot,
	}
	for _, step := range steps {
		if err := step(cfg.Rootfs); err != nil {
			return err
		}
	}
	return nil
}

//book:replace rootfs overlay
// // mountRootfs bind-mounts the container's directory onto itself:
// // pivot_root wants the new root to be a mount point of its own.
// func mountRootfs(cfg Config) func(string) error {
// 	return func(rootfs string) error {
// 		return mount(rootfs, rootfs, "", unix.MS_BIND|unix.MS_REC, "")
// 	}
// }
//book:end

//book:add overlay

// mountRootfs stacks the container's layer on the image's with overlayfs:
// reads fall through to the image, the first write to a file copies it up
// into the container's layer, and a deletion leaves a whiteout there.
func mountRootfs(cfg Config) func(string) error {
	return func(rootfs string) error {
		layers := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", cfg.Layer, cfg.Upper, cfg.Work)
		return mount("overlay", rootfs, "overlay", 0, layers)
	}
}

//book:end

// filesystem is one mount every container gets.
type filesystem struct {
	source, target, fstype string
	flags                  uintptr
	data                   string
}

// filesystems are the mounts Docker gives every container, in order: a
// mount point must exist before something is mounted on it.
var filesystems = []filesystem{
	// The processes of the container's PID namespace.
	{"proc", "/proc", "proc", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, ""},
	// Devices, kernel objects, drivers: the container may look, not change.
	{"sysfs", "/sys", "sysfs", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_RDONLY, ""},
	// A small /dev of its own, instead of the host's with every disk in it.
	{"tmpfs", "/dev", "tmpfs", unix.MS_NOSUID | unix.MS_STRICTATIME, "mode=755,size=65536k"},
	// Terminals: a devpts of its own (every devpts mount is a new instance
	// since Linux 4.7; "newinstance" says so on older kernels), so the host's
	// terminals are not listed, and ptmxmode lets the container make ptys.
	{"devpts", "/dev/pts", "devpts", unix.MS_NOSUID | unix.MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5"},
	// POSIX shared memory, private to the container.
	{"shm", "/dev/shm", "tmpfs", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, "mode=1777,size=65536k"},
	// POSIX message queues, which belong to the container's IPC namespace.
	{"mqueue", "/dev/mqueue", "mqueue", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, ""},
}

func mountFilesystems(rootfs string) error {
	for _, fs := range filesystems {
		target, err := mountPoint(rootfs, fs.target)
		if err != nil {
			return err
		}
		if err := mount(fs.source, target, fs.fstype, fs.flags, fs.data); err != nil {
			return err
		}
	}
	return nil
}

// mountPoint finds a path of the container inside its root filesystem, and
// creates it as a directory if it is missing. The image decides what its
// paths are: a symlink in it must be followed inside the container's root,
// never out into the host's.
func mountPoint(rootfs, path string) (string, error) {
	target, err := resolveInRoot(rootfs, path)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(target, 0o755); err != nil {
		return "", fmt.Errorf("creating the mount point %s in the container: %w", path, err)
	}
	return target, nil
}

// device is a device node every container gets.
type device struct {
	name         string
	major, minor uint32
}

// devices are Docker's defaults: harmless ones only. A disk, or the
// host's memory, is never among them.
var devices = []device{
	{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7},
	{"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
}

// devLinks are the symlinks programs expect in /dev.
var devLinks = map[string]string{
	"ptmx":   "pts/ptmx", // the new devpts instance's multiplexer, not the host's
	"fd":     "/proc/self/fd",
	"stdin":  "/proc/self/fd/0",
	"stdout": "/proc/self/fd/1",
	"stderr": "/proc/self/fd/2",
}

// makeDevices fills the container's empty /dev. As real root we can create
// the nodes with mknod; the tmpfs is mounted without MS_NODEV so that they
// work.
func makeDevices(rootfs string) error {
	dev := filepath.Join(rootfs, "dev")
	for _, d := range devices {
		path := filepath.Join(dev, d.name)
		logrus.Debugf("mknod(%q, S_IFCHR|0666, %d:%d)", path, d.major, d.minor)
		if err := unix.Mknod(path, unix.S_IFCHR|0o666, int(unix.Mkdev(d.major, d.minor))); err != nil {
			return fmt.Errorf("creating /dev/%s in the container: %w", d.name, err)
		}
		// mknod applies the umask; the devices must be usable by everyone.
		if err := unix.Chmod(path, 0o666); err != nil {
			return fmt.Errorf("setting the mode of /dev/%s: %w", d.name, err)
		}
	}
	for name, target := range devLinks {
		if err := os.Symlink(target, filepath.Join(dev, name)); err != nil {
			return fmt.Errorf("creating the link /dev/%s: %w", name, err)
		}
	}
	return nil
}

// bindCgroupsReadOnly lets the container read its cgroup files, its limits
// and usage, as Docker does, but not change them: the whole tree is bound
// in, then made read-only, recursively, with one mount_setattr(2) call.
func bindCgroupsReadOnly(rootfs string) error {
	target := filepath.Join(rootfs, "sys/fs/cgroup")
	if err := mount("/sys/fs/cgroup", target, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return err
	}
	return makeReadOnly(target)
}

// makeReadOnly makes the mount at target, and every mount below it,
// read-only. A bind mount shares its files with its source: this changes
// only the mounts, in the container's namespace, not the host's view.
func makeReadOnly(target string) error {
	logrus.Debugf("mount_setattr(%q, AT_RECURSIVE, MOUNT_ATTR_RDONLY)", target)
	attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
	if err := unix.MountSetattr(unix.AT_FDCWD, target, unix.AT_RECURSIVE, attr); err != nil {
		return fmt.Errorf("making %s read-only: %w", target, err)
	}
	return nil
}

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
}

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
