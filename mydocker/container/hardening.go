//book:file security

package container

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// harden is the init's last step before the command: /proc and /sys
// protected, then the capabilities limited (after the mounts, which need
// CAP_SYS_ADMIN). A privileged container keeps everything.
func harden(cfg initConfig) error {
	if cfg.Privileged {
		return nil
	}
	if err := protectKernelFiles(); err != nil {
		return err
	}
	return limitCapabilities(cfg.Capabilities)
}

// maskedPaths are the files of /proc and /sys that tell about the host's
// hardware and kernel, or act on them, with nothing a container needs:
// Docker hides them behind /dev/null, or an empty read-only tmpfs for a
// directory. /proc/kcore is the host's memory; /proc/keys lists keys of
// every user of the host.
var maskedPaths = []string{
	"/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys",
	"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
	"/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
	"/sys/devices/system/cpu/cpu*/thermal_throttle",
}

// readOnlyPaths are the files of /proc that change the host's kernel when
// written: /proc/sys (sysctls such as kernel.core_pattern, which names a
// program the host runs as root), /proc/sysrq-trigger, and a few more.
// Docker makes them read-only.
var readOnlyPaths = []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}

// protectKernelFiles masks and write-protects those paths, after
// pivot_root: every path is the container's own by then. A container
// without CAP_SYS_ADMIN cannot undo these mounts.
func protectKernelFiles() error {
	for _, pattern := range maskedPaths {
		paths, _ := filepath.Glob(pattern)
		for _, path := range paths {
			if err := maskPath(path); err != nil {
				return err
			}
		}
	}
	for _, path := range readOnlyPaths {
		if err := readOnlyPath(path); err != nil {
			return err
		}
	}
	return nil
}

func maskPath(path string) error {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("masking %s: %w", path, err)
	}
	if fi.IsDir() {
		return mount("tmpfs", path, "tmpfs", unix.MS_RDONLY, "")
	}
	return mount("/dev/null", path, "", unix.MS_BIND, "")
}

// readOnlyPath binds a path onto itself, which makes it a mount of its
// own, and then makes that mount read-only.
func readOnlyPath(path string) error {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err := mount(path, path, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return err
	}
	return makeReadOnly(path)
}
