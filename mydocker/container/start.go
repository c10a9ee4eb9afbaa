//book:file namespaces

package container

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/mydocker-book/mydocker/mydocker/state"
)

// Start runs the container's command and returns once it runs, or with
// the reason it could not be run. After a failure the container is still
// there, its init perhaps too: Delete kills it and releases the rest.
func (c *Container) Start() error {
	return runSteps("start", c.startSteps())
}

// startSteps are the steps of start, in order.
func (c *Container) startSteps() []step {
	return []step{
		//book:replace namespaces proc
		// {"init", c.startInit},
		//book:end
		//book:add proc
		{"config", c.sendConfig},
		//book:end
		//book:add rootfs
		{"console", c.attachConsole},
		//book:end
		//book:add proc
		{"ready", c.waitUntilReady},
		//book:end
		//book:add cgroups
		{"pids", c.limitPids},
		//book:end
		//book:add proc
		{"exec", c.letInitExec},
		{"signals", c.forwardSignals},
		//book:end
		{"running", c.markRunning},
	}
}

func (c *Container) markRunning() error {
	now := time.Now()
	c.state.Status, c.state.Started = state.Running, &now
	//book:add lifecycle
	c.state.ExitCode = nil // a restarted container's last one
	//book:end
	return c.noteState()
}

//book:add proc

// sendConfig sends the init what it needs to set up the container.
func (c *Container) sendConfig() error {
	return sendConfig(c.pipes.config, c.initConfig())
}

// waitUntilReady waits until the init has set up the container and is
// about to exec the command. An init that failed has told us why and exits
// by itself, and one that died said nothing: either way, reap it.
func (c *Container) waitUntilReady() error {
	err := waitUntilReady(c.pipes.messages)
	if err == nil {
		return nil
	}
	status, waitErr := waitForExit(c.init)
	if errors.Is(err, errInitDied) && waitErr == nil {
		return fmt.Errorf("%w (%s): this is mydocker's failure, not the command's; "+
			"run with --debug to see how far the init came", err, describeStatus(status))
	}
	return err
}

// letInitExec gives the init its go, and waits until it has become the
// user's command or has failed trying (then, reap it).
func (c *Container) letInitExec() error {
	pipe := c.pipes.config
	c.pipes.config = nil // sendGo closes it
	if err := sendGo(pipe); err != nil {
		return err
	}
	err := waitForExec(c.pipes.messages)
	closeAll([]*os.File{c.pipes.exec})
	c.pipes.exec, c.pipes.messages = nil, nil
	var failed *Error
	if errors.As(err, &failed) {
		_ = c.init.Wait()
	}
	return err
}

// forwardSignals passes the signals mydocker catches on to the command,
// now that it runs and can handle them.
func (c *Container) forwardSignals() error {
	c.stopForwarding = forwardSignals(c.signals, c.init.Process)
	return nil
}

//book:end

//book:add cgroups

// limitPids writes the one limit that waits for this moment: the init is
// ready and its threads exist; the command is not running yet.
func (c *Container) limitPids() error {
	return c.cgroup.LimitPids(c.Resources.PidsLimit)
}

//book:end

//book:add rootfs

// attachConsole connects our terminal to the container's, with -t.
func (c *Container) attachConsole() error {
	socket := c.pipes.console
	c.pipes.console = nil // attachConsole closes it
	//book:add detach
	if c.Detach {
		return c.keepConsole(socket)
	}
	//book:end detach
	stop, err := attachConsole(socket, c.Config)
	c.stopConsole = stop
	return err
}

//book:end rootfs
