//book:file netns

package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"

	"github.com/mydocker-book/mydocker/mydocker/container"
	"github.com/mydocker-book/mydocker/mydocker/network"
)

// networkFlags are run's flags of this chapter.
func networkFlags() []cli.Flag {
	return []cli.Flag{
		//book:replace netns bridge
		// &cli.StringFlag{Name: "network", Aliases: []string{"net"}, Value: container.NetworkBridge, Usage: "bridge: a veth pair to mydocker's bridge; none: lo alone; host: the host's network"},
		// &cli.StringFlag{Name: "ip", Usage: "the container's address on the bridge's subnet, such as 172.29.0.10"},
		//book:end
		//book:add bridge
		&cli.StringFlag{
			Name: "network", Aliases: []string{"net"}, Value: container.NetworkBridge,
			Usage: "bridge: a veth pair to mydocker's own bridge; none: lo alone; host: the host's network; NAME: a network of network create",
		},
		&cli.StringFlag{Name: "ip", Usage: "the container's address on its network's subnet, such as 172.29.0.10"},
		&cli.GenericFlag{
			Name: "publish", Aliases: []string{"p"}, Value: &exactValues{},
			Usage: "publish a port of the container on the host: [HOST_IP:]HOST_PORT:CONTAINER_PORT[/tcp|udp] (repeatable)",
		},
		//book:end
		&cli.StringFlag{
			Name: "bridge", Value: network.DefaultBridge, EnvVars: []string{"MYDOCKER_BRIDGE"},
			Usage: "the bridge a state root's bridge network gets when first used",
		},
		&cli.StringFlag{
			Name: "bridge-subnet", Value: network.DefaultSubnet, EnvVars: []string{"MYDOCKER_BRIDGE_SUBNET"},
			Usage: "the subnet a state root's bridge network gets when first used",
		},
	}
}

func networkFromFlags(ctx *cli.Context, cfg *container.Config) error {
	cfg.Network, cfg.IP = ctx.String("network"), ctx.String("ip")
	if err := container.CheckNetwork(cfg.Network, cfg.IP); err != nil {
		return err
	}
	cfg.BridgeName, cfg.BridgeSubnet = ctx.String("bridge"), ctx.String("bridge-subnet")
	//book:add bridge
	if err := portsFromFlags(ctx, cfg); err != nil {
		return err
	}
	//book:end
	// Docker gives a container on the host's network the host's name.
	if cfg.Network == container.NetworkHost && !ctx.IsSet("hostname") {
		if name, err := os.Hostname(); err == nil {
			cfg.Hostname = name
		}
	}
	return nil
}

//book:add bridge

// portsFromFlags reads -p. A container on the host's network has the
// host's ports already: Docker drops -p there with a warning, and so does
// mydocker; with no network at all there is nothing to lead to.
func portsFromFlags(ctx *cli.Context, cfg *container.Config) error {
	specs := *ctx.Generic("publish").(*exactValues)
	if len(specs) == 0 {
		return nil
	}
	switch cfg.Network {
	case container.NetworkHost:
		logrus.Warn("Published ports are discarded when using host network mode")
		return nil
	case container.NetworkNone:
		return errors.New("-p needs a network with addresses: --network none has none")
	}
	for _, spec := range specs {
		p, err := network.ParsePortMapping(spec)
		if err != nil {
			return err
		}
		for _, q := range cfg.Ports {
			if q.Protocol == p.Protocol && q.HostPort == p.HostPort {
				return fmt.Errorf("-p %s: the host port %d/%s is given twice", spec, p.HostPort, p.Protocol)
			}
		}
		cfg.Ports = append(cfg.Ports, p)
	}
	return nil
}

//book:end
