//book:file rootfs

package container

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// With -t the container gets a terminal of its own, as with Docker: a
// pseudo-terminal made in its own devpts, so that `tty` names it and the
// programs inside can ask it about lines and columns. The init makes it and
// hands its master side to mydocker over a Unix socket, the console socket;
// mydocker copies between the master and its own terminal.

// consoleSocketFD is the init's end of the console socket: the third of
// exec.Cmd.ExtraFiles, after the config and exec pipes.
const consoleSocketFD = 5

// newConsoleSocket makes the socket pair a pty's master travels over: only
// a Unix socket can carry a file descriptor to another process (SCM_RIGHTS).
func newConsoleSocket() (ours, theirs *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("creating the console socket: %w", err)
	}
	return os.NewFile(uintptr(fds[0]), "console-socket"), os.NewFile(uintptr(fds[1]), "console-socket-init"), nil
}

// setUpConsole is the init's side, after pivot_root: it opens a new pty in
// the container's devpts, sends the master to mydocker, and makes the slave
// its controlling terminal and its standard input, output and error.
func setUpConsole() error {
	master, slave, err := openPty()
	if err != nil {
		return err
	}
	defer slave.Close()
	err = sendFile(consoleSocketFD, master)
	master.Close()
	if err != nil {
		return err
	}
	// The init is a session leader without a terminal (Setsid), so the
	// first terminal it claims becomes the session's controlling terminal.
	logrus.Debugf("ioctl(%s, TIOCSCTTY) and dup2 onto 0, 1, 2", slave.Name())
	if err := unix.IoctlSetInt(int(slave.Fd()), unix.TIOCSCTTY, 0); err != nil {
		return fmt.Errorf("making %s the controlling terminal: %w", slave.Name(), err)
	}
	for fd := 0; fd <= 2; fd++ {
		if err := unix.Dup2(int(slave.Fd()), fd); err != nil {
			return fmt.Errorf("connecting the terminal to descriptor %d: %w", fd, err)
		}
	}
	return nil
}

// openPty makes a pseudo-terminal pair through /dev/ptmx, which in the
// container leads to its own devpts.
func openPty() (master, slave *os.File, err error) {
	master, err = os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("opening /dev/ptmx in the container: %w", err)
	}
	// A new pty is locked until its master says otherwise.
	if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("unlocking the pty: %w", err)
	}
	n, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("finding the pty's number: %w", err)
	}
	name := fmt.Sprintf("/dev/pts/%d", n)
	logrus.Debugf("opened /dev/ptmx: the container's terminal is %s", name)
	slave, err = os.OpenFile(name, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("opening %s: %w", name, err)
	}
	return master, slave, nil
}

func sendFile(socket int, f *os.File) error {
	defer unix.Close(socket)
	if err := unix.Sendmsg(socket, []byte("pty"), unix.UnixRights(int(f.Fd())), nil, 0); err != nil {
		return fmt.Errorf("sending the terminal to mydocker: %w", err)
	}
	return nil
}

// receiveFile is mydocker's side: it waits for the init to send the master.
// It returns nil and no error at the end of file, when the init closed the
// socket without sending anything: it failed before, and the exec pipe
// says why.
func receiveFile(socket *os.File) (*os.File, error) {
	buf, oob := make([]byte, 8), make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := unix.Recvmsg(int(socket.Fd()), buf, oob, 0)
	if err != nil {
		return nil, fmt.Errorf("receiving the container's terminal: %w", err)
	}
	if n == 0 && oobn == 0 {
		return nil, nil
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil {
		return nil, fmt.Errorf("reading the console socket's control message: %w", err)
	}
	if len(msgs) == 0 {
		return nil, errors.New("the init sent no terminal over the console socket")
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return nil, errors.New("the init sent no terminal over the console socket")
	}
	return os.NewFile(uintptr(fds[0]), "pty-master"), nil
}

// attachConsole connects mydocker's terminal to the container's: it puts
// ours in raw mode, so that every key, Ctrl-C included, goes to the
// container's terminal, whose own line discipline turns it into a signal
// for the container's foreground process group. It returns the function
// that waits for the last output and restores our terminal.
func attachConsole(socket *os.File, cfg Config) (func(), error) {
	noop := func() {}
	if !cfg.TTY {
		return noop, nil
	}
	defer socket.Close()
	master, err := receiveFile(socket)
	if err != nil || master == nil {
		return noop, err
	}
	return proxyTerminal(master, cfg.Interactive)
}

// proxyTerminal copies between our terminal and a container's pty, with
// ours in raw mode and the pty at our size. It returns the function that
// waits for the last output and restores our terminal.
func proxyTerminal(master *os.File, interactive bool) (func(), error) {
	noop := func() {}
	state, err := term.MakeRaw(int(os.Stdin.Fd()))
	if err != nil {
		master.Close()
		return noop, fmt.Errorf("putting the terminal in raw mode: %w", err)
	}
	stopResizing := followWindowSize(master)
	if interactive {
		go func() { _, _ = io.Copy(master, os.Stdin) }()
	}
	output := make(chan struct{})
	go func() {
		// Reading the master fails with EIO once no process holds the
		// slave any more: the container is gone.
		_, _ = io.Copy(os.Stdout, master)
		close(output)
	}()
	return func() {
		select {
		case <-output:
		case <-time.After(time.Second):
		}
		stopResizing()
		master.Close()
		_ = term.Restore(int(os.Stdin.Fd()), state)
	}, nil
}

// followWindowSize gives the container's terminal our size, now and after
// every resize (SIGWINCH), so full-screen programs draw correctly.
func followWindowSize(master *os.File) func() {
	return onWindowSize(func(ws *unix.Winsize) {
		_ = unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, ws)
	})
}

// onWindowSize calls apply with our terminal's size, now and after every
// resize, until the returned function is called.
func onWindowSize(apply func(*unix.Winsize)) func() {
	resize := func() {
		if ws, err := unix.IoctlGetWinsize(int(os.Stdin.Fd()), unix.TIOCGWINSZ); err == nil {
			apply(ws)
		}
	}
	resize()
	winch := make(chan os.Signal, 1)
	signal.Notify(winch, unix.SIGWINCH)
	go func() {
		for range winch {
			resize()
		}
	}()
	return func() { signal.Stop(winch); close(winch) }
}
