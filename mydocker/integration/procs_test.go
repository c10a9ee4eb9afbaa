//book:file namespaces

package integration

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/mydocker-book/mydocker/mydocker/probe/report"
	"github.com/mydocker-book/mydocker/mydocker/state"
)

// describeOurProcesses shows, for a failure message, what the kernel says
// about each process running a binary of the tests.
func describeOurProcesses() string {
	var b strings.Builder
	for _, pid := range ourPIDs() {
		status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		b.WriteString(fmt.Sprintf("PID %d:\n", pid))
		for _, line := range strings.Split(string(status), "\n") {
			for _, field := range []string{"Name:", "State:", "PPid:", "NSpid:", "SigPnd:", "ShdPnd:", "SigBlk:", "SigIgn:", "SigCgt:"} {
				if strings.HasPrefix(line, field) {
					b.WriteString("  " + line + "\n")
				}
			}
		}
	}
	return b.String()
}

func childrenOf(parent int) []int {
	var children []int
	for _, pid := range allPIDs() {
		if ppid, err := parentOf(pid); err == nil && ppid == parent {
			children = append(children, pid)
		}
	}
	return children
}

func allPIDs() []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

func parentOf(pid int) (int, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	fields, err := state.StatFields(data) // fields[0] is field 3
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(string(fields[1]))
}

func ourPIDs() []int {
	var pids []int
	for _, pid := range allPIDs() {
		exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		if err != nil {
			continue
		}
		exe = strings.TrimSuffix(exe, " (deleted)")
		if exe == mydockerBin || exe == mydockerFaultsBin || exe == probeBin || exe == busyboxBin {
			pids = append(pids, pid)
		}
	}
	return pids
}

func pidsOf(processes []report.Process) []int {
	var pids []int
	for _, p := range processes {
		pids = append(pids, p.PID)
	}
	return pids
}

// processesInOtherPIDNamespaces lists the processes that are not in the
// test's own PID namespace: every container process, whatever its binary.
func processesInOtherPIDNamespaces() []string {
	host, err := os.Readlink("/proc/self/ns/pid")
	if err != nil {
		return []string{"cannot read /proc/self/ns/pid: " + err.Error()}
	}
	var list []string
	for _, pid := range allPIDs() {
		ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid))
		if err != nil || ns == host {
			continue
		}
		//book:add cgroups
		// From now on every container process is in one of our cgroups:
		// the containers of other programs on the machine are not ours.
		if !inOurCgroups(pid) {
			continue
		}
		//book:end
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		list = append(list, fmt.Sprintf("PID %d (%s) in %s", pid, strings.TrimSpace(string(comm)), ns))
	}
	return list
}
