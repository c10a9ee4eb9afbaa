//book:file rootfs

package container

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// device is a device node every container gets.
type device struct {
	name         string
	major, minor uint32
}

// devices are Docker's defaults: harmless ones only. A disk, or the
// host's memory, is never among them.
var devices = []device{
	{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7},
	{"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
}

// devLinks are the symlinks programs expect in /dev.
var devLinks = map[string]string{
	"ptmx":   "pts/ptmx", // the new devpts instance's multiplexer, not the host's
	"fd":     "/proc/self/fd",
	"stdin":  "/proc/self/fd/0",
	"stdout": "/proc/self/fd/1",
	"stderr": "/proc/self/fd/2",
}

// makeDevices fills the container's empty /dev. As real root we can create
// the nodes with mknod; the tmpfs is mounted without MS_NODEV so that they
// work. /dev is found inside the root, as mountFilesystems found it: the
// host's kernel would follow an image's /dev -> /tmp/x to the host's
// /tmp/x, and mknod would make the nodes there. In the empty tmpfs the
// names are ours, so they need no resolving.
func makeDevices(rootfs string) error {
	dev, err := resolveInRoot(rootfs, "/dev")
	if err != nil {
		return err
	}
	if err := makeDeviceNodes(dev); err != nil {
		return err
	}
	return makeDevLinks(dev)
}

func makeDeviceNodes(dev string) error {
	//book:lab rootfs devices
	for _, d := range devices {
		path := filepath.Join(dev, d.name)
		logrus.Debugf("mknod(%q, S_IFCHR|0666, %d:%d)", path, d.major, d.minor)
		if err := unix.Mknod(path, unix.S_IFCHR|0o666, int(unix.Mkdev(d.major, d.minor))); err != nil {
			return fmt.Errorf("creating /dev/%s in the container: %w", d.name, err)
		}
		// mknod applies the umask; the devices must be usable by everyone.
		if err := unix.Chmod(path, 0o666); err != nil {
			return fmt.Errorf("setting the mode of /dev/%s: %w", d.name, err)
		}
	}
	return nil
	//book:stub
	// // Lab rootfs, part 2 (labs/04-rootfs/README.md): create the container's
	// // device nodes, the devices listed above, in dev. Until then /dev has none.
	// logrus.Debugf("lab rootfs, part 2: makeDeviceNodes(%s) is not written yet", dev)
	// return nil
	//book:end
}

func makeDevLinks(dev string) error {
	for name, target := range devLinks {
		if err := os.Symlink(target, filepath.Join(dev, name)); err != nil {
			return fmt.Errorf("creating the link /dev/%s: %w", name, err)
		}
	}
	return nil
}
