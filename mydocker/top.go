//book:file detach

package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/mydocker-book/mydocker/mydocker/cgroups"
	"github.com/mydocker-book/mydocker/mydocker/container"
	"github.com/mydocker-book/mydocker/mydocker/state"
)

func topCommand() *cli.Command {
	return &cli.Command{
		Name:         "top",
		Usage:        "list the processes of a running container, as the host sees them",
		ArgsUsage:    "CONTAINER",
		OnUsageError: usageError,
		Action:       listProcesses,
	}
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times: 100 on every
// Linux architecture Go supports.
const clockTicks = 100

// listProcesses lists the processes of the container's cgroup, which holds
// every process of the container and nothing else, with host PIDs: the
// columns of `ps -ef` that /proc gives directly.
func listProcesses(ctx *cli.Context) error {
	if ctx.NArg() != 1 {
		return commandFailed(errors.New("top needs one container: mydocker top CONTAINER"))
	}
	r, err := container.FindRecord(ctx.String("root"), ctx.Args().First())
	if err != nil {
		return commandFailed(err)
	}
	if r.State.Status != state.Running || r.State.Cgroup == "" {
		return commandFailed(fmt.Errorf("container %s is not running", ctx.Args().First()))
	}
	cgroup, err := cgroups.Open(r.State.Cgroup)
	if err != nil {
		return commandFailed(err)
	}
	pids, err := cgroup.Procs()
	if err != nil {
		return commandFailed(fmt.Errorf("listing the processes of container %s: %w", ctx.Args().First(), err))
	}
	boot, err := bootTime()
	if err != nil {
		return commandFailed(err)
	}
	out := tabwriter.NewWriter(os.Stdout, 0, 1, 1, ' ', 0)
	fmt.Fprintln(out, "UID\tPID\tPPID\tSTIME\tTIME\tCMD")
	for _, pid := range pids {
		if p, err := readProcess(pid, boot); err == nil { // one that exited meanwhile is skipped
			fmt.Fprintf(out, "%s\t%d\t%d\t%s\t%s\t%s\n", p.user, pid, p.ppid, p.started.Format("15:04"), p.cpu, p.command)
		}
	}
	return out.Flush()
}

type processInfo struct {
	user    string
	ppid    int
	started time.Time
	cpu     string // user and system time, [DD-]HH:MM:SS as ps prints it
	command string
}

func readProcess(pid int, boot time.Time) (processInfo, error) {
	var p processInfo
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return p, err
	}
	fields, err := state.StatFields(stat) // fields[0] is field 3
	if err != nil {
		return p, err
	}
	if len(fields) < 20 {
		return p, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	p.ppid, _ = strconv.Atoi(string(fields[1]))
	utime, _ := strconv.ParseInt(string(fields[11]), 10, 64)
	stime, _ := strconv.ParseInt(string(fields[12]), 10, 64)
	start, _ := strconv.ParseInt(string(fields[19]), 10, 64)
	p.started = boot.Add(time.Duration(start) * time.Second / clockTicks)
	p.cpu = cpuTime((utime + stime) / clockTicks)
	p.user = processUser(pid)
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return p, err
	}
	p.command = strings.TrimSpace(strings.ReplaceAll(string(cmdline), "\x00", " "))
	if p.command == "" { // a kernel thread, or a zombie
		p.command = "[" + string(stat[bytes.IndexByte(stat, '(')+1:bytes.LastIndexByte(stat, ')')]) + "]"
	}
	return p, nil
}

// processUser is the name of the process's real user on the host, or its
// number.
func processUser(pid int) string {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(status), "\n") {
		if fields := strings.Fields(line); len(fields) > 1 && fields[0] == "Uid:" {
			if u, err := user.LookupId(fields[1]); err == nil {
				return u.Username
			}
			return fields[1]
		}
	}
	return "?"
}

func cpuTime(seconds int64) string {
	days, rest := seconds/86400, seconds%86400
	hms := fmt.Sprintf("%02d:%02d:%02d", rest/3600, rest%3600/60, rest%60)
	if days > 0 {
		return fmt.Sprintf("%d-%s", days, hms)
	}
	return hms
}

// bootTime is when the machine booted: /proc/stat's btime.
func bootTime() (time.Time, error) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return time.Time{}, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "btime "); ok {
			secs, err := strconv.ParseInt(strings.TrimSpace(rest), 10, 64)
			return time.Unix(secs, 0), err
		}
	}
	return time.Time{}, errors.New("/proc/stat has no btime line")
}
