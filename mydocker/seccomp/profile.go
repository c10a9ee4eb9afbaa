//book:file security

// Package seccomp turns a seccomp profile in Docker's format into the
// classic BPF program the kernel runs on every system call of the
// container: Docker's default profile (from github.com/moby/profiles, the
// same Go code Docker uses) or a profile file. The profile is resolved for
// the container's capabilities, this machine's architecture and its
// kernel (resolve), the syscall names become numbers (syscalls.go), and
// the rules become instructions (compile), once: the program is kept
// in the state root (Cache). The init loads the program (Install) just
// before its command runs.
package seccomp

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	profiles "github.com/moby/profiles/seccomp"
	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Default is Docker's default profile: every system call a program
// usually needs is allowed, the rest fails with EPERM. Some are allowed
// only with the capability that makes them useful (mount with
// CAP_SYS_ADMIN, reboot with CAP_SYS_BOOT), and clone3 fails with ENOSYS
// unless CAP_SYS_ADMIN is held, because its flags are behind a pointer
// that a filter cannot read: ENOSYS makes glibc fall back to clone, whose
// flags the filter checks.
func Default() *profiles.Seccomp { return profiles.DefaultProfile() }

// parse reads a profile in Docker's format, from the file named.
func parse(data []byte, file string) (*profiles.Seccomp, error) {
	var p profiles.Seccomp
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("reading the seccomp profile %s: %w", file, err)
	}
	return &p, nil
}

// rule is one resolved rule for one system call: the action, as the value
// the filter returns, and the argument comparisons that must all hold.
type rule struct {
	action uint32
	args   []specs.LinuxSeccompArg
}

// resolved is a profile as it applies to one container: what each system
// call number gets, rules in the profile's order, and the default action.
type resolved struct {
	defaultAction uint32
	rules         map[uint32][]rule
}

// resolve keeps the profile's rules that apply to a container with caps on
// arch and kernel, as Docker does (moby/profiles' setupSeccomp): a rule
// with excludes is dropped when any of them holds, a rule with includes
// is kept only when all of them hold. Names the architecture does not have
// (such as chown32 on amd64) are skipped.
func resolve(p *profiles.Seccomp, caps []string, arch string, kernel profiles.KernelVersion) (resolved, error) {
	table, ok := syscallNumbers[arch]
	if !ok {
		return resolved{}, fmt.Errorf("seccomp filters are only built for amd64 and arm64, not %s", arch)
	}
	def, err := action(p.DefaultAction, p.DefaultErrnoRet)
	if err != nil {
		return resolved{}, fmt.Errorf("the profile's default action: %w", err)
	}
	r := resolved{defaultAction: def, rules: map[uint32][]rule{}}
	for _, call := range p.Syscalls {
		if !applies(call, caps, arch, kernel) {
			continue
		}
		act, err := action(call.Action, call.ErrnoRet)
		if err != nil {
			return resolved{}, fmt.Errorf("the rule for %s: %w", strings.Join(names(call), ","), err)
		}
		for _, name := range names(call) {
			nr, ok := table[name]
			if !ok {
				continue
			}
			for _, args := range splitArgs(call.Args) {
				r.rules[nr] = append(r.rules[nr], rule{action: act, args: args})
			}
		}
	}
	return r, nil
}

func names(call *profiles.Syscall) []string {
	if call.Name != "" {
		return []string{call.Name}
	}
	return call.Names
}

// splitArgs follows runc: comparisons on different arguments must all
// hold, but two comparisons on the same argument make separate rules, of
// one comparison each, any of which may hold.
func splitArgs(args []specs.LinuxSeccompArg) [][]specs.LinuxSeccompArg {
	seen := map[uint]bool{}
	for _, a := range args {
		if seen[a.Index] {
			var split [][]specs.LinuxSeccompArg
			for _, a := range args {
				split = append(split, []specs.LinuxSeccompArg{a})
			}
			return split
		}
		seen[a.Index] = true
	}
	return [][]specs.LinuxSeccompArg{args}
}

func applies(call *profiles.Syscall, caps []string, arch string, kernel profiles.KernelVersion) bool {
	if ex := call.Excludes; ex != nil {
		if slices.Contains(ex.Arches, arch) {
			return false
		}
		for _, c := range ex.Caps {
			if slices.Contains(caps, c) {
				return false
			}
		}
		if ex.MinKernel != nil && !older(kernel, *ex.MinKernel) {
			return false
		}
	}
	if in := call.Includes; in != nil {
		if len(in.Arches) > 0 && !slices.Contains(in.Arches, arch) {
			return false
		}
		for _, c := range in.Caps {
			if !slices.Contains(caps, c) {
				return false
			}
		}
		if in.MinKernel != nil && older(kernel, *in.MinKernel) {
			return false
		}
	}
	return true
}

func older(k, than profiles.KernelVersion) bool {
	return k.Kernel < than.Kernel || k.Kernel == than.Kernel && k.Major < than.Major
}

// kernelVersion is this kernel's version and major revision, from uname.
func kernelVersion() (profiles.KernelVersion, error) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return profiles.KernelVersion{}, err
	}
	release := unix.ByteSliceToString(u.Release[:])
	parts := strings.SplitN(release, ".", 3)
	if len(parts) < 2 {
		return profiles.KernelVersion{}, fmt.Errorf("cannot read the kernel version %q", release)
	}
	kernel, err1 := strconv.ParseUint(parts[0], 10, 64)
	major, err2 := strconv.ParseUint(strings.TrimRightFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' }), 10, 64)
	if err1 != nil || err2 != nil {
		return profiles.KernelVersion{}, fmt.Errorf("cannot read the kernel version %q", release)
	}
	return profiles.KernelVersion{Kernel: kernel, Major: major}, nil
}

// The values a filter returns to the kernel (seccomp(2)); the low 16 bits
// carry the errno of SECCOMP_RET_ERRNO.
const (
	retKillThread  = unix.SECCOMP_RET_KILL_THREAD
	retKillProcess = unix.SECCOMP_RET_KILL_PROCESS
	retTrap        = unix.SECCOMP_RET_TRAP
	retErrno       = unix.SECCOMP_RET_ERRNO
	retTrace       = unix.SECCOMP_RET_TRACE
	retLog         = unix.SECCOMP_RET_LOG
	retAllow       = unix.SECCOMP_RET_ALLOW
)

// action is the value the filter returns for a profile's action. An errno
// action returns errnoRet, EPERM when the profile names none (as runc).
func action(a specs.LinuxSeccompAction, errnoRet *uint) (uint32, error) {
	data := uint32(unix.EPERM)
	if errnoRet != nil {
		if *errnoRet > 0xffff {
			return 0, fmt.Errorf("errno %d does not fit in 16 bits", *errnoRet)
		}
		data = uint32(*errnoRet)
	}
	switch a {
	case specs.ActAllow:
		return retAllow, nil
	case specs.ActErrno:
		return retErrno | data, nil
	case specs.ActKill, specs.ActKillThread:
		return retKillThread, nil
	case specs.ActKillProcess:
		return retKillProcess, nil
	case specs.ActTrap:
		return retTrap, nil
	case specs.ActTrace:
		return retTrace | data, nil
	case specs.ActLog:
		return retLog, nil
	}
	return 0, fmt.Errorf("unsupported action %q: mydocker knows SCMP_ACT_ALLOW, ERRNO, KILL, KILL_THREAD, KILL_PROCESS, TRAP, TRACE and LOG", a)
}
