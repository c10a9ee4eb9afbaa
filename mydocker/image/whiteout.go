//book:file images

package image

import (
	"fmt"
	"os"
	"path"
	"strings"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// A layer records a deletion with a whiteout. The OCI format writes it as
// an empty file in the tar, and overlayfs reads it from the layer's
// directory in its own form, so unpacking converts one into the other:
//
//	OCI tar entry            overlay layer directory
//	dir/.wh.NAME             dir/NAME, a character device 0:0: NAME is deleted
//	dir/.wh..wh..opq         dir with xattr trusted.overlay.opaque=y: what
//	                         the lower layers have in dir is hidden
//
// (commit converts back.)
const (
	whiteoutPrefix = ".wh."
	opaqueWhiteout = ".wh..wh..opq"
	opaqueXattr    = "trusted.overlay.opaque"
)

func isWhiteout(name string) bool { return strings.HasPrefix(path.Base(name), whiteoutPrefix) }

// unpackWhiteout writes a whiteout in overlay's form, inside the root:
// os.Root has no mknod or setxattr, so the *at system calls work on the
// directory that the root opened (atParent), and a symlink in the layer
// never leads them outside.
func unpackWhiteout(root *os.Root, name string) error {
	dir := path.Dir(name)
	if err := root.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create parent directories: %w", err)
	}
	//book:lab images whiteouts
	base := path.Base(name)
	if base == opaqueWhiteout {
		return markOpaque(root, dir)
	}
	if strings.HasPrefix(base, whiteoutPrefix+whiteoutPrefix) {
		// AUFS's own files (.wh..wh.plnk, .wh..wh.aufs): not deletions.
		return nil
	}
	target := path.Join(dir, strings.TrimPrefix(base, whiteoutPrefix))
	if err := clearPath(root, target); err != nil {
		return err
	}
	logrus.Debugf("whiteout: %s becomes a 0:0 character device", target)
	return atParent(root, target, func(dirfd int, base string) error {
		return unix.Mknodat(dirfd, base, unix.S_IFCHR, 0)
	})
	//book:stub
	// // Lab images, part 1 (labs/11-images/README.md): write the whiteout
	// // name as overlay reads it: .wh..wh..opq marks dir opaque (markOpaque),
	// // .wh.NAME becomes NAME, a 0:0 character device made with mknodat in
	// // the directory atParent opens (clearPath first: a lower entry of the
	// // same layer may be there), and AUFS's .wh..wh.* files are no
	// // deletions. Until then whiteouts are skipped: what a layer deletes
	// // stays visible.
	// logrus.Debugf("whiteout %s: skipped", name)
	// return nil
	//book:end images whiteouts
}

// markOpaque sets overlay's opaque xattr on dir, opened through the root
// without following a symlink.
func markOpaque(root *os.Root, dir string) error {
	return atParent(root, dir, func(dirfd int, base string) error {
		fd, err := unix.Openat(dirfd, base, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("opaque whiteout: %w", err)
		}
		defer unix.Close(fd)
		return unix.Fsetxattr(fd, opaqueXattr, []byte("y"), 0)
	})
}
