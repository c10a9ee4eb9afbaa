//book:file security

package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/mydocker-book/mydocker/mydocker/container"
	"github.com/mydocker-book/mydocker/mydocker/seccomp"
	"github.com/urfave/cli/v2"
)

// securityFlags are Docker's flags for what the container may do.
func securityFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "cap-add", Usage: "add a capability to Docker's default set, such as NET_ADMIN, or ALL (repeatable)"},
		&cli.StringSliceFlag{Name: "cap-drop", Usage: "drop a capability from the set, such as CHOWN, or ALL (repeatable)"},
		&cli.BoolFlag{Name: "privileged", Usage: "keep every capability, and leave /proc and /sys unprotected"},
		&cli.StringSliceFlag{Name: "security-opt", Usage: "no-new-privileges: setuid programs cannot raise privileges; seccomp=unconfined or seccomp=PROFILE.json: no seccomp filter, or this profile instead of Docker's default (repeatable)"},
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
	var profile string
	if cfg.NoNewPrivs, profile, err = securityOptions(ctx.StringSlice("security-opt")); err != nil {
		return err
	}
	cfg.Seccomp, err = seccompFilter(ctx.String("root"), profile, cfg.Capabilities, cfg.Privileged)
	return err
}

// securityOptions reads --security-opt: Docker's no-new-privileges (also
// spelled no-new-privileges=true or no-new-privileges:true) and
// seccomp=unconfined or seccomp=PROFILE (also with a colon).
func securityOptions(opts []string) (noNewPrivs bool, seccompProfile string, err error) {
	for _, opt := range opts {
		switch opt {
		case "no-new-privileges", "no-new-privileges=true", "no-new-privileges:true":
			noNewPrivs = true
		case "no-new-privileges=false", "no-new-privileges:false":
			noNewPrivs = false
		default:
			key, value, ok := strings.Cut(opt, "=")
			if !ok {
				key, value, ok = strings.Cut(opt, ":")
			}
			if !ok || key != "seccomp" || value == "" {
				return false, "", fmt.Errorf("invalid --security-opt %q: mydocker knows no-new-privileges, seccomp=unconfined and seccomp=PROFILE.json", opt)
			}
			seccompProfile = value
		}
	}
	return noNewPrivs, seccompProfile, nil
}

// seccompFilter is the container's seccomp filter, compiled here in
// mydocker run, and only when no earlier container had the same: Docker's
// default profile, or the profile file named, resolved for the
// container's capabilities. The init only loads the instructions it is
// sent. As in Docker, unconfined and --privileged mean no filter.
func seccompFilter(stateRoot, profile string, caps []string, privileged bool) (string, error) {
	if profile == "unconfined" || privileged {
		return "", nil
	}
	cache := seccomp.Cache{Dir: filepath.Join(stateRoot, "seccomp")}
	return cache.Filter(profile, caps)
}
