//book:file detach

package container

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// `mydocker attach` talks to the container's watcher over a Unix socket,
// attach.sock in the container's directory. The watcher holds what a
// terminal user needs: the container's output as it comes, its input (the
// pty's master with -t, the input pipe with -i), and its terminal's size.
// One socket carries several streams, so everything on it is a frame: a
// kind (one byte), a length (four bytes, big-endian) and the bytes.
const (
	frameStdin  byte = 0 // attach -> watcher: keys for the container
	frameStdout byte = 1 // watcher -> attach: output
	frameStderr byte = 2
	frameExit   byte = 3 // watcher -> attach: the container has exited, with this status
	frameResize byte = 4 // attach -> watcher: rows and columns, two bytes each
)

// maxFrame bounds what one frame may ask a reader to allocate.
const maxFrame = 1 << 20

func writeFrame(w io.Writer, kind byte, data []byte) error {
	_, err := w.Write(encodeFrame(kind, data))
	return err
}

// encodeFrame is a frame's bytes: a copy, which the caller's buffer may
// be reused after.
func encodeFrame(kind byte, data []byte) []byte {
	frame := make([]byte, 5, 5+len(data))
	frame[0] = kind
	binary.BigEndian.PutUint32(frame[1:], uint32(len(data)))
	return append(frame, data...)
}

func readFrame(r io.Reader) (byte, []byte, error) {
	var header [5]byte
	if _, err := io.ReadFull(r, header[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(header[1:])
	if n > maxFrame {
		return 0, nil, fmt.Errorf("a frame of %d bytes: the other side does not speak the attach protocol", n)
	}
	data := make([]byte, n)
	_, err := io.ReadFull(r, data)
	return header[0], data, err
}

// attachSocketPath names the socket through the container's directory,
// opened as dirFD: a socket's path may hold only 107 bytes, fewer than a
// state root, "containers/", an id and "attach.sock" can take; the kernel
// resolves /proc/self/fd/N/attach.sock like any other path.
func attachSocketPath(dirFD uintptr) string {
	return fmt.Sprintf("/proc/self/fd/%d/attach.sock", dirFD)
}

// makeAttachSocket is create's step that opens the socket of a detached
// container, before `run -d` returns: an attach may come at once.
func (c *Container) makeAttachSocket() error {
	if !c.Detach {
		return nil
	}
	//book:add lifecycle
	if c.Restarting {
		c.removeStaleSocket()
	}
	//book:end
	listener, err := net.Listen("unix", attachSocketPath(c.lock.Fd()))
	if err != nil {
		return fmt.Errorf("creating the container's attach socket: %w", err)
	}
	defer listener.Close()
	// The file (a duplicate of the socket) is what crosses the exec to
	// the watcher; the listener's own descriptor closes here.
	c.attachSocket, err = listener.(*net.UnixListener).File()
	if err != nil {
		return fmt.Errorf("keeping the container's attach socket: %w", err)
	}
	// Closing a Unix listener removes its file unless told not to.
	listener.(*net.UnixListener).SetUnlinkOnClose(false)
	return nil
}

// attachHub is the watcher's side: the attached clients, and where their
// keys go.
type attachHub struct {
	mu       sync.Mutex
	clients  map[net.Conn]chan []byte // each client's frames, written by a goroutine of its own
	input    io.Writer                // the container's input: nil without -i or -t
	console  *os.File                 // the pty's master, with -t: resized on request
	listener net.Listener
	writers  sync.WaitGroup // the clients' goroutines, which finish waits for
}

// clientBacklog is how many frames a client may fall behind before it is
// dropped: the container's output must never wait for a client.
const clientBacklog = 256

// serveAttach accepts clients on the attach socket until finish.
func serveAttach(socket *os.File, input io.Writer, console *os.File) *attachHub {
	hub := &attachHub{clients: map[net.Conn]chan []byte{}, input: input, console: console}
	listener, err := net.FileListener(socket)
	socket.Close()
	if err != nil {
		logrus.Warnf("attach socket: %v: mydocker attach will not work for this container", err)
		return hub
	}
	hub.listener = listener
	go func() {
		for {
			conn, err := listener.Accept()
			if err != nil {
				return // closed by finish
			}
			frames := make(chan []byte, clientBacklog)
			hub.mu.Lock()
			hub.clients[conn] = frames
			hub.mu.Unlock()
			hub.writers.Add(1)
			go func() {
				defer hub.writers.Done()
				sendFrames(conn, frames)
			}()
			go hub.readKeys(conn)
		}
	}()
	return hub
}

// sendFrames writes a client's frames until its channel is closed, or the
// client goes.
func sendFrames(conn net.Conn, frames <-chan []byte) {
	defer conn.Close()
	for frame := range frames {
		if _, err := conn.Write(frame); err != nil {
			return // nobody waits on frames: broadcast never blocks
		}
	}
}

// readKeys passes a client's keys and sizes to the container until the
// client goes.
func (hub *attachHub) readKeys(conn net.Conn) {
	defer hub.drop(conn)
	for {
		kind, data, err := readFrame(conn)
		if err != nil {
			return
		}
		switch {
		case kind == frameStdin && hub.input != nil:
			_, _ = hub.input.Write(data)
		case kind == frameResize && hub.console != nil && len(data) == 4:
			ws := &unix.Winsize{Row: binary.BigEndian.Uint16(data), Col: binary.BigEndian.Uint16(data[2:])}
			_ = unix.IoctlSetWinsize(int(hub.console.Fd()), unix.TIOCSWINSZ, ws)
		}
	}
}

// broadcast queues output for every client. A client that has fallen
// clientBacklog frames behind is dropped, so that it never slows the
// container down.
func (hub *attachHub) broadcast(kind byte, data []byte) {
	frame := encodeFrame(kind, data)
	hub.mu.Lock()
	defer hub.mu.Unlock()
	for conn, frames := range hub.clients {
		select {
		case frames <- frame:
		default:
			logrus.Debugf("dropping an attach client that does not keep up")
			close(frames)
			conn.Close() // ends a write that waits for it
			delete(hub.clients, conn)
		}
	}
}

func (hub *attachHub) drop(conn net.Conn) {
	hub.mu.Lock()
	defer hub.mu.Unlock()
	if frames, ok := hub.clients[conn]; ok {
		close(frames)
		conn.Close()
		delete(hub.clients, conn)
	}
}

// finish tells every client the container's status and closes the socket.
// The clients' goroutines write what is queued, the status last, and close.
func (hub *attachHub) finish(status int, dir string) {
	if hub.listener != nil {
		hub.listener.Close()
		os.Remove(filepath.Join(dir, "attach.sock"))
	}
	var data [4]byte
	binary.BigEndian.PutUint32(data[:], uint32(status))
	hub.broadcast(frameExit, data[:])
	hub.mu.Lock()
	for conn, frames := range hub.clients {
		close(frames)
		delete(hub.clients, conn)
	}
	hub.mu.Unlock()
	// The watcher exits next, which would cut the last frames short.
	written := make(chan struct{})
	go func() { hub.writers.Wait(); close(written) }()
	select {
	case <-written:
	case <-time.After(2 * time.Second):
	}
}

// ErrDetached is what Attach returns when the user typed the detach keys.
var ErrDetached = errors.New("read escape sequence")

// detachKeys are Docker's: Ctrl-P, then Ctrl-Q.
var detachKeys = []byte{0x10, 0x11}

// Attach connects the user's terminal to a running detached container:
// its output from now on, and with -i or -t the keys typed. It returns the
// container's exit status, or ErrDetached after Ctrl-P Ctrl-Q (with -t).
func Attach(stateRoot, ref string) (int, error) {
	r, err := FindRecord(stateRoot, ref)
	if err != nil {
		return 0, err
	}
	if !r.Detach || !r.StillWatched() {
		return 0, fmt.Errorf("container %s is not running in the background: attach works with a container of run -d that runs", ref)
	}
	//book:add lifecycle
	if r.Paused {
		return 0, fmt.Errorf("container %s is paused: unpause it before attaching", ref)
	}
	//book:end
	dir, err := os.Open(r.Dir)
	if err != nil {
		return 0, err
	}
	conn, err := net.Dial("unix", attachSocketPath(dir.Fd()))
	dir.Close()
	if err != nil {
		return 0, fmt.Errorf("attaching to container %s: %w", ref, err)
	}
	defer conn.Close()
	if r.TTY && isTerminal(os.Stdin) {
		restore, err := rawTerminal(conn)
		if err != nil {
			return 0, err
		}
		defer restore()
	}
	detached := make(chan struct{})
	if r.Interactive || r.TTY {
		go sendKeys(conn, r.TTY, detached)
	}
	return receiveOutput(conn, detached)
}

// sendKeys sends what the user types, until Ctrl-P Ctrl-Q with -t.
func sendKeys(conn net.Conn, watchForDetach bool, detached chan struct{}) {
	buf := make([]byte, 4096)
	matched := 0 // how many of detachKeys the last keys were
	for {
		n, err := os.Stdin.Read(buf)
		if err != nil {
			return
		}
		keys := buf[:n]
		if watchForDetach {
			for i, b := range keys {
				if b != detachKeys[matched] {
					matched = 0
					continue
				}
				if matched++; matched == len(detachKeys) {
					_ = writeFrame(conn, frameStdin, keys[:i+1-len(detachKeys)])
					close(detached)
					conn.Close()
					return
				}
			}
		}
		if writeFrame(conn, frameStdin, keys) != nil {
			return
		}
	}
}

// receiveOutput prints the container's output until it exits (its status)
// or the user detaches.
func receiveOutput(conn net.Conn, detached chan struct{}) (int, error) {
	for {
		kind, data, err := readFrame(conn)
		if err != nil {
			select {
			case <-detached:
				return 0, ErrDetached
			default:
			}
			return 0, fmt.Errorf("the container's watcher went away: %w", err)
		}
		switch kind {
		case frameStdout:
			_, _ = os.Stdout.Write(data)
		case frameStderr:
			_, _ = os.Stderr.Write(data)
		case frameExit:
			if len(data) == 4 {
				return int(binary.BigEndian.Uint32(data)), nil
			}
		}
	}
}

// rawTerminal puts the user's terminal in raw mode, so that every key
// reaches the container's terminal, and keeps the container's terminal
// the user's size.
func rawTerminal(conn net.Conn) (restore func(), err error) {
	state, err := term.MakeRaw(int(os.Stdin.Fd()))
	if err != nil {
		return nil, fmt.Errorf("putting the terminal in raw mode: %w", err)
	}
	stopResizing := onWindowSize(func(ws *unix.Winsize) {
		var data [4]byte
		binary.BigEndian.PutUint16(data[:], ws.Row)
		binary.BigEndian.PutUint16(data[2:], ws.Col)
		_ = writeFrame(conn, frameResize, data[:])
	})
	return func() {
		stopResizing()
		_ = term.Restore(int(os.Stdin.Fd()), state)
	}, nil
}
