//book:file security

package seccomp

import (
	"fmt"
	"runtime"
	"unsafe"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// Install loads the filter on the calling thread, with seccomp(2). The
// kernel keeps filters per thread, and execve keeps the calling thread's:
// the init calls this on the thread it locked, the one that execs. It
// needs no_new_privs or CAP_SYS_ADMIN. The filter stays for the thread's
// life and passes to every process it starts; it cannot be removed.
func Install(prog []Instruction) error {
	if len(prog) == 0 {
		return nil
	}
	filter := make([]unix.SockFilter, len(prog))
	for i, ins := range prog {
		filter[i] = unix.SockFilter{Code: uint16(ins.Code), Jt: uint8(ins.Jt), Jf: uint8(ins.Jf), K: ins.K}
	}
	fprog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	logrus.Debugf("seccomp(SECCOMP_SET_MODE_FILTER, 0, %d instructions)", len(filter))
	_, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, uintptr(unsafe.Pointer(&fprog)))
	runtime.KeepAlive(filter)
	if errno != 0 {
		return fmt.Errorf("loading the seccomp filter: %w", errno)
	}
	return nil
}
