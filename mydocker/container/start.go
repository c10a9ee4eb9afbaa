//book:file namespaces

package container

import (
	"errors"
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
		{"exec", c.waitForExec},
		{"signals", c.forwardSignals},
		//book:end
		{"running", c.markRunning},
	}
}

func (c *Container) markRunning() error {
	now := time.Now()
	c.state.Status, c.state.Started = state.Running, &now
	return c.saveState()
}

//book:add proc

// sendConfig sends the init what it needs to set up the container.
func (c *Container) sendConfig() error {
	pipe := c.pipes.config
	c.pipes.config = nil // sendConfig closes it
	return sendConfig(pipe, c.initConfig())
}

// waitForExec waits until the init has become the user's command. An init
// that failed has told us why and exits by itself: reap it.
func (c *Container) waitForExec() error {
	pipe := c.pipes.exec
	c.pipes.exec = nil // waitForExec closes it
	err := waitForExec(pipe)
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

//book:add rootfs

// attachConsole connects our terminal to the container's, with -t.
func (c *Container) attachConsole() error {
	socket := c.pipes.console
	c.pipes.console = nil // attachConsole closes it
	stop, err := attachConsole(socket, c.Config)
	c.stopConsole = stop
	return err
}

//book:end
