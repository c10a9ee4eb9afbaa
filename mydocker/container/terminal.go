//book:file namespaces

package container

import (
	"errors"
	"os"
	"os/signal"
	"syscall"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// checkTerminal refuses -t when there is no terminal to give the container.
func checkTerminal(cfg Config) error {
	if cfg.TTY && !isTerminal(os.Stdin) {
		return errors.New("the input device is not a TTY: drop -t, or run mydocker from a terminal")
	}
	return nil
}

func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// setProcessGroup decides who receives the keys Ctrl-C and Ctrl-Z: the
// terminal sends their signals to its foreground process group.
func setProcessGroup(attr *syscall.SysProcAttr, cfg Config) {
	switch {
	case cfg.TTY:
		// The container gets a group of its own and the terminal's
		// foreground: Ctrl-C reaches the container, not mydocker.
		attr.Foreground = true
		attr.Ctty = int(os.Stdin.Fd())
	case cfg.Interactive && isTerminal(os.Stdin):
		// It reads the terminal without owning it: it must stay in
		// mydocker's group, since the kernel stops a background group that
		// reads its terminal (SIGTTIN).
	default:
		// A group of its own: signals reach it only through mydocker.
		attr.Setpgid = true
	}
}

// restoreForeground gives the terminal back to mydocker's group once the
// container is gone.
func restoreForeground(cfg Config) {
	if !cfg.TTY {
		return
	}
	// We are a background group now, and the kernel stops a background
	// process that changes its terminal unless it ignores SIGTTOU.
	signal.Ignore(unix.SIGTTOU)
	defer signal.Reset(unix.SIGTTOU)
	if err := unix.IoctlSetPointerInt(int(os.Stdin.Fd()), unix.TIOCSPGRP, unix.Getpgrp()); err != nil {
		logrus.Debugf("taking the terminal back: %v", err)
	}
}
