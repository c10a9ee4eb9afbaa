//book:file namespaces

package container

import (
	"crypto/rand"
	"encoding/hex"

	"github.com/mydocker-book/mydocker/mydocker/cgroups"
	"github.com/mydocker-book/mydocker/mydocker/network"
)

// Config is what the user asked for: `mydocker run`'s flags and arguments.
// What mydocker works out from it (paths, the cgroup) belongs to the
// Container; what the init needs to know travels as an initConfig.
type Config struct {
	ID       string   // 64 hex digits, as Docker's
	Args     []string // the user's command, exactly as typed
	Hostname string
	//book:add detach
	Name       string // --name, "" for none
	Detach     bool   // -d: the container runs in the background, watched by a monitor
	AutoRemove bool   // --rm: nothing is kept once it has exited
	//book:end
	Interactive bool   // keep standard input open
	TTY         bool   // the container gets a terminal
	Debug       bool   // trace every kernel-level step
	StateRoot   string // where containers (and, from the rootfs chapter, images) are kept
	//book:add rootfs
	Image string // the image's name
	//book:end
	//book:add volumes
	Volumes []Volume // host paths bound into the container
	//book:end
	//book:add cgroups
	Resources    cgroups.Resources // the limits
	CgroupParent string            // the container's cgroup is CgroupParent/ID
	CgroupNS     string            // --cgroupns: private, host, or "" for Docker's default here
	//book:end
	//book:add security
	Capabilities []string // what the container's root may do (Capabilities)
	Privileged   bool     // every capability, and /proc and /sys unprotected
	NoNewPrivs   bool     // --security-opt no-new-privileges
	ReadOnly     bool     // --read-only: the root filesystem cannot be written
	User         string   // -u USER[:GROUP], names or numbers as the image knows them
	Tmpfs        []Tmpfs  // --tmpfs
	// Seccomp is the compiled seccomp filter, as the kernel's array of
	// struct sock_filter (seccomp.Encode), made by mydocker run and loaded
	// by the init: none when empty (unconfined, --privileged).
	Seccomp string `json:"-"`
	//book:end
	//book:add lifecycle
	StopSignal  string   // --stop-signal: what stop sends first ("" for SIGTERM)
	StopTimeout *int     // --stop-timeout: seconds stop waits before SIGKILL (nil for 10)
	Env         []string // -e and --env-file, KEY=VALUE, over the defaults
	WorkDir     string   // -w: where the command starts, made if missing ("" for /)
	Entrypoint  []string // --entrypoint: put before the command
	// Restarting is set by `mydocker start` for its monitor: create finds
	// the stopped container's directory instead of making one (restart.go).
	Restarting bool `json:"-"`
	Init       bool // --init: a reaper as PID 1, the command its child (reaper.go)
	//book:end
	//book:add images
	// ImageDigest is the manifest of the image the container was created
	// from: start and commit use that one, whatever its name points to now.
	ImageDigest string
	//book:end
	//book:add netns
	Network string // --network: bridge (the default), none or host
	IP      string // --ip: the address on the bridge's subnet, "" for the next free one
	// The default network's bridge and subnet, used when a state root's
	// default network is first made (network.Default).
	BridgeName, BridgeSubnet string
	//book:end
	//book:add bridge
	Ports []network.PortMapping // -p: ports of the host that lead to the container's
	//book:end
}

//book:add proc

// initConfig is what the init reads from its config pipe: only what it
// needs to set up the container from the inside, and nothing else.
type initConfig struct {
	Args     []string
	Hostname string
	//book:add rootfs
	Rootfs rootfsDirs // the root filesystem to mount and pivot into
	TTY    bool       // make a terminal and send it to mydocker
	// CgroupView is the container's own cgroup, to mount at /sys/fs/cgroup.
	CgroupView []cgroups.ViewMount
	//book:end rootfs
	//book:add cgroups
	PrivateCgroupNS bool // unshare a cgroup namespace, once in the cgroup
	//book:end cgroups
	//book:add volumes
	Volumes []Volume
	//book:end volumes
	//book:add security
	Capabilities []string
	Privileged   bool
	NoNewPrivs   bool
	ReadOnly     bool
	User         string
	Tmpfs        []Tmpfs
	Seccomp      string // the filter, as the kernel's struct sock_filter array (seccomp.Encode)
	//book:end security
	//book:add lifecycle
	WorkDir string
	Init    bool
	//book:end lifecycle
}

func (c *Container) initConfig() initConfig {
	return initConfig{
		Args:     c.Args,
		Hostname: c.Hostname,
		//book:add rootfs
		Rootfs:     c.rootfs,
		TTY:        c.TTY,
		CgroupView: c.cgroup.View(),
		//book:end rootfs
		//book:add cgroups
		PrivateCgroupNS: c.privateCgroupNS,
		//book:end cgroups
		//book:replace volumes netns
		// Volumes: c.Volumes,
		//book:end volumes netns
		//book:add netns
		Volumes: append(c.networkMounts(), c.Volumes...),
		//book:end netns
		//book:add security
		Capabilities: c.Capabilities,
		Privileged:   c.Privileged,
		NoNewPrivs:   c.NoNewPrivs,
		ReadOnly:     c.ReadOnly,
		User:         c.User,
		Tmpfs:        c.Tmpfs,
		Seccomp:      c.Seccomp,
		//book:end security
		//book:add lifecycle
		WorkDir: c.WorkDir,
		Init:    c.Init,
		//book:end lifecycle
	}
}

//book:end proc

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
	//book:add lifecycle
	if cfg.User != "" {
		// The user's own, from the image's /etc/passwd (switchUser),
		// unless -e sets one.
		env = withoutEnv(env, "HOME")
	}
	env = mergeEnv(env, cfg.Env)
	//book:end
	return env
}
