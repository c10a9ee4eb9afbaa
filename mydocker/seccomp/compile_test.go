//book:file security

package seccomp

import (
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"testing"

	profiles "github.com/moby/profiles/seccomp"
	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

var dockersCapabilities = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
	"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
	"CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

var kernel6 = profiles.KernelVersion{Kernel: 6, Major: 1}

// filter is a compiled program, run on golang.org/x/net/bpf's virtual
// machine, the way the kernel runs it.
type filter struct {
	t    *testing.T
	vm   *bpf.VM
	arch uint32
}

func compile(t *testing.T, p *profiles.Seccomp, caps []string, arch string, kernel profiles.KernelVersion) filter {
	t.Helper()
	prog, err := Compile(p, caps, arch, kernel)
	require.NoError(t, err)
	require.LessOrEqual(t, len(prog), maxInstructions)
	insns := make([]bpf.Instruction, len(prog))
	for i, ins := range prog { // back from the kernel's form, as the kernel reads it
		insns[i] = bpf.RawInstruction{Op: uint16(ins.Code), Jt: uint8(ins.Jt), Jf: uint8(ins.Jf), K: ins.K}.Disassemble()
	}
	vm, err := bpf.NewVM(insns)
	require.NoError(t, err)
	return filter{t: t, vm: vm, arch: archs[arch]}
}

// call is what the filter returns for system call nr with args, made with
// architecture arch. The kernel loads seccomp_data's 32-bit words in the
// machine's byte order; the virtual machine, made for network packets,
// loads them big-endian: so each word is written big-endian, at the place
// a little-endian machine has it (an argument's low half first).
func (f filter) callArch(arch, nr uint32, args ...uint64) uint32 {
	f.t.Helper()
	data := make([]byte, 64)
	binary.BigEndian.PutUint32(data[offNr:], nr)
	binary.BigEndian.PutUint32(data[offArch:], arch)
	for i, a := range args {
		binary.BigEndian.PutUint32(data[offArgs+8*i:], uint32(a))
		binary.BigEndian.PutUint32(data[offArgs+8*i+4:], uint32(a>>32))
	}
	ret, err := f.vm.Run(data)
	require.NoError(f.t, err)
	return uint32(ret)
}

func (f filter) call(nr uint32, args ...uint64) uint32 { return f.callArch(f.arch, nr, args...) }

func errno(e unix.Errno) uint32 { return retErrno | uint32(e) }

func TestDockersDefaultProfileOnAmd64(t *testing.T) {
	f := compile(t, Default(), dockersCapabilities, "amd64", kernel6)
	for _, c := range []struct {
		name string
		nr   uint32
		args []uint64
		want uint32
	}{
		{"read", unix.SYS_READ, nil, retAllow},
		{"write", unix.SYS_WRITE, nil, retAllow},
		{"futex", unix.SYS_FUTEX, nil, retAllow},
		{"arch_prctl, amd64 only", unix.SYS_ARCH_PRCTL, nil, retAllow},
		{"clone3 falls back to clone", unix.SYS_CLONE3, nil, errno(unix.ENOSYS)},
		{"acct needs CAP_SYS_PACCT", unix.SYS_ACCT, nil, errno(unix.EPERM)},
		{"mount needs CAP_SYS_ADMIN", unix.SYS_MOUNT, nil, errno(unix.EPERM)},
		{"unshare needs CAP_SYS_ADMIN", unix.SYS_UNSHARE, nil, errno(unix.EPERM)},
		{"keyctl is not in the profile", unix.SYS_KEYCTL, nil, errno(unix.EPERM)},
		{"a number no call has", 999, nil, errno(unix.EPERM)},
		{"clone of a thread", unix.SYS_CLONE, []uint64{unix.CLONE_VM | unix.CLONE_THREAD | unix.CLONE_SIGHAND}, retAllow},
		{"clone with high bits the mask ignores", unix.SYS_CLONE, []uint64{1<<40 | sigchld}, retAllow},
		{"clone of a new user namespace", unix.SYS_CLONE, []uint64{unix.CLONE_NEWUSER | sigchld}, errno(unix.EPERM)},
		{"clone of a new mount namespace", unix.SYS_CLONE, []uint64{unix.CLONE_NEWNS}, errno(unix.EPERM)},
		{"personality(PER_LINUX)", unix.SYS_PERSONALITY, []uint64{0}, retAllow},
		{"personality(PER_LINUX32)", unix.SYS_PERSONALITY, []uint64{8}, retAllow},
		{"personality query", unix.SYS_PERSONALITY, []uint64{0xffffffff}, retAllow},
		{"personality(READ_IMPLIES_EXEC)", unix.SYS_PERSONALITY, []uint64{0x0400000}, errno(unix.EPERM)},
		{"personality with a high half", unix.SYS_PERSONALITY, []uint64{1 << 32}, errno(unix.EPERM)},
		{"socket(AF_UNIX)", unix.SYS_SOCKET, []uint64{unix.AF_UNIX}, retAllow},
		{"socket(AF_INET6)", unix.SYS_SOCKET, []uint64{unix.AF_INET6}, retAllow},
		{"socket(AF_VSOCK)", unix.SYS_SOCKET, []uint64{unix.AF_VSOCK}, errno(unix.EPERM)},
		{"x32's read", x32SyscallBit | unix.SYS_READ, nil, retKillProcess},
	} {
		assert.Equal(t, fmt.Sprintf("%#x", c.want), fmt.Sprintf("%#x", f.call(c.nr, c.args...)), c.name)
	}
	assert.Equal(t, uint32(retKillProcess), f.callArch(unix.AUDIT_ARCH_I386, 3), "i386's read, by int 0x80")
}

// With CAP_SYS_ADMIN, Docker's profile allows what that capability is for.
func TestDockersDefaultProfileWithSysAdmin(t *testing.T) {
	f := compile(t, Default(), append(dockersCapabilities, "CAP_SYS_ADMIN"), "amd64", kernel6)
	assert.Equal(t, uint32(retAllow), f.call(unix.SYS_CLONE3))
	assert.Equal(t, uint32(retAllow), f.call(unix.SYS_MOUNT))
	assert.Equal(t, uint32(retAllow), f.call(unix.SYS_CLONE, unix.CLONE_NEWUSER))
	assert.Equal(t, errno(unix.EPERM), f.call(unix.SYS_ACCT))
}

// Rules with a minimum kernel apply only from that kernel on: ptrace is
// allowed from 4.8 (before, it could bypass seccomp).
func TestMinimumKernel(t *testing.T) {
	f := compile(t, Default(), dockersCapabilities, "amd64", profiles.KernelVersion{Kernel: 4, Major: 8})
	assert.Equal(t, uint32(retAllow), f.call(unix.SYS_PTRACE))
	f = compile(t, Default(), dockersCapabilities, "amd64", profiles.KernelVersion{Kernel: 4, Major: 7})
	assert.Equal(t, errno(unix.EPERM), f.call(unix.SYS_PTRACE))
}

// arm64 has other numbers, its own AUDIT_ARCH, and no x32.
func TestDockersDefaultProfileOnArm64(t *testing.T) {
	f := compile(t, Default(), dockersCapabilities, "arm64", kernel6)
	const read, openat, clone, clone3, mount, acct = 63, 56, 220, 435, 40, 89
	assert.Equal(t, uint32(retAllow), f.call(read))
	assert.Equal(t, uint32(retAllow), f.call(openat))
	assert.Equal(t, uint32(retAllow), f.call(clone, sigchld))
	assert.Equal(t, errno(unix.EPERM), f.call(clone, unix.CLONE_NEWUSER))
	assert.Equal(t, errno(unix.ENOSYS), f.call(clone3))
	assert.Equal(t, errno(unix.EPERM), f.call(mount))
	assert.Equal(t, errno(unix.EPERM), f.call(acct))
	assert.Equal(t, uint32(retKillProcess), f.callArch(unix.AUDIT_ARCH_ARM, read))
	assert.Equal(t, uint32(retKillProcess), f.callArch(unix.AUDIT_ARCH_X86_64, read))
}

func profile(defaultAction specs.LinuxSeccompAction, calls ...*profiles.Syscall) *profiles.Seccomp {
	return &profiles.Seccomp{LinuxSeccomp: specs.LinuxSeccomp{DefaultAction: defaultAction}, Syscalls: calls}
}

func syscallRule(action specs.LinuxSeccompAction, errnoRet *uint, args []specs.LinuxSeccompArg, names ...string) *profiles.Syscall {
	return &profiles.Syscall{LinuxSyscall: specs.LinuxSyscall{Names: names, Action: action, ErrnoRet: errnoRet, Args: args}}
}

// Every comparison, on 64-bit values whose halves differ, against the
// same comparison made by Go.
func TestArgumentComparisons(t *testing.T) {
	const k = 0x1_0000_0005
	values := []uint64{0, 4, 5, 6, k - 1, k, k + 1, 0x1_0000_0000, 0x2_0000_0000, 0x2_0000_0005, 1<<64 - 1}
	for _, c := range []struct {
		op   specs.LinuxSeccompOperator
		want func(v uint64) bool
	}{
		{specs.OpEqualTo, func(v uint64) bool { return v == k }},
		{specs.OpNotEqual, func(v uint64) bool { return v != k }},
		{specs.OpGreaterThan, func(v uint64) bool { return v > k }},
		{specs.OpGreaterEqual, func(v uint64) bool { return v >= k }},
		{specs.OpLessThan, func(v uint64) bool { return v < k }},
		{specs.OpLessEqual, func(v uint64) bool { return v <= k }},
		{specs.OpMaskedEqual, func(v uint64) bool { return v&0xff00_0000_0000_00ff == 0x0100_0000_0000_0004 }},
	} {
		arg := specs.LinuxSeccompArg{Index: 2, Value: k, Op: c.op}
		if c.op == specs.OpMaskedEqual {
			arg = specs.LinuxSeccompArg{Index: 2, Value: 0xff00_0000_0000_00ff, ValueTwo: 0x0100_0000_0000_0004, Op: c.op}
		}
		p := profile(specs.ActErrno, syscallRule(specs.ActAllow, nil, []specs.LinuxSeccompArg{arg}, "getpid"))
		f := compile(t, p, nil, "amd64", kernel6)
		masked := append(values, 0x0100_0000_0000_0004, 0x01ff_ffff_ffff_ff04, 0x0100_0000_0000_0005, 0x0200_0000_0000_0004)
		for _, v := range masked {
			want := errno(unix.EPERM)
			if c.want(v) {
				want = retAllow
			}
			assert.Equal(t, want, f.call(unix.SYS_GETPID, 0, 0, v), "%s with %#x", c.op, v)
		}
		assert.Equal(t, errno(unix.EPERM), f.call(unix.SYS_GETPPID, 0, 0, k), "another call: the default")
	}
}

// Each action returns its value; an errno action its own errno, EPERM
// when it names none; the first rule that holds decides.
func TestActions(t *testing.T) {
	eio := uint(unix.EIO)
	args := []specs.LinuxSeccompArg{{Index: 0, Value: 7, Op: specs.OpEqualTo}}
	p := profile(specs.ActAllow,
		syscallRule(specs.ActErrno, &eio, args, "getpid"),
		syscallRule(specs.ActKillProcess, nil, nil, "getpid"),
		syscallRule(specs.ActErrno, nil, nil, "getppid"),
		syscallRule(specs.ActKill, nil, nil, "getuid"),
		syscallRule(specs.ActTrap, nil, nil, "getgid"),
		syscallRule(specs.ActLog, nil, nil, "geteuid"),
		syscallRule(specs.ActTrace, &eio, nil, "getegid"),
		syscallRule(specs.ActErrno, nil, nil, "chown32"), // not on amd64: skipped
	)
	f := compile(t, p, nil, "amd64", kernel6)
	assert.Equal(t, errno(unix.EIO), f.call(unix.SYS_GETPID, 7))
	assert.Equal(t, uint32(retKillProcess), f.call(unix.SYS_GETPID, 8))
	assert.Equal(t, errno(unix.EPERM), f.call(unix.SYS_GETPPID))
	assert.Equal(t, uint32(retKillThread), f.call(unix.SYS_GETUID))
	assert.Equal(t, uint32(retTrap), f.call(unix.SYS_GETGID))
	assert.Equal(t, uint32(retLog), f.call(unix.SYS_GETEUID))
	assert.Equal(t, retTrace|uint32(unix.EIO), f.call(unix.SYS_GETEGID))
	assert.Equal(t, uint32(retAllow), f.call(unix.SYS_READ), "the default action")

	_, err := Compile(profile(specs.ActNotify), nil, "amd64", kernel6)
	assert.ErrorContains(t, err, "unsupported action")
	_, err = Compile(Default(), nil, "riscv64", kernel6)
	assert.ErrorContains(t, err, "only built for amd64 and arm64")
}

// Two comparisons on one argument are two rules, either of which allows
// (as runc makes them); comparisons on different arguments must all hold.
func TestComparisonsOnTheSameArgumentAreAlternatives(t *testing.T) {
	p := profile(specs.ActErrno,
		syscallRule(specs.ActAllow, nil, []specs.LinuxSeccompArg{
			{Index: 0, Value: 1, Op: specs.OpEqualTo}, {Index: 0, Value: 2, Op: specs.OpEqualTo},
		}, "getpid"),
		syscallRule(specs.ActAllow, nil, []specs.LinuxSeccompArg{
			{Index: 0, Value: 1, Op: specs.OpEqualTo}, {Index: 1, Value: 2, Op: specs.OpEqualTo},
		}, "getppid"),
	)
	f := compile(t, p, nil, "amd64", kernel6)
	assert.Equal(t, uint32(retAllow), f.call(unix.SYS_GETPID, 1))
	assert.Equal(t, uint32(retAllow), f.call(unix.SYS_GETPID, 2))
	assert.Equal(t, errno(unix.EPERM), f.call(unix.SYS_GETPID, 3))
	assert.Equal(t, uint32(retAllow), f.call(unix.SYS_GETPPID, 1, 2))
	assert.Equal(t, errno(unix.EPERM), f.call(unix.SYS_GETPPID, 1, 3))
	assert.Equal(t, errno(unix.EPERM), f.call(unix.SYS_GETPPID, 2, 2))
}

// Every number gets the profile's answer: the names of Docker's profile
// that amd64 has get their rule's action, every other number (the gaps
// between them, the numbers past the last one) the default's. The search
// over spans must not let a neighbour's answer leak into a gap.
func TestEveryNumberGetsItsAnswer(t *testing.T) {
	f := compile(t, Default(), dockersCapabilities, "amd64", kernel6)
	r, err := resolve(Default(), dockersCapabilities, "amd64", kernel6)
	require.NoError(t, err)
	for nr := uint32(0); nr < 1100; nr++ {
		rules, ok := r.rules[nr]
		switch {
		case !ok:
			assert.Equal(t, r.defaultAction, f.call(nr), "system call %d, not in the profile", nr)
		case len(rules[0].args) == 0:
			assert.Equal(t, rules[0].action, f.call(nr), "system call %d", nr)
		}
	}
	assert.Equal(t, r.defaultAction, f.call(x32SyscallBit-1))
	assert.Greater(t, len(r.rules), 300)
}

func TestSpans(t *testing.T) {
	const def, allow, deny label = 0, 1, 2
	assert.Equal(t, []span{{0, allow}, {3, def}, {5, allow}, {6, deny}, {7, def}},
		spans([]uint32{0, 1, 2, 5, 6}, []label{allow, allow, allow, allow, deny}, def))
	assert.Equal(t, []span{{0, def}, {10, allow}, {11, def}},
		spans([]uint32{10}, []label{allow}, def))
	assert.Equal(t, []span{{0, def}, {^uint32(0), allow}},
		spans([]uint32{^uint32(0)}, []label{allow}, def), "the last number has no span after it")
	assert.Equal(t, []span{{0, def}}, spans(nil, nil, def))
	assert.Equal(t, []span{{0, def}}, spans([]uint32{4}, []label{def}, def), "a rule that answers as the default merges")
}

// Docker's profile is a few hundred instructions: the kernel checks and
// compiles every one of them each time a container starts.
func TestDockersProfileIsShort(t *testing.T) {
	prog, err := Compile(Default(), dockersCapabilities, "amd64", kernel6)
	require.NoError(t, err)
	assert.Less(t, len(prog), 500)
}

// A profile file: Docker's format, with "names" and "errnoRet".
func TestProfileFile(t *testing.T) {
	data := []byte(`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
		{"names": ["getpid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 5}]}`)
	p, err := parse(data, "profile.json")
	require.NoError(t, err)
	f := compile(t, p, nil, "amd64", kernel6)
	assert.Equal(t, errno(unix.EIO), f.call(unix.SYS_GETPID))
	assert.Equal(t, uint32(retAllow), f.call(unix.SYS_GETPPID))
	_, err = parse([]byte(`{"defaultAction": 1}`), "bad.json")
	assert.ErrorContains(t, err, "bad.json")
}

func BenchmarkCompileDockersDefault(b *testing.B) {
	for b.Loop() {
		if _, err := Compile(Default(), dockersCapabilities, runtime.GOARCH, kernel6); err != nil {
			b.Fatal(err)
		}
	}
}

func writeFile(path, content string) error { return os.WriteFile(path, []byte(content), 0o644) }

const sigchld = uint64(unix.SIGCHLD)

// A rule's excludes drop it when any holds; its includes keep it only when
// all hold: capabilities of the container, and the architecture.
func TestIncludesAndExcludes(t *testing.T) {
	deny := func(name string, in, ex *profiles.Filter) *profiles.Syscall {
		r := syscallRule(specs.ActErrno, nil, nil, name)
		r.Includes, r.Excludes = in, ex
		return r
	}
	p := profile(specs.ActAllow,
		deny("getpid", nil, &profiles.Filter{Caps: []string{"CAP_KILL", "CAP_CHOWN"}}),
		deny("getppid", &profiles.Filter{Caps: []string{"CAP_KILL", "CAP_CHOWN"}}, nil),
		deny("getuid", nil, &profiles.Filter{Arches: []string{"amd64"}}),
		deny("getgid", &profiles.Filter{Arches: []string{"arm64"}}, nil),
	)
	for _, c := range []struct {
		caps                  []string
		getpid, getppid, getu uint32
	}{
		{nil, errno(unix.EPERM), retAllow, retAllow},
		{[]string{"CAP_KILL"}, retAllow, retAllow, retAllow},
		{[]string{"CAP_KILL", "CAP_CHOWN"}, retAllow, errno(unix.EPERM), retAllow},
	} {
		f := compile(t, p, c.caps, "amd64", kernel6)
		assert.Equal(t, c.getpid, f.call(unix.SYS_GETPID), "getpid with %v", c.caps)
		assert.Equal(t, c.getppid, f.call(unix.SYS_GETPPID), "getppid with %v", c.caps)
		assert.Equal(t, c.getu, f.call(unix.SYS_GETUID), "getuid with %v", c.caps)
		assert.Equal(t, uint32(retAllow), f.call(unix.SYS_GETGID), "getgid with %v", c.caps)
	}
	const getuid, getgid = 174, 176 // arm64's
	f := compile(t, p, nil, "arm64", kernel6)
	assert.Equal(t, errno(unix.EPERM), f.call(getuid))
	assert.Equal(t, errno(unix.EPERM), f.call(getgid))
}

// The program crosses to the init as the kernel's array of sock_filter.
func TestEncodeDecodeKeepsTheProgram(t *testing.T) {
	prog := []Instruction{{Code: 0x20, K: 4}, {Code: 0x15, Jt: 1, Jf: 255, K: 0xc000003e}, {Code: 0x6, K: 0x7fff0000}}
	encoded := Encode(prog)
	assert.Len(t, encoded, 3*sockFilterSize)
	filter := decode(encoded)
	require.Len(t, filter, 3)
	for i, ins := range prog {
		assert.Equal(t, unix.SockFilter{Code: uint16(ins.Code), Jt: uint8(ins.Jt), Jf: uint8(ins.Jf), K: ins.K}, filter[i])
	}
}
