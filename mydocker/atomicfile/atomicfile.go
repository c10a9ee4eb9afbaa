//book:file namespaces

// Package atomicfile replaces a file whole. os.WriteFile truncates the
// file and then writes it: a reader in between, or the next command after
// mydocker was killed in between, finds an empty or partial file. Every
// file mydocker rewrites (a container's state and record, the image
// store's index, the address bitmaps) is replaced as Write does instead.
package atomicfile

import (
	"os"
	"path/filepath"
)

// Write replaces the file at path with data: a temporary file beside it,
// renamed over it, which rename(2) does atomically within one file
// system, so that a reader finds the old content or the new, never half
// of either. With durable, the data reaches the disk (fsync) before the
// rename: the kernel may write the data later than it renames, and a
// power cut would then leave the new name on a file whose data never
// reached the disk. The file is private to root (0600).
//
// A process killed before the rename leaves its temporary file, named
// .NAME-RANDOM beside the file: readers of the directory skip dot files.
func Write(path string, data []byte, durable bool) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if err == nil && durable {
		err = tmp.Sync()
	}
	if closeErr := tmp.Close(); err == nil {
		err = closeErr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}
