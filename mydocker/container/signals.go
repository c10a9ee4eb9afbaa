//book:file proc

package container

import (
	"fmt"
	"os"
	"os/signal"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// forwardedSignals are the signals a user or a supervisor sends to stop,
// reload or poke a program. mydocker passes them on to the container instead
// of dying of them itself.
var forwardedSignals = []os.Signal{
	unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2,
}

// catchSignals is the first step of create: from now on these signals no
// longer kill mydocker halfway through making the container, which would
// leave its files and cgroup behind. They are kept in a channel: once the
// command runs they are forwarded to it (forwardSignals); one that comes
// before means the user no longer wants the container (stopIfInterrupted).
func (c *Container) catchSignals() error {
	c.signals = make(chan os.Signal, 16)
	signal.Notify(c.signals, forwardedSignals...)
	return nil
}

// stopCatchingSignals gives the signals back to their default action, the
// last thing Delete does.
func (c *Container) stopCatchingSignals() {
	if c.signals != nil {
		signal.Stop(c.signals)
		c.signals = nil
	}
}

// forwardSignals relays the caught signals to the container's PID 1 until
// the returned function is called. Note that the kernel delivers a signal
// to a PID namespace's init only if the init handles it (SIGKILL aside): a
// forwarded SIGTERM does nothing to a PID 1 that ignores it.
func forwardSignals(signals chan os.Signal, init *os.Process) (stop func()) {
	done := make(chan struct{})
	go func() {
		for {
			select {
			case sig := <-signals:
				logrus.Debugf("forwarding %s to the container's PID 1 (host PID %d)", unix.SignalName(sig.(unix.Signal)), init.Pid)
				_ = init.Signal(sig)
			case <-done:
				return
			}
		}
	}()
	return func() { close(done) }
}

//book:add rootfs

// stopIfInterrupted ends create when a signal came while the container's
// files were being prepared, which takes a while for a big image: until the
// init starts, a Ctrl-C means "do not start it".
func (c *Container) stopIfInterrupted() error {
	select {
	case caught := <-c.signals:
		sig := caught.(unix.Signal)
		return &Error{Code: 128 + int(sig), Err: fmt.Errorf("%s before the container started: nothing was run", unix.SignalName(sig))}
	default:
		return nil
	}
}

//book:end
