//book:file proc

package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/sirupsen/logrus"
)

// The init finds its ends of the pipes here: exec.Cmd.ExtraFiles[i] is
// descriptor 3+i in the child.
const (
	initPipeFD = 3 // the configuration, then "go", from the parent to the init
	execPipeFD = 4 // "ready" or a failure, from the init to the parent; closed by execve
)

// The conversation over the two pipes, in order:
//
//	mydocker -> init   the configuration (config pipe)
//	init -> mydocker   ready: set up, about to exec; or why it failed (exec pipe)
//	mydocker -> init   go (config pipe), after the last limit (pids.max)
//	init               execve: the exec pipe closes, mydocker reads end of file
//
// End of file before "ready" means that the init died on the way: mydocker's
// failure, whatever the init's exit status says. End of file after "go"
// means that the exec happened.

// initPipes are the parent's ends of the pipes to the init. The step that
// uses a pipe up closes it and clears its field; close closes the rest.
type initPipes struct {
	config   *os.File      // we write the configuration and the go here
	exec     *os.File      // we read here until the init has exec'd the command
	messages *json.Decoder // the init's messages, read from exec
	//book:add rootfs
	console *os.File // with -t, the init sends the container's terminal here
	//book:end
}

// close closes the pipes still open.
func (p *initPipes) close() {
	closeAll([]*os.File{p.config, p.exec})
	//book:add rootfs
	closeAll([]*os.File{p.console})
	//book:end
	*p = initPipes{}
}

// initMessage is what the init tells mydocker over the exec pipe: that it
// is ready to become the command, or why it cannot.
type initMessage struct {
	Ready   bool   `json:"ready,omitempty"`
	Code    int    `json:"code,omitempty"` // the exit status mydocker should end with
	Message string `json:"message,omitempty"`
}

// goByte is mydocker's go: the init may exec the command.
const goByte = 'g'

// sendConfig writes the configuration to the init (wire.go). The init goes
// on as soon as it has read all of it; the pipe stays open for the go.
func sendConfig(pipe *os.File, cfg initConfig) error {
	logrus.Debugf("sending the command %q to the init over its pipe", cfg.Args)
	if _, err := pipe.Write(encodeConfig(cfg)); err != nil {
		return fmt.Errorf("sending the configuration to the init: %w", err)
	}
	return nil
}

// errInitDied is end of file on the exec pipe before "ready": the init is
// gone without a word, killed or crashed.
var errInitDied = errors.New("the container's init died before it could run the command")

// waitUntilReady reads the init's first message: "ready", or why it failed.
func waitUntilReady(messages *json.Decoder) error {
	var msg initMessage
	err := messages.Decode(&msg)
	switch {
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return errInitDied
	case err != nil:
		return fmt.Errorf("reading the init's exec pipe: %w", err)
	case msg.Ready:
		logrus.Debug("the init has set up the container and waits for the go to exec")
		return nil
	}
	return &Error{Code: msg.Code, Err: errors.New(msg.Message)}
}

// sendGo tells the init to exec the command, and closes the config pipe:
// nothing more goes that way.
func sendGo(pipe *os.File) error {
	defer pipe.Close()
	if _, err := pipe.Write([]byte{goByte}); err != nil {
		return fmt.Errorf("telling the init to start the command: %w", err)
	}
	return nil
}

// waitForExec blocks until the init has become the user's command or has
// failed trying. The init's end of this pipe is close-on-exec, so a
// successful execve closes it and we read end-of-file; a failure arrives as
// a message first. Until then, signals for the container wait in mydocker:
// the init is still a Go program that would die of them.
func waitForExec(messages *json.Decoder) error {
	var msg initMessage
	err := messages.Decode(&msg)
	if errors.Is(err, io.EOF) {
		logrus.Debug("the exec pipe closed: the init has exec'd the command")
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading the init's exec pipe: %w", err)
	}
	return &Error{Code: msg.Code, Err: errors.New(msg.Message)}
}

// The init's side.

// initEnds are the init's ends of the pipes.
type initEnds struct {
	config *os.File // the configuration, then the go
	exec   *os.File // ready, or a failure; closed by execve
}

func openInitEnds() initEnds {
	return initEnds{config: os.NewFile(initPipeFD, "config-pipe"), exec: os.NewFile(execPipeFD, "exec-pipe")}
}

// readConfig blocks until the parent has written the whole configuration.
// If the parent closes its end before (it failed, or was killed), the read
// ends early and the init gives up. It reads no further than the
// configuration: the go that follows on the same pipe is sent only after
// the init's "ready", so it cannot be read here by mistake.
func readConfig(pipe *os.File) (initConfig, error) {
	return decodeConfig(pipe)
}

// readyToExec tells mydocker the init is ready, and waits for its go.
func readyToExec(ends initEnds) error {
	logrus.Debug("waiting for mydocker's go to exec")
	if err := json.NewEncoder(ends.exec).Encode(initMessage{Ready: true}); err != nil {
		return fmt.Errorf("telling mydocker the container is ready: %w", err)
	}
	buf := make([]byte, 1)
	if n, _ := ends.config.Read(buf); n != 1 || buf[0] != goByte {
		return errors.New("mydocker went away before the container could start")
	}
	return ends.config.Close()
}

// reportFailure is the init's side: it sends err to the parent, which prints
// it, and returns the status the init should exit with.
func reportFailure(pipe *os.File, err error) int {
	defer pipe.Close()
	failed := &Error{Code: ExitRuntimeError, Err: err}
	errors.As(err, &failed)
	if sendErr := json.NewEncoder(pipe).Encode(initMessage{Code: failed.Code, Message: failed.Error()}); sendErr != nil {
		fmt.Fprintf(os.Stderr, "mydocker init: %v (and the parent could not be told: %v)\n", err, sendErr)
	}
	return failed.Code
}
