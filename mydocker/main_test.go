//book:file namespaces

package main

import (
	"errors"
	"fmt"
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
	assert.Equal(t, volumeSpecs(specs), *ctx.Generic("volume").(*volumeSpecs))
}

//book:end
