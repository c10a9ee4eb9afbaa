//book:file namespaces

package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/mydocker-book/mydocker/mydocker/container"
	"github.com/mydocker-book/mydocker/mydocker/state"
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
			//book:add detach
			&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "run the container in the background and print its id"},
			&cli.StringFlag{Name: "name", Usage: "give the container a name"},
			&cli.BoolFlag{Name: "rm", Usage: "remove the container once it has exited"},
			//book:end
			//book:add volumes
			&cli.GenericFlag{Name: "volume", Aliases: []string{"v"}, Value: &exactValues{}, Usage: "bind a host directory: HOST:CONTAINER[:ro] (repeatable)"},
			//book:end
		},
		Action: runContainer,
	}
	//book:add cgroups
	cmd.Flags = append(cmd.Flags, limitFlags()...)
	//book:end
	//book:add security
	cmd.Flags = append(cmd.Flags, securityFlags()...)
	//book:end
	//book:add lifecycle
	cmd.Flags = append(cmd.Flags, lifecycleFlags()...)
	//book:end
	//book:add netns
	cmd.Flags = append(cmd.Flags, networkFlags()...)
	//book:end
	return cmd
}

func runContainer(ctx *cli.Context) error {
	cfg, err := configFromFlags(ctx)
	if err != nil {
		return err
	}
	//book:add detach
	switch {
	case cfg.Detach && os.Getenv(container.MonitorEnv) != "":
		return silentExit(container.Monitor(cfg))
	case cfg.Detach:
		if err := container.RunDetached(cfg); err != nil {
			return err
		}
		fmt.Println(cfg.ID)
		return nil
	}
	//book:end
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
	//book:replace rootfs lifecycle
	// if ctx.NArg() < 2 {
	// 	return container.Config{}, errors.New("run needs an image and a command: mydocker run [OPTIONS] IMAGE CMD [ARG...], such as mydocker run -it busybox sh")
	// }
	//book:end
	//book:replace lifecycle images
	// if ctx.NArg() < 2 && !(ctx.NArg() == 1 && ctx.String("entrypoint") != "") {
	// 	return container.Config{}, errors.New("run needs an image and a command: mydocker run [OPTIONS] IMAGE CMD [ARG...], such as mydocker run -it busybox sh")
	// }
	//book:end
	//book:add images
	// The command may come from the image (container/imagecfg.go).
	if ctx.NArg() < 1 {
		return container.Config{}, errors.New("run needs an image and a command, or an image that has one: mydocker run [OPTIONS] IMAGE [CMD [ARG...]], such as mydocker run -it busybox sh")
	}
	//book:end
	if os.Geteuid() != 0 {
		return container.Config{}, errors.New("run needs root, because creating namespaces needs CAP_SYS_ADMIN: use sudo mydocker run ...")
	}
	id := container.NewID()
	//book:add detach
	// The monitor of `run -d` parses the same arguments, for the id that
	// `run -d` chose (container/detach.go).
	if monitorOf := os.Getenv(container.MonitorEnv); monitorOf != "" && ctx.Bool("detach") {
		id = monitorOf
	}
	//book:end
	hostname := ctx.String("hostname")
	if hostname == "" {
		hostname = container.ShortID(id)
	}
	if err := container.CheckHostname(hostname); err != nil {
		return container.Config{}, err
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
		//book:add detach
		Detach:     ctx.Bool("detach"),
		AutoRemove: ctx.Bool("rm"),
		//book:end
	}
	//book:add detach
	if ctx.IsSet("name") {
		name, err := state.CheckName(ctx.String("name"))
		if err != nil {
			return cfg, err
		}
		cfg.Name = name
	}
	//book:end
	//book:add volumes
	for _, spec := range *ctx.Generic("volume").(*exactValues) {
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
	if cfg.CgroupNS, err = cgroupNSFromFlags(ctx); err != nil {
		return cfg, err
	}
	//book:end
	//book:add security
	if err := securityFromFlags(ctx, &cfg); err != nil {
		return cfg, err
	}
	//book:end
	//book:add lifecycle
	if err := lifecycleFromFlags(ctx, &cfg); err != nil {
		return cfg, err
	}
	//book:end
	//book:add netns
	if err := networkFromFlags(ctx, &cfg); err != nil {
		return cfg, err
	}
	//book:end
	return cfg, nil
}

//book:add volumes

// exactValues collects the values of a repeatable flag, such as -v,
// exactly as they were typed. urfave/cli's own
// string-slice flag would split a path at its commas, trim its spaces and
// pass it through JSON, which replaces bytes that are not UTF-8: a path is
// bytes, and a different path is a different directory.
type exactValues []string

// Set adds one value. urfave/cli also hands a flag's own String back to Set
// when it copies the value of -v to --volume (one value behind both
// names): String starts with a NUL byte, which no argument can hold, so
// that copy is recognised and skipped.
func (v *exactValues) Set(spec string) error {
	if !strings.HasPrefix(spec, "\x00") {
		*v = append(*v, spec)
	}
	return nil
}

func (v *exactValues) String() string {
	if len(*v) == 0 {
		return ""
	}
	return "\x00" + strings.Join(*v, " ")
}

//book:end
