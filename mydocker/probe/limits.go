//book:file cgroups

package main

import (
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// allocate makes the kernel really give it mib mebibytes: memory is only
// charged to the cgroup when a page is first touched, not when it is
// reserved.
func allocate(mib string) {
	n, err := strconv.Atoi(mib)
	if err != nil {
		fail(err)
	}
	debug.SetGCPercent(-1)
	buf := make([]byte, n<<20)
	for i := 0; i < len(buf); i += os.Getpagesize() {
		buf[i] = 1
	}
	fmt.Printf("allocated %d MiB\n", n)
}

// spin keeps one CPU busy until the process has used cpuTime of it, then
// prints the report. It counts CPU time, not wall-clock time, so a slow or
// busy machine makes it last longer but not measure differently.
func spin(cpuTime string) {
	want, err := time.ParseDuration(cpuTime)
	if err != nil {
		fail(err)
	}
	for used() < want {
		for i := 0; i < 1e6; i++ {
		}
	}
	printReport()
}

func used() time.Duration {
	var ru unix.Rusage
	_ = unix.Getrusage(unix.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// spawn starts copies of a program until it has n or the kernel refuses
// one, and reports how far it got. The children live until the probe, PID 1
// of the container, exits and the kernel ends them all.
func spawn(count string, argv []string) {
	n, err := strconv.Atoi(count)
	if err != nil || len(argv) == 0 {
		fail(fmt.Errorf("usage: probe spawn N PROG [ARG...]"))
	}
	// No garbage collector running alongside: each new thread of our own is
	// a task that counts against the limit being tested.
	debug.SetGCPercent(-1)
	started, forkErr := 0, error(nil)
	for ; started < n; started++ {
		if _, forkErr = syscall.ForkExec(argv[0], argv, &syscall.ProcAttr{}); forkErr != nil {
			break
		}
	}
	fmt.Printf("started %d: %v\n", started, forkErr)
	printReport()
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "probe:", err)
	os.Exit(2)
}
