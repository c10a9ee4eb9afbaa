//book:file namespaces

package container

import (
	"os"
	"os/exec"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/mydocker-book/mydocker/mydocker/cgroups"
	"github.com/mydocker-book/mydocker/mydocker/faults"
	"github.com/mydocker-book/mydocker/mydocker/logs"
	"github.com/mydocker-book/mydocker/mydocker/state"
)

// Container is one container on its way through the phases every runtime
// has (runc's names): Create makes all it needs, Start runs its command,
// Wait waits for the command to end, and Delete releases what Create and
// Start made.
// Each field is set by the step that makes the thing, and cleared by the
// step that releases it, so Delete knows what there is to release.
type Container struct {
	Config             // what the user asked for
	dir    string      // its directory under the state root, once made
	lock   *os.File    // that directory, locked while this run has the container
	state  state.State // what its state.json says
	init   *exec.Cmd   // its first process, once started
	//book:replace namespaces proc
	// lifeline *os.File // our end of the init's lifeline, open while it may run
	//book:end
	//book:add proc
	pipes          initPipes      // our ends of the pipes to the init
	signals        chan os.Signal // signals caught, to be passed to the container
	stopForwarding func()
	//book:end proc
	//book:add rootfs
	rootfs      rootfsDirs // where its root filesystem is made on the host
	stopConsole func()
	//book:end rootfs
	//book:add cgroups
	cgroup          cgroups.Cgroup
	privateCgroupNS bool // the container gets a cgroup namespace of its own
	//book:end
	//book:add detach
	nameReserved bool       // its --name links to it in names/
	log          *logs.File // a detached container's output, in Docker's json-file format
	output       []*os.File // our ends of a detached init's stdout and stderr, read into the log
	stdin        *os.File   // with -d -i: our end of the init's input, kept open and empty
	console      *os.File   // with -d -t: the master of the container's pty
	attachSocket *os.File   // with -d: the socket `mydocker attach` connects to
	//book:end
}

// Run runs a container in the foreground, as `mydocker run` does: create,
// start, wait, delete. It returns the container's exit status: the
// command's own, or 128+N when the command was killed by signal N.
func Run(cfg Config) (int, error) {
	if err := checkTerminal(cfg); err != nil {
		return 0, err
	}
	c, err := Create(cfg)
	if err != nil {
		return 0, err
	}
	defer c.Delete()
	if err := c.Start(); err != nil {
		return 0, err
	}
	return c.Wait()
}

// step is one named step of a phase. A chapter that adds to a phase adds a
// step to its list.
type step struct {
	name string
	run  func() error
}

// runSteps runs a phase's steps in order, up to the first that fails.
// The tests' build of mydocker can make any step fail here (package
// faults), to prove that every error path cleans up.
func runSteps(phase string, steps []step) error {
	for _, s := range steps {
		if err := faults.Step(phase, s.name); err != nil {
			return err
		}
		if err := s.run(); err != nil {
			return err
		}
	}
	return nil
}

// Wait waits for the container's command to end, records that in its
// state, and returns its status.
func (c *Container) Wait() (int, error) {
	status, err := waitForExit(c.init)
	if err != nil {
		return 0, err
	}
	c.recordExit(status)
	return status, nil
}

// recordExit records in the container's state that its command has ended,
// and how.
func (c *Container) recordExit(status int) {
	//book:add netns
	// The address goes back before the state says stopped: whoever waits
	// for the stop (stop, wait, a start) finds it free.
	c.disconnectNetwork()
	//book:end
	now := time.Now()
	c.state.Status, c.state.Finished, c.state.ExitCode = state.Stopped, &now, &status
	if err := c.noteState(); err != nil {
		// The command ran and ended: its status stands.
		logrus.Warnf("%v", err)
	}
}

// Delete releases what Create and Start made, in the reverse order. It is
// called after Wait, and also when a step of Create or Start failed, so it
// finds the container in any state: it releases what is there, each thing
// once, and clears its field. A failure here does not change the
// container's exit status: it is reported with what to do.
func (c *Container) Delete() {
	if c.init != nil {
		killProcess(c.init)
		restoreForeground(c.Config)
		c.init = nil
	}
	//book:replace namespaces proc
	// if c.lifeline != nil {
	// 	c.lifeline.Close()
	// 	c.lifeline = nil
	// }
	//book:end
	//book:add netns
	c.disconnectNetwork()
	//book:end
	//book:add detach
	c.closeLog()
	//book:end
	//book:add proc
	if c.stopForwarding != nil {
		c.stopForwarding()
		c.stopForwarding = nil
	}
	//book:end proc
	//book:add rootfs
	if c.stopConsole != nil {
		c.stopConsole()
		c.stopConsole = nil
	}
	//book:end rootfs
	//book:add proc
	c.pipes.close()
	//book:end proc
	//book:add cgroups
	if c.cgroup != nil {
		removeCgroup(c.cgroup)
		c.cgroup = nil
	}
	//book:end
	//book:replace namespaces detach
	// c.removeDirectory()
	//book:end
	//book:add detach
	c.removeOrKeep()
	//book:end
	//book:add proc
	c.stopCatchingSignals()
	//book:end proc
}

//book:add cgroups

// removeCgroup removes the container's cgroup once the container is over.
// A failure does not change the container's exit status: it is reported,
// with the cgroup's path, so it can be removed by hand.
func removeCgroup(cgroup cgroups.Cgroup) {
	if err := cgroup.Destroy(); err != nil {
		logrus.Warnf("%v", err)
	}
}

//book:end
