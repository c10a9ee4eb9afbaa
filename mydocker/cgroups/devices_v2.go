//book:file security

package cgroups

import (
	"fmt"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// Cgroup v2 has no devices files. The kernel asks a BPF program instead,
// of type BPF_PROG_TYPE_CGROUP_DEVICE, attached to the cgroup: before a
// process in it creates or opens a device node, the program runs with a
// struct bpf_cgroup_dev_ctx (include/uapi/linux/bpf.h) and answers 1 to
// allow or 0 to deny, and a denied open fails with EPERM. We write the
// program from the rules, instruction by instruction, as runc does.
//
//	struct bpf_cgroup_dev_ctx {
//		__u32 access_type; // type in the low 16 bits, access in the high 16
//		__u32 major;
//		__u32 minor;
//	};

// The values of the type and access halves of access_type
// (BPF_DEVCG_DEV_* and BPF_DEVCG_ACC_* in the kernel's bpf.h).
const (
	bpfDevBlock = 1
	bpfDevChar  = 2

	bpfAccMknod = 1
	bpfAccRead  = 2
	bpfAccWrite = 4
)

// bpfAllowMulti is BPF_F_ALLOW_MULTI: the program runs alongside those
// that the cgroup's ancestors have (systemd gives its units some), and a
// device must pass them all.
const bpfAllowMulti = 1 << 1

// deviceFilter is the program for the rules. Each rule is a block that
// jumps to the next block on the first field that does not match, and
// allows the access if all match; after the last block, the access is
// denied.
func deviceFilter(rules []DeviceRule) (asm.Instructions, error) {
	// R1 holds the address of the context. Read its fields into
	// registers: R2 = the device type, R3 = the access asked for (one or
	// more of the bits), R4 = major, R5 = minor. The loads are 32 bits
	// wide, as the fields are.
	insns := asm.Instructions{
		asm.LoadMem(asm.R2, asm.R1, 0, asm.Word),
		asm.And.Imm32(asm.R2, 0xffff),
		asm.LoadMem(asm.R3, asm.R1, 0, asm.Word),
		asm.RSh.Imm32(asm.R3, 16),
		asm.LoadMem(asm.R4, asm.R1, 4, asm.Word),
		asm.LoadMem(asm.R5, asm.R1, 8, asm.Word),
	}
	for i, r := range rules {
		block, err := ruleBlock(r, fmt.Sprintf("rule%d", i+1))
		if err != nil {
			return nil, err
		}
		// The block's first instruction is where the previous block's
		// mismatches jump.
		block[0] = block[0].WithSymbol(fmt.Sprintf("rule%d", i))
		insns = append(insns, block...)
		if len(block) == 2 {
			// Only "R0 = 1, exit": a rule that tests nothing, such as
			// "a *:* rwm", allows every access:
			// the code after it could never run, and the kernel's verifier
			// refuses a program with unreachable instructions.
			return insns, nil
		}
	}
	// No rule matched: R0 = 0, deny.
	return append(insns,
		asm.Mov.Imm32(asm.R0, 0).WithSymbol(fmt.Sprintf("rule%d", len(rules))),
		asm.Return(),
	), nil
}

// ruleBlock tests one rule. A wildcard (type 'a', major or minor *, or
// access rwm) needs no test.
func ruleBlock(r DeviceRule, next string) (asm.Instructions, error) {
	var block asm.Instructions
	switch r.Type {
	case 'c':
		block = append(block, asm.JNE.Imm(asm.R2, bpfDevChar, next))
	case 'b':
		block = append(block, asm.JNE.Imm(asm.R2, bpfDevBlock, next))
	case 'a':
	default:
		return nil, fmt.Errorf("device rule %q: the type must be a, b or c", r)
	}
	access, err := accessBits(r)
	if err != nil {
		return nil, err
	}
	if access != bpfAccMknod|bpfAccRead|bpfAccWrite {
		// The access asked for must lie within the rule's: R6 = R3 & rule,
		// and if that dropped a bit, the rule does not cover the access.
		block = append(block,
			asm.Mov.Reg32(asm.R6, asm.R3),
			asm.And.Imm32(asm.R6, access),
			asm.JNE.Reg(asm.R6, asm.R3, next),
		)
	}
	if r.Major != anyNumber {
		block = append(block, asm.JNE.Imm(asm.R4, int32(r.Major), next))
	}
	if r.Minor != anyNumber {
		block = append(block, asm.JNE.Imm(asm.R5, int32(r.Minor), next))
	}
	// Everything matched: R0 = 1, allow.
	return append(block, asm.Mov.Imm32(asm.R0, 1), asm.Return()), nil
}

func accessBits(r DeviceRule) (int32, error) {
	var bits int32
	for _, c := range r.Access {
		switch c {
		case 'm':
			bits |= bpfAccMknod
		case 'r':
			bits |= bpfAccRead
		case 'w':
			bits |= bpfAccWrite
		default:
			return 0, fmt.Errorf("device rule %q: the access must be made of r, w and m", r)
		}
	}
	return bits, nil
}

// LimitDevices loads the program for the rules and attaches it to the
// container's cgroup. It is attached with BPF_PROG_ATTACH, not as a BPF
// link: the cgroup holds an attached program for as long as the cgroup
// exists, after mydocker has closed the program and exited, and rmdir of
// the cgroup frees it. (A link would detach it when its last file
// descriptor closed, unless pinned in a BPF filesystem.)
func (cg *v2Cgroup) LimitDevices(rules []DeviceRule) error {
	insns, err := deviceFilter(rules)
	if err != nil {
		return err
	}
	logrus.Debugf("device filter for %s: %d instructions", cg.dir(), len(insns))
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Name:         "mydocker_dev",
		Type:         ebpf.CGroupDevice,
		Instructions: insns,
		License:      "Apache",
	})
	if err != nil {
		return fmt.Errorf("loading the device filter: %w", err)
	}
	defer prog.Close()
	dir, err := unix.Open(cg.dir(), unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening the cgroup %s: %w", cg.dir(), err)
	}
	defer unix.Close(dir)
	err = link.RawAttachProgram(link.RawAttachProgramOptions{
		Target:  dir,
		Program: prog,
		Attach:  ebpf.AttachCGroupDevice,
		Flags:   bpfAllowMulti,
	})
	if err != nil {
		return fmt.Errorf("attaching the device filter to %s: %w", cg.dir(), err)
	}
	logrus.Debugf("attached the device filter (%s) to %s", rulesString(rules), cg.dir())
	return nil
}

func rulesString(rules []DeviceRule) string {
	var s []string
	for _, r := range rules {
		s = append(s, r.String())
	}
	return strings.Join(s, ", ")
}
