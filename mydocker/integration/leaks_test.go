//book:file namespaces

package integration

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// snapshot is what a test could leak, taken before and after it.
type snapshot map[string][]string

// resources are the kinds of things a test could leave behind. Later
// chapters add cgroups, network devices and more.
var resources = map[string]func() []string{
	"host mounts":                      hostMounts,
	"mydocker processes":               ourProcesses,
	"processes in a new PID namespace": processesInOtherPIDNamespaces,
	//book:add cgroups
	"cgroups": ourCgroups,
	//book:end
}

func takeSnapshot() snapshot {
	s := snapshot{}
	for name, list := range resources {
		s[name] = list()
	}
	return s
}

// checkLeaks fails the test for anything present now that was not before.
// Processes take a moment to die after their parent, so it retries briefly.
func checkLeaks(t *testing.T, before snapshot) {
	var leaks []string
	for attempt := 0; attempt < 50; attempt++ {
		leaks = leaks[:0]
		for name, list := range resources {
			for _, item := range list() {
				if !slices.Contains(before[name], item) {
					leaks = append(leaks, name+": "+item)
				}
			}
		}
		if len(leaks) == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("the test left these behind:\n  %s", strings.Join(leaks, "\n  "))
}

func hostMounts() []string {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return []string{"cannot read /proc/self/mountinfo: " + err.Error()}
	}
	return strings.Split(strings.TrimSpace(string(data)), "\n")
}

// ourProcesses lists the processes running the binaries the tests built:
// every container process and every mydocker.
func ourProcesses() []string {
	var list []string
	for _, pid := range ourPIDs() {
		exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		list = append(list, fmt.Sprintf("PID %d (%s)", pid, exe))
	}
	return list
}
