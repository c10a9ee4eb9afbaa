//book:file images

package image

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"syscall"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sys/unix"
)

// WriteLayer turns a container's upper directory into an OCI layer blob,
// the reverse of unpacking: every file the container wrote, and its
// deletions converted from overlay's whiteouts to OCI ones (a 0:0
// character device becomes an empty .wh.NAME, an opaque directory gets a
// .wh..wh..opq). The tar is uncompressed, so the blob's digest is the
// layer's diff_id. The directory is read through an os.Root: the
// container may still run and swap a file for a symlink to the host, and
// no walk or open ever leaves it.
func (s Store) WriteLayer(upper string, progress io.Writer) (v1.Descriptor, error) {
	root, err := os.OpenRoot(upper)
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("opening the container's layer: %w", err)
	}
	defer root.Close()
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeDiff(root, pw, progress)) }()
	desc, err := s.WriteBlob(pr, v1.MediaTypeImageLayer)
	pr.CloseWithError(err) // stops writeDiff if the blob could not be written
	return desc, err
}

// WriteTree writes the tar of everything below root, for export: a
// merged overlay view has no whiteouts left to convert.
func WriteTree(root *os.Root, out io.Writer, progress io.Writer) error {
	return writeDiff(root, out, progress)
}

// writeDiff writes the tar of root, in name order, directories before
// what they hold, as Docker's layers are.
func writeDiff(root *os.Root, out io.Writer, progress io.Writer) error {
	tw := tar.NewWriter(out)
	links := map[uint64]string{} // inode -> first name, for hard links
	err := walkSorted(root, ".", func(name string, fi fs.FileInfo) error {
		return writeEntry(tw, root, name, fi, links, progress)
	})
	if err != nil {
		return err
	}
	return tw.Close()
}

// walkSorted calls fn for every entry below dir, in lexical order, a
// directory before its content.
func walkSorted(root *os.Root, dir string, fn func(string, fs.FileInfo) error) error {
	f, err := root.Open(dir)
	if err != nil {
		return err
	}
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, n := range names {
		name := path.Join(dir, n)
		fi, err := root.Lstat(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed by the running container meanwhile
		}
		if err != nil {
			return err
		}
		if err := fn(name, fi); err != nil {
			return err
		}
		if fi.IsDir() {
			if err := walkSorted(root, name, fn); err != nil {
				return err
			}
		}
	}
	return nil
}

func writeEntry(tw *tar.Writer, root *os.Root, name string, fi fs.FileInfo, links map[uint64]string, progress io.Writer) error {
	st, _ := fi.Sys().(*syscall.Stat_t)
	if st == nil {
		return fmt.Errorf("%s: no stat data", name)
	}
	//book:lab images commit
	if isOverlayWhiteout(fi, st) {
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: path.Join(path.Dir(name), whiteoutPrefix+path.Base(name)),
			Mode: 0o600, ModTime: fi.ModTime(), Format: tar.FormatPAX})
	}
	//book:stub
	// // Lab images, part 2 (labs/11-images/README.md): a deletion in the
	// // upper directory is overlay's whiteout (isOverlayWhiteout); write it
	// // as the OCI one, an empty regular file .wh.NAME beside where NAME
	// // was. Until then it is written as the character device it is, which
	// // no unpacker creates: the deleted file comes back in the image.
	//book:end images commit
	link := ""
	if fi.Mode()&fs.ModeSymlink != 0 {
		var err error
		if link, err = root.Readlink(name); err != nil {
			return err
		}
	}
	hdr, err := tar.FileInfoHeader(fi, link)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	hdr.Name, hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = name, int(st.Uid), int(st.Gid), "", ""
	hdr.Format = tar.FormatPAX // long names, big ids, exact times
	if fi.IsDir() {
		hdr.Name += "/"
	}
	if fi.Mode().IsRegular() && st.Nlink > 1 {
		if first, ok := links[st.Ino]; ok {
			hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeLink, first, 0
			return tw.WriteHeader(hdr)
		}
		links[st.Ino] = name
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	//book:lab images commit
	if fi.IsDir() && isOpaque(root, name) {
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: path.Join(name, opaqueWhiteout),
			Mode: 0o600, ModTime: fi.ModTime(), Format: tar.FormatPAX})
	}
	//book:stub
	// // Lab images, part 2 (labs/11-images/README.md): a directory the container removed and made
	// // again is opaque in overlay (isOpaque); follow its entry with
	// // .wh..wh..opq inside it. Until then the image shows the old
	// // directory's files beside the new ones.
	//book:end images commit
	if !fi.Mode().IsRegular() {
		return nil
	}
	f, err := root.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	var w io.Writer = tw
	if progress != nil {
		w = io.MultiWriter(tw, progress)
	}
	// The header promised Size bytes: a file that grows is cut there, one
	// that shrinks is an error, as GNU tar says "file shrank".
	n, err := io.Copy(w, io.LimitReader(f, hdr.Size))
	if err == nil && n < hdr.Size {
		err = fmt.Errorf("%s changed while it was read (the container still writes it): try again, or commit it stopped", name)
	}
	return err
}

// isOverlayWhiteout: overlay records a deletion as a character device
// with device number 0:0.
func isOverlayWhiteout(fi fs.FileInfo, st *syscall.Stat_t) bool {
	return fi.Mode()&fs.ModeCharDevice != 0 && st.Rdev == 0
}

// isOpaque reads overlay's opaque xattr of a directory, through a
// descriptor the root opened.
func isOpaque(root *os.Root, name string) bool {
	f, err := root.Open(name)
	if err != nil {
		return false
	}
	defer f.Close()
	buf := make([]byte, 1)
	n, err := unix.Fgetxattr(int(f.Fd()), opaqueXattr, buf)
	return err == nil && n == 1 && buf[0] == 'y'
}
