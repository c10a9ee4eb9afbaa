//book:file images

package container

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/mydocker-book/mydocker/mydocker/image"
	"github.com/mydocker-book/mydocker/mydocker/state"
)

// Export writes a container's filesystem as one tar, as `docker export`
// does: its image's layers with its own on top, merged, without /proc,
// /sys, /dev or the volumes, which are mounts of the running container
// and not its files.
//
// The merged view exists only inside the container's mount namespace,
// and a stopped container has none. So export mounts one of its own: an
// overlay, read-only, whose lower layers are the container's upper
// directory and then the image's (a whiteout in a lower layer hides what
// is below it, as in an upper one), in a mount namespace that only one
// thread of mydocker has: nothing of it is ever seen on the host. A
// running container is paused meanwhile.
func Export(stateRoot, ref string, out, progress io.Writer) error {
	r, err := FindRecord(stateRoot, ref)
	if err != nil {
		return err
	}
	layers, err := image.Layers(stateRoot, r.ImageDigest)
	if err != nil {
		return err
	}
	if r.State.Status == state.Running && !r.Paused {
		thaw, err := pauseWhile(r.State.Cgroup)
		if err != nil {
			return err
		}
		defer thaw()
	}
	lower := filepath.Join(r.Dir, "upper") + ":" + strings.Join(layers, ":")
	done := make(chan error, 1)
	go func() {
		// Never unlocked: when this goroutine ends, the Go runtime ends
		// its thread, and the mount namespace goes with it.
		runtime.LockOSThread()
		done <- exportFromOwnMount(image.LayersDir(stateRoot), lower, filepath.Join(r.Dir, "export"), out, progress)
	}()
	return <-done
}

// exportFromOwnMount runs on a locked thread: it unshares a mount
// namespace for this thread alone (CLONE_FS first, as exec does: the
// kernel refuses a new mount namespace to a thread that shares its root
// and working directory), mounts the view and writes the tar.
func exportFromOwnMount(layersDir, lower, target string, out, progress io.Writer) error {
	logrus.Debug("unshare(CLONE_FS|CLONE_NEWNS): a mount namespace for this thread alone")
	if err := unix.Unshare(unix.CLONE_FS | unix.CLONE_NEWNS); err != nil {
		return fmt.Errorf("unsharing a mount namespace for the export: %w", err)
	}
	if err := mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return err
	}
	if err := os.Mkdir(target, 0o700); err != nil && !os.IsExist(err) {
		return fmt.Errorf("making the export's mount point: %w", err)
	}
	defer os.Remove(target)
	if err := unix.Chdir(layersDir); err != nil {
		return fmt.Errorf("entering the layers' directory: %w", err)
	}
	if err := mount("overlay", target, "overlay", unix.MS_RDONLY, "lowerdir="+lower+",redirect_dir=off,metacopy=off"); err != nil {
		return err
	}
	defer func() { _ = unix.Unmount(target, unix.MNT_DETACH) }()
	root, err := os.OpenRoot(target)
	if err != nil {
		return err
	}
	defer root.Close()
	return image.WriteTree(root, out, progress)
}
