//book:file security

package cgroups

import (
	"fmt"
	"testing"

	"github.com/cilium/ebpf/asm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDeviceRulesAsV1Writes(t *testing.T) {
	want := []setting{
		{"devices.deny", "a"},
		{"devices.allow", "c *:* m"},
		{"devices.allow", "b *:* m"},
		{"devices.allow", "c 1:3 rwm"},
		{"devices.allow", "c 1:5 rwm"},
		{"devices.allow", "c 1:7 rwm"},
		{"devices.allow", "c 1:8 rwm"},
		{"devices.allow", "c 1:9 rwm"},
		{"devices.allow", "c 5:0 rwm"},
		{"devices.allow", "c 5:1 rwm"},
		{"devices.allow", "c 5:2 rwm"},
		{"devices.allow", "c 136:* rwm"},
		{"devices.allow", "c 10:200 rwm"},
	}
	assert.Equal(t, want, v1DeviceSettings(DeviceRules(false)))
	assert.Equal(t, []setting{{"devices.deny", "a"}, {"devices.allow", "a *:* rwm"}}, v1DeviceSettings(DeviceRules(true)))
}

func TestV1HierarchiesHaveDevices(t *testing.T) {
	mountinfo := `30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 30 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices`
	assert.Equal(t, []v1Dir{{"memory", "/sys/fs/cgroup/memory", "memory"}, {"devices", "/sys/fs/cgroup/devices", "devices"}},
		v1Hierarchies(mountinfo, false))
	cg := &v1Cgroup{path: "p/id", dirs: []v1Dir{{"memory", "/sys/fs/cgroup/memory", "memory"}}}
	err := cg.LimitDevices(DefaultDevices)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"devices" is not mounted`)
}

// The device filter, run on a small interpreter of the instructions it
// uses, answers as the v1 rules would.
func TestDeviceFilterDecides(t *testing.T) {
	const (
		block, char       = bpfDevBlock, bpfDevChar
		mknod, read, rw   = bpfAccMknod, bpfAccRead, bpfAccRead | bpfAccWrite
		allowed, rejected = true, false
	)
	for _, c := range []struct {
		privileged   bool
		typ, access  uint32
		major, minor uint32
		want         bool
	}{
		{false, char, rw, 1, 3, allowed},     // /dev/null
		{false, char, read, 1, 9, allowed},   // /dev/urandom
		{false, char, rw, 136, 7, allowed},   // a pty
		{false, char, rw, 5, 2, allowed},     // /dev/ptmx
		{false, char, mknod, 1, 11, allowed}, // mknod of /dev/kmsg
		{false, char, read, 1, 11, rejected}, // but not opening it
		{false, char, rw, 1, 1, rejected},    // /dev/mem
		{false, block, mknod, 8, 0, allowed}, // mknod of a disk
		{false, block, read, 8, 0, rejected}, // but not reading it
		{false, char, rw, 1, 4, rejected},    // /dev/port
		{false, char, rw, 137, 0, rejected},  // not a pty
		{false, block, rw, 1, 3, rejected},   // the block device 1:3 is not /dev/null
		{false, char, mknod | read, 1, 11, rejected},
		{true, block, rw, 8, 0, allowed},
		{true, char, read, 1, 11, allowed},
	} {
		insns, err := deviceFilter(DeviceRules(c.privileged))
		require.NoError(t, err)
		require.NoError(t, checkReachable(insns))
		got, err := runDeviceFilter(insns, c.access<<16|c.typ, c.major, c.minor)
		require.NoError(t, err)
		assert.Equal(t, c.want, got, "privileged=%v type=%d access=%d %d:%d", c.privileged, c.typ, c.access, c.major, c.minor)
	}
}

func TestDeviceFilterRefusesBadRules(t *testing.T) {
	_, err := deviceFilter([]DeviceRule{{'x', 1, 3, "rwm"}})
	assert.ErrorContains(t, err, "the type must be a, b or c")
	_, err = deviceFilter([]DeviceRule{{'c', 1, 3, "rwx"}})
	assert.ErrorContains(t, err, "made of r, w and m")
}

// runDeviceFilter interprets the few instructions deviceFilter writes,
// with the context struct bpf_cgroup_dev_ctx in memory, and returns its
// answer.
func runDeviceFilter(insns asm.Instructions, accessType, major, minor uint32) (bool, error) {
	ctx := []uint32{accessType, major, minor}
	labels := map[string]int{}
	for i, ins := range insns {
		if s := ins.Symbol(); s != "" {
			labels[s] = i
		}
	}
	var reg [11]uint64
	for pc := 0; pc < len(insns); pc++ {
		ins := insns[pc]
		op := ins.OpCode
		src := uint64(ins.Constant)
		if op.Source() == asm.RegSource {
			src = reg[ins.Src]
		}
		switch {
		case op == asm.LoadMemOp(asm.Word) && ins.Src == asm.R1:
			reg[ins.Dst] = uint64(ctx[ins.Offset/4])
		case op.Class() == asm.ALUClass:
			switch op.ALUOp() {
			case asm.Mov:
				reg[ins.Dst] = uint64(uint32(src))
			case asm.And:
				reg[ins.Dst] = uint64(uint32(reg[ins.Dst]) & uint32(src))
			case asm.RSh:
				reg[ins.Dst] = uint64(uint32(reg[ins.Dst]) >> src)
			default:
				return false, fmt.Errorf("instruction %d: %v not interpreted", pc, ins)
			}
		case op.JumpOp() == asm.JNE:
			if reg[ins.Dst] != src {
				target, ok := labels[ins.Reference()]
				if !ok {
					return false, fmt.Errorf("instruction %d: no label %q", pc, ins.Reference())
				}
				pc = target - 1
			}
		case op.JumpOp() == asm.Exit:
			return reg[asm.R0] == 1, nil
		default:
			return false, fmt.Errorf("instruction %d: %v not interpreted", pc, ins)
		}
	}
	return false, fmt.Errorf("the program ran off its end")
}

// checkReachable fails as the kernel's verifier does on an instruction
// that no path reaches: one after an exit that no jump names.
func checkReachable(insns asm.Instructions) error {
	referenced := map[string]bool{}
	for _, ins := range insns {
		if ins.Reference() != "" {
			referenced[ins.Reference()] = true
		}
	}
	for i := 1; i < len(insns); i++ {
		if insns[i-1].OpCode.JumpOp() == asm.Exit && !referenced[insns[i].Symbol()] {
			return fmt.Errorf("instruction %d (%v) is unreachable", i, insns[i])
		}
	}
	return nil
}
