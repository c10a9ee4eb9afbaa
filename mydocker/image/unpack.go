//book:file rootfs

// Package image turns an image archive into the root filesystem of a
// container.
package image

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// Unpack extracts the tar stream r into dir, which must exist. The stream may
// be gzip-compressed. Nothing is ever written outside dir: every entry is
// created through an os.Root, so neither ".." in a name nor a symlink in the
// archive can lead out of it. Device nodes are skipped. An image too big
// for the free space stops the unpacking with an error that says so; what
// was written stays in dir, for the caller to remove.
func Unpack(r io.Reader, dir string) error {
	err := unpack(r, dir)
	if errors.Is(err, unix.ENOSPC) || errors.Is(err, unix.EDQUOT) {
		return fmt.Errorf("%w: the image does not fit in the state root: "+
			"free space there, or put the state root on a filesystem with room with --root (or MYDOCKER_ROOT)", err)
	}
	return err
}

func unpack(r io.Reader, dir string) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("unpack image: %w: the root filesystem must be an existing directory", err)
	}
	defer root.Close()
	stream, err := decompress(r)
	if err != nil {
		return err
	}
	tr := tar.NewReader(stream)
	var dirs []unpackedDir
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read image archive: %w: the archive is damaged or is not a tar file", err)
		}
		name, err := unpackEntry(root, dir, hdr, tr)
		if err != nil {
			return fmt.Errorf("image archive entry %q: %w", hdr.Name, err)
		}
		if hdr.Typeflag == tar.TypeDir {
			dirs = append(dirs, unpackedDir{name, hdr})
		}
	}
	return setDirTimes(root, dirs)
}

// unpackedDir remembers a directory whose times are set at the end.
type unpackedDir struct {
	name string
	hdr  *tar.Header
}

// setDirTimes runs after all entries are written, because creating a file
// in a directory changes the directory's modification time.
func setDirTimes(root *os.Root, dirs []unpackedDir) error {
	for _, d := range dirs {
		if err := setTimes(root, d.name, d.hdr); err != nil {
			return fmt.Errorf("image archive entry %q: %w", d.hdr.Name, err)
		}
	}
	return nil
}

// gzipMagic starts every gzip stream. A tar file starts with the name of its
// first entry, so it never starts with these bytes.
var gzipMagic = []byte{0x1f, 0x8b}

// decompress sees through gzip, as images are often saved compressed
// (docker save | gzip).
func decompress(r io.Reader) (io.Reader, error) {
	br := bufio.NewReader(r)
	// A stream shorter than two bytes is not gzip; tar reports what is wrong.
	magic, _ := br.Peek(len(gzipMagic))
	if !bytes.Equal(magic, gzipMagic) {
		return br, nil
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, fmt.Errorf("read gzip-compressed image archive: %w: the archive is damaged", err)
	}
	return zr, nil
}

// unpackEntry creates one entry in dir, opened as root, and returns its
// path inside the root.
func unpackEntry(root *os.Root, dir string, hdr *tar.Header, content io.Reader) (string, error) {
	name, ok := insideRoot(hdr.Name)
	if !ok {
		return "", errors.New(`the name climbs out of the root filesystem with "..": the archive is damaged or malicious; do not use it`)
	}
	//book:add images
	if isWhiteout(name) {
		return name, unpackWhiteout(root, name)
	}
	//book:end
	switch hdr.Typeflag {
	case tar.TypeDir:
		return name, unpackDir(root, name, hdr)
	case tar.TypeReg, tar.TypeGNUSparse:
		if err := checkRoom(dir, hdr.Size); err != nil {
			return name, err
		}
		return name, unpackFile(root, name, hdr, content)
	case tar.TypeSymlink:
		return name, unpackSymlink(root, name, hdr)
	case tar.TypeLink:
		return name, unpackHardlink(root, name, hdr)
	case tar.TypeFifo:
		return name, unpackFifo(root, name, hdr)
	case tar.TypeChar, tar.TypeBlock:
		logrus.Warnf("image archive entry %q: device node skipped: the container gets its /dev from the runtime, and a device node from an image could open the host's disks", hdr.Name)
	case tar.TypeXGlobalHeader:
		// Metadata for the whole archive, not a file.
	default:
		logrus.Warnf("image archive entry %q: skipped: unknown entry type %q", hdr.Name, hdr.Typeflag)
	}
	return name, nil
}

// checkRoom refuses a file that cannot fit before writing any of it, so
// that a tar bomb does not fill the disk first: a 10 KiB archive can hold a
// sparse file of a terabyte (archive/tar hands us its holes as zeros, and
// they are written out), and a 1 MiB gzip a gigabyte of zeros. Only the
// space left to unprivileged users counts (f_bavail): mydocker runs as
// root, and root may write into the blocks that ext4 keeps back so that the
// system still works when a disk is full. There is no fixed limit on an
// image's size besides: real images range from megabytes to many
// gigabytes, and what matters is the room on this filesystem. Running out
// of room between two checks, with many small files or a disk others write
// to, ends in ENOSPC from the kernel, which Unpack reports the same way.
func checkRoom(dir string, size int64) error {
	if size == 0 {
		return nil
	}
	var st unix.Statfs_t
	if err := statfs(dir, &st); err != nil {
		return fmt.Errorf("checking the free space in %s: %w", dir, err)
	}
	if free := int64(st.Bavail) * int64(st.Bsize); size > free {
		return fmt.Errorf("%w: the file is %s, and %s is free", unix.ENOSPC, mebibytes(size), mebibytes(free))
	}
	return nil
}

// statfs is statfs(2), in a variable so that the unit tests can pretend
// that the disk is small instead of filling the real one.
var statfs = unix.Statfs

func mebibytes(n int64) string {
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// insideRoot turns a name from the archive into a path relative to the root.
// A leading / means the root of the image, as in Docker. A name that still
// climbs out with ".." after cleaning has no honest use.
func insideRoot(name string) (string, bool) {
	clean := path.Clean(strings.TrimLeft(name, "/"))
	return clean, clean != ".." && !strings.HasPrefix(clean, "../")
}

// unpackDir keeps a directory that is already there, with what is inside it,
// and takes over its owner and mode.
func unpackDir(root *os.Root, name string, hdr *tar.Header) error {
	// Lstat, not Stat: a symlink at name is replaced, never followed.
	if fi, err := root.Lstat(name); err != nil || !fi.IsDir() {
		if err := clearPath(root, name); err != nil {
			return err
		}
		if err := root.Mkdir(name, 0o700); err != nil {
			return fmt.Errorf("create directory: %w", err)
		}
	}
	return setOwnerAndMode(root, name, hdr)
}

func unpackFile(root *os.Root, name string, hdr *tar.Header, content io.Reader) error {
	if err := clearPath(root, name); err != nil {
		return err
	}
	// O_EXCL: if anything is at name, fail rather than write through it.
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create file: %w", err)
	}
	defer f.Close()
	if _, err := io.Copy(f, content); err != nil {
		return fmt.Errorf("write file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write file: %w", err)
	}
	if err := setOwnerAndMode(root, name, hdr); err != nil {
		return err
	}
	return setTimes(root, name, hdr)
}

func unpackSymlink(root *os.Root, name string, hdr *tar.Header) error {
	if err := clearPath(root, name); err != nil {
		return err
	}
	// The target is stored as written, even when absolute: the container
	// resolves it inside its own root. While unpacking, os.Root refuses to
	// follow it anywhere outside dir.
	if err := root.Symlink(hdr.Linkname, name); err != nil {
		return fmt.Errorf("create symlink: %w", err)
	}
	if err := root.Lchown(name, hdr.Uid, hdr.Gid); err != nil {
		return fmt.Errorf("set owner: %w", err)
	}
	return setTimes(root, name, hdr)
}

// unpackHardlink gives a second name to a file the archive already created.
// Owner, mode and times belong to that file, so they are left as they are.
func unpackHardlink(root *os.Root, name string, hdr *tar.Header) error {
	target, ok := insideRoot(hdr.Linkname)
	if !ok {
		return fmt.Errorf(`hardlink target %q climbs out of the root filesystem with "..": the archive is damaged or malicious; do not use it`, hdr.Linkname)
	}
	if _, err := root.Lstat(target); err != nil {
		return fmt.Errorf("hardlink target %q is not in the root filesystem: %w: a hardlink must point to an earlier entry of the archive", hdr.Linkname, err)
	}
	if err := clearPath(root, name); err != nil {
		return err
	}
	if err := root.Link(target, name); err != nil {
		return fmt.Errorf("create hardlink to %q: %w", hdr.Linkname, err)
	}
	return nil
}

// unpackFifo creates a named pipe. os.Root has no Mknod, but mkfifoat in
// the directory that the root opened cannot escape: it never follows the
// last element of the name.
func unpackFifo(root *os.Root, name string, hdr *tar.Header) error {
	if err := clearPath(root, name); err != nil {
		return err
	}
	err := atParent(root, name, func(dirfd int, base string) error {
		return unix.Mkfifoat(dirfd, base, 0o600)
	})
	if err != nil {
		return fmt.Errorf("create named pipe: %w", err)
	}
	if err := setOwnerAndMode(root, name, hdr); err != nil {
		return err
	}
	return setTimes(root, name, hdr)
}

// clearPath makes way for an entry: it creates the missing parent
// directories and removes whatever is at name, so that the entry replaces
// it. A symlink left there would otherwise redirect the write.
func clearPath(root *os.Root, name string) error {
	if name == "." {
		return errors.New("only a directory can stand for the root of the image: the archive is damaged or malicious")
	}
	if err := root.MkdirAll(path.Dir(name), 0o755); err != nil {
		return fmt.Errorf("create parent directories: %w", err)
	}
	if err := root.RemoveAll(name); err != nil {
		return fmt.Errorf("replace what is there: %w", err)
	}
	return nil
}

// setOwnerAndMode must chown before chmod: changing the owner of a file
// clears its setuid and setgid bits, even for root.
func setOwnerAndMode(root *os.Root, name string, hdr *tar.Header) error {
	if err := root.Lchown(name, hdr.Uid, hdr.Gid); err != nil {
		return fmt.Errorf("set owner: %w", err)
	}
	// FileInfo().Mode() carries the setuid, setgid and sticky bits.
	if err := root.Chmod(name, hdr.FileInfo().Mode()); err != nil {
		return fmt.Errorf("set mode: %w", err)
	}
	return nil
}

// setTimes sets the times of name itself. os.Root.Chtimes would follow a
// symlink to its target, so this calls utimensat with AT_SYMLINK_NOFOLLOW.
func setTimes(root *os.Root, name string, hdr *tar.Header) error {
	atime := hdr.AccessTime
	if atime.IsZero() { // plain ustar archives store no access time
		atime = hdr.ModTime
	}
	times := []unix.Timespec{
		unix.NsecToTimespec(atime.UnixNano()),
		unix.NsecToTimespec(hdr.ModTime.UnixNano()),
	}
	err := atParent(root, name, func(dirfd int, base string) error {
		return unix.UtimesNanoAt(dirfd, base, times, unix.AT_SYMLINK_NOFOLLOW)
	})
	if err != nil {
		return fmt.Errorf("set times: %w", err)
	}
	return nil
}

// atParent opens the directory holding name through the root, which keeps
// the walk inside, and calls do with that directory and the last element of
// name, for the *at system calls that os.Root does not offer.
func atParent(root *os.Root, name string, do func(dirfd int, base string) error) error {
	parent, err := root.Open(path.Dir(name))
	if err != nil {
		return err
	}
	defer parent.Close()
	return do(int(parent.Fd()), path.Base(name))
}
