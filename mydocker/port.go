//book:file bridge

package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/mydocker-book/mydocker/mydocker/container"
)

func portCommand() *cli.Command {
	return &cli.Command{
		Name:         "port",
		Usage:        "list the published ports of a running container",
		ArgsUsage:    "CONTAINER",
		OnUsageError: usageError,
		Action:       listPorts,
	}
}

// listPorts prints the container's published ports as Docker does, one
// a line: 80/tcp -> 0.0.0.0:8080. A stopped container has none: its rules
// went when it stopped.
func listPorts(ctx *cli.Context) error {
	if ctx.NArg() != 1 {
		return commandFailed(errors.New("port needs one container: mydocker port CONTAINER"))
	}
	r, err := container.FindRecord(ctx.String("root"), ctx.Args().First())
	if err != nil {
		return commandFailed(err)
	}
	if r.State.Endpoint == nil {
		return nil
	}
	for _, p := range r.State.Endpoint.Ports {
		fmt.Printf("%d/%s -> %s:%d\n", p.ContainerPort, p.Protocol, p.HostAddr(), p.HostPort)
	}
	return nil
}

// portsColumn is ps's PORTS: the published ports of a running container,
// as Docker writes them (0.0.0.0:8080->80/tcp), separated by commas.
func portsColumn(r container.Record) string {
	if r.State.Endpoint == nil {
		return ""
	}
	var ports []string
	for _, p := range r.State.Endpoint.Ports {
		ports = append(ports, p.String())
	}
	return strings.Join(ports, ", ")
}
