//book:file cgroups

package main

import (
	"fmt"
	"math"
	"runtime"
	"strconv"

	units "github.com/docker/go-units"
	"github.com/urfave/cli/v2"

	"github.com/mydocker-book/mydocker/mydocker/cgroups"
)

// limitFlags are Docker's resource flags for run. A flag left out means
// "not set"; where that gives a default, DefaultText names it, and help
// prints it once (not "default: 0" beside a default in the usage text).
func limitFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "memory", Aliases: []string{"m"}, Usage: "memory limit, such as 64m or 1g"},
		&cli.StringFlag{Name: "memory-swap", Usage: "memory plus swap limit; -1 for unlimited swap", DefaultText: "twice --memory"},
		&cli.StringFlag{Name: "cpus", Usage: "how many CPUs of time the container may use, such as 0.5"},
		&cli.Int64Flag{Name: "cpu-shares", Aliases: []string{"c"}, Usage: "CPU weight relative to other containers", DefaultText: "1024"},
		&cli.StringFlag{Name: "cpuset-cpus", Usage: "CPUs the container may run on, such as 0-2,4"},
		&cli.StringFlag{Name: "cpuset-mems", Usage: "memory nodes the container may allocate from, such as 0"},
		&cli.Int64Flag{Name: "pids-limit", Usage: "most processes and threads the container may have; -1 for no limit", DefaultText: "no limit"},
		&cli.StringFlag{
			Name: "cgroup-parent", Value: "mydocker", EnvVars: []string{"MYDOCKER_CGROUP_PARENT"},
			Usage: "the cgroup under which the container's cgroup is created",
		},
		&cli.StringFlag{
			Name: "cgroupns", Usage: "private: a cgroup namespace of its own, rooted at its cgroup; host: the host's",
			DefaultText: "private on cgroup v2, host on v1, as Docker",
		},
	}
}

// limitsFromFlags reads the resource flags and checks them against this
// machine, before anything is created.
func limitsFromFlags(ctx *cli.Context) (cgroups.Resources, string, error) {
	res := cgroups.Resources{
		CPUShares:  ctx.Int64("cpu-shares"),
		CpusetCpus: ctx.String("cpuset-cpus"),
		CpusetMems: ctx.String("cpuset-mems"),
		PidsLimit:  ctx.Int64("pids-limit"),
	}
	var err error
	if res.Memory, err = parseBytes(ctx, "memory", false); err != nil {
		return res, "", err
	}
	if res.MemorySwap, err = parseBytes(ctx, "memory-swap", true); err != nil {
		return res, "", err
	}
	if res.NanoCPUs, err = parseCPUs(ctx.String("cpus")); err != nil {
		return res, "", err
	}
	if err := res.Check(); err != nil {
		return res, "", err
	}
	parent, err := cgroups.CleanParent(ctx.String("cgroup-parent"))
	return res, parent, err
}

// parseBytes reads a size as Docker does: 64m is 64 MiB, 1g is 1 GiB. Where
// unlimited is allowed, "-1" means that.
func parseBytes(ctx *cli.Context, flag string, unlimited bool) (int64, error) {
	value := ctx.String(flag)
	if value == "" {
		return 0, nil
	}
	if value == "-1" && unlimited {
		return -1, nil
	}
	bytes, err := units.RAMInBytes(value)
	if err != nil || bytes <= 0 {
		return 0, fmt.Errorf("invalid --%s %q: use a number of bytes with a unit, such as 64m or 1g", flag, value)
	}
	return bytes, nil
}

// parseCPUs reads --cpus, a number of CPUs, into billionths of a CPU.
// strconv.ParseFloat also accepts NaN, Inf and numbers far beyond int64, and
// converting those to an integer gives a meaningless number, so they are
// refused here, as is a positive number so small that it would round to 0,
// which means "no limit".
func parseCPUs(value string) (int64, error) {
	if value == "" {
		return 0, nil
	}
	cpus, err := strconv.ParseFloat(value, 64)
	if err != nil || math.IsNaN(cpus) || math.IsInf(cpus, 0) || cpus <= 0 {
		return 0, fmt.Errorf("invalid --cpus %q: use a positive number of CPUs, such as 0.5 or 2", value)
	}
	nano := math.Round(cpus * 1e9)
	if nano < 1 || nano >= math.MaxInt64 {
		ncpu := runtime.NumCPU()
		return 0, fmt.Errorf("--cpus %s is out of range: this machine has %d CPUs, so use a value from 0.01 to %d",
			value, ncpu, ncpu)
	}
	return int64(nano), nil
}

// cgroupNSFromFlags reads --cgroupns, refusing a value Docker does not know
// before anything is created.
func cgroupNSFromFlags(ctx *cli.Context) (string, error) {
	mode := ctx.String("cgroupns")
	_, err := cgroups.Namespace(mode)
	return mode, err
}
