//book:file detach

package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/mydocker-book/mydocker/mydocker/container"
)

func attachCommand() *cli.Command {
	return &cli.Command{
		Name:         "attach",
		Usage:        "connect this terminal to a container running in the background (Ctrl-P Ctrl-Q leaves it running)",
		ArgsUsage:    "CONTAINER",
		OnUsageError: usageError,
		Action:       attachContainer,
	}
}

// attachContainer ends with the container's own status once it exits, as
// `docker attach` does; with 1 and "read escape sequence" after Ctrl-P
// Ctrl-Q.
func attachContainer(ctx *cli.Context) error {
	if ctx.NArg() != 1 {
		return commandFailed(errors.New("attach needs one container: mydocker attach CONTAINER"))
	}
	status, err := container.Attach(ctx.String("root"), ctx.Args().First())
	if errors.Is(err, container.ErrDetached) {
		fmt.Fprintf(os.Stderr, "\r\n%v\r\n", err)
		return silentExit(1)
	}
	if err != nil {
		return commandFailed(err)
	}
	return silentExit(status)
}
