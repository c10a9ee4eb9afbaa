//book:file bridge

package main

import (
	"errors"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/mydocker-book/mydocker/mydocker/container"
	"github.com/mydocker-book/mydocker/mydocker/network"
)

func networkCommand() *cli.Command {
	return &cli.Command{
		Name:  "network",
		Usage: "manage networks",
		Subcommands: []*cli.Command{
			{
				Name:         "create",
				Usage:        "create a network: a bridge of its own and a subnet",
				ArgsUsage:    "NAME",
				OnUsageError: usageError,
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "subnet", Usage: "its IPv4 subnet, such as 10.10.0.0/24 (default: a free one)"},
					&cli.StringFlag{Name: "gateway", Usage: "the bridge's address in the subnet (default: its first)"},
					&cli.StringFlag{Name: "driver", Aliases: []string{"d"}, Value: "bridge", Usage: "bridge, the only driver"},
				},
				Action: createNetwork,
			},
			{
				Name:         "ls",
				Aliases:      []string{"list"},
				Usage:        "list the networks",
				OnUsageError: usageError,
				Flags: []cli.Flag{
					&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "only their ids"},
				},
				Action: listNetworks,
			},
			{
				Name:         "inspect",
				Usage:        "show networks as JSON or through a Go template",
				ArgsUsage:    "NETWORK [NETWORK...]",
				OnUsageError: usageError,
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "a Go template, such as '{{.IPAM.Config}}'"},
				},
				Action: inspectNetworks,
			},
			{
				Name:         "rm",
				Aliases:      []string{"remove"},
				Usage:        "remove networks that no running container is on",
				ArgsUsage:    "NETWORK [NETWORK...]",
				OnUsageError: usageError,
				Action:       removeNetworks,
			},
		},
	}
}

func createNetwork(ctx *cli.Context) error {
	if ctx.NArg() != 1 {
		return commandFailed(errors.New("network create needs one name: mydocker network create [--subnet CIDR] [--gateway IP] NAME"))
	}
	if d := ctx.String("driver"); d != "bridge" {
		return commandFailed(fmt.Errorf("network driver %q is not known: bridge is the only one", d))
	}
	n, err := network.OpenStore(ctx.String("root")).Create(network.CreateOptions{
		Name: ctx.Args().First(), Subnet: ctx.String("subnet"), Gateway: ctx.String("gateway"),
	})
	if err != nil {
		return commandFailed(err)
	}
	fmt.Println(n.ID)
	return nil
}

func listNetworks(ctx *cli.Context) error {
	networks, err := network.OpenStore(ctx.String("root")).List()
	if err != nil {
		return commandFailed(err)
	}
	if ctx.Bool("quiet") {
		for _, n := range networks {
			fmt.Println(n.ID[:12])
		}
		return nil
	}
	out := tabwriter.NewWriter(os.Stdout, 10, 1, 3, ' ', 0)
	fmt.Fprintln(out, "NETWORK ID\tNAME\tDRIVER\tSCOPE")
	for _, n := range networks {
		fmt.Fprintf(out, "%s\t%s\tbridge\tlocal\n", n.ID[:12], n.Name)
	}
	return out.Flush()
}

// inspectedNetwork has the fields of docker network inspect that mydocker
// has, by Docker's names.
type inspectedNetwork struct {
	Name       string
	ID         string `json:"Id"`
	Created    string
	Scope      string
	Driver     string
	IPAM       inspectedIPAM
	Containers map[string]inspectedNetworkContainer
	Options    map[string]string
}

type inspectedIPAM struct {
	Driver string
	Config []inspectedIPAMConfig
}

type inspectedIPAMConfig struct {
	Subnet  string
	Gateway string
}

type inspectedNetworkContainer struct {
	Name        string
	MacAddress  string
	IPv4Address string
}

func inspectNetworks(ctx *cli.Context) error {
	if ctx.NArg() == 0 {
		return commandFailed(errors.New("network inspect needs at least one network: mydocker network inspect [-f FORMAT] NETWORK [NETWORK...]"))
	}
	tmpl, err := parseFormat(ctx.String("format"))
	if err != nil {
		return commandFailed(err)
	}
	root := ctx.String("root")
	records, err := container.Records(root)
	if err != nil {
		return commandFailed(err)
	}
	var all []inspectedNetwork
	var failures []error
	for _, ref := range ctx.Args().Slice() {
		n, err := network.OpenStore(root).Find(ref)
		if err != nil {
			failures = append(failures, err)
			continue
		}
		all = append(all, inspectNetwork(n, records))
	}
	if err := printInspected(all, tmpl); err != nil {
		return commandFailed(err)
	}
	return commandFailed(errors.Join(failures...))
}

func inspectNetwork(n network.Network, records []container.Record) inspectedNetwork {
	in := inspectedNetwork{
		Name: n.Name, ID: n.ID, Created: n.Created.Format(time.RFC3339Nano), Scope: "local", Driver: "bridge",
		IPAM:       inspectedIPAM{Driver: "default", Config: []inspectedIPAMConfig{{Subnet: n.Subnet.String(), Gateway: n.Gateway.String()}}},
		Containers: map[string]inspectedNetworkContainer{},
		Options:    map[string]string{"com.docker.network.bridge.name": n.Bridge},
	}
	for _, r := range records {
		ep := r.State.Endpoint
		if ep != nil && ep.Network == n.Name {
			in.Containers[r.ID] = inspectedNetworkContainer{
				Name: r.Name, MacAddress: ep.MAC, IPv4Address: fmt.Sprintf("%s/%d", ep.IP, ep.Subnet.Bits()),
			}
		}
	}
	return in
}

func removeNetworks(ctx *cli.Context) error {
	if ctx.NArg() == 0 {
		return commandFailed(errors.New("network rm needs at least one network: mydocker network rm NETWORK [NETWORK...]"))
	}
	root := ctx.String("root")
	// Containers killed with their monitor still hold their addresses
	// until a command settles them: this one does, first.
	container.Reconcile(root)
	var failures []error
	for _, ref := range ctx.Args().Slice() {
		if _, err := network.OpenStore(root).Remove(ref, network.OpenIPAM(root)); err != nil {
			failures = append(failures, err)
			continue
		}
		fmt.Println(ref)
	}
	return commandFailed(errors.Join(failures...))
}
