//book:file cgroups

// Package cgroups puts each container in a cgroup of its own and writes its
// resource limits there. Namespaces limit what a process can see; cgroups
// limit what it can use. The kernel offers two interfaces, cgroup v2 (one
// tree, v2.go) and cgroup v1 (one tree per controller, v1.go): this package
// speaks both, behind one interface.
package cgroups

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"strings"

	units "github.com/docker/go-units"
)

// Resources are the limits of one container, in Docker's terms and units.
// A zero field means "no limit".
type Resources struct {
	Memory     int64  `json:"memory,omitempty"`      // bytes (-m)
	MemorySwap int64  `json:"memory_swap,omitempty"` // memory plus swap, bytes; -1 is unlimited (--memory-swap)
	NanoCPUs   int64  `json:"nano_cpus,omitempty"`   // CPUs in billionths: 0.5 CPU is 5e8 (--cpus)
	CPUShares  int64  `json:"cpu_shares,omitempty"`  // relative weight, 1024 is the default (--cpu-shares)
	CpusetCpus string `json:"cpuset_cpus,omitempty"` // CPUs the container may run on, like "0-2,4"
	CpusetMems string `json:"cpuset_mems,omitempty"` // NUMA memory nodes it may allocate from
	PidsLimit  int64  `json:"pids_limit,omitempty"`  // most tasks (processes and threads); -1 is unlimited
}

// Limits on the limits, as Docker has them.
const (
	// MinMemory is the smallest memory limit Docker accepts: below it, even
	// the runtime's own init cannot start.
	MinMemory = 6 * 1024 * 1024
	// cpuPeriod is the scheduler period in microseconds that --cpus is a
	// share of: --cpus 0.5 lets the container run 50ms in every 100ms.
	cpuPeriod = 100000
	minShares = 2
	maxShares = 262144
)

// Check rejects limits the kernel would refuse or misread, with a message
// that says what to use instead. It runs before any cgroup is created.
func (r Resources) Check() error {
	for _, check := range []func() error{r.checkMemory, r.checkCPUs, r.checkShares, r.checkCpuset} {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

func (r Resources) checkMemory() error {
	if r.Memory != 0 && r.Memory < MinMemory {
		return fmt.Errorf("memory limit %s is too small: a container needs at least %s to start; use -m 6m or more",
			units.BytesSize(float64(r.Memory)), units.BytesSize(MinMemory))
	}
	if r.MemorySwap == 0 || r.MemorySwap == -1 {
		return nil
	}
	if r.Memory == 0 {
		return fmt.Errorf("--memory-swap limits memory and swap together, so it needs a memory limit too: add -m")
	}
	if r.MemorySwap < r.Memory {
		return fmt.Errorf("--memory-swap %s is less than -m %s: it counts memory plus swap, so it must be at least as large (equal means no swap)",
			units.BytesSize(float64(r.MemorySwap)), units.BytesSize(float64(r.Memory)))
	}
	return nil
}

func (r Resources) checkCPUs() error {
	if r.NanoCPUs == 0 {
		return nil
	}
	ncpu := runtime.NumCPU()
	if r.NanoCPUs < 1e7 || r.NanoCPUs > int64(ncpu)*1e9 {
		return fmt.Errorf("--cpus %g is out of range: this machine has %d CPUs, so use a value from 0.01 to %d",
			float64(r.NanoCPUs)/1e9, ncpu, ncpu)
	}
	return nil
}

func (r Resources) checkShares() error {
	if r.CPUShares != 0 && (r.CPUShares < minShares || r.CPUShares > maxShares) {
		return fmt.Errorf("--cpu-shares %d is out of range: use a value from %d to %d (1024 is the default weight)",
			r.CPUShares, minShares, maxShares)
	}
	return nil
}

func (r Resources) checkCpuset() error {
	if err := checkList("--cpuset-cpus", r.CpusetCpus, "CPUs", "/sys/devices/system/cpu/online"); err != nil {
		return err
	}
	return checkList("--cpuset-mems", r.CpusetMems, "memory nodes", "/sys/devices/system/node/online")
}

// checkList checks that a list like "0-2,4" names only CPUs (or memory
// nodes) that exist, as the kernel lists them in onlineFile.
func checkList(flag, list, what, onlineFile string) error {
	if list == "" {
		return nil
	}
	want, err := ParseList(list)
	if err != nil {
		return fmt.Errorf("%s %q: %w: write it like 0-2,4", flag, list, err)
	}
	data, err := os.ReadFile(onlineFile)
	if err != nil {
		data = []byte("0") // no NUMA information: one node, node 0
	}
	online := strings.TrimSpace(string(data))
	have, err := ParseList(online)
	if err != nil {
		return fmt.Errorf("reading %s: %w", onlineFile, err)
	}
	var missing []string
	for n := range want {
		if !have[n] {
			missing = append(missing, fmt.Sprint(n))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s %s: %s %s do not exist here: this machine has %s %s",
			flag, list, what, strings.Join(missing, ","), what, online)
	}
	return nil
}

// ParseList reads the kernel's list format for CPUs and memory nodes:
// "0-2,4" is {0, 1, 2, 4}.
func ParseList(list string) (map[int]bool, error) {
	set := map[int]bool{}
	for _, part := range strings.Split(list, ",") {
		var first, last int
		if _, err := fmt.Sscanf(part, "%d-%d", &first, &last); err != nil {
			if _, err := fmt.Sscanf(part, "%d", &first); err != nil || fmt.Sprint(first) != part {
				return nil, fmt.Errorf("%q is not a number or a range", part)
			}
			last = first
		}
		if first < 0 || last < first || last-first > 1<<16 {
			return nil, fmt.Errorf("%q is not a valid range", part)
		}
		for n := first; n <= last; n++ {
			set[n] = true
		}
	}
	return set, nil
}

// cpuQuota is the CPU time in microseconds the container may use in every
// cpuPeriod: --cpus 1.5 is 150000 of 100000, a CPU and a half.
func (r Resources) cpuQuota() int64 {
	return r.NanoCPUs * cpuPeriod / 1e9
}

// swapLimit is the swap the container may use on top of its memory. Docker
// gives it as memory plus swap; when only -m is set, the container may swap
// as much again as its memory.
func (r Resources) swapLimit() (bytes int64, unlimited bool) {
	switch r.MemorySwap {
	case -1:
		return 0, true
	case 0:
		return r.Memory, false
	default:
		return r.MemorySwap - r.Memory, false
	}
}

// CPUWeight converts cgroup v1 shares (2 to 262144, default 1024) to cgroup
// v2 weight (1 to 10000, default 100). It is the mapping runc, crun and youki
// share: a parabola in log scale through the three points that must match,
// 2 -> 1, 1024 -> 100 and 262144 -> 10000. (The straight line older runtimes
// used sent the default 1024 to 39, so a container with default shares got
// less CPU than its neighbours.)
func CPUWeight(shares int64) int64 {
	if shares <= minShares {
		return 1
	}
	if shares >= maxShares {
		return 10000
	}
	l := math.Log2(float64(shares))
	exponent := (l*l+125*l)/612 - 7.0/34
	return int64(math.Ceil(math.Pow(10, exponent)))
}

// controllersNeeded are the controllers whose files hold the limits in r.
func (r Resources) controllersNeeded() []string {
	var need []string
	if r.Memory != 0 || r.MemorySwap != 0 {
		need = append(need, "memory")
	}
	if r.NanoCPUs != 0 || r.CPUShares != 0 {
		need = append(need, "cpu")
	}
	if r.CpusetCpus != "" || r.CpusetMems != "" {
		need = append(need, "cpuset")
	}
	if r.PidsLimit != 0 {
		need = append(need, "pids")
	}
	return need
}

// flagFor names the flags that need a controller, for error messages.
func (r Resources) flagFor(controller string) string {
	return map[string]string{
		"memory": "-m/--memory-swap",
		"cpu":    "--cpus/--cpu-shares",
		"cpuset": "--cpuset-cpus/--cpuset-mems",
		"pids":   "--pids-limit",
	}[controller]
}
