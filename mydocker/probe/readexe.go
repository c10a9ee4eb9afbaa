//book:file exec

package main

import (
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// readExe reads the link /proc/PID/exe as a root process without
// CAP_SYS_PTRACE would: a container's, which may open the exe of a
// process with the same user and no more capabilities, unless that
// process is not dumpable. It prints the target, or the error.
func readExe(path string) {
	// Capabilities belong to a thread: drop on this one, read from it.
	runtime.LockOSThread()
	header := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&header, &data[0]); err != nil {
		fmt.Println("capget:", err)
		os.Exit(2)
	}
	const bit = unix.CAP_SYS_PTRACE
	for _, set := range []*uint32{&data[bit/32].Effective, &data[bit/32].Permitted} {
		*set &^= 1 << (bit % 32)
	}
	if err := unix.Capset(&header, &data[0]); err != nil {
		fmt.Println("capset:", err)
		os.Exit(2)
	}
	target, err := os.Readlink(path)
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	fmt.Println(target)
}
