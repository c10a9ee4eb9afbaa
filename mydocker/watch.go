//book:file detach

package main

import (
	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"

	"github.com/mydocker-book/mydocker/mydocker/container"
)

// watchCommand is not for users: the monitor of `mydocker run -d` execs it
// once the container runs, to wait for it (container/watch.go).
func watchCommand() *cli.Command {
	return &cli.Command{
		Name:   "watch",
		Hidden: true,
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "pid"},
			&cli.IntFlag{Name: "lock"},
			&cli.IntFlag{Name: "stdout", Value: -1},
			&cli.IntFlag{Name: "stderr", Value: -1},
			&cli.IntFlag{Name: "stdin", Value: -1},
			&cli.IntFlag{Name: "console", Value: -1},
			&cli.IntFlag{Name: "attach", Value: -1},
		},
		Action: runWatch,
	}
}

func runWatch(ctx *cli.Context) error {
	logrus.SetFormatter(&traceFormatter{who: "mydocker watch"})
	h := container.Handover{
		Pid: ctx.Int("pid"), Lock: ctx.Int("lock"),
		Stdout: ctx.Int("stdout"), Stderr: ctx.Int("stderr"), Stdin: ctx.Int("stdin"),
		Console: ctx.Int("console"), Attach: ctx.Int("attach"),
	}
	status, err := container.Watch(ctx.String("root"), ctx.Args().First(), h)
	if err != nil {
		return err
	}
	return silentExit(status)
}
