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
	//book:add rootfs
	if cfg.TTY {
		// A session of its own, without a terminal: the init then makes
		// the container's own pty its controlling terminal (console.go).
		attr.Setsid = true
		return
	}
	//book:end
	if usesTerminal(cfg) {
		// The container gets a group of its own and the terminal's
		// foreground: Ctrl-C reaches the container, not mydocker. (A
		// background group that read the terminal would be stopped by
		// SIGTTIN.)
		attr.Foreground = true
		attr.Ctty = int(os.Stdin.Fd())
		return
	}
	// A group of its own, in the background: signals reach the container
	// only through mydocker, and so only once.
	attr.Setpgid = true
}

//book:replace namespaces rootfs
// // usesTerminal tells whether the container gets mydocker's terminal: with
// // -t, or with -i when standard input is a terminal.
// func usesTerminal(cfg Config) bool {
// 	return cfg.TTY || (cfg.Interactive && isTerminal(os.Stdin))
// }
//book:end
//book:add rootfs

// usesTerminal tells whether the container gets mydocker's terminal: with
// -i when standard input is a terminal. With -t it gets one of its own.
func usesTerminal(cfg Config) bool {
	return !cfg.TTY && cfg.Interactive && isTerminal(os.Stdin)
}

//book:end

// restoreForeground gives the terminal back to mydocker's group once the
// container is gone.
func restoreForeground(cfg Config) {
	if !usesTerminal(cfg) {
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
