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
	initPipeFD = 3 // the configuration, from the parent to the init
	execPipeFD = 4 // a failure, from the init to the parent; closed by execve
)

// initPipes are the parent's ends of the pipes to the init. The step that
// uses a pipe up closes it and clears its field; close closes the rest.
type initPipes struct {
	config *os.File // we write the configuration here
	exec   *os.File // we read here until the init has exec'd the command
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

// sendConfig writes the configuration to the init (wire.go) and closes the
// pipe: the init goes on as soon as it has read the whole configuration.
func sendConfig(pipe *os.File, cfg initConfig) error {
	defer pipe.Close()
	logrus.Debugf("sending the command %q to the init over its pipe", cfg.Args)
	if _, err := pipe.Write(encodeConfig(cfg)); err != nil {
		return fmt.Errorf("sending the configuration to the init: %w", err)
	}
	return nil
}

// readConfig is the init's side: it blocks until the parent has written the
// whole configuration. If the parent closes its end before (it failed, or
// was killed), the read ends early and the init gives up.
func readConfig() (initConfig, error) {
	pipe := os.NewFile(initPipeFD, "init-pipe")
	defer pipe.Close()
	return decodeConfig(pipe)
}

// initFailure is what the init sends when it cannot start the command.
type initFailure struct {
	Code    int    `json:"code"` // the exit status mydocker should end with
	Message string `json:"message"`
}

// waitForExec blocks until the init has become the user's command or has
// failed trying. The init's end of this pipe is close-on-exec, so a
// successful execve closes it and we read end-of-file; a failure arrives as
// a message first. Until then, signals for the container wait in mydocker:
// the init is still a Go program that would die of them.
func waitForExec(pipe *os.File) error {
	defer pipe.Close()
	var failure initFailure
	err := json.NewDecoder(pipe).Decode(&failure)
	if errors.Is(err, io.EOF) {
		logrus.Debug("the exec pipe closed: the init has exec'd the command")
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading the init's exec pipe: %w", err)
	}
	return &Error{Code: failure.Code, Err: errors.New(failure.Message)}
}

// reportFailure is the init's side: it sends err to the parent, which prints
// it, and returns the status the init should exit with.
func reportFailure(pipe *os.File, err error) int {
	defer pipe.Close()
	failed := &Error{Code: ExitRuntimeError, Err: err}
	errors.As(err, &failed)
	if sendErr := json.NewEncoder(pipe).Encode(initFailure{Code: failed.Code, Message: failed.Error()}); sendErr != nil {
		fmt.Fprintf(os.Stderr, "mydocker init: %v (and the parent could not be told: %v)\n", err, sendErr)
	}
	return failed.Code
}
