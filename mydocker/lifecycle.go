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
	"github.com/mydocker-book/mydocker/mydocker/logs"
	"github.com/mydocker-book/mydocker/mydocker/state"
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
		&cli.BoolFlag{Name: "init", Usage: "run a small init as PID 1 that reaps zombies and passes signals on"},
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
	cfg.Init = ctx.Bool("init")
	if limit := cfg.Resources.PidsLimit; cfg.Init && limit > 0 && limit <= container.ReaperTasks {
		return fmt.Errorf("--init with --pids-limit %d: the reaper is a Go program whose threads take up to %d of the container's tasks: "+
			"give --pids-limit %d or more, or leave out --init", limit, container.ReaperTasks, container.ReaperTasks+8)
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
	return eachContainer(ctx, "stop [-t SECONDS] [-s SIGNAL]", func(ref string) error { return stopOne(ctx, ref) })
}

func stopOne(ctx *cli.Context, ref string) error {
	r, err := container.FindRecord(ctx.String("root"), ref)
	if err != nil {
		return err
	}
	sig, timeout, err := stopSettings(ctx, r.Config)
	if err != nil {
		return err
	}
	return container.Stop(ctx.String("root"), ref, sig, timeout)
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

func startCommand() *cli.Command {
	return &cli.Command{
		Name:         "start",
		Usage:        "start stopped containers again, with the files they wrote",
		ArgsUsage:    "CONTAINER [CONTAINER...]",
		OnUsageError: usageError,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "attach", Aliases: []string{"a"}, Usage: "show the container's output until it exits, and exit with its status"},
		},
		Action: startContainers,
	}
}

// startContainers starts each container as run -d would, through a
// monitor: this same command line, run again by RunDetached with the
// container's id in MonitorEnv.
func startContainers(ctx *cli.Context) error {
	root := ctx.String("root")
	if id := os.Getenv(container.MonitorEnv); id != "" {
		cfg, err := container.RecordedConfig(root, id)
		if err != nil {
			fmt.Fprintf(os.Stderr, "mydocker: %v\n", err)
			return silentExit(container.ExitRuntimeError)
		}
		cfg.Debug = ctx.Bool("debug")
		return silentExit(container.Monitor(cfg))
	}
	if ctx.Bool("attach") {
		if ctx.NArg() != 1 {
			return commandFailed(errors.New("start -a takes one container"))
		}
		return startAttached(ctx, ctx.Args().First())
	}
	return eachContainer(ctx, "start [-a]", func(ref string) error {
		_, err := startOne(ctx, ref)
		return err
	})
}

// startOne starts a stopped container, and says where its log ended.
// Docker's start exits with 1 on any failure, whatever went wrong.
func startOne(ctx *cli.Context, ref string) (logEnd int64, err error) {
	r, err := container.FindRecord(ctx.String("root"), ref)
	if err != nil {
		return 0, err
	}
	if r.State.Status == state.Running {
		return 0, nil // as in Docker: it runs already, there is nothing to do
	}
	cfg, err := container.RecordedConfig(ctx.String("root"), r.ID)
	if err != nil {
		return 0, err
	}
	cfg.Debug = ctx.Bool("debug")
	if fi, err := os.Stat(r.LogPath()); err == nil {
		logEnd = fi.Size()
	}
	if err := container.RunDetached(cfg); err != nil {
		var failed *container.Error
		if errors.As(err, &failed) {
			return 0, failed.Err
		}
		return 0, err
	}
	return logEnd, nil
}

// startAttached starts a container and shows what it writes from then on,
// each stream on its own, and exits with its status, as `docker start -a`.
func startAttached(ctx *cli.Context, ref string) error {
	root := ctx.String("root")
	logEnd, err := startOne(ctx, ref)
	if err != nil {
		return commandFailed(err)
	}
	r, err := container.FindRecord(root, ref)
	if err != nil {
		return commandFailed(err)
	}
	opts := logs.Options{Tail: -1, Follow: r.StillWatched, Offset: logEnd}
	if err := logs.Copy(r.LogPath(), opts, os.Stdout, os.Stderr); err != nil {
		return commandFailed(err)
	}
	status, err := container.WaitFor(root, ref)
	if err != nil {
		return commandFailed(err)
	}
	return silentExit(status)
}

func restartCommand() *cli.Command {
	return &cli.Command{
		Name:         "restart",
		Usage:        "stop containers, then start them again",
		ArgsUsage:    "CONTAINER [CONTAINER...]",
		OnUsageError: usageError,
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "timeout", Aliases: []string{"t"}, Value: -1, Usage: "seconds to wait before killing", DefaultText: "the container's --stop-timeout, or 10"},
			&cli.StringFlag{Name: "signal", Aliases: []string{"s"}, Usage: "the signal to send first (default: the container's --stop-signal, or TERM)"},
		},
		Action: func(ctx *cli.Context) error {
			return eachContainer(ctx, "restart [-t SECONDS]", func(ref string) error {
				if err := stopOne(ctx, ref); err != nil {
					return err
				}
				_, err := startOne(ctx, ref)
				return err
			})
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

// reapCommand is not for users: with --init, the container's PID 1 is
// mydocker's binary, run as `/dev/init reap -- CMD...`.
func reapCommand() *cli.Command {
	return &cli.Command{
		Name:   "reap",
		Hidden: true,
		Flags:  []cli.Flag{&cli.IntFlag{Name: "exec-fd", Value: -1}},
		Action: func(ctx *cli.Context) error {
			return silentExit(container.Reap(ctx.Args().Slice(), ctx.Int("exec-fd")))
		},
	}
}
