//book:file detach

package main

import (
	"errors"
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
// called as Docker does; a failure is reported and the others still go.
func removeContainers(ctx *cli.Context) error {
	if ctx.NArg() == 0 {
		return commandFailed(errors.New("rm needs at least one container: mydocker rm [-f] CONTAINER [CONTAINER...]"))
	}
	failed := 0
	for _, ref := range ctx.Args().Slice() {
		if err := container.Remove(ctx.String("root"), ref, ctx.Bool("force")); err != nil {
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
