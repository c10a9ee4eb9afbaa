//book:file namespaces

// Package atomicfile replaces a file whole. os.WriteFile truncates the
// file and then writes it: a reader in between, or the next command after
// mydocker was killed in between, finds an empty or partial file. Every
// file mydocker rewrites (a container's state and record, the image
// store's index, the address bitmaps, the seccomp cache, the tars of
// export and save) is replaced this way instead.
package atomicfile

import (
	"os"
	"path/filepath"
)

// File is the temporary file that will replace the file at a path, beside
// it: rename(2) within one file system replaces a name atomically, so a
// reader finds the old content or the new, never half of either.
//
// A process killed before the rename leaves the temporary file, named
// .NAME-RANDOM beside the file: readers of the directory skip dot files.
type File struct {
	*os.File
	path string
}

// Create starts replacing the file at path: write to the File, then
// Commit it, or Abort. The file is private to root (0600).
func Create(path string) (*File, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-")
	if err != nil {
		return nil, err
	}
	return &File{File: tmp, path: path}, nil
}

// Commit renames the file over its path. With durable, its data reaches
// the disk (fsync) first: the kernel may write the data later than it
// renames, and a power cut would then leave the new name on a file whose
// data never reached the disk. A Commit that fails aborts.
func (f *File) Commit(durable bool) error {
	var err error
	if durable {
		err = f.Sync()
	}
	if closeErr := f.Close(); err == nil {
		err = closeErr
	}
	if err == nil {
		err = os.Rename(f.Name(), f.path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// Abort removes the file, leaving the one at its path as it was.
func (f *File) Abort() {
	f.Close()
	os.Remove(f.Name())
}

// Write replaces the file at path with data.
func Write(path string, data []byte, durable bool) error {
	f, err := Create(path)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Abort()
		return err
	}
	return f.Commit(durable)
}
