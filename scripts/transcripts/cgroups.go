package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// The texts run their containers under mydocker's default cgroup parent,
// mydocker, which mydocker leaves in place when its last container is gone,
// as Docker does. The checker runs on the machine's own cgroup trees: it
// removes the parents that appeared while it ran, and fails when one of
// them still holds a cgroup, a container that a text left behind.

// cgroupParents lists the default parent's directory in every cgroup
// hierarchy (or the one v2 tree) that has it.
func cgroupParents() []string {
	v2, _ := filepath.Glob("/sys/fs/cgroup/mydocker")
	v1, _ := filepath.Glob("/sys/fs/cgroup/*/mydocker")
	return append(v2, v1...)
}

// removeNewCgroupParents removes the parents that were not there before.
func removeNewCgroupParents(before []string) error {
	var left []string
	for _, dir := range cgroupParents() {
		if slices.Contains(before, dir) {
			continue
		}
		if err := os.Remove(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
			left = append(left, fmt.Sprintf("%s (%v)", dir, err))
		}
	}
	if len(left) > 0 {
		return fmt.Errorf("the texts left cgroups behind, in:\n  %s\nremove their containers in the block that made them", strings.Join(left, "\n  "))
	}
	return nil
}
