package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// blockTimeout bounds one block: a command that waits for a terminal, or
// hangs, fails the block instead of the whole run.
const blockTimeout = 90 * time.Second

// sentinel separates the commands' outputs in the block's one shell.
const sentinel = "@@transcript-command-%d@@"

// runBlock runs a block's commands in one bash, as a reader types them in
// one terminal (so `&`, `$!` and `cd` work across its commands), with
// standard output and error together, and returns each command's lines.
func runBlock(b block, dir string, env []string) ([][]string, error) {
	var script strings.Builder
	for i, c := range b.commands {
		fmt.Fprintf(&script, "printf '\\n%s\\n'\n", fmt.Sprintf(sentinel, i))
		script.WriteString(c.text + "\n")
	}
	fmt.Fprintf(&script, "printf '\\n%s\\n'\n", fmt.Sprintf(sentinel, len(b.commands)))
	ctx, cancel := context.WithTimeout(context.Background(), blockTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "--noprofile", "--norc", "-c", script.String())
	cmd.Dir, cmd.Env = dir, env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// Its own process group, so that whatever the block left running in
	// the background is ended with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	// What a block leaves running in the background (a container started
	// with &) still holds the output pipe when the shell exits: do not wait
	// for it, it is killed below.
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Run()
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("it did not finish in %s:\n%s", blockTimeout, out.String())
	}
	_ = err // a command's status is part of its output only when the text shows it
	return splitOutputs(out.String(), len(b.commands))
}

// splitOutputs cuts the shell's output at the sentinels.
func splitOutputs(out string, n int) ([][]string, error) {
	outputs := make([][]string, n)
	for i := range n {
		begin := "\n" + fmt.Sprintf(sentinel, i) + "\n"
		end := "\n" + fmt.Sprintf(sentinel, i+1) + "\n"
		b := strings.Index(out, begin)
		e := strings.Index(out, end)
		if b < 0 || e < b {
			return nil, fmt.Errorf("the shell stopped before command %d:\n%s", i+1, out)
		}
		text := out[b+len(begin) : e]
		if text != "" {
			outputs[i] = strings.Split(strings.TrimSuffix(text, "\n"), "\n")
		}
	}
	return outputs, nil
}

// stageBinaries builds the stage's mydocker, and the fault-injecting
// build, into dir/bin, from a tree of the stage written by stagegen.
func stageBinaries(goBin, slug, dir string) (string, error) {
	tree := filepath.Join(dir, "tree")
	bin := filepath.Join(dir, "bin")
	stage := exec.Command(goBin, "run", "./scripts/stagegen", "stage", slug, "-o", tree)
	if out, err := stage.CombinedOutput(); err != nil {
		return "", fmt.Errorf("writing stage %s: %v\n%s", slug, err, out)
	}
	for _, b := range []struct{ name, tags string }{{"mydocker", ""}, {"mydocker-faults", "faults"}} {
		args := []string{"build", "-o", filepath.Join(bin, b.name)}
		if b.tags != "" {
			args = append(args, "-tags", b.tags)
		}
		build := exec.Command(goBin, append(args, "./mydocker")...)
		build.Dir = tree
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			return "", fmt.Errorf("building %s of stage %s: %v\n%s", b.name, slug, err, out)
		}
	}
	return bin, nil
}
