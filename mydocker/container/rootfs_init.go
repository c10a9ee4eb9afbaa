//book:file rootfs

package container

// The init's side of the root filesystem: what it mounts inside the new
// root while the host's tree is still reachable, before pivot_root.

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"

	"github.com/mydocker-book/mydocker/mydocker/cgroups"
	"golang.org/x/sys/unix"
)

// enterRootfs makes the image the container's root. Everything is mounted
// under the new root while the host's tree is still reachable, then
// pivot_root swaps the roots and the old one is detached.
func enterRootfs(cfg initConfig) error {
	steps := []func(string) error{
		//book:replace rootfs images
		// mountRootfs(cfg.Rootfs),
		//book:end
		//book:add images
		mountLayers(cfg.Rootfs),
		//book:end
		mountFilesystems,
		makeDevices,
		mountCgroupView(cfg.CgroupView, cfg.PrivateCgroupNS),
		//book:add volumes
		mountVolumes(cfg.Volumes),
		//book:end
		//book:add security
		mountTmpfs(cfg.Tmpfs),
		//book:end
		//book:add lifecycle
		mountReaper(cfg.Init),
		//book:end
		pivotRoot,
	}
	for _, step := range steps {
		if err := step(cfg.Rootfs.Dir); err != nil {
			return err
		}
	}
	return nil
}

//book:replace rootfs overlay
// // mountRootfs bind-mounts the container's directory onto itself:
// // pivot_root wants the new root to be a mount point of its own.
// func mountRootfs(rootfsDirs) func(string) error {
// 	return func(rootfs string) error {
// 		return mount(rootfs, rootfs, "", unix.MS_BIND|unix.MS_REC, "")
// 	}
// }
//book:end

//book:add overlay

// mountRootfs stacks the container's layer on the image's with overlayfs:
// reads fall through to the image, the first write to a file copies it up
// into the container's layer, and a deletion leaves a whiteout there.
func mountRootfs(dirs rootfsDirs) func(string) error {
	//book:lab overlay mount
	return func(rootfs string) error {
		layers := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", dirs.Lower, dirs.Upper, dirs.Work)
		return explainOverlayFailure(mount("overlay", rootfs, "overlay", 0, layers))
	}
	//book:stub
	// // Lab overlay, part 1 (labs/05-overlay/README.md): stack the container's
	// // layer (dirs.Upper, with dirs.Work) on the image's (dirs.Lower). Until
	// // then the container runs on the image's layer, which every container
	// // of the image shares, bound read-only so that no container can change
	// // it: nothing can be written.
	// return func(rootfs string) error {
	// 	logrus.Debug("lab overlay, part 1: mountRootfs is not written yet: no layer of the container's own")
	// 	if err := mount(dirs.Lower, rootfs, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
	// 		return err
	// 	}
	// 	return makeReadOnly(rootfs)
	// }
	//book:end overlay mount
}

// explainOverlayFailure says what to do when the kernel has no overlay:
// mount(2) asks for the module itself and fails with ENODEV only when it
// cannot be loaded (a kernel without it, or a container that may not load
// modules).
func explainOverlayFailure(err error) error {
	if errors.Is(err, unix.ENODEV) {
		return fmt.Errorf("%w: this kernel has no overlay filesystem and could not load its module: "+
			"run `modprobe overlay` as root, or use a kernel built with CONFIG_OVERLAY_FS", err)
	}
	return err
}

//book:end overlay

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
		if err := refuseSymlinkedKernelFS(rootfs, fs); err != nil {
			return err
		}
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

// refuseSymlinkedKernelFS keeps procfs and sysfs on the image's own /proc
// and /sys. Through a symlink they would land at a path of the image's
// choosing, where a later mount, such as a volume on that path, covers
// them while the names /proc and /sys still lead there: what the container,
// or the runtime after pivot_root, then reads or writes under /proc/self is
// an ordinary file. runc refuses these links ("must be mounted on ordinary
// directory"), for /proc since CVE-2023-28642, an AppArmor bypass through a
// symlinked /proc; so do we. Every other mount point follows its links
// inside the root (mountPoint), as in runc; those below /dev and /sys lie
// in the fresh tmpfs and sysfs, which cover whatever the image has there.
func refuseSymlinkedKernelFS(rootfs string, fs filesystem) error {
	if fs.fstype != "proc" && fs.fstype != "sysfs" {
		return nil
	}
	// Both are at the top of the image, so only they can be a link.
	link, isLink, err := readLinkIfAny(filepath.Join(rootfs, fs.target))
	if err != nil || !isLink {
		return err
	}
	return fmt.Errorf("the image's %s is a symlink (to %s): %s must be mounted on an ordinary directory, so that %s names the kernel's files: make %s a directory in the image",
		fs.target, link, fs.fstype, fs.target, fs.target)
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

// mountCgroupView lets the container read its own cgroup, its limits and
// its usage, as Docker does, and nothing of the rest of the host's tree:
// its cgroup's directory alone, read-only. In a cgroup namespace of its
// own, a cgroup filesystem mounted afresh has the container's cgroup as
// its root; without one, the container's directory is bound from the
// host's tree. On cgroup v1, a tmpfs at /sys/fs/cgroup holds one such
// mount per hierarchy. The container cannot remount any of it without
// CAP_SYS_ADMIN (chapter 7 takes that away).
func mountCgroupView(view []cgroups.ViewMount, private bool) func(string) error {
	return func(rootfs string) error {
		top, err := mountPoint(rootfs, cgroups.Root)
		if err != nil || len(view) == 0 {
			return err
		}
		if view[0].Target != "" { // cgroup v1
			if err := mount("tmpfs", top, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=755"); err != nil {
				return err
			}
		}
		for _, v := range view {
			// Found inside the root like every mount point: joined to
			// rootfs, the path would follow an image's links with the
			// host's rules.
			target, err := mountPoint(rootfs, path.Join(cgroups.Root, v.Target))
			if err != nil {
				return err
			}
			if err := mountOwnCgroup(target, v, private); err != nil {
				return err
			}
		}
		// As Docker mounts it: read-only, and no setuid, devices or programs.
		return setMountAttributes(top, unix.MOUNT_ATTR_RDONLY|unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOEXEC,
			"MOUNT_ATTR_RDONLY|MOUNT_ATTR_NOSUID|MOUNT_ATTR_NODEV|MOUNT_ATTR_NOEXEC")
	}
}

// mountOwnCgroup mounts the container's cgroup in one hierarchy on target.
func mountOwnCgroup(target string, v cgroups.ViewMount, private bool) error {
	if private {
		return mount("cgroup", target, v.FSType, unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, v.Options)
	}
	return mount(v.Source, target, "", unix.MS_BIND, "")
}
