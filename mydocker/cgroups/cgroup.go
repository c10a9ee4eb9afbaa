//book:file cgroups

package cgroups

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// Cgroup is one container's cgroup, on either version of the interface.
type Cgroup interface {
	//book:replace cgroups exec
	// // Join moves a process into the cgroup. Its children are born there.
	// Join(pid int) error
	//book:end
	// LimitPids sets the most processes and threads the cgroup may hold
	// (0: no limit). It is the one limit written last, once the init is in
	// the cgroup and just before it execs the command: the init is a Go
	// program with several threads, and a limit below their number would
	// leave the Go runtime unable to start one more, and kill it. The
	// kernel lets a cgroup hold more tasks than its new limit (only forks
	// are refused), and execve ends every thread but one.
	LimitPids(limit int64) error
	//book:add security
	// LimitDevices denies every device, then allows those the rules name.
	// It must come before any process joins: a process that opened a
	// device keeps it open.
	LimitDevices(rules []DeviceRule) error
	//book:end security
	// Destroy removes the cgroup once its processes have exited.
	Destroy() error
	// Path is the cgroup's name, as /proc/PID/cgroup shows it.
	Path() string
	//book:add detach
	// Procs lists the processes in the cgroup, by their host PIDs.
	Procs() ([]int, error)
	//book:end detach
	//book:add exec
	// ForChildren makes the processes the calling thread starts next be
	// born in the cgroup. On v1 a single thread can move: it moves the
	// calling thread. On v2 only a whole process can: it moves the
	// caller, and finish moves it back once the child has started.
	// (clone3's CLONE_INTO_CGROUP would place the child alone, but
	// Docker's seccomp profile, which the child must inherit from the
	// thread, refuses clone3.) finish also joins the child to what could
	// not be done before it started: the v2 tree of a hybrid host. Its
	// files are opened here, so finish works from any mount namespace.
	ForChildren() (finish func(child int) error, err error)
	// Birth makes the next process the calling thread clones be born in
	// the cgroup, without the move that Join is (birth.go). create starts
	// the init so.
	Birth() (*Birth, error)
	//book:end exec
	//book:add lifecycle
	// Freeze stops every task of the cgroup until Thaw (freezer.go).
	Freeze() error
	Thaw() error
	// Frozen tells whether the cgroup is frozen, or being frozen.
	Frozen() (bool, error)
	//book:end lifecycle
	//book:add rootfs
	// View is what the container may see of the cgroup filesystems: its
	// own cgroup in each of them.
	View() []ViewMount
	//book:end rootfs
}

//book:add rootfs

// ViewMount is one mount of a container's /sys/fs/cgroup: the container's
// own cgroup in one hierarchy (the only one, on cgroup v2).
type ViewMount struct {
	Target  string // below /sys/fs/cgroup: "" for /sys/fs/cgroup itself (v2), "memory", "unified", ...
	Source  string // the container's cgroup directory on the host, to bind
	FSType  string // "cgroup2" or "cgroup", to mount afresh in a cgroup namespace
	Options string // a v1 hierarchy's controllers, as it is mounted ("memory", "cpu,cpuacct")
}

//book:end rootfs

//book:add cgroups

// Namespace is Docker's --cgroupns: "private" gives the container a cgroup
// namespace of its own, rooted at its cgroup; "host" leaves it the host's.
func Namespace(mode string) (private bool, err error) {
	switch mode {
	case "private":
		return true, nil
	case "host":
		return false, nil
	case "":
		//book:replace cgroups rootfs
		// // Left out, it is the host's: the container still sees the host's
		// // /sys/fs/cgroup, where the paths of /proc/self/cgroup must lead.
		// return false, nil
		//book:end cgroups rootfs
		//book:add rootfs
		// Left out, it follows Docker's default for this host, now that the
		// container's /sys/fs/cgroup is its own cgroup: private on cgroup v2,
		// host on v1.
		m, err := DetectMode()
		return m == Unified, err
		//book:end rootfs
	}
	return false, fmt.Errorf("invalid --cgroupns %q: it is host or private", mode)
}

//book:end cgroups

// Root is where the cgroup filesystems are mounted.
const Root = "/sys/fs/cgroup"

// Mode is how the cgroup filesystems are laid out on this host.
type Mode int

const (
	// Unified is cgroup v2 alone: one tree at /sys/fs/cgroup.
	Unified Mode = iota
	// Legacy is cgroup v1 alone: one tree per controller under /sys/fs/cgroup.
	Legacy
	// Hybrid is cgroup v1 for the controllers, plus a v2 tree without
	// controllers at /sys/fs/cgroup/unified that only tracks processes.
	Hybrid
)

func (m Mode) String() string {
	return [...]string{"cgroup v2 (unified)", "cgroup v1 (legacy)", "cgroup v1 (hybrid)"}[m]
}

// DetectMode tells the layouts apart by the filesystem type mounted at
// /sys/fs/cgroup, as runc does.
func DetectMode() (Mode, error) {
	if isCgroup2(Root) {
		return Unified, nil
	}
	var st unix.Statfs_t
	if err := unix.Statfs(Root, &st); err != nil {
		return 0, fmt.Errorf("no cgroup filesystem at %s: %w: mount cgroup2 there (mount -t cgroup2 none %s)", Root, err, Root)
	}
	if isCgroup2(filepath.Join(Root, "unified")) {
		return Hybrid, nil
	}
	return Legacy, nil
}

func isCgroup2(dir string) bool {
	var st unix.Statfs_t
	return unix.Statfs(dir, &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC
}

// New creates the cgroup parent/id with the limits in res, on whichever
// interface this host has. The caller must Destroy it.
func New(parent, id string, res Resources) (Cgroup, error) {
	mode, err := DetectMode()
	if err != nil {
		return nil, err
	}
	logrus.Debugf("cgroups: %s", mode)
	if mode == Unified {
		return newV2(Root, parent, id, res)
	}
	mounts, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("finding the cgroup v1 mounts: %w", err)
	}
	return newV1(v1Hierarchies(string(mounts), mode == Hybrid), parent, id, res)
}

// Open returns the existing cgroup at path (parent/id below the root), in
// every hierarchy, so that what a container left behind can be destroyed.
func Open(path string) (Cgroup, error) {
	mode, err := DetectMode()
	if err != nil {
		return nil, err
	}
	if mode == Unified {
		return &v2Cgroup{root: Root, path: path}, nil
	}
	mounts, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("finding the cgroup v1 mounts: %w", err)
	}
	return &v1Cgroup{path: path, dirs: v1Hierarchies(string(mounts), mode == Hybrid)}, nil
}

// CleanParent checks a --cgroup-parent and returns it relative to the
// cgroup root: "mydocker" and "/mydocker" both mean /sys/fs/cgroup/mydocker.
func CleanParent(parent string) (string, error) {
	clean := strings.Trim(filepath.Clean("/"+parent), "/")
	if parent == "" || clean == "" || clean != strings.Trim(parent, "/") {
		return "", fmt.Errorf("cgroup parent %q: use a plain path below the cgroup root, such as mydocker or tests/mine, without . or ..", parent)
	}
	return clean, nil
}
