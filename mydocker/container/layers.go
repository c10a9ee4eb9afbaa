//book:file images

package container

import (
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
func mountLayers(dirs rootfsDirs) func(string) error {
	return func(rootfs string) error {
		logrus.Debugf("chdir(%s): lowerdir's short links are relative to it", dirs.LayersDir)
		if err := unix.Chdir(dirs.LayersDir); err != nil {
			return fmt.Errorf("entering the layers' directory %s: %w", dirs.LayersDir, err)
		}
		options := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s,redirect_dir=off,metacopy=off", dirs.Lower, dirs.Upper, dirs.Work)
		if len(options) >= unix.Getpagesize() {
			return fmt.Errorf("the image has too many layers for one overlay mount: its options take %d bytes, and the kernel reads one page (%d)", len(options), unix.Getpagesize())
		}
		return explainOverlayFailure(mount("overlay", rootfs, "overlay", 0, options))
	}
}
