//book:file images

package container

import (
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	digest "github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/sirupsen/logrus"

	"github.com/mydocker-book/mydocker/mydocker/cgroups"
	"github.com/mydocker-book/mydocker/mydocker/image"
	"github.com/mydocker-book/mydocker/mydocker/state"
)

// CommitOptions are `mydocker commit`'s flags.
type CommitOptions struct {
	Message  string    // -m: the history entry's comment
	Author   string    // -a
	NoPause  bool      // --pause=false: commit a running container as it runs
	Progress io.Writer // the bytes written, for a progress bar; nil for none
}

// Commit makes an image of a container, as `docker commit` does: its
// image's layers, and on top a new one of what the container wrote (its
// upper directory). The config is the image's, with the container's
// command, environment, working directory and user as the new defaults,
// and one more history entry. A running container is paused meanwhile,
// so that the layer is one moment of it.
func Commit(stateRoot, ref, name string, opts CommitOptions) (image.Image, error) {
	r, err := FindRecord(stateRoot, ref)
	if err != nil {
		return image.Image{}, err
	}
	newName, err := image.ParseReference(name)
	if err != nil {
		return image.Image{}, err
	}
	store := image.OpenStore(stateRoot)
	base, err := store.Load(digest.Digest(r.ImageDigest))
	if err != nil {
		return image.Image{}, fmt.Errorf("container %s: its image: %w", ref, err)
	}
	if r.State.Status == state.Running && !r.Paused && !opts.NoPause {
		thaw, err := pauseWhile(r.State.Cgroup)
		if err != nil {
			return image.Image{}, err
		}
		defer thaw()
	}
	logrus.Debugf("writing a layer of %s", filepath.Join(r.Dir, "upper"))
	layer, err := store.WriteLayer(filepath.Join(r.Dir, "upper"), opts.Progress)
	if err != nil {
		return image.Image{}, fmt.Errorf("writing the container's layer: %w", err)
	}
	config := committedConfig(base.Config, r, layer.Digest, opts)
	return store.AddImage(newName, config, append(slices.Clone(base.Manifest.Layers), layer))
}

// pauseWhile freezes the container's cgroup and returns what thaws it.
func pauseWhile(cgroup string) (func(), error) {
	cg, err := cgroups.Open(cgroup)
	if err != nil {
		return nil, err
	}
	if err := cg.Freeze(); err != nil {
		return nil, fmt.Errorf("pausing the container for the commit: %w", err)
	}
	return func() {
		if err := cg.Thaw(); err != nil {
			logrus.Warnf("unpausing the container after the commit: %v", err)
		}
	}, nil
}

// committedConfig is the new image's config: the base image's, the
// container's settings as defaults, one more layer and history entry.
func committedConfig(base v1.Image, r Record, diffID digest.Digest, opts CommitOptions) v1.Image {
	now := time.Now().UTC()
	config := base
	config.Created, config.Author = &now, opts.Author
	config.Config.Cmd = slices.Clone(r.Args[len(r.Entrypoint):])
	config.Config.Entrypoint = slices.Clone(r.Entrypoint)
	config.Config.Env = committedEnv(r.Config)
	config.Config.WorkingDir, config.Config.User = r.WorkDir, r.User
	config.RootFS.DiffIDs = append(slices.Clone(base.RootFS.DiffIDs), diffID)
	config.History = append(slices.Clone(base.History), v1.History{
		Created: &now, Author: opts.Author, Comment: opts.Message,
		CreatedBy: "mydocker commit " + ShortID(r.ID) + ": " + strings.Join(r.Args, " "),
	})
	return config
}

// committedEnv is what the container's config says of the environment,
// the image's and -e's, with a PATH: not what the runtime adds per
// container (HOSTNAME, TERM, HOME), which the next container gets anew.
func committedEnv(cfg Config) []string {
	env := slices.Clone(cfg.Env)
	if !envHas(env, "PATH") {
		for _, kv := range containerEnv(cfg) {
			if strings.HasPrefix(kv, "PATH=") {
				env = append([]string{kv}, env...)
			}
		}
	}
	return env
}

// ImagesInUse returns the images (manifest digests) of every container,
// and whether a container is being created, whose image may be in use
// without a record that says so yet.
func ImagesInUse(stateRoot string) (inUse []digest.Digest, creating bool, err error) {
	ids, err := state.IDs(stateRoot)
	if err != nil {
		return nil, false, err
	}
	for _, id := range ids {
		r, err := readRecord(stateRoot, id)
		switch {
		case err != nil:
			creating = true
		case r.ImageDigest != "":
			inUse = append(inUse, digest.Digest(r.ImageDigest))
		}
	}
	return inUse, creating, nil
}
