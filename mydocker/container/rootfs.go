//book:file rootfs

package container

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/mydocker-book/mydocker/mydocker/image"
)

// containerDir is where a container's own files live on the host, in the
// state root: containers/ID.
func containerDir(cfg Config) string {
	return filepath.Join(cfg.StateRoot, "containers", cfg.ID)
}

//book:replace rootfs overlay
// // prepareRootfs gives the container a root filesystem of its own: a fresh
// // copy of the image, unpacked into the container's directory. Every
// // container pays for a whole copy; the overlay chapter shares one.
// func prepareRootfs(cfg *Config) error {
// 	archive, err := image.Archive(cfg.StateRoot, cfg.Image)
// 	if err != nil {
// 		return err
// 	}
// 	cfg.Rootfs = filepath.Join(containerDir(*cfg), "rootfs")
// 	if err := os.MkdirAll(cfg.Rootfs, 0o755); err != nil {
// 		return fmt.Errorf("creating the container's directory: %w", err)
// 	}
// 	logrus.Debugf("unpacking %s into %s", archive, cfg.Rootfs)
// 	return image.UnpackArchive(archive, cfg.Rootfs)
// }
//book:end

//book:add overlay

// prepareRootfs gives the container its layers: the image's, unpacked once
// and shared read-only by every container of the image, and a writable
// layer of its own, an empty upper directory with the work directory
// overlayfs needs beside it. The init mounts them together on rootfs.
func prepareRootfs(cfg *Config) error {
	if err := checkOverlay(cfg.StateRoot); err != nil {
		return err
	}
	layer, err := image.Layer(cfg.StateRoot, cfg.Image)
	if err != nil {
		return err
	}
	dir := containerDir(*cfg)
	cfg.Layer = layer
	cfg.Upper, cfg.Work, cfg.Rootfs = filepath.Join(dir, "upper"), filepath.Join(dir, "work"), filepath.Join(dir, "rootfs")
	for _, d := range []string{cfg.Upper, cfg.Work, cfg.Rootfs} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("creating the container's directory: %w", err)
		}
	}
	return nil
}

// checkOverlay finds the two reasons an overlay mount fails before trying,
// so that the error can say what to do.
func checkOverlay(stateRoot string) error {
	filesystems, err := os.ReadFile("/proc/filesystems")
	if err != nil {
		return fmt.Errorf("reading /proc/filesystems: %w", err)
	}
	if !slices.Contains(strings.Fields(string(filesystems)), "overlay") {
		return errors.New("overlay is not available in this kernel: load it with `modprobe overlay`")
	}
	if err := os.MkdirAll(stateRoot, 0o711); err != nil {
		return fmt.Errorf("creating the state root %s: %w", stateRoot, err)
	}
	var st unix.Statfs_t
	if err := unix.Statfs(stateRoot, &st); err != nil {
		return fmt.Errorf("checking the state root %s: %w", stateRoot, err)
	}
	// The upper layer needs trusted xattrs and whiteout devices, which an
	// overlay mount itself cannot provide (as inside another container).
	if st.Type == unix.OVERLAYFS_SUPER_MAGIC {
		return fmt.Errorf("the state root %s is on an overlay filesystem, which overlay cannot use for a container's upper layer: "+
			"use --root (or MYDOCKER_ROOT) on ext4, xfs or tmpfs", stateRoot)
	}
	return nil
}

//book:end

// stopIfInterrupted ends the run when a signal came while the container's
// files were being prepared, which takes a while for a big image. Until the
// init starts, a Ctrl-C means "do not start it": chapter 2 keeps signals for
// the container only from the moment it exists.
func stopIfInterrupted(signals chan os.Signal) error {
	select {
	case caught := <-signals:
		sig := caught.(unix.Signal)
		return &Error{Code: 128 + int(sig), Err: fmt.Errorf("%s before the container started: nothing was run", unix.SignalName(sig))}
	default:
		return nil
	}
}

// removeContainerDir deletes what the container wrote, once it is over. A
// failure leaves the container's exit status alone and is reported.
func removeContainerDir(cfg Config) {
	dir := containerDir(cfg)
	logrus.Debugf("removing %s", dir)
	if err := os.RemoveAll(dir); err != nil {
		logrus.Warnf("removing the container's directory %s: %v; remove it by hand", dir, err)
	}
}
