//book:file detach

package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/mydocker-book/mydocker/mydocker/container"
)

func rmCommand() *cli.Command {
	return &cli.Command{
		Name:         "rm",
		Usage:        "remove stopped containers (-f: running ones too, killed first)",
		ArgsUsage:    "CONTAINER [CONTAINER...]",
		OnUsageError: usageError,
		// Short flags combine (-aq, -ft), as in Docker.
		UseShortOptionHandling: true,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "kill a running container, then remove it"},
		},
		Action: removeContainers,
	}
}

// removeContainers removes each container named, printing what it was
// called as Docker does.
func removeContainers(ctx *cli.Context) error {
	return eachContainer(ctx, "rm [-f]", func(ref string) error {
		return container.Remove(ctx.String("root"), ref, ctx.Bool("force"))
	})
}

// eachContainer acts on every container the arguments name, printing
// each name as it is done; a failure is reported and the others still go,
// as in Docker, and the exit status is 1 if any failed.
func eachContainer(ctx *cli.Context, usage string, act func(ref string) error) error {
	if ctx.NArg() == 0 {
		return commandFailed(fmt.Errorf("%s needs at least one container: mydocker %s CONTAINER [CONTAINER...]", ctx.Command.Name, usage))
	}
	failed := 0
	for _, ref := range ctx.Args().Slice() {
		if err := act(ref); err != nil {
			fmt.Fprintf(os.Stderr, "mydocker: %v\n", err)
			failed++
			continue
		}
		fmt.Println(ref)
	}
	if failed > 0 {
		return silentExit(1)
	}
	return nil
}
