//book:file detach

package main

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	units "github.com/docker/go-units"
	"github.com/urfave/cli/v2"

	"github.com/mydocker-book/mydocker/mydocker/container"
	"github.com/mydocker-book/mydocker/mydocker/state"
)

func psCommand() *cli.Command {
	return &cli.Command{
		Name:         "ps",
		Usage:        "list containers (running ones; -a for all)",
		OnUsageError: usageError,
		// Short flags combine (-aq, -ft), as in Docker.
		UseShortOptionHandling: true,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "show stopped containers too"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only the ids"},
			&cli.BoolFlag{Name: "no-trunc", Usage: "do not shorten ids and commands"},
		},
		Action: listContainers,
	}
}

func listContainers(ctx *cli.Context) error {
	records, err := container.Records(ctx.String("root"))
	if err != nil {
		return commandFailed(err)
	}
	// Newest first, as Docker lists them.
	slices.SortStableFunc(records, func(a, b container.Record) int { return b.State.Created.Compare(a.State.Created) })
	out := tabwriter.NewWriter(os.Stdout, 10, 1, 3, ' ', 0)
	if !ctx.Bool("quiet") {
		//book:replace detach bridge
		// fmt.Fprintln(out, "CONTAINER ID\tIMAGE\tCOMMAND\tCREATED\tSTATUS\tNAMES")
		//book:end
		//book:add bridge
		fmt.Fprintln(out, "CONTAINER ID\tIMAGE\tCOMMAND\tCREATED\tSTATUS\tPORTS\tNAMES")
		//book:end
	}
	now := time.Now()
	for _, r := range records {
		if !ctx.Bool("all") && r.State.Status != state.Running {
			continue
		}
		id, command := container.ShortID(r.ID), commandLine(r.Args)
		if ctx.Bool("no-trunc") {
			id = r.ID
		} else {
			command = ellipsis(command, 20)
		}
		if ctx.Bool("quiet") {
			fmt.Fprintln(out, id)
			continue
		}
		//book:replace detach bridge
		// fmt.Fprintf(out, "%s\t%s\t%s\t%s ago\t%s\t%s\n", id, r.Image, strconv.Quote(command),
		// 	units.HumanDuration(now.Sub(r.State.Created)), describeRecord(r, now), r.Name)
		//book:end
		//book:add bridge
		fmt.Fprintf(out, "%s\t%s\t%s\t%s ago\t%s\t%s\t%s\n", id, r.Image, strconv.Quote(command),
			units.HumanDuration(now.Sub(r.State.Created)), describeRecord(r, now), portsColumn(r), r.Name)
		//book:end
	}
	return out.Flush()
}

// describeRecord is ps's STATUS column, in Docker's words.
func describeRecord(r container.Record, now time.Time) string {
	//book:add lifecycle
	if r.Paused {
		return describeState(r.State, now) + " (Paused)"
	}
	//book:end
	return describeState(r.State, now)
}

// describeState is a container's state, in Docker's words.
func describeState(st state.State, now time.Time) string {
	switch st.Status {
	case state.Running:
		return "Up " + units.HumanDuration(now.Sub(*st.Started))
	case state.Created:
		return "Created"
	}
	ago := ""
	if st.Finished != nil {
		ago = " " + units.HumanDuration(now.Sub(*st.Finished)) + " ago"
	}
	if st.ExitCode == nil {
		return "Exited (unknown)" + ago
	}
	return fmt.Sprintf("Exited (%d)%s", *st.ExitCode, ago)
}

// commandLine is the command as ps shows it: its words joined by spaces.
func commandLine(args []string) string { return strings.Join(args, " ") }

// ellipsis shortens s to max characters, the last of them "…".
func ellipsis(s string, max int) string {
	r := []rune(s)
	if len(r) <= max {
		return s
	}
	return string(r[:max-1]) + "…"
}

// commandFailed gives an error of ps, logs, inspect or rm Docker's exit
// status for them, 1 (125 is run's, for "the runtime failed").
func commandFailed(err error) error {
	if err == nil {
		return nil
	}
	return &container.Error{Code: 1, Err: err}
}
