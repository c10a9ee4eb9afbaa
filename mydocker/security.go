//book:file security

package main

import (
	"fmt"

	"github.com/mydocker-book/mydocker/mydocker/container"
	"github.com/urfave/cli/v2"
)

// securityFlags are Docker's flags for what the container may do.
func securityFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "cap-add", Usage: "add a capability to Docker's default set, such as NET_ADMIN, or ALL (repeatable)"},
		&cli.StringSliceFlag{Name: "cap-drop", Usage: "drop a capability from the set, such as CHOWN, or ALL (repeatable)"},
		&cli.BoolFlag{Name: "privileged", Usage: "keep every capability, and leave /proc and /sys unprotected"},
		&cli.StringSliceFlag{Name: "security-opt", Usage: "no-new-privileges: setuid programs cannot raise privileges (repeatable)"},
		&cli.BoolFlag{Name: "read-only", Usage: "mount the container's root filesystem read-only"},
		&cli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "run as USER[:GROUP], names or numbers, as the image's /etc/passwd knows them"},
		&cli.GenericFlag{Name: "tmpfs", Value: &exactValues{}, Usage: "mount an empty tmpfs: /PATH[:OPTIONS], such as /run:size=64m,mode=1777 (repeatable)"},
	}
}

// securityFromFlags fills in what the container may do.
func securityFromFlags(ctx *cli.Context, cfg *container.Config) (err error) {
	cfg.Privileged = ctx.Bool("privileged")
	cfg.ReadOnly = ctx.Bool("read-only")
	cfg.User = ctx.String("user")
	for _, spec := range *ctx.Generic("tmpfs").(*exactValues) {
		t, err := container.ParseTmpfs(spec)
		if err != nil {
			return err
		}
		cfg.Tmpfs = append(cfg.Tmpfs, t)
	}
	cfg.Capabilities, err = container.Capabilities(ctx.StringSlice("cap-add"), ctx.StringSlice("cap-drop"), cfg.Privileged)
	if err != nil {
		return err
	}
	cfg.NoNewPrivs, err = securityOptions(ctx.StringSlice("security-opt"))
	return err
}

// securityOptions reads --security-opt: Docker's no-new-privileges (also
// spelled no-new-privileges=true or no-new-privileges:true).
func securityOptions(opts []string) (noNewPrivs bool, err error) {
	for _, opt := range opts {
		switch opt {
		case "no-new-privileges", "no-new-privileges=true", "no-new-privileges:true":
			noNewPrivs = true
		case "no-new-privileges=false", "no-new-privileges:false":
			noNewPrivs = false
		default:
			return false, fmt.Errorf("invalid --security-opt %q: mydocker knows no-new-privileges", opt)
		}
	}
	return noNewPrivs, nil
}
