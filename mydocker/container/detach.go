//book:file detach

package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/mydocker-book/mydocker/mydocker/atomicfile"
	"github.com/mydocker-book/mydocker/mydocker/logs"
	"github.com/mydocker-book/mydocker/mydocker/state"
)

// A container that outlives `mydocker run -d` still needs a parent: a
// process that waits for its init, so that the exit status is recorded
// (and the init reaped), that holds its pipes, and that copies its output
// into the log. containerd starts a shim per container for this, Podman a
// conmon; mydocker starts a monitor: `mydocker run` itself, re-executed
// with the same arguments in a session of its own. It creates and starts
// the container as a foreground run would, tells the waiting `mydocker run
// -d` the outcome over a pipe, and then lives as long as the container.

// MonitorEnv names the environment variable that makes `mydocker run` the
// monitor of the container whose id it holds. The monitor parses the same
// arguments as the `mydocker run -d` that started it, byte for byte.
const MonitorEnv = "MYDOCKER_MONITOR_ID"

// monitorReportFD is the monitor's end of the pipe to `mydocker run -d`.
const monitorReportFD = 3

// monitorReport is what the monitor tells `mydocker run -d`: the
// container runs, or why not and with which exit code.
type monitorReport struct {
	Running bool   `json:"running,omitempty"`
	Code    int    `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
}

// RunDetached starts the monitor and returns once it reports that the
// command runs, as `docker run -d` does, or with the reason it does not.
// The monitor's standard error comes here until then, so that --debug
// shows every step.
func RunDetached(cfg Config) error {
	reportRead, reportWrite, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("creating the pipe to the monitor: %w", err)
	}
	defer reportRead.Close()
	stderrRead, stderrWrite, err := os.Pipe()
	if err != nil {
		reportWrite.Close()
		return fmt.Errorf("creating the pipe to the monitor: %w", err)
	}
	args := os.Args[1:]
	//book:add lifecycle
	if cfg.Restarting {
		// The monitor of start and restart is `mydocker start ID`.
		args = append(globalFlags(cfg), "--root", cfg.StateRoot, "start", cfg.ID)
	}
	//book:end
	monitor := exec.Command("/proc/self/exe", args...)
	monitor.Env = append(os.Environ(), MonitorEnv+"="+cfg.ID)
	monitor.Stderr = stderrWrite
	monitor.ExtraFiles = []*os.File{reportWrite} // monitorReportFD
	// A session of its own: no terminal, and no signal meant for the
	// shell's job reaches it.
	monitor.SysProcAttr = &unix.SysProcAttr{Setsid: true}
	err = monitor.Start()
	reportWrite.Close()
	stderrWrite.Close()
	if err != nil {
		stderrRead.Close()
		return fmt.Errorf("starting the container's monitor: %w", err)
	}
	logrus.Debugf("monitor started: PID %d, in a session of its own", monitor.Process.Pid)
	relayed := make(chan struct{})
	go func() {
		_, _ = io.Copy(os.Stderr, stderrRead)
		stderrRead.Close()
		close(relayed)
	}()
	var report monitorReport
	decodeErr := json.NewDecoder(reportRead).Decode(&report)
	<-relayed // the monitor closes its standard error once it has reported
	// The monitor is not our child for long: once we exit, the machine's
	// init adopts and reaps it.
	_ = monitor.Process.Release()
	switch {
	case decodeErr != nil:
		return fmt.Errorf("the container's monitor died before it reported (%v): this is mydocker's failure; "+
			"run with --debug to see how far it came", decodeErr)
	case !report.Running:
		return &Error{Code: report.Code, Err: errors.New(report.Message)}
	}
	return nil
}

// Monitor is the monitor's life: create and start the container, report
// to `mydocker run -d`, then hand over to the watcher (watch.go), which
// waits for the command and records its end. It returns only when the
// container could not be started, with the status nobody waits for.
func Monitor(cfg Config) int {
	// The monitor lives as long as the container: it must hold nothing
	// of whoever ran `mydocker run -d` (a descriptor left open without
	// close-on-exec would stay open for days), and pass nothing on.
	_ = unix.CloseRange(monitorReportFD, ^uint(0), unix.CLOSE_RANGE_CLOEXEC)
	// `mydocker run -d` may be killed before it has read the report: a
	// write to its pipes must then fail, not kill the monitor (Go dies of
	// SIGPIPE on descriptors 1 and 2 unless SIGPIPE is asked for). A
	// handler, unlike an ignored signal, does not pass through execve to
	// the processes the monitor starts.
	signal.Notify(make(chan os.Signal, 1), unix.SIGPIPE)
	// The kernel sends the init its parent-death signal when the thread
	// that cloned it ends, not the process; and execve ends every thread
	// but the one that calls it. So the clone of the init and the exec of
	// the watcher must happen on one thread: this goroutine's, locked to
	// it (and never unlocked: the exec ends the goroutine with the rest).
	runtime.LockOSThread()
	report := os.NewFile(monitorReportFD, "monitor report")
	c, err := Create(cfg)
	if err == nil {
		if err = c.Start(); err != nil {
			c.Delete()
		}
	}
	sendReport(report, err)
	if err != nil {
		return ExitRuntimeError
	}
	return c.handOver()
}

// sendReport tells `mydocker run -d` how the start went, then hands the
// monitor's standard error over to /dev/null: `mydocker run -d` stops
// reading it once it has the report, and Go kills a program that writes to
// a pipe nobody reads on descriptor 2 (SIGPIPE).
func sendReport(pipe *os.File, err error) {
	report := monitorReport{Running: err == nil}
	if err != nil {
		report.Code, report.Message = ExitRuntimeError, err.Error()
		var failed *Error
		if errors.As(err, &failed) {
			report.Code = failed.Code
		}
	}
	_ = json.NewEncoder(pipe).Encode(report)
	pipe.Close()
	if devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0); err == nil {
		_ = unix.Dup3(int(devNull.Fd()), 2, 0)
		devNull.Close()
	}
}

// logPath is the container's log, named as Docker names it.
func logPath(dir, id string) string { return filepath.Join(dir, id+"-json.log") }

// makeLog is create's step that opens the log of a detached container.
func (c *Container) makeLog() (err error) {
	if !c.Detach {
		return nil
	}
	//book:add lifecycle
	if c.Restarting {
		c.log, err = openLogToAdd(logPath(c.dir, c.ID))
		return err
	}
	//book:end
	c.log, err = logs.Create(logPath(c.dir, c.ID))
	return err
}

// sendOutputToLog gives a detached init its standard streams: pipes for
// its output and errors, which the watcher copies into the log, and with
// -i an input that stays open, empty, as long as the watcher lives: a shell
// waiting on it keeps running, as in `docker run -di`. Our copies of the
// init's ends close once it has started (closeTheirEnds).
func (c *Container) sendOutputToLog(cmd *exec.Cmd) error {
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, nil, nil
	if c.TTY {
		return nil // the init gives its command the pty (keepConsole)
	}
	var theirs []*os.File
	for range 2 {
		read, write, err := os.Pipe()
		if err != nil {
			return fmt.Errorf("creating a pipe for the container's output: %w", err)
		}
		c.output, theirs = append(c.output, read), append(theirs, write)
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, theirs[0], theirs[1]
	if c.Interactive {
		read, write, err := os.Pipe()
		if err != nil {
			return fmt.Errorf("creating the container's input: %w", err)
		}
		cmd.Stdin, c.stdin = read, write
	}
	return nil
}

// closeTheirEnds closes our copies of a detached init's standard streams
// once it has its own: the pipes reach their end only when no process
// holds their writing end.
func closeTheirEnds(cmd *exec.Cmd) {
	for _, stream := range []any{cmd.Stdin, cmd.Stdout, cmd.Stderr} {
		if f, ok := stream.(*os.File); ok {
			f.Close()
		}
	}
}

// A detached init's standard error is the container's log, not a place
// for mydocker's --debug trace: with -d --debug the init gets a copy of
// the monitor's standard error (which run -d shows until the report) as
// descriptor traceFD, and traces there until its execve closes it.
const (
	traceFD  = 6
	traceEnv = "MYDOCKER_INIT_TRACE_FD"
)

func traceToMonitor(cmd *exec.Cmd) error {
	fd, err := unix.FcntlInt(os.Stderr.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("passing the trace to the init: %w", err)
	}
	for len(cmd.ExtraFiles) < traceFD-3 {
		cmd.ExtraFiles = append(cmd.ExtraFiles, nil) // closed in the child
	}
	cmd.ExtraFiles = append(cmd.ExtraFiles, os.NewFile(uintptr(fd), "trace"))
	cmd.Env = append(cmd.Env, traceEnv+"="+strconv.Itoa(traceFD))
	return nil
}

// TraceToMonitor is the init's side: it traces to the descriptor
// traceToMonitor gave it, if any, and takes the variable out of the
// environment the command will get.
func TraceToMonitor() {
	if os.Getenv(traceEnv) == "" {
		return
	}
	os.Unsetenv(traceEnv)
	logrus.SetOutput(os.NewFile(traceFD, "trace"))
}

// keepConsole is start's console step for a detached container: the
// master of its pty stays with the monitor, and then the watcher, which
// copies the output into the log and passes on the keys of attach.
func (c *Container) keepConsole(socket *os.File) (err error) {
	if socket == nil {
		return nil // no -t
	}
	defer socket.Close()
	c.console, err = receiveFile(socket)
	return err
}

// closeLog closes the log and our ends of the init's streams, once the
// container's output is all in the log.
func (c *Container) closeLog() {
	closeAll(c.output)
	closeAll([]*os.File{c.stdin, c.console, c.attachSocket})
	c.output, c.stdin, c.console, c.attachSocket = nil, nil, nil, nil
	if c.log != nil {
		if err := c.log.Close(); err != nil {
			logrus.Warnf("closing the container's log: %v", err)
		}
		c.log = nil
	}
}

// reserveName is create's step that gives the container its --name.
func (c *Container) reserveName() error {
	if c.Name == "" {
		return nil
	}
	//book:add lifecycle
	if c.Restarting {
		return nil // still the container's own
	}
	//book:end
	if err := state.ReserveName(c.StateRoot, c.Name, c.ID); err != nil {
		return &Error{Code: ExitRuntimeError, Err: err}
	}
	c.nameReserved = true
	return nil
}

// saveRecord writes what `ps` and `inspect` show of the container's
// configuration: config.json beside its state. A start writes it again,
// over a stopped container's record: each file is replaced whole
// (atomicfile.Write): rewritten in place, a start killed in the middle
// would leave a record that the next command cannot read, and would take
// for a create that never finished, and remove the container.
func (c *Container) saveRecord() error {
	data, err := json.MarshalIndent(c.Config, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the container's configuration: %w", err)
	}
	if err := atomicfile.Write(filepath.Join(c.dir, RecordFile), append(data, '\n'), false); err != nil {
		return fmt.Errorf("saving the container's configuration: %w", err)
	}
	//book:add exec
	if c.Seccomp != "" {
		if err := atomicfile.Write(filepath.Join(c.dir, filterFile), []byte(c.Seccomp), false); err != nil {
			return fmt.Errorf("saving the container's seccomp filter: %w", err)
		}
	}
	//book:end exec
	//book:add lifecycle
	if err := atomicfile.Write(filepath.Join(c.dir, exactRecordFile), encodeRecord(c.Config), false); err != nil {
		return fmt.Errorf("saving the container's configuration: %w", err)
	}
	//book:end
	return nil
}

// RecordFile is the container's configuration, as run was given it.
const RecordFile = "config.json"

// keepsRecord tells whether Delete keeps the container's directory: a
// container whose command ran stays, stopped, until `mydocker rm`, as in
// Docker, unless it was run with --rm. One that never ran leaves nothing.
func (c *Container) keepsRecord() bool {
	//book:add lifecycle
	if c.Restarting {
		return true // a start that failed leaves the container as it was: stopped
	}
	//book:end
	return !c.AutoRemove && c.state.Status == state.Stopped
}

// removeOrKeep is Delete's last step: the directory goes, or stays as
// the stopped container's record, unlocked for the next command.
func (c *Container) removeOrKeep() {
	if c.dir != "" && c.keepsRecord() {
		// What a stopped container's init and cgroup were is of no use
		// any more, and a PID is soon someone else's.
		c.state.Pid, c.state.PidStartTime, c.state.Cgroup = 0, 0, ""
		//book:add lifecycle
		c.state.Status = state.Stopped
		//book:end
		if err := c.noteState(); err != nil {
			logrus.Warnf("%v", err)
		}
		c.dir = ""
		if c.lock != nil {
			c.lock.Close()
			c.lock = nil
		}
		return
	}
	c.removeDirectory()
	if c.nameReserved {
		if err := state.ReleaseName(c.StateRoot, c.Name, c.ID); err != nil {
			logrus.Warnf("%v", err)
		}
		c.nameReserved = false
	}
}

// loadRecord reads the configuration saveRecord wrote.
func loadRecord(dir string) (Config, error) {
	//book:add lifecycle
	if data, err := os.ReadFile(filepath.Join(dir, exactRecordFile)); err == nil {
		return decodeRecord(data)
	}
	//book:end
	var cfg Config
	data, err := os.ReadFile(filepath.Join(dir, RecordFile))
	if err != nil {
		return cfg, fmt.Errorf("reading the container's configuration: %w", err)
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		return cfg, fmt.Errorf("reading the container's configuration in %s: %w", dir, err)
	}
	return cfg, nil
}

// Environment is the environment the container's command started with.
func Environment(cfg Config) []string { return containerEnv(cfg) }
