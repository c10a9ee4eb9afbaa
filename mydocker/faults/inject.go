//go:build faults

//book:file namespaces

package faults

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
)

// The tests say which step fails, and where to write the report, in the
// environment: MYDOCKER_FAULT=PHASE/STEP and MYDOCKER_FAULT_REPORT=FILE.
const (
	faultVar  = "MYDOCKER_FAULT"
	reportVar = "MYDOCKER_FAULT_REPORT"
)

// passed lists the steps reached, as PHASE/STEP, in order.
var passed []string

// inherited are the descriptors open when mydocker started: the caller's,
// and those the Go runtime opens before main (it keeps the cgroup's CPU
// limit files open, for instance).
var inherited = openDescriptors()

// Step fails the step the tests named, as if the kernel had refused it.
func Step(phase, step string) error {
	name := phase + "/" + step
	passed = append(passed, name)
	if os.Getenv(faultVar) == name {
		return fmt.Errorf("fault injected at %s", name)
	}
	return nil
}

// Crash ends the init at once, with Go's own status for a fatal error and
// without telling mydocker anything, if the tests named this point.
func Crash(phase, step string) {
	if os.Getenv(faultVar) == phase+"/"+step {
		fmt.Fprintf(os.Stderr, "fatal error: crash injected at %s/%s\n", phase, step)
		os.Exit(2)
	}
}

// InitEnv passes the fault on to the init, whose environment is otherwise
// the container's own.
func InitEnv() []string {
	if fault := os.Getenv(faultVar); fault != "" {
		return []string{faultVar + "=" + fault}
	}
	return nil
}

// report is what the tests read after mydocker has exited.
type report struct {
	Steps       []string          `json:"steps"`       // every step reached
	Descriptors map[string]string `json:"descriptors"` // opened since the start and open at exit: number -> what it is
}

// Report writes the steps reached and the descriptors still open as
// mydocker exits, after every cleanup has run: a descriptor of a pipe or
// socket to the init found here is one that an error path forgot to close.
func Report() {
	file := os.Getenv(reportVar)
	if file == "" {
		return
	}
	opened := openDescriptors()
	for fd, what := range inherited {
		if opened[fd] == what {
			delete(opened, fd)
		}
	}
	data, err := json.Marshal(report{Steps: passed, Descriptors: opened})
	if err == nil {
		err = os.WriteFile(file, data, 0o600)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "mydocker: writing the fault report: %v\n", err)
	}
}

func openDescriptors() map[string]string {
	open := map[string]string{}
	entries, _ := os.ReadDir("/proc/self/fd")
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		target, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err == nil {
			open[e.Name()] = target
		}
	}
	return open
}
