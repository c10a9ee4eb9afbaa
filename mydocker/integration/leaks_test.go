//book:file namespaces

package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	//book:add netns
	"network devices": networkDevices,
	//book:end
	//book:add bridge
	"iptables rules": iptablesRules,
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

// checkContainerDirsRemoved fails the test if a container's directory is
// left in the state root after mydocker has exited.
func (e *env) checkContainerDirsRemoved() {
	entries, _ := os.ReadDir(filepath.Join(e.root, "containers"))
	var left []string
	for _, entry := range entries {
		if entry.Name() != ".lock" { // the containers' lock stays, as the layers' does
			left = append(left, entry.Name())
		}
	}
	assert.Empty(e.t, left, "container directories left in %s/containers", e.root)
}

// removeLeftoverContainerDir removes the directory of a container whose
// mydocker was killed, and fails the test if there is none.
func (e *env) removeLeftoverContainerDir() {
	e.t.Helper()
	//book:replace namespaces netns
	// require.NoError(e.t, os.RemoveAll(e.onlyContainerDir()))
	//book:end
	//book:add netns
	dir := e.onlyContainerDir()
	// The next command settles the killed run's container and gives its
	// address back (sweep.go); for a run with --rm, as the tests' runs
	// are, it removes the directory too.
	e.mydocker("ps", "-a")
	require.NoError(e.t, os.RemoveAll(dir))
	//book:end
}

func (e *env) onlyContainerDir() string {
	e.t.Helper()
	return e.only("containers/[0-9a-f]*", "the container's directory in the state root")
}

// only returns the one path that pattern matches in the test's state root.
func (e *env) only(pattern, what string) string {
	e.t.Helper()
	matches, err := filepath.Glob(filepath.Join(e.root, pattern))
	require.NoError(e.t, err)
	require.Len(e.t, matches, 1, what)
	return matches[0]
}
