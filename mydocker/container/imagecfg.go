//book:file images

package container

import (
	"fmt"
	"slices"

	"github.com/mydocker-book/mydocker/mydocker/image"
)

// ApplyImageDefaults combines the image's config with run's flags as
// Docker does:
//
//   - the command: run's arguments, or else the image's Cmd; after the
//     image's Entrypoint, unless --entrypoint replaced it (and then the
//     image's Cmd is dropped too);
//   - the environment: the image's Env, then --env-file and -e over it;
//   - the working directory and the user: -w and -u, or else the image's.
//
// It records which image, by its manifest's digest. It is create's step
// before the rootfs: the image is found under the signals' protection,
// and a container started again (start) keeps what it had.
func (c *Container) applyImageDefaults() error {
	if c.ImageDigest != "" {
		return nil
	}
	// --entrypoint, given, is already in Entrypoint and Args (lifecycle).
	return applyImageDefaults(&c.Config, c.Entrypoint != nil)
}

func applyImageDefaults(cfg *Config, entrypointSet bool) error {
	img, err := image.OpenStore(cfg.StateRoot).FindOrImport(cfg.Image)
	if err != nil {
		return &Error{Code: ExitRuntimeError, Err: err}
	}
	cfg.ImageDigest = img.Desc.Digest.String()
	defaults := img.Config.Config
	if !entrypointSet {
		cfg.Entrypoint = slices.Clone(defaults.Entrypoint)
		if len(cfg.Args) == 0 {
			cfg.Args = slices.Clone(defaults.Cmd)
		}
		cfg.Args = append(slices.Clone(cfg.Entrypoint), cfg.Args...)
	}
	if len(cfg.Args) == 0 {
		return &Error{Code: ExitRuntimeError, Err: fmt.Errorf("run needs an image and a command: the image %s has none (no Cmd or Entrypoint): give one after its name", cfg.Image)}
	}
	cfg.Env = mergeEnv(defaults.Env, cfg.Env)
	if cfg.WorkDir == "" {
		cfg.WorkDir = defaults.WorkingDir
	}
	if cfg.User == "" {
		cfg.User = defaults.User
	}
	if cfg.WorkDir != "" && cfg.WorkDir[0] != '/' {
		return &Error{Code: ExitRuntimeError, Err: fmt.Errorf("the image's working directory %q is not absolute", cfg.WorkDir)}
	}
	return nil
}
