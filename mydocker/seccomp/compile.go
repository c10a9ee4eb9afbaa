//book:file security

package seccomp

import (
	"fmt"
	"slices"

	profiles "github.com/moby/profiles/seccomp"
	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// Instruction is one classic BPF instruction as the kernel reads it
// (struct sock_filter), in numbers the init's configuration can carry.
type Instruction struct {
	Code, Jt, Jf, K uint32
}

// The kernel hands the filter a struct seccomp_data, and the filter loads
// its 32-bit words by offset: the system call's number, the architecture
// (AUDIT_ARCH_*) whose calling convention was used, the instruction
// pointer, and the six arguments of 64 bits each. On a little-endian
// machine, an argument's low half comes first.
const (
	offNr   = 0
	offArch = 4
	offArgs = 16
)

// archs are the architectures mydocker builds filters for, with their
// AUDIT_ARCH value: both little-endian, so offsets are the same.
var archs = map[string]uint32{
	"amd64": unix.AUDIT_ARCH_X86_64,
	"arm64": unix.AUDIT_ARCH_AARCH64,
}

// x32SyscallBit marks the system calls of x32, the ILP32 ABI of x86_64:
// they arrive with AUDIT_ARCH_X86_64 and their number plus this bit.
const x32SyscallBit = 0x40000000

// maxInstructions is the kernel's limit on one filter (BPF_MAXINSNS).
const maxInstructions = 4096

// Compile turns a profile into the filter for a container with
// capabilities caps on arch (amd64 or arm64) with kernel:
//
//  1. The architecture: a system call made with another calling
//     convention (32-bit x86 through int 0x80 on amd64, 32-bit ARM on
//     arm64) kills the process. Its numbers mean other calls, and this
//     filter has no table for them: Docker's profile lists those
//     sub-architectures and libseccomp adds their tables, but a
//     container of 32-bit programs is rare enough to leave out here.
//     On amd64, x32's numbers (with bit 30 set) are killed for the same
//     reason: otherwise a rule could be bypassed with them.
//  2. A binary search on the system call number. Numbers next to each
//     other that go to the same place form one span (read, write, open
//     and close, 0 to 3 on amd64, all simply allowed), so the search is
//     over spans: Docker's profile is 66 spans of about 300
//     numbers. The kernel checks and compiles the program when the init
//     loads it, in time that grows with its length: spans cut it by
//     two thirds.
//  3. For each number, its rules in the profile's order, each with its
//     argument comparisons; the first rule that holds decides.
//  4. For any other number, the profile's default action.
func Compile(p *profiles.Seccomp, caps []string, arch string, kernel profiles.KernelVersion) ([]Instruction, error) {
	auditArch, ok := archs[arch]
	if !ok {
		return nil, fmt.Errorf("seccomp filters are only built for amd64 and arm64, not %s", arch)
	}
	r, err := resolve(p, caps, arch, kernel)
	if err != nil {
		return nil, err
	}
	var a assembler
	a.load(offArch)
	a.jumpIf(bpf.JumpEqual, auditArch, 1, 0)
	a.ret(retKillProcess)
	a.load(offNr)
	if arch == "amd64" {
		a.jumpIf(bpf.JumpGreaterOrEqual, x32SyscallBit, 0, 1)
		a.ret(retKillProcess)
	}

	// Where each number goes: straight to a shared return for a number
	// whose first rule has no conditions, to its own rules otherwise.
	nrs := make([]uint32, 0, len(r.rules))
	for nr := range r.rules {
		nrs = append(nrs, nr)
	}
	slices.Sort(nrs)
	returns := map[uint32]label{}
	returnOf := func(action uint32) label {
		if l, ok := returns[action]; ok {
			return l
		}
		returns[action] = a.newLabel()
		return returns[action]
	}
	targets := make([]label, len(nrs))
	var conditional []uint32
	for i, nr := range nrs {
		if rules := r.rules[nr]; len(rules[0].args) == 0 {
			targets[i] = returnOf(rules[0].action)
		} else {
			targets[i] = a.newLabel()
			conditional = append(conditional, nr)
		}
	}
	def := returnOf(r.defaultAction)
	a.search(spans(nrs, targets, def))

	for _, nr := range conditional {
		a.place(targets[slices.Index(nrs, nr)])
		for _, ru := range r.rules[nr] {
			next := a.newLabel()
			for _, arg := range ru.args {
				if err := a.compare(arg, next); err != nil {
					return nil, fmt.Errorf("a rule for system call %d: %w", nr, err)
				}
			}
			a.ret(ru.action)
			a.place(next)
			if len(ru.args) == 0 {
				break // the rules after an unconditional one are never reached
			}
		}
		a.jump(def)
	}
	actions := make([]uint32, 0, len(returns))
	for action := range returns {
		actions = append(actions, action)
	}
	slices.Sort(actions)
	for _, action := range actions {
		a.place(returns[action])
		a.ret(action)
	}
	return a.assemble()
}

// span is a run of consecutive system call numbers, from first up to the
// next span's first, that all go to the same place.
type span struct {
	first uint32
	to    label
}

// spans cuts every possible number, 0 to 2^32-1, into spans: the numbers
// nrs (sorted) go to their targets, the numbers between them to def.
func spans(nrs []uint32, targets []label, def label) []span {
	var out []span
	add := func(first uint32, to label) {
		if len(out) > 0 && out[len(out)-1].to == to {
			return // the span before goes there too: it grows
		}
		out = append(out, span{first, to})
	}
	if len(nrs) == 0 || nrs[0] > 0 {
		add(0, def)
	}
	for i, nr := range nrs {
		if i > 0 && nr > nrs[i-1]+1 {
			add(nrs[i-1]+1, def) // a gap between two numbers of the profile
		}
		add(nr, targets[i])
	}
	if n := len(nrs); n > 0 && nrs[n-1] < ^uint32(0) {
		add(nrs[n-1]+1, def)
	}
	return out
}

// search jumps to where the number loaded goes, halving the spans with
// each comparison. A conditional jump reaches at most 255 instructions
// ahead, so the lower half is reached through an unconditional jump.
func (a *assembler) search(s []span) {
	if len(s) == 1 {
		a.jump(s[0].to)
		return
	}
	mid := len(s) / 2
	lower := a.newLabel()
	a.jumpIf(bpf.JumpGreaterOrEqual, s[mid].first, 1, 0)
	a.jump(lower)
	a.search(s[mid:])
	a.place(lower)
	a.search(s[:mid])
}

// compare falls through when the argument compares as the rule says, and
// jumps to fail when it does not. Arguments are 64 bits, classic BPF's
// registers 32: each comparison is made on the high halves first, then
// on the low halves when the high halves are equal. Comparisons are
// unsigned, as libseccomp's.
func (a *assembler) compare(arg specs.LinuxSeccompArg, fail label) error {
	if arg.Index > 5 {
		return fmt.Errorf("argument %d: system calls have six arguments, 0 to 5", arg.Index)
	}
	lo, hi := offArgs+8*uint32(arg.Index), offArgs+8*uint32(arg.Index)+4
	kLo, kHi := uint32(arg.Value), uint32(arg.Value>>32)
	pass := a.newLabel()
	switch arg.Op {
	case specs.OpEqualTo:
		a.load(hi)
		a.jumpTo(bpf.JumpEqual, kHi, next, fail)
		a.load(lo)
		a.jumpTo(bpf.JumpEqual, kLo, pass, fail)
	case specs.OpNotEqual:
		a.load(hi)
		a.jumpTo(bpf.JumpEqual, kHi, next, pass)
		a.load(lo)
		a.jumpTo(bpf.JumpEqual, kLo, fail, pass)
	case specs.OpMaskedEqual: // arg & Value == ValueTwo
		a.load(hi)
		a.and(kHi)
		a.jumpTo(bpf.JumpEqual, uint32(arg.ValueTwo>>32), next, fail)
		a.load(lo)
		a.and(kLo)
		a.jumpTo(bpf.JumpEqual, uint32(arg.ValueTwo), pass, fail)
	case specs.OpGreaterThan, specs.OpGreaterEqual:
		a.load(hi)
		a.jumpTo(bpf.JumpGreaterThan, kHi, pass, next)
		a.jumpTo(bpf.JumpEqual, kHi, next, fail)
		a.load(lo)
		cond := bpf.JumpGreaterThan
		if arg.Op == specs.OpGreaterEqual {
			cond = bpf.JumpGreaterOrEqual
		}
		a.jumpTo(cond, kLo, pass, fail)
	case specs.OpLessThan, specs.OpLessEqual:
		a.load(hi)
		a.jumpTo(bpf.JumpGreaterThan, kHi, fail, next)
		a.jumpTo(bpf.JumpEqual, kHi, next, pass)
		a.load(lo)
		cond := bpf.JumpGreaterOrEqual // lo >= k fails "<"
		if arg.Op == specs.OpLessEqual {
			cond = bpf.JumpGreaterThan // lo > k fails "<="
		}
		a.jumpTo(cond, kLo, fail, pass)
	default:
		return fmt.Errorf("unknown comparison %q", arg.Op)
	}
	a.place(pass)
	return nil
}

// label names an instruction that a jump goes to, before it is written.
type label int

// next is the instruction right after the jump.
const next label = -1

// assembler writes instructions with jumps to labels, and works out the
// jumps' offsets (instructions to skip) once every label is placed.
type assembler struct {
	code   []asmInstruction
	labels []int // where each label is, -1 until placed
}

type asmInstruction struct {
	ins      bpf.Instruction
	cond     bpf.JumpTest
	val      uint32
	jt, jf   label
	jumpTo   label
	jumpKind int // 0: ins as it is; 1: conditional to labels; 2: always to jumpTo
}

func (a *assembler) newLabel() label {
	a.labels = append(a.labels, -1)
	return label(len(a.labels) - 1)
}

func (a *assembler) place(l label) { a.labels[l] = len(a.code) }

func (a *assembler) emit(ins bpf.Instruction) {
	a.code = append(a.code, asmInstruction{ins: ins})
}

func (a *assembler) load(off uint32) { a.emit(bpf.LoadAbsolute{Off: off, Size: 4}) }

func (a *assembler) and(mask uint32) { a.emit(bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: mask}) }

func (a *assembler) ret(v uint32) { a.emit(bpf.RetConstant{Val: v}) }

// jumpIf is a conditional jump by fixed offsets.
func (a *assembler) jumpIf(cond bpf.JumpTest, val uint32, skipTrue, skipFalse uint8) {
	a.emit(bpf.JumpIf{Cond: cond, Val: val, SkipTrue: skipTrue, SkipFalse: skipFalse})
}

// jumpTo is a conditional jump to labels.
func (a *assembler) jumpTo(cond bpf.JumpTest, val uint32, jt, jf label) {
	a.code = append(a.code, asmInstruction{cond: cond, val: val, jt: jt, jf: jf, jumpKind: 1})
}

// jump always jumps to l, as far as it is.
func (a *assembler) jump(l label) {
	a.code = append(a.code, asmInstruction{jumpTo: l, jumpKind: 2})
}

func (a *assembler) assemble() ([]Instruction, error) {
	if len(a.code) > maxInstructions {
		return nil, fmt.Errorf("the filter has %d instructions, more than the kernel's %d", len(a.code), maxInstructions)
	}
	skip := func(from int, l label) (uint32, error) {
		if l == next {
			return 0, nil
		}
		to := a.labels[l]
		if to <= from {
			return 0, fmt.Errorf("instruction %d jumps to a label that is not placed after it", from)
		}
		return uint32(to - from - 1), nil
	}
	insns := make([]bpf.Instruction, len(a.code))
	for i, c := range a.code {
		switch c.jumpKind {
		case 0:
			insns[i] = c.ins
		case 1:
			jt, err := skip(i, c.jt)
			if err != nil {
				return nil, err
			}
			jf, err := skip(i, c.jf)
			if err != nil {
				return nil, err
			}
			if jt > 255 || jf > 255 {
				return nil, fmt.Errorf("instruction %d: a conditional jump of more than 255 instructions", i)
			}
			insns[i] = bpf.JumpIf{Cond: c.cond, Val: c.val, SkipTrue: uint8(jt), SkipFalse: uint8(jf)}
		case 2:
			n, err := skip(i, c.jumpTo)
			if err != nil {
				return nil, err
			}
			insns[i] = bpf.Jump{Skip: n}
		}
	}
	raw, err := bpf.Assemble(insns)
	if err != nil {
		return nil, err
	}
	prog := make([]Instruction, len(raw))
	for i, r := range raw {
		prog[i] = Instruction{Code: uint32(r.Op), Jt: uint32(r.Jt), Jf: uint32(r.Jf), K: r.K}
	}
	return prog, nil
}
