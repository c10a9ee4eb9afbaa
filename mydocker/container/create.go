//book:file namespaces

package container

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/mydocker-book/mydocker/mydocker/cgroups"
	"github.com/mydocker-book/mydocker/mydocker/state"
)

// Create makes everything the container needs before its command can run,
// and records it as created. If a step fails, the deferred Delete removes
// what the steps before it made: a failed create leaves nothing behind.
func Create(cfg Config) (_ *Container, retErr error) {
	c := &Container{Config: cfg}
	defer func() {
		if retErr != nil {
			c.Delete()
		}
	}()
	if err := runSteps("create", c.createSteps()); err != nil {
		return nil, err
	}
	return c, nil
}

// createSteps are the steps of create, in order.
func (c *Container) createSteps() []step {
	return []step{
		//book:add proc
		{"signals", c.catchSignals},
		//book:end
		{"sweep", c.sweepDeadContainers},
		{"directory", c.makeDirectory},
		//book:add detach
		{"name", c.reserveName},
		{"log", c.makeLog},
		{"attach", c.makeAttachSocket},
		//book:end
		//book:add images
		{"image", c.applyImageDefaults},
		//book:end
		//book:add rootfs
		{"rootfs", c.makeRootfs},
		//book:end
		//book:add volumes
		{"volumes", c.makeVolumes},
		//book:end
		//book:add cgroups
		{"cgroup", c.makeCgroup},
		//book:end
		//book:add rootfs
		{"interrupted", c.stopIfInterrupted},
		//book:end
		//book:add proc
		{"init", c.startInit},
		//book:end
		//book:replace cgroups exec
		// {"join", c.joinCgroup},
		//book:end
		//book:add netns
		{"network", c.connectNetwork},
		//book:end
		//book:add detach
		{"record", c.saveRecord},
		//book:end
		{"created", c.markCreated},
	}
}

// containerDir is where a container's own files live on the host, in the
// state root: containers/ID.
func containerDir(cfg Config) string {
	return filepath.Join(cfg.StateRoot, "containers", cfg.ID)
}

// makeDirectory creates the container's directory. It must be new: a
// container's files are its own. Its state file comes with the created
// step: until then, a directory without one is a container being created
// (or whose create was cut short).
func (c *Container) makeDirectory() error {
	//book:add lifecycle
	if c.Restarting {
		return c.reopenDirectory()
	}
	//book:end
	dir := containerDir(c.Config)
	if err := makePrivateDir(c.StateRoot); err != nil {
		return fmt.Errorf("creating the state root %s: %w", c.StateRoot, err)
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return fmt.Errorf("creating the containers' directory: %w", err)
	}
	unlock, err := containersLock(c.StateRoot, unix.LOCK_SH)
	if err != nil {
		return err
	}
	defer unlock()
	if err := os.Mkdir(dir, 0o700); err != nil {
		return fmt.Errorf("creating the container's directory: %w", err)
	}
	c.dir = dir
	// Held until Delete has removed the directory: the sweep of the next
	// runs leaves a locked directory alone.
	if c.lock, err = lockDir(dir); err != nil {
		return err
	}
	c.state = state.State{ID: c.ID, Status: state.Creating, Created: time.Now()}
	return nil
}

// makePrivateDir makes the state root root's alone (0700), also when it
// exists with a looser mode (an older mydocker, or `install -D` of an
// image). Other users must not even pass through it: a container's layer
// holds whatever the container wrote, setuid-root programs included, and a
// host user who could reach containers/ID/upper could run them.
func makePrivateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return os.Chmod(dir, 0o700)
}

// removeDirectory deletes the container's directory and all in it, once
// the container is over.
func (c *Container) removeDirectory() {
	if c.dir == "" {
		return
	}
	logrus.Debugf("removing %s", c.dir)
	if err := os.RemoveAll(c.dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		logrus.Warnf("removing the container's directory %s: %v; remove it by hand", c.dir, err)
	}
	c.dir = ""
	if c.lock != nil {
		c.lock.Close()
		c.lock = nil
	}
}

// saveState writes the state and waits until it is on the disk: for
// created, the record that the container exists.
func (c *Container) saveState() error {
	return state.Save(c.dir, c.state)
}

// noteState writes the state without waiting for the disk: for running
// and stopped, which tell about processes that a power cut ends anyway.
func (c *Container) noteState() error {
	return state.Note(c.dir, c.state)
}

//book:replace namespaces proc
// // startInit clones the container's init, which runs the command at once.
// func (c *Container) startInit() error {
// 	cmd, lifeline, err := newInitProcess(c.Config)
// 	if err != nil {
// 		return err
// 	}
// 	// Our end of the lifeline is close-on-exec, as Go opens every file:
// 	// no child inherits it, so only our death, or Delete, closes it.
// 	c.lifeline = lifeline
// 	err = startProcess(cmd)
// 	cmd.ExtraFiles[0].Close() // the init's end: it has a copy of its own now
// 	if err != nil {
// 		return err
// 	}
// 	c.init = cmd
// 	return c.recordInit()
// }
//book:end

//book:add proc

// startInit clones the container's init, which waits on its config pipe:
// nothing of the user's runs until start sends the configuration.
func (c *Container) startInit() error {
	cmd, pipes, err := newInitProcess(c.Config)
	if err != nil {
		return err
	}
	c.pipes = pipes
	//book:add detach
	if c.Detach {
		if err := c.sendOutputToLog(cmd); err != nil {
			return err
		}
		if c.Debug {
			if err := traceToMonitor(cmd); err != nil {
				return err
			}
		}
	}
	//book:end detach
	//book:replace proc exec
	// if err := startProcess(cmd); err != nil {
	// 	return err
	// }
	//book:end proc exec
	//book:add exec
	if err := c.startInItsCgroup(cmd); err != nil {
		return err
	}
	//book:end exec
	c.init = cmd
	//book:add detach
	if c.Detach {
		closeTheirEnds(cmd)
	}
	//book:end detach
	return c.recordInit()
}

//book:end proc

// recordInit notes the init's PID in the state, with its start time, so
// that a later reader can tell the init from a process that got its PID
// after the container was gone.
func (c *Container) recordInit() error {
	pid := c.init.Process.Pid
	startTime, err := state.ProcessStartTime(pid)
	if err != nil {
		return err
	}
	c.state.Pid, c.state.PidStartTime = pid, startTime
	return nil
}

func (c *Container) markCreated() error {
	c.state.Status = state.Created
	return c.saveState()
}

//book:add volumes

func (c *Container) makeVolumes() error { return prepareVolumes(c.Volumes) }

//book:end

//book:add cgroups

// makeCgroup creates the container's cgroup with its limits. Its path goes
// into the state file first, so that if mydocker is killed from now on,
// the next run knows which cgroup to remove (sweep.go).
func (c *Container) makeCgroup() (err error) {
	c.state.Cgroup = path.Join(c.CgroupParent, c.ID)
	if err := state.Note(c.dir, c.state); err != nil {
		return err
	}
	if c.privateCgroupNS, err = cgroups.Namespace(c.CgroupNS); err != nil {
		return err
	}
	cgroup, err := cgroups.New(c.CgroupParent, c.ID, c.Resources)
	if err != nil {
		return err
	}
	c.cgroup = cgroup
	//book:add security
	// Docker's device rules, or every device for --privileged. They are
	// in place before the init joins, so no process of the container ever
	// runs without them.
	if err := cgroup.LimitDevices(cgroups.DeviceRules(c.Privileged)); err != nil {
		return err
	}
	//book:end security
	return nil
}

//book:replace cgroups exec
// // joinCgroup moves the init into the container's cgroup. The init is
// // waiting for its configuration, so the command cannot have started yet:
// // it will start inside the cgroup, limits and all, and every process it
// // makes is born there.
// func (c *Container) joinCgroup() error {
// 	return c.cgroup.Join(c.init.Process.Pid)
// }
//book:end cgroups exec

//book:end cgroups
