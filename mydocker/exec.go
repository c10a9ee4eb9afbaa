//book:file exec

package main

import (
	"errors"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/mydocker-book/mydocker/mydocker/container"
)

func execCommand() *cli.Command {
	return &cli.Command{
		Name:      "exec",
		Usage:     "run a command in a running container",
		ArgsUsage: "CONTAINER CMD [ARG...]",
		// Lets -it mean -i -t, as in Docker.
		UseShortOptionHandling: true,
		OnUsageError:           usageError,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "interactive", Aliases: []string{"i"}, Usage: "keep standard input open"},
			&cli.BoolFlag{Name: "tty", Aliases: []string{"t"}, Usage: "give the command a terminal of its own"},
			&cli.GenericFlag{Name: "env", Aliases: []string{"e"}, Value: &exactValues{}, Usage: "set an environment variable: NAME=VALUE (repeatable)"},
			&cli.StringFlag{Name: "workdir", Aliases: []string{"w"}, Usage: "the working directory in the container (default: /)"},
			&cli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "USER[:GROUP] to run as (default: the container's)"},
		},
		Action: execInContainer,
	}
}

// execInContainer ends with the command's status, as docker exec does:
// 126 and 127 when it cannot be run, 1 when the container is not running.
func execInContainer(ctx *cli.Context) error {
	if ctx.NArg() < 2 {
		return commandFailed(errors.New("exec needs a container and a command: mydocker exec [OPTIONS] CONTAINER CMD [ARG...]"))
	}
	ec := container.ExecConfig{
		Container:   ctx.Args().First(),
		Args:        ctx.Args().Tail(),
		WorkDir:     ctx.String("workdir"),
		User:        ctx.String("user"),
		Interactive: ctx.Bool("interactive"),
		TTY:         ctx.Bool("tty"),
		StateRoot:   ctx.String("root"),
	}
	for _, kv := range *ctx.Generic("env").(*exactValues) {
		if !strings.Contains(kv, "=") || strings.HasPrefix(kv, "=") {
			return commandFailed(errors.New("-e " + kv + ": use NAME=VALUE"))
		}
		ec.Env = append(ec.Env, kv)
	}
	status, err := container.Exec(ec)
	if err != nil {
		return err
	}
	return silentExit(status)
}
