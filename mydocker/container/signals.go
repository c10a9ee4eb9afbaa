//book:file proc

package container

import (
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

// catchSignals makes mydocker catch the signals it forwards. Run calls it
// before the init exists: a SIGTERM arriving while the container starts is
// then kept for the container instead of killing mydocker.
func catchSignals() chan os.Signal {
	signals := make(chan os.Signal, 16)
	signal.Notify(signals, forwardedSignals...)
	return signals
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
