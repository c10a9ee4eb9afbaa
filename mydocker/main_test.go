//book:file namespaces

package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/urfave/cli/v2"

	"github.com/mydocker-book/mydocker/mydocker/container"
)

func TestExitCodeFollowsDocker(t *testing.T) {
	assert.Equal(t, 0, exitCode(nil))
	assert.Equal(t, 3, exitCode(silentExit(3)))
	assert.Equal(t, 127, exitCode(&container.Error{Code: 127, Err: errors.New("not found")}))
	assert.Equal(t, 126, exitCode(fmt.Errorf("wrapped: %w", &container.Error{Code: 126, Err: errors.New("no")})))
	assert.Equal(t, 125, exitCode(errors.New("anything else is mydocker's own failure")))
}

// parseRun runs the real command-line definition of "run" and returns what
// the action would have received, without starting a container.
func parseRun(t *testing.T, args ...string) *cli.Context {
	t.Helper()
	var got *cli.Context
	app := newApp()
	for _, cmd := range app.Commands {
		if cmd.Name == "run" {
			cmd.Action = func(ctx *cli.Context) error { got = ctx; return nil }
		}
	}
	require.NoError(t, app.Run(append([]string{"mydocker"}, args...)))
	require.NotNil(t, got)
	return got
}

func TestRunFlagsStopAtTheCommand(t *testing.T) {
	ctx := parseRun(t, "run", "-it", "-h", "box", "sh", "-c", "echo a; echo b", "-h", "--debug")
	assert.True(t, ctx.Bool("interactive"))
	assert.True(t, ctx.Bool("tty"))
	assert.Equal(t, "box", ctx.String("hostname"))
	assert.Equal(t, []string{"sh", "-c", "echo a; echo b", "-h", "--debug"}, ctx.Args().Slice(),
		"everything after the command belongs to the command")
}

//book:add volumes

// Each -v is one volume, exactly as typed: commas, spaces and
// bytes that are not UTF-8 included.
func TestVolumesArriveAsTyped(t *testing.T) {
	specs := []string{"/a,b:/x", " /spaced :/y", "/caf\xe9:/z:ro"}
	ctx := parseRun(t, "run", "-v", specs[0], "-v", specs[1], "-v", specs[2], "busybox", "true")
	assert.Equal(t, exactValues(specs), *ctx.Generic("volume").(*exactValues))
}

//book:end

// runApp runs mydocker's command line and returns what it printed on
// stdout and the error it returned.
func runApp(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	app := newApp()
	app.Writer = &out
	err := app.Run(append([]string{"mydocker"}, args...))
	return out.String(), err
}

// urfave/cli prints a flag's default after its usage text: a usage text
// that names a default as well shows two.
func TestRunHelpShowsOneDefaultPerFlag(t *testing.T) {
	help, err := runApp(t, "run", "--help")
	require.NoError(t, err)
	for _, line := range strings.Split(help, "\n") {
		assert.LessOrEqual(t, strings.Count(line, "default"), 1, line)
		assert.NotContains(t, line, "(default: 0)", "0 means not set: say what that gives")
	}
}

func TestUnknownCommandListsTheCommands(t *testing.T) {
	out, err := runApp(t, "launch")
	require.Error(t, err)
	//book:replace namespaces detach
	// assert.Equal(t, `unknown command "launch": the commands are run, help; see 'mydocker --help'`, err.Error())
	//book:end
	//book:replace detach exec
	// assert.Equal(t, `unknown command "launch": the commands are run, ps, logs, inspect, top, attach, rm, help; see 'mydocker --help'`, err.Error())
	//book:end
	//book:replace exec lifecycle
	// assert.Equal(t, `unknown command "launch": the commands are run, exec, ps, logs, inspect, top, attach, rm, help; see 'mydocker --help'`, err.Error())
	//book:end
	//book:replace lifecycle images
	// assert.Equal(t, `unknown command "launch": the commands are run, exec, ps, logs, inspect, top, attach, start, stop, restart, kill, wait, pause, unpause, rm, container, help; see 'mydocker --help'`, err.Error())
	//book:end
	//book:replace images bridge
	// assert.Equal(t, `unknown command "launch": the commands are run, exec, ps, logs, inspect, top, attach, start, stop, restart, kill, wait, pause, unpause, rm, container, images, import, commit, export, save, load, history, tag, rmi, help; see 'mydocker --help'`, err.Error())
	//book:end
	//book:add bridge
	assert.Equal(t, `unknown command "launch": the commands are run, exec, ps, logs, inspect, top, attach, start, stop, restart, kill, wait, pause, unpause, rm, container, images, import, commit, export, save, load, history, tag, rmi, network, port, help; see 'mydocker --help'`, err.Error())
	//book:end
	assert.Empty(t, out)
	assert.Equal(t, 125, exitCode(err), "a usage error, as in Docker")

	help, err := runApp(t)
	require.NoError(t, err, "mydocker alone shows the help")
	assert.Contains(t, help, "COMMANDS:")
}

// Every stage has a STAGE file at its root (the parent of mydocker/) and a
// generated stage.go that sets bookStage; the final source has neither.
func TestVersionSaysWhichCodeItWasBuiltFrom(t *testing.T) {
	out, err := runApp(t, "--version")
	require.NoError(t, err)
	assert.Equal(t, versionLine()+"\n", out)
	assert.True(t, strings.HasPrefix(out, "mydocker version "+version()+", built from the book's "), out)
	slug, err := os.ReadFile("../STAGE")
	if errors.Is(err, os.ErrNotExist) {
		assert.Empty(t, bookStage)
		assert.Contains(t, out, "built from the book's final source")
		return
	}
	require.NoError(t, err)
	assert.Contains(t, out, ", built from the book's stage "+strings.TrimSpace(string(slug))+": ")
}
