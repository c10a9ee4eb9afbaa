//book:file rootfs

package container

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// maxSymlinks is how many symlinks a path may go through, as in the kernel,
// which gives up with ELOOP after 40.
const maxSymlinks = 40

// resolveInRoot finds where a path of the container is on the host, before
// the container's root is rootfs. It follows the image's symlinks the way the
// kernel will once rootfs is "/": an absolute link starts again at rootfs,
// and ".." never climbs above it. Resolving with the host's rules instead
// would let an image with a link such as /proc -> /etc make us mount on the
// host's /etc. Parts that do not exist yet are fine: the caller creates them.
func resolveInRoot(rootfs, containerPath string) (string, error) {
	resolved := "" // relative to rootfs, free of symlinks
	parts := strings.Split(containerPath, "/")
	for links := 0; len(parts) > 0; {
		part := parts[0]
		parts = parts[1:]
		switch part {
		case "", ".":
			continue
		case "..":
			resolved = parentOf(resolved)
			continue
		}
		next := path.Join(resolved, part)
		target, isLink, err := readLinkIfAny(filepath.Join(rootfs, next))
		if err != nil {
			return "", fmt.Errorf("resolving %s in the container: %w", containerPath, err)
		}
		if !isLink {
			resolved = next
			continue
		}
		if links++; links > maxSymlinks {
			return "", fmt.Errorf("resolving %s in the container: too many levels of symbolic links", containerPath)
		}
		if path.IsAbs(target) {
			resolved = ""
		}
		parts = append(strings.Split(target, "/"), parts...)
	}
	return filepath.Join(rootfs, resolved), nil
}

func parentOf(p string) string {
	if parent := path.Dir(p); parent != "." {
		return parent
	}
	return ""
}

// readLinkIfAny reads the symlink at p; a missing file or another kind of
// file is not a link.
func readLinkIfAny(p string) (target string, isLink bool, err error) {
	fi, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return "", false, nil
	}
	if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		return "", false, err
	}
	target, err = os.Readlink(p)
	return target, err == nil, err
}
