package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/creack/pty"
)

// An interactive text (<!-- transcript: interactive --> before its first
// block) is run as its reader runs it: every block in one interactive
// bash, on a terminal, each command typed in turn. Job control works as
// in a terminal ("[1] 17014" when a job starts, "Terminated" when it
// ends), and the directory and files carry from block to block.

// prompt is the interactive shell's prompt: it marks the end of each
// command's output.
const prompt = "@@transcript-prompt@@"

// commandTimeout bounds one command typed into the interactive shell.
const commandTimeout = 60 * time.Second

// ctrlC, as the first line of a command's output in the text, says that
// the reader pressed Ctrl-C: the checker sends it a second after the
// command starts, and the terminal shows it as ^C.
const ctrlC = "^C"

// terminal is an interactive bash on a pty, and what it has printed.
type terminal struct {
	cmd  *exec.Cmd
	tty  *os.File
	out  *capture
	seen int // how much of out the commands typed so far have consumed
}

func startTerminal(dir string, env []string) (*terminal, error) {
	cmd := exec.Command("bash", "--noprofile", "--norc", "--noediting", "-i")
	cmd.Dir = dir
	cmd.Env = append(env, "TERM=dumb", "PS1="+prompt+"\n", "PS2=", "HISTFILE=/dev/null")
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 100})
	if err != nil {
		return nil, err
	}
	t := &terminal{cmd: cmd, tty: tty, out: captureOutput(tty)}
	// Wait for the first prompt, then turn the echo off: the reader does
	// not see the commands twice.
	if err := t.waitForPrompt(); err != nil {
		t.close()
		return nil, err
	}
	if _, err := t.run("stty -echo", false); err != nil {
		t.close()
		return nil, err
	}
	return t, nil
}

// waitForPrompt waits until the shell has printed its first prompt.
func (t *terminal) waitForPrompt() error {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		text := t.out.String()
		if i := strings.Index(text, prompt+"\r\n"); i >= 0 {
			t.seen = i + len(prompt) + 2
			return nil
		}
	}
	return fmt.Errorf("the interactive shell printed no prompt")
}

// run types one command and returns what it printed before the next prompt.
func (t *terminal) run(command string, interrupt bool) ([]string, error) {
	if _, err := t.tty.WriteString(command + "\n"); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(commandTimeout)
	sentInterrupt := false
	begun := time.Now()
	for {
		raw := t.out.String()[t.seen:]
		text := strings.ReplaceAll(raw, "\r\n", "\n")
		// The output ends at the next prompt (the one before the command
		// was read already).
		if end := strings.Index(text, prompt+"\n"); end >= 0 {
			t.seen += strings.Index(raw, prompt+"\r\n") + len(prompt) + 2
			lines := splitLines(text[:end])
			if interrupt {
				// The terminal echoes ^C where the cursor is, and the
				// shell's newline ends that line.
				if len(lines) > 0 && lines[0] == "" {
					lines = lines[1:]
				}
				lines = append([]string{ctrlC}, lines...)
			}
			return lines, nil
		}
		if interrupt && !sentInterrupt && time.Since(begun) > time.Second {
			_, _ = t.tty.Write([]byte{3}) // Ctrl-C, through the terminal driver
			sentInterrupt = true
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("`%s` did not finish in %s:\n%s", command, commandTimeout, text)
		}
		select {
		case <-t.out.done:
			return nil, fmt.Errorf("the shell ended during `%s`:\n%s", command, text)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func splitLines(text string) []string {
	if text == "" {
		return nil
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		lines = append(lines, expandTabs(l))
	}
	return lines
}

// close ends the shell and every process of its session: jobs run in
// process groups of their own.
func (t *terminal) close() {
	sid := t.cmd.Process.Pid
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if s, err := sessionOf(pid); err == nil && s == sid {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	_ = t.cmd.Wait()
	t.tty.Close()
	<-t.out.done
}

// sessionOf reads the session id of a process, field 6 of /proc/PID/stat.
func sessionOf(pid int) (int, error) {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, err
	}
	s := string(data)
	fields := strings.Fields(s[strings.LastIndex(s, ")")+1:])
	if len(fields) < 4 {
		return 0, fmt.Errorf("short stat")
	}
	return strconv.Atoi(fields[3])
}

// runInteractive runs every block of a text in one interactive shell and
// returns each block's commands' outputs.
func runInteractive(blocks []block, dir string, env []string) ([][][]string, error) {
	t, err := startTerminal(dir, env)
	if err != nil {
		return nil, err
	}
	defer t.close()
	outputs := make([][][]string, len(blocks))
	for i, b := range blocks {
		if b.skip != "" {
			continue
		}
		outputs[i] = make([][]string, len(b.commands))
		for j, c := range b.commands {
			interrupt := len(c.output) > 0 && c.output[0] == ctrlC
			if c.text == "" {
				continue
			}
			out, err := t.run(c.text, interrupt)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %w", b.file, c.line, err)
			}
			outputs[i][j] = out
		}
	}
	return outputs, nil
}
