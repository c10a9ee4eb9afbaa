package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/creack/pty"
)

// blockTimeout bounds one block: a command that waits for a terminal, or
// hangs, fails the block instead of the whole run.
const blockTimeout = 90 * time.Second

// sentinel separates the commands' outputs in the block's one shell.
const sentinel = "@@transcript-command-%d@@"

// runBlock runs a block's commands in one bash, as a reader types them in
// one terminal (so `&`, `$!` and `cd` work across its commands), with
// standard output and error together, and returns each command's lines.
func runBlock(b block, dir, scriptDir string, env []string) ([][]string, error) {
	var script strings.Builder
	for i, c := range b.commands {
		fmt.Fprintf(&script, "printf '\\n%s\\n'\n", fmt.Sprintf(sentinel, i))
		script.WriteString(c.text + "\n")
	}
	fmt.Fprintf(&script, "printf '\\n%s\\n'\n", fmt.Sprintf(sentinel, len(b.commands)))
	ctx, cancel := context.WithTimeout(context.Background(), blockTimeout)
	defer cancel()
	// From a file, not as the text of -c: the commands must not show in
	// the shell's own arguments, which ps and pgrep in the texts would
	// find. Evaluated by a shell whose $0 is blockShell, whose messages
	// splitOutputs makes a reader's shell's (readerShellMessage).
	file, err := os.CreateTemp(scriptDir, "block-*.sh")
	if err != nil {
		return nil, err
	}
	defer os.Remove(file.Name())
	if _, err := file.WriteString(script.String()); err != nil {
		return nil, err
	}
	file.Close()
	cmd := exec.Command("bash", "--noprofile", "--norc", "-c", `eval "$(cat "$1")"`, blockShell, file.Name())
	cmd.Dir, cmd.Env = dir, append(env, "TERM=dumb")
	// On a terminal of its own, as the reader's commands are: programs
	// such as ls lay out their output for one, and standard output and
	// error arrive in the order they were written. bash leads a new
	// session, so whatever the block left running in the background is
	// ended with its process group.
	ptmx, tty, err := pty.Open()
	if err != nil {
		return nil, err
	}
	defer ptmx.Close()
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 40, Cols: 100}); err != nil {
		tty.Close()
		return nil, err
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		tty.Close()
		return nil, err
	}
	// Our own copy of the terminal stays open until all the output is in:
	// once the last process that holds it exits, Linux may answer EIO on
	// the master before it has handed over what was written last.
	out := captureOutput(ptmx)
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait() // a command's status is part of its output only when the text shows it
		close(done)
	}()
	timedOut := false
	select {
	case <-done:
	case <-ctx.Done():
		timedOut = true
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	<-done
	last := fmt.Sprintf(sentinel, len(b.commands))
	for wait := time.Now().Add(2 * time.Second); time.Now().Before(wait); time.Sleep(10 * time.Millisecond) {
		if strings.Contains(out.String(), last) {
			break
		}
	}
	tty.Close()
	ptmx.Close()
	<-out.done
	text := strings.ReplaceAll(out.String(), "\r\n", "\n")
	if timedOut {
		return nil, fmt.Errorf("it did not finish in %s:\n%s", blockTimeout, text)
	}
	return splitOutputs(text, len(b.commands))
}

// blockShell is the $0 of the shell that runs a block: a name of its own,
// so that its messages can be told from those of a bash the commands start.
const blockShell = "transcript-bash"

// blockShellMessage is the start of the block shell's own messages. Reading
// a script, bash puts the script's line in them ("line 8:"); a reader's
// interactive shell does not.
var blockShellMessage = regexp.MustCompile(`^` + blockShell + `: (line [0-9]+: )?`)

// readerShellMessage is a message of the block's shell as a reader's
// interactive bash words it; other lines are left as they are.
func readerShellMessage(line string) string {
	if loc := blockShellMessage.FindStringIndex(line); loc != nil {
		return "bash: " + line[loc[1]:]
	}
	return line
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
			for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
				outputs[i] = append(outputs[i], expandTabs(readerShellMessage(line)))
			}
		}
	}
	return outputs, nil
}

// stageBinaries builds the stage's mydocker, the fault-injecting build and
// the probe into dir/bin, from a tree of the stage written by stagegen.
func stageBinaries(goBin, slug, dir string) (string, error) {
	tree := filepath.Join(dir, "tree")
	bin := filepath.Join(dir, "bin")
	stage := exec.Command(goBin, "run", "./scripts/stagegen", "stage", slug, "-o", tree)
	if out, err := stage.CombinedOutput(); err != nil {
		return "", fmt.Errorf("writing stage %s: %v\n%s", slug, err, out)
	}
	for _, b := range []struct{ name, tags, pkg string }{
		{"mydocker", "", "./mydocker"},
		// (-tags replaces GOFLAGS' tags: keep the Makefile's urfave_cli_no_docs.)
		{"mydocker-faults", "urfave_cli_no_docs,faults", "./mydocker"},
		{"probe", "", "./mydocker/probe"}, // the tests' probe, which some texts run by hand
	} {
		args := []string{"build", "-o", filepath.Join(bin, b.name)}
		if b.tags != "" {
			args = append(args, "-tags", b.tags)
		}
		build := exec.Command(goBin, append(args, b.pkg)...)
		build.Dir = tree
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			return "", fmt.Errorf("building %s of stage %s: %v\n%s", b.name, slug, err, out)
		}
	}
	return bin, nil
}

// expandTabs shows a line as a terminal does, with tab stops every eight
// columns (ls lays out its columns with tabs).
func expandTabs(line string) string {
	if !strings.Contains(line, "\t") {
		return line
	}
	var b strings.Builder
	col := 0
	for _, r := range line {
		if r == '\t' {
			n := 8 - col%8
			b.WriteString(strings.Repeat(" ", n))
			col += n
			continue
		}
		b.WriteRune(r)
		col++
	}
	return b.String()
}

// capture collects what a terminal's master side reads, for other
// goroutines to look at while it arrives.
type capture struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	done chan struct{} // closed once the terminal answers an error (closed, or nobody holds it)
}

func captureOutput(r io.Reader) *capture {
	c := &capture{done: make(chan struct{})}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := r.Read(buf)
			c.mu.Lock()
			c.buf.Write(buf[:n])
			c.mu.Unlock()
			if err != nil {
				close(c.done)
				return
			}
		}
	}()
	return c
}

// String is everything read so far.
func (c *capture) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}
