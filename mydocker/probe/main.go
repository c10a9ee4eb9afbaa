//book:file namespaces

// Command probe reports what a process sees from inside a container. The
// integration tests build it statically, run it as the container's command
// and assert on its JSON report rather than on mydocker's log lines.
//
//	probe                 print the report as JSON
//	probe exit N          exit with status N
//	probe wait-signals    print "ready", then one line per signal; exit 0 on SIGTERM
//	probe sleep           print "ready", then sleep until killed
//	probe alloc MIB       allocate and touch MIB mebibytes, then print "allocated MIB MiB"
//	probe spin CPUTIME    burn CPUTIME (like 300ms) of CPU time, then print the report
//	probe spawn N PROG ARG...  start up to N copies of PROG; print "started K: ERROR", then the report
//	probe escape PATH     try the classic chroot escape, then print whether PATH is visible
//	probe syscall NAME ARG...  make a system call, print "OK" or its errno's name (ENOSYS)
//	probe readexe PATH    read the link PATH (/proc/PID/exe) without CAP_SYS_PTRACE
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mydocker-book/mydocker/mydocker/probe/report"
)

func main() {
	mode := "report"
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	switch mode {
	case "exit":
		code, _ := strconv.Atoi(os.Args[2])
		os.Exit(code)
	case "wait-signals":
		waitSignals()
	case "sleep":
		fmt.Println("ready")
		time.Sleep(time.Hour)
	//book:add cgroups
	case "alloc":
		allocate(os.Args[2])
	case "spin":
		spin(os.Args[2])
	case "spawn":
		spawn(os.Args[2], os.Args[3:])
	//book:end
	//book:add rootfs
	case "escape":
		escape(os.Args[2])
	//book:end
	//book:add security
	case "syscall":
		callSyscall(os.Args[2], os.Args[3:])
	//book:end
	//book:add exec
	case "readexe":
		readExe(os.Args[2])
	//book:end
	default:
		printReport()
	}
}

func printReport() {
	out, _ := json.MarshalIndent(report.Collect(), "", "  ")
	fmt.Println(string(out))
}

func waitSignals() {
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2)
	fmt.Println("ready")
	for sig := range signals {
		fmt.Println("signal:", unix.SignalName(sig.(unix.Signal)))
		if sig == unix.SIGTERM {
			os.Exit(0)
		}
	}
}
