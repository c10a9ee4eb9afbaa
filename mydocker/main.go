//book:file namespaces

// Command mydocker is the container runtime this book builds, one chapter at a
// time. The same binary is both the command you type and, re-executed as
// "mydocker init", the first process inside every container.
package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"

	"github.com/mydocker-book/mydocker/mydocker/container"
	"github.com/mydocker-book/mydocker/mydocker/faults"
	"github.com/mydocker-book/mydocker/mydocker/network"
)

func main() {
	status := exitCode(newApp().Run(os.Args))
	faults.Report() // in the tests' fault-injecting build only
	os.Exit(status)
}

func newApp() *cli.App {
	// Docker spells the hostname flag -h, so help keeps only its long name.
	cli.HelpFlag = &cli.BoolFlag{Name: "help", Usage: "show help"}
	cli.VersionPrinter = func(ctx *cli.Context) { fmt.Fprintln(ctx.App.Writer, versionLine()) }
	return &cli.App{
		Name:    "mydocker",
		Usage:   "a small container runtime, built chapter by chapter",
		Version: version(),
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "debug", Usage: "trace every kernel-level step on stderr"},
			&cli.StringFlag{
				Name: "root", Value: "/var/lib/mydocker", EnvVars: []string{"MYDOCKER_ROOT"},
				Usage: "the state root: where images and containers are kept",
			},
			//book:add bridge
			&cli.BoolFlag{
				Name: "iptables", Value: true, EnvVars: []string{"MYDOCKER_IPTABLES"},
				Usage: "give networks their NAT and isolation rules (false: as dockerd --iptables=false)",
			},
			//book:end
		},
		Before: setUpLogging,
		//book:replace namespaces detach
		// Commands:       []*cli.Command{runCommand(), initCommand()},
		//book:end
		//book:replace detach exec
		// Commands: []*cli.Command{runCommand(), psCommand(), logsCommand(), inspectCommand(), topCommand(), attachCommand(), rmCommand(), initCommand(), watchCommand()},
		//book:end
		//book:replace exec lifecycle
		// Commands: []*cli.Command{runCommand(), execCommand(), psCommand(), logsCommand(), inspectCommand(), topCommand(), attachCommand(), rmCommand(), initCommand(), watchCommand()},
		//book:end
		//book:replace lifecycle images
		// Commands: []*cli.Command{
		// 	runCommand(), execCommand(), psCommand(), logsCommand(), inspectCommand(), topCommand(), attachCommand(),
		// 	startCommand(), stopCommand(), restartCommand(), killCommand(), waitCommand(), pauseCommand(), unpauseCommand(),
		// 	rmCommand(), containerCommand(),
		// 	initCommand(), watchCommand(), reapCommand(),
		// },
		//book:end
		//book:replace images bridge
		// Commands: []*cli.Command{
		// 	runCommand(), execCommand(), psCommand(), logsCommand(), inspectCommand(), topCommand(), attachCommand(),
		// 	startCommand(), stopCommand(), restartCommand(), killCommand(), waitCommand(), pauseCommand(), unpauseCommand(),
		// 	rmCommand(), containerCommand(),
		// 	imagesCommand(), importCommand(), commitCommand(), exportCommand(), saveCommand(), loadCommand(),
		// 	historyCommand(), tagCommand(), rmiCommand(),
		// 	initCommand(), watchCommand(), reapCommand(),
		// },
		//book:end
		//book:add bridge
		Commands: []*cli.Command{
			runCommand(), execCommand(), psCommand(), logsCommand(), inspectCommand(), topCommand(), attachCommand(),
			startCommand(), stopCommand(), restartCommand(), killCommand(), waitCommand(), pauseCommand(), unpauseCommand(),
			rmCommand(), containerCommand(),
			imagesCommand(), importCommand(), commitCommand(), exportCommand(), saveCommand(), loadCommand(),
			historyCommand(), tagCommand(), rmiCommand(),
			networkCommand(), portCommand(),
			initCommand(), watchCommand(), reapCommand(),
		},
		//book:end
		Action:         noCommand,
		ExitErrHandler: func(*cli.Context, error) {}, // exit codes are decided in exitCode
		OnUsageError:   usageError,
	}
}

// usageError keeps a mistyped flag to one line, as Docker does, instead of
// printing the whole help.
func usageError(ctx *cli.Context, err error, _ bool) error {
	help := "mydocker --help"
	if ctx.Command != nil && ctx.Command.Name != ctx.App.Name {
		help = "mydocker " + ctx.Command.Name + " --help"
	}
	return fmt.Errorf("%w: see '%s'", err, help)
}

// noCommand runs when the first argument is no command: mydocker alone
// shows the help, and an unknown word is a usage error that lists the
// commands there are (urfave/cli would say "No help topic").
func noCommand(ctx *cli.Context) error {
	if !ctx.Args().Present() {
		return cli.ShowAppHelp(ctx)
	}
	var names []string
	for _, c := range ctx.App.VisibleCommands() {
		names = append(names, c.Name)
	}
	return fmt.Errorf("unknown command %q: the commands are %s; see 'mydocker --help'",
		ctx.Args().First(), strings.Join(names, ", "))
}

func setUpLogging(ctx *cli.Context) error {
	if err := makeStateRootAbsolute(ctx); err != nil {
		return err
	}
	logrus.SetOutput(os.Stderr)
	logrus.SetFormatter(&traceFormatter{who: "mydocker"})
	if ctx.Bool("debug") {
		logrus.SetLevel(logrus.DebugLevel)
	}
	//book:add bridge
	network.ManageNetfilter(ctx.Bool("iptables"))
	//book:end
	return nil
}

// makeStateRootAbsolute turns a relative --root into the directory it
// names from here: the init and the kernel resolve the paths mydocker
// gives them from other working directories (the overlay's options from
// the layer store, from the images chapter on), where a relative one
// would name another directory.
func makeStateRootAbsolute(ctx *cli.Context) error {
	root, err := filepath.Abs(ctx.String("root"))
	if err != nil {
		return fmt.Errorf("the state root %q: %w", ctx.String("root"), err)
	}
	return ctx.Set("root", root)
}

// traceFormatter prints one short line per step, naming the process that
// took it (with its PID as that process sees it), so that the parent's and
// the init's steps can be told apart.
type traceFormatter struct{ who string }

func (f *traceFormatter) Format(e *logrus.Entry) ([]byte, error) {
	return []byte(fmt.Sprintf("%s[%d] %s: %s\n", f.who, os.Getpid(), e.Level, e.Message)), nil
}

// silentExit carries an exit status up to main, which ends mydocker with
// it and prints nothing: the container's own status, or the init's after it
// has told the parent what went wrong.
type silentExit int

func (s silentExit) Error() string { return fmt.Sprintf("exit status %d", int(s)) }

// exitCode follows Docker: the container's own status when it ran, 126 or
// 127 when its command could not be run, 125 when mydocker itself failed.
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var silent silentExit
	if errors.As(err, &silent) {
		return int(silent)
	}
	fmt.Fprintf(os.Stderr, "mydocker: %v\n", err)
	var failed *container.Error
	if errors.As(err, &failed) {
		return failed.Code
	}
	return container.ExitRuntimeError
}
