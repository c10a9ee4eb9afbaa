//book:file security

package container

import (
	"fmt"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// Tmpfs is a --tmpfs: an empty tmpfs at a path of the container, writable
// even under --read-only, gone with the container.
type Tmpfs struct {
	Destination string
	Flags       uintptr // MS_* flags
	Data        string  // tmpfs's own options: size=, mode=, uid=, gid=, nr_inodes=
}

// tmpfsFlags are the options of --tmpfs that are mount flags, not tmpfs's.
var tmpfsFlags = map[string]struct {
	set   bool
	flags uintptr
}{
	"ro": {true, unix.MS_RDONLY}, "rw": {false, unix.MS_RDONLY},
	"noexec": {true, unix.MS_NOEXEC}, "exec": {false, unix.MS_NOEXEC},
	"nosuid": {true, unix.MS_NOSUID}, "suid": {false, unix.MS_NOSUID},
	"nodev": {true, unix.MS_NODEV}, "dev": {false, unix.MS_NODEV},
}

// ParseTmpfs reads Docker's --tmpfs PATH[:OPTIONS]. As in Docker, a tmpfs
// is noexec, nosuid and nodev unless the options say otherwise.
func ParseTmpfs(spec string) (Tmpfs, error) {
	dest, options, _ := strings.Cut(spec, ":")
	t := Tmpfs{Destination: filepath.Clean(dest), Flags: unix.MS_NOEXEC | unix.MS_NOSUID | unix.MS_NODEV}
	if !filepath.IsAbs(dest) || t.Destination == "/" {
		return Tmpfs{}, fmt.Errorf("invalid --tmpfs %q: write --tmpfs /PATH[:OPTIONS], on a directory such as /run", spec)
	}
	if err := checkNotOverProc(t.Destination); err != nil {
		return Tmpfs{}, fmt.Errorf("invalid --tmpfs %q: %w", spec, err)
	}
	var data []string
	for _, opt := range strings.Split(options, ",") {
		if f, ok := tmpfsFlags[opt]; ok && f.set {
			t.Flags |= f.flags
		} else if ok {
			t.Flags &^= f.flags
		} else if opt != "" {
			data = append(data, opt)
		}
	}
	t.Data = strings.Join(data, ",")
	return t, nil
}

// mountTmpfs mounts each --tmpfs inside the new root, resolved inside it.
func mountTmpfs(mounts []Tmpfs) func(string) error {
	return func(rootfs string) error {
		for _, t := range mounts {
			target, err := mountPoint(rootfs, t.Destination)
			if err != nil {
				return err
			}
			if err := mount("tmpfs", target, "tmpfs", t.Flags, t.Data); err != nil {
				return err
			}
		}
		return nil
	}
}
