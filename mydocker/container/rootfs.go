//book:file rootfs

package container

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/mydocker-book/mydocker/mydocker/image"
)

// rootfsDirs are the host directories of a container's root filesystem.
// Those the container owns are inside its directory in the state root, and
// go with it.
type rootfsDirs struct {
	Dir string // the directory that becomes the container's "/"
	//book:add overlay
	Lower string // the image's layer, shared and read-only, in layers/: overlay's lowerdir
	Upper string // the container's own layer: overlay's upperdir
	Work  string // overlay's scratch space, on the same filesystem as Upper
	//book:end
	//book:add images
	// LayersDir is where Lower's short links are: from the images chapter
	// on, Lower is "l/TOP:...:l/BOTTOM", relative to it.
	LayersDir string
	// Volatile: the layer goes with the container (--rm), so it need not
	// survive a crash (mountLayers).
	Volatile bool
	//book:end
}

// makeRootfs is the create step that gives the container its root
// filesystem, from its image.
func (c *Container) makeRootfs() (err error) {
	//book:replace rootfs images
	// c.rootfs, err = prepareRootfs(c.dir, c.StateRoot, c.Image)
	//book:end
	//book:add images
	// The very image it was created from, even if its name moved on.
	ref := c.ImageDigest
	if ref == "" {
		ref = c.Image
	}
	c.rootfs, err = prepareRootfs(c.dir, c.StateRoot, ref)
	c.rootfs.Volatile = c.AutoRemove
	//book:end
	return err
}

//book:replace rootfs overlay
// // prepareRootfs gives the container a root filesystem of its own: a fresh
// // copy of the image, unpacked into the container's directory dir. Every
// // container pays for a whole copy; the overlay chapter shares one.
// func prepareRootfs(dir, stateRoot, imageName string) (rootfsDirs, error) {
// 	archive, err := image.Archive(stateRoot, imageName)
// 	if err != nil {
// 		return rootfsDirs{}, err
// 	}
// 	dirs := rootfsDirs{Dir: filepath.Join(dir, "rootfs")}
// 	if err := os.Mkdir(dirs.Dir, 0o755); err != nil {
// 		return dirs, fmt.Errorf("creating rootfs in the container's directory: %w", err)
// 	}
// 	logrus.Debugf("unpacking %s into %s", archive, dirs.Dir)
// 	return dirs, image.UnpackArchive(archive, dirs.Dir)
// }
//book:end

//book:add overlay

// prepareRootfs gives the container its layers: the image's, unpacked once
// and shared read-only by every container of the image, and a writable
// layer of its own in its directory dir, an empty upper directory with the
// work directory overlayfs needs beside it. The init mounts them together
// on rootfs.
func prepareRootfs(dir, stateRoot, imageName string) (rootfsDirs, error) {
	if err := checkOverlay(stateRoot); err != nil {
		return rootfsDirs{}, err
	}
	//book:replace overlay images
	// layer, err := image.Layer(stateRoot, imageName)
	//book:end overlay images
	//book:add images
	layers, err := image.Layers(stateRoot, imageName)
	layer := strings.Join(layers, ":")
	//book:end images
	if err != nil {
		return rootfsDirs{}, err
	}
	dirs := rootfsDirs{
		Dir:   filepath.Join(dir, "rootfs"),
		Lower: layer,
		Upper: filepath.Join(dir, "upper"),
		Work:  filepath.Join(dir, "work"),
	}
	//book:add images
	dirs.LayersDir = image.LayersDir(stateRoot)
	//book:end images
	for _, d := range []string{dirs.Upper, dirs.Work, dirs.Dir} {
		//book:replace overlay lifecycle
		// if err := os.Mkdir(d, 0o755); err != nil {
		// 	return dirs, fmt.Errorf("creating %s in the container's directory: %w", filepath.Base(d), err)
		// }
		//book:end overlay lifecycle
		//book:add lifecycle
		// A container started again keeps its directories: its layer is
		// what it wrote before.
		if err := os.Mkdir(d, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return dirs, fmt.Errorf("creating %s in the container's directory: %w", filepath.Base(d), err)
		}
		//book:end lifecycle
	}
	return dirs, nil
}

// checkOverlay finds the two reasons an overlay mount would fail in this
// state root before trying, so that the error can say what to do. (Whether
// the kernel has overlay at all is not checked here: mount(2) loads the
// module itself when it can, so only the mount can tell; see
// explainOverlayFailure.)
func checkOverlay(stateRoot string) error {
	//book:lab overlay checks
	// overlay's options are one string: "," separates them and ":" the
	// lower layers, and every layer's path holds the state root.
	if strings.ContainsAny(stateRoot, ",:") {
		return fmt.Errorf("the state root %q holds a \",\" or \":\", which overlay's mount options cannot carry: choose a --root without them", stateRoot)
	}
	var st unix.Statfs_t
	if err := unix.Statfs(stateRoot, &st); err != nil {
		return fmt.Errorf("checking the state root %s: %w", stateRoot, err)
	}
	// The upper layer needs trusted xattrs and whiteout devices, which an
	// overlay mount itself cannot provide (as inside another container).
	if st.Type == unix.OVERLAYFS_SUPER_MAGIC {
		return fmt.Errorf("the state root %s is on an overlay filesystem, which overlay cannot use for a container's upper layer: "+
			"use --root (or MYDOCKER_ROOT) on ext4, xfs or tmpfs", stateRoot)
	}
	return nil
	//book:stub
	// // Lab overlay, part 2 (labs/05-overlay/README.md): find the reasons an
	// // overlay mount would fail in stateRoot before trying, with an error that
	// // says what to do. Until then the mount fails (once part 1 is written)
	// // with an error that does not say why.
	// return nil
	//book:end overlay checks
}

//book:end overlay
