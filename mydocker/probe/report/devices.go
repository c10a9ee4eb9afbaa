//book:file security

package report

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"golang.org/x/sys/unix"
)

// Device is one entry of /dev: what a container may open there.
type Device struct {
	Name string `json:"name"` // as in /dev, such as "null" or "pts"
	// Mode is the file type as ls -l shows it (c, b, d, l, p, s or -) and
	// the permission bits in octal: "c0666" for /dev/null.
	Mode  string `json:"mode"`
	Major uint32 `json:"major,omitempty"` // device files only
	Minor uint32 `json:"minor,omitempty"`
	Link  string `json:"link,omitempty"` // a symbolic link's target
}

// Devices lists the entries of dir (not those of the directories below
// it, which are mounts of their own: /dev/pts, /dev/shm, /dev/mqueue),
// sorted by name.
func Devices(dir string) ([]Device, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var list []Device
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		var st unix.Stat_t
		if err := unix.Lstat(path, &st); err != nil {
			continue // removed while we looked
		}
		d := Device{Name: e.Name(), Mode: fmt.Sprintf("%c%04o", fileType(st.Mode), st.Mode&0o7777)}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFCHR, unix.S_IFBLK:
			d.Major, d.Minor = unix.Major(st.Rdev), unix.Minor(st.Rdev)
		case unix.S_IFLNK:
			d.Link, _ = os.Readlink(path)
		}
		list = append(list, d)
	}
	return list, nil
}

// fileType is the letter ls -l shows for a file's type.
func fileType(mode uint32) byte {
	switch mode & unix.S_IFMT {
	case unix.S_IFCHR:
		return 'c'
	case unix.S_IFBLK:
		return 'b'
	case unix.S_IFDIR:
		return 'd'
	case unix.S_IFLNK:
		return 'l'
	case unix.S_IFIFO:
		return 'p'
	case unix.S_IFSOCK:
		return 's'
	}
	return '-'
}

// FD is one open file descriptor and what it refers to, as
// /proc/self/fd shows it: a path, or "pipe:[INODE]", "socket:[INODE]",
// "anon_inode:[eventpoll]" and the like.
type FD struct {
	FD     int    `json:"fd"`
	Target string `json:"target"`
}

// OpenFDs lists the descriptors the process holds, from dir
// (/proc/self/fd), leaving out the one it reads dir through.
func OpenFDs(dir string) ([]FD, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var list []FD
	for _, e := range entries {
		fd, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		// ReadDir has closed its own descriptor by now: its link is gone.
		target, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		list = append(list, FD{FD: fd, Target: target})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].FD < list[j].FD })
	return list, nil
}
