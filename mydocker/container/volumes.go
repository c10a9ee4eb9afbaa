//book:file volumes

package container

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// Volume is a host path bind-mounted into the container: what the
// container writes there is on the host, and outlives the container.
type Volume struct {
	Source      string // on the host, absolute
	Destination string // in the container, absolute
	ReadOnly    bool
}

// ParseVolume reads Docker's -v HOST:CONTAINER[:ro|rw].
func ParseVolume(spec string) (Volume, error) {
	parts := strings.Split(spec, ":")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return Volume{}, fmt.Errorf("invalid volume %q: write -v HOST_DIR:CONTAINER_DIR[:ro]", spec)
	}
	v := Volume{Source: filepath.Clean(parts[0]), Destination: filepath.Clean(parts[1])}
	if len(parts) == 3 {
		switch parts[2] {
		case "ro":
			v.ReadOnly = true
		case "rw":
		default:
			return Volume{}, fmt.Errorf("invalid volume %q: unknown mode %q, use ro or rw", spec, parts[2])
		}
	}
	if !filepath.IsAbs(v.Source) {
		return Volume{}, fmt.Errorf("invalid volume %q: the host path must be absolute, such as $PWD/%s (named volumes are not supported)", spec, parts[0])
	}
	if !filepath.IsAbs(v.Destination) {
		return Volume{}, fmt.Errorf("invalid volume %q: the path in the container must be absolute, such as /%s", spec, parts[1])
	}
	if v.Destination == "/" {
		return Volume{}, fmt.Errorf("invalid volume %q: a volume cannot replace the container's root; mount it on a directory such as /data", spec)
	}
	if err := checkNotOverProc(v.Destination); err != nil {
		return Volume{}, fmt.Errorf("invalid volume %q: %w", spec, err)
	}
	return v, nil
}

// procFilesAllowed are the files of /proc a volume may replace, the list
// runc allows: tools such as lxcfs bind their own versions of them, which
// show the container's limits instead of the host's.
var procFilesAllowed = []string{
	"/proc/cpuinfo", "/proc/diskstats", "/proc/meminfo", "/proc/stat", "/proc/swaps",
	"/proc/uptime", "/proc/loadavg", "/proc/slabinfo", "/proc/net/dev", "/proc/sys/kernel/ns_last_pid",
}

// checkNotOverProc refuses a volume on /proc or below it (but for the files
// above). A mount there hides the kernel's own view of the container: ps,
// /proc/self and the files programs read to know their limits would show
// whatever the volume holds.
func checkNotOverProc(destination string) error {
	if destination == "/proc" || strings.HasPrefix(destination, "/proc/") && !slices.Contains(procFilesAllowed, destination) {
		return fmt.Errorf("%s is in /proc, which belongs to the kernel: mount the volume somewhere else, such as /data", destination)
	}
	return nil
}

// prepareVolumes creates the host directories that do not exist yet, as
// Docker does for -v.
func prepareVolumes(volumes []Volume) error {
	for _, v := range volumes {
		if _, err := os.Stat(v.Source); errors.Is(err, os.ErrNotExist) {
			if err := os.MkdirAll(v.Source, 0o755); err != nil {
				return fmt.Errorf("creating the volume's host directory %s: %w", v.Source, err)
			}
		} else if err != nil {
			return fmt.Errorf("volume %s: %w", v.Source, err)
		}
	}
	return nil
}

// mountVolumes bind-mounts each volume onto its destination inside the new
// root, before pivot_root, while both trees are still reachable.
func mountVolumes(volumes []Volume) func(string) error {
	return func(rootfs string) error {
		for _, v := range volumes {
			if err := mountVolume(rootfs, v); err != nil {
				return err
			}
		}
		return nil
	}
}

// mountVolume resolves the destination inside the container's root first:
// mount(2) follows symlinks, and an image with /data -> /etc would
// otherwise have us mount over /etc of the tree we are standing in.
func mountVolume(rootfs string, v Volume) error {
	target, err := resolveInRoot(rootfs, v.Destination)
	if err != nil {
		return err
	}
	// Checked again once resolved: the image may hold a link into /proc.
	if err := checkNotOverProc("/" + strings.TrimPrefix(target, rootfs+"/")); err != nil {
		return fmt.Errorf("volume %s: %w", v.Source, err)
	}
	if err := makeMountTarget(v.Source, target); err != nil {
		return fmt.Errorf("volume %s: creating %s in the container: %w", v.Source, v.Destination, err)
	}
	//book:lab volumes bind
	if err := mount(v.Source, target, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return err
	}
	//book:stub
	// // Lab volumes, part 1 (labs/06-volumes/README.md): mount the volume's
	// // source on target. Until then the volume is only an empty directory.
	// logrus.Debugf("lab volumes, part 1: the volume %s is not mounted yet", v.Source)
	//book:end
	//book:lab volumes readonly
	if v.ReadOnly {
		return makeReadOnly(target)
	}
	//book:stub
	// // Lab volumes, part 2 (labs/06-volumes/README.md): a volume given with
	// // :ro must refuse every write from the container, through every mount
	// // below it too. (Chapter 7 takes away the power to remount it.)
	//book:end
	return nil
}

// makeMountTarget creates what a bind mount needs to land on: a directory
// for a directory, an empty file for a file.
func makeMountTarget(source, target string) error {
	fi, err := os.Stat(source)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return os.MkdirAll(target, 0o755)
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	return f.Close()
}
