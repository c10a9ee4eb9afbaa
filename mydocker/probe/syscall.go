//book:file security

package main

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// syscallNumbers are the system calls `probe syscall` can make: a few
// that Docker's seccomp profile answers in its own way, and one it allows.
var syscallNumbers = map[string]uintptr{
	"clone3":      unix.SYS_CLONE3,
	"personality": unix.SYS_PERSONALITY,
	"keyctl":      unix.SYS_KEYCTL,
	"getpid":      unix.SYS_GETPID,
}

// callSyscall makes system call NAME with up to six numeric arguments (0x
// for hexadecimal) and prints "OK" or the errno's name, such as ENOSYS.
func callSyscall(name string, args []string) {
	nr, ok := syscallNumbers[name]
	if !ok || len(args) > 6 {
		fmt.Fprintf(os.Stderr, "probe syscall: unknown system call %q, or more than six arguments\n", name)
		os.Exit(2)
	}
	var a [6]uintptr
	for i, s := range args {
		n, err := strconv.ParseUint(s, 0, 64)
		if err != nil {
			fmt.Fprintf(os.Stderr, "probe syscall: %v\n", err)
			os.Exit(2)
		}
		a[i] = uintptr(n)
	}
	_, _, errno := unix.Syscall6(nr, a[0], a[1], a[2], a[3], a[4], a[5])
	if errno != 0 {
		fmt.Println(unix.ErrnoName(errno))
		return
	}
	fmt.Println("OK")
}
