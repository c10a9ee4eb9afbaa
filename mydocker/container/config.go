//book:file namespaces

package container

import (
	"crypto/rand"
	"encoding/hex"

	"github.com/mydocker-book/mydocker/mydocker/cgroups"
)

// Config is everything the init needs to know to set up the container.
type Config struct {
	ID          string   // 64 hex digits, as Docker's
	Args        []string // the user's command, exactly as typed
	Hostname    string
	Interactive bool // keep standard input open
	TTY         bool // the container gets the terminal
	Debug       bool
	//book:add rootfs
	Image     string // the image's name
	StateRoot string // where images and containers are kept
	Rootfs    string // the host directory that becomes the container's /
	//book:end
	//book:add overlay
	Layer string // the image's read-only layer: overlay's lowerdir
	Upper string // the container's own layer: overlay's upperdir
	Work  string // overlay's scratch space, on the same filesystem as Upper
	//book:end
	//book:add volumes
	Volumes []Volume // host paths bound into the container
	//book:end
	//book:add cgroups
	Resources    cgroups.Resources // the limits, written by the parent before the command starts
	CgroupParent string            // the container's cgroup is CgroupParent/ID
	//book:end
}

// NewID returns a random container id of 64 hex digits.
func NewID() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return hex.EncodeToString(b)
}

// ShortID is the 12-digit prefix Docker shows and uses as default hostname.
func ShortID(id string) string { return id[:12] }

// containerEnv is the environment the command starts with. Like Docker, it
// does not inherit the caller's environment, so a container behaves the same
// whoever starts it.
func containerEnv(cfg Config) []string {
	env := []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOSTNAME=" + cfg.Hostname,
		"HOME=/root",
	}
	if cfg.TTY {
		env = append(env, "TERM=xterm")
	}
	return env
}
