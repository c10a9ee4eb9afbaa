//book:file lifecycle

package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	units "github.com/docker/go-units"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/mydocker-book/mydocker/mydocker/container"
)

// defaultStopTimeout is Docker's grace period before stop kills.
const defaultStopTimeout = 10

// lifecycleFlags are run's flags of this chapter.
func lifecycleFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "stop-signal", Usage: "the signal stop sends first (default: TERM)"},
		&cli.IntFlag{Name: "stop-timeout", Usage: "seconds stop waits before it kills", DefaultText: "10"},
		&cli.GenericFlag{Name: "env", Aliases: []string{"e"}, Value: &exactValues{}, Usage: "set KEY=VALUE, or pass KEY on from this environment (repeatable)"},
		&cli.GenericFlag{Name: "env-file", Value: &exactValues{}, Usage: "read KEY=VALUE lines from a file (repeatable)"},
		&cli.StringFlag{Name: "workdir", Aliases: []string{"w"}, Usage: "where the command starts in the container, made if missing"},
		&cli.StringFlag{Name: "entrypoint", Usage: "a program to run, with the command as its arguments"},
	}
}

func lifecycleFromFlags(ctx *cli.Context, cfg *container.Config) error {
	if ctx.IsSet("stop-signal") {
		if _, err := container.ParseSignal(ctx.String("stop-signal")); err != nil {
			return fmt.Errorf("--stop-signal: %w", err)
		}
		cfg.StopSignal = ctx.String("stop-signal")
	}
	if ctx.IsSet("stop-timeout") {
		seconds := ctx.Int("stop-timeout")
		cfg.StopTimeout = &seconds
	}
	env, err := container.ParseEnv(*ctx.Generic("env").(*exactValues), *ctx.Generic("env-file").(*exactValues), os.LookupEnv)
	if err != nil {
		return err
	}
	cfg.Env = env
	if dir := ctx.String("workdir"); dir != "" {
		if !strings.HasPrefix(dir, "/") {
			return fmt.Errorf("the working directory %q is not an absolute path: give it from the container's /", dir)
		}
		cfg.WorkDir = dir
	}
	if ep := ctx.String("entrypoint"); ep != "" {
		cfg.Entrypoint = []string{ep}
		cfg.Args = append([]string{ep}, cfg.Args...)
	}
	return nil
}

func killCommand() *cli.Command {
	return &cli.Command{
		Name:         "kill",
		Usage:        "send a signal to running containers (default: SIGKILL)",
		ArgsUsage:    "CONTAINER [CONTAINER...]",
		OnUsageError: usageError,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "signal", Aliases: []string{"s"}, Value: "KILL", Usage: "the signal: a name (TERM, SIGUSR1) or a number"},
		},
		Action: func(ctx *cli.Context) error {
			sig, err := container.ParseSignal(ctx.String("signal"))
			if err != nil {
				return commandFailed(err)
			}
			return eachContainer(ctx, "kill [-s SIGNAL]", func(ref string) error {
				return container.Kill(ctx.String("root"), ref, sig)
			})
		},
	}
}

func stopCommand() *cli.Command {
	return &cli.Command{
		Name:         "stop",
		Usage:        "stop running containers: the stop signal, then SIGKILL after a grace period",
		ArgsUsage:    "CONTAINER [CONTAINER...]",
		OnUsageError: usageError,
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "timeout", Aliases: []string{"t"}, Value: -1, Usage: "seconds to wait before killing", DefaultText: "the container's --stop-timeout, or 10"},
			&cli.StringFlag{Name: "signal", Aliases: []string{"s"}, Usage: "the signal to send first (default: the container's --stop-signal, or TERM)"},
		},
		Action: stopContainers,
	}
}

func stopContainers(ctx *cli.Context) error {
	root := ctx.String("root")
	return eachContainer(ctx, "stop [-t SECONDS] [-s SIGNAL]", func(ref string) error {
		r, err := container.FindRecord(root, ref)
		if err != nil {
			return err
		}
		sig, timeout, err := stopSettings(ctx, r.Config)
		if err != nil {
			return err
		}
		return container.Stop(root, ref, sig, timeout)
	})
}

// stopSettings are stop's flags, or else the container's own, or else
// Docker's defaults: SIGTERM and 10 seconds.
func stopSettings(ctx *cli.Context, cfg container.Config) (unix.Signal, time.Duration, error) {
	name := ctx.String("signal")
	if name == "" {
		name = cfg.StopSignal
	}
	if name == "" {
		name = "TERM"
	}
	sig, err := container.ParseSignal(name)
	if err != nil {
		return 0, 0, err
	}
	seconds := ctx.Int("timeout")
	if seconds < 0 && cfg.StopTimeout != nil {
		seconds = *cfg.StopTimeout
	}
	if seconds < 0 {
		seconds = defaultStopTimeout
	}
	return sig, time.Duration(seconds) * time.Second, nil
}

func waitCommand() *cli.Command {
	return &cli.Command{
		Name:         "wait",
		Usage:        "wait until containers stop, and print their exit codes",
		ArgsUsage:    "CONTAINER [CONTAINER...]",
		OnUsageError: usageError,
		Action: func(ctx *cli.Context) error {
			if ctx.NArg() == 0 {
				return commandFailed(errors.New("wait needs at least one container: mydocker wait CONTAINER [CONTAINER...]"))
			}
			failed := false
			for _, ref := range ctx.Args().Slice() {
				status, err := container.WaitFor(ctx.String("root"), ref)
				if err != nil {
					fmt.Fprintf(os.Stderr, "mydocker: %v\n", err)
					failed = true
					continue
				}
				fmt.Println(status)
			}
			if failed {
				return silentExit(1)
			}
			return nil
		},
	}
}

func pauseCommand() *cli.Command {
	return &cli.Command{
		Name:         "pause",
		Usage:        "freeze every process of running containers",
		ArgsUsage:    "CONTAINER [CONTAINER...]",
		OnUsageError: usageError,
		Action: func(ctx *cli.Context) error {
			return eachContainer(ctx, "pause", func(ref string) error { return container.Pause(ctx.String("root"), ref) })
		},
	}
}

func unpauseCommand() *cli.Command {
	return &cli.Command{
		Name:         "unpause",
		Usage:        "thaw paused containers",
		ArgsUsage:    "CONTAINER [CONTAINER...]",
		OnUsageError: usageError,
		Action: func(ctx *cli.Context) error {
			return eachContainer(ctx, "unpause", func(ref string) error { return container.Unpause(ctx.String("root"), ref) })
		},
	}
}

// containerCommand is `mydocker container`, for what Docker has only
// there: prune.
func containerCommand() *cli.Command {
	return &cli.Command{
		Name:  "container",
		Usage: "manage containers",
		Subcommands: []*cli.Command{{
			Name:         "prune",
			Usage:        "remove every stopped container",
			OnUsageError: usageError,
			Flags: []cli.Flag{
				&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "do not ask for confirmation"},
			},
			Action: pruneContainers,
		}},
	}
}

func pruneContainers(ctx *cli.Context) error {
	if !ctx.Bool("force") && !confirmed("WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ") {
		return nil
	}
	pruned, err := container.Prune(ctx.String("root"))
	if len(pruned.IDs) > 0 {
		fmt.Println("Deleted Containers:")
		for _, id := range pruned.IDs {
			fmt.Println(id)
		}
		fmt.Println()
	}
	fmt.Printf("Total reclaimed space: %s\n", units.HumanSize(float64(pruned.Bytes)))
	return commandFailed(err)
}

// confirmed asks a yes-or-no question on standard input, as Docker does.
func confirmed(question string) bool {
	fmt.Print(question)
	answer, _ := bufio.NewReader(os.Stdin).ReadString('\n')
	answer = strings.ToLower(strings.TrimSpace(answer))
	return answer == "y" || answer == "yes"
}
