//book:file images

package container

import (
	"errors"
	"fmt"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// mountLayers stacks the container's layer on the image's layers, top
// first in lowerdir, as overlay reads them. The layers are short links
// relative to the layers' directory (image.Layers), so the init works
// from there while it mounts: overlay resolves the paths at mount time.
//
// Two options are set explicitly rather than left to the kernel's
// defaults (module parameters a distribution may turn on): with
// redirect_dir, renaming a directory of a lower layer records an xattr
// that points into the lower layers, and with metacopy a chmod copies up
// only the metadata; in both cases the upper directory alone no longer
// holds the container's changes, and commit reads exactly that.
//
// The layer of a --rm container is mounted volatile. When the container's
// mount namespace ends, the kernel unmounts the overlay and, so that the
// layer survives a crash, first syncs the whole filesystem under its upper
// directory: the container's exit waits for every dirty page of that
// filesystem, the host's own included. A layer removed with its container
// need not survive a crash, so volatile (Linux 5.10) skips that sync and
// every fsync inside the container. Overlay then leaves a mark in the work
// directory and refuses to mount that layer again, in case a crash came in
// between; a --rm container's layer is never mounted again.
func mountLayers(dirs rootfsDirs) func(string) error {
	return func(rootfs string) error {
		logrus.Debugf("chdir(%s): lowerdir's short links are relative to it", dirs.LayersDir)
		if err := unix.Chdir(dirs.LayersDir); err != nil {
			return fmt.Errorf("entering the layers' directory %s: %w", dirs.LayersDir, err)
		}
		options := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s,redirect_dir=off,metacopy=off", dirs.Lower, dirs.Upper, dirs.Work)
		if dirs.Volatile {
			options += ",volatile"
		}
		if len(options) >= unix.Getpagesize() {
			return fmt.Errorf("the image has too many layers for one overlay mount: its options take %d bytes, and the kernel reads one page (%d)", len(options), unix.Getpagesize())
		}
		err := mount("overlay", rootfs, "overlay", 0, options)
		if dirs.Volatile && errors.Is(err, unix.EINVAL) {
			err = fmt.Errorf("%w: overlay's volatile option, for the layer of a --rm container, needs Linux 5.10 or later: run without --rm on this kernel", err)
		}
		return explainOverlayFailure(err)
	}
}
