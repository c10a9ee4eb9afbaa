//book:file namespaces

package main

import (
	"errors"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/mydocker-book/mydocker/mydocker/container"
)

func runCommand() *cli.Command {
	cmd := &cli.Command{
		Name:  "run",
		Usage: "run a command in a new container",
		//book:replace namespaces rootfs
		// ArgsUsage: "CMD [ARG...]",
		//book:end
		//book:add rootfs
		ArgsUsage: "IMAGE CMD [ARG...]",
		//book:end
		// Lets -it mean -i -t, as in Docker.
		UseShortOptionHandling: true,
		OnUsageError:           usageError,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "interactive", Aliases: []string{"i"}, Usage: "keep standard input open"},
			&cli.BoolFlag{Name: "tty", Aliases: []string{"t"}, Usage: "give the container this terminal"},
			&cli.StringFlag{Name: "hostname", Aliases: []string{"h"}, Usage: "the container's hostname (default: its id)"},
			//book:add volumes
			&cli.StringSliceFlag{Name: "volume", Aliases: []string{"v"}, Usage: "bind a host directory: HOST:CONTAINER[:ro] (repeatable)"},
			//book:end
		},
		Action: runContainer,
	}
	//book:add cgroups
	cmd.Flags = append(cmd.Flags, limitFlags()...)
	//book:end
	return cmd
}

func runContainer(ctx *cli.Context) error {
	cfg, err := configFromFlags(ctx)
	if err != nil {
		return err
	}
	status, err := container.Run(cfg)
	if err != nil {
		return err
	}
	return silentExit(status)
}

func configFromFlags(ctx *cli.Context) (container.Config, error) {
	//book:replace namespaces rootfs
	// if ctx.NArg() == 0 {
	// 	return container.Config{}, errors.New("run needs a command: mydocker run [-it] [-h NAME] CMD [ARG...]")
	// }
	//book:end
	//book:add rootfs
	if ctx.NArg() < 2 {
		return container.Config{}, errors.New("run needs an image and a command: mydocker run [OPTIONS] IMAGE CMD [ARG...], such as mydocker run -it busybox sh")
	}
	//book:end
	if os.Geteuid() != 0 {
		return container.Config{}, errors.New("run needs root, because creating namespaces needs CAP_SYS_ADMIN: use sudo mydocker run ...")
	}
	id := container.NewID()
	hostname := ctx.String("hostname")
	if hostname == "" {
		hostname = container.ShortID(id)
	}
	cfg := container.Config{
		ID: id,
		//book:replace namespaces rootfs
		// Args:        ctx.Args().Slice(),
		//book:end
		//book:add rootfs
		Image: ctx.Args().First(),
		Args:  ctx.Args().Tail(),
		//book:end
		Hostname:    hostname,
		Interactive: ctx.Bool("interactive"),
		TTY:         ctx.Bool("tty"),
		Debug:       ctx.Bool("debug"),
		StateRoot:   ctx.String("root"),
	}
	//book:add volumes
	for _, spec := range ctx.StringSlice("volume") {
		v, err := container.ParseVolume(spec)
		if err != nil {
			return cfg, err
		}
		cfg.Volumes = append(cfg.Volumes, v)
	}
	//book:end
	//book:add cgroups
	var err error
	if cfg.Resources, cfg.CgroupParent, err = limitsFromFlags(ctx); err != nil {
		return cfg, err
	}
	//book:end
	return cfg, nil
}
