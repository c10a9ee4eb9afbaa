//book:file detach

package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/mydocker-book/mydocker/mydocker/container"
	"github.com/mydocker-book/mydocker/mydocker/logs"
)

func logsCommand() *cli.Command {
	return &cli.Command{
		Name:         "logs",
		Usage:        "print the output of a container run with -d",
		ArgsUsage:    "CONTAINER",
		OnUsageError: usageError,
		// Short flags combine (-aq, -ft), as in Docker.
		UseShortOptionHandling: true,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "tail", Aliases: []string{"n"}, Value: "all", Usage: "only the last N lines"},
			&cli.BoolFlag{Name: "timestamps", Aliases: []string{"t"}, Usage: "start each line with its time"},
			&cli.BoolFlag{Name: "follow", Aliases: []string{"f"}, Usage: "go on printing new lines until the container stops"},
		},
		Action: printLogs,
	}
}

func printLogs(ctx *cli.Context) error {
	if ctx.NArg() != 1 {
		return commandFailed(fmt.Errorf("logs needs one container: mydocker logs [OPTIONS] CONTAINER"))
	}
	opts := logs.Options{Tail: -1, Timestamps: ctx.Bool("timestamps")}
	if tail := ctx.String("tail"); tail != "all" {
		if _, err := fmt.Sscan(tail, &opts.Tail); err != nil || opts.Tail < 0 {
			return commandFailed(fmt.Errorf("invalid --tail %q: use a number of lines, or all", tail))
		}
	}
	r, err := container.FindRecord(ctx.String("root"), ctx.Args().First())
	if err != nil {
		return commandFailed(err)
	}
	if !r.Detach {
		return commandFailed(fmt.Errorf("container %s ran in the foreground: its output went to the terminal that ran it, "+
			"and mydocker keeps a log only for containers run with -d", ctx.Args().First()))
	}
	if ctx.Bool("follow") {
		opts.Follow = r.StillWatched
	}
	return commandFailed(logs.Copy(r.LogPath(), opts, os.Stdout, os.Stderr))
}
