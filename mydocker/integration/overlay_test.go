//book:file overlay

package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func TestImageIsUnpackedOnceAndShared(t *testing.T) {
	e := newEnv(t)
	first := e.mydocker("--debug", "run", "--", "true")
	require.Equal(t, 0, first.code, first.String())
	assert.Contains(t, first.stderr, "unpacking", first.String())
	r := e.mydocker("--debug", "run", "--", probeCmd)
	require.Equal(t, 0, r.code, r.String())
	second := decodeReport(t, r.stdout, r)
	//book:replace overlay images
	// assert.Contains(t, r.stderr, "already unpacked", r.String())
	//book:end
	//book:add images
	assert.Contains(t, r.stderr, "was unpacked before", r.String())
	//book:end
	assert.NotContains(t, r.stderr, "unpacking", r.String())
	e.onlyLayer()
	assert.Equal(t, "overlay", second.Mounts[0].FSType, "the container's / is an overlay mount\n%s", r)
}

// Containers started together from an image that is not unpacked yet take
// turns on the lock: one unpacks, the others wait and use its layer.
func TestContainersStartedTogetherShareOneUnpacking(t *testing.T) {
	e := newEnv(t)
	var runs []*running
	for i := 0; i < 4; i++ {
		runs = append(runs, e.start("--debug", "run", "--", "true"))
	}
	unpacked := 0
	for _, run := range runs {
		assert.Equal(t, 0, run.wait(), run.String())
		if strings.Contains(run.String(), "unpacking") {
			unpacked++
		}
	}
	assert.Equal(t, 1, unpacked, "exactly one container unpacks the image")
	e.onlyLayer()
	leftovers, err := filepath.Glob(filepath.Join(e.root, "layers", ".unpacking-*"))
	require.NoError(t, err)
	assert.Empty(t, leftovers)
}

// A Ctrl-C while the image is being prepared means "do not start it". The
// test holds the layer lock, so that mydocker waits to unpack the image,
// interrupts it there, and then lets it go on.
func TestInterruptedWhilePreparingNothingRuns(t *testing.T) {
	e := newEnv(t)
	lock := e.holdLayerLock()
	run := e.start("--debug", "run", "--", "true")
	waitForLockWaiter(t, lock)
	run.signal(syscall.SIGINT)
	require.NoError(t, unix.Flock(int(lock.Fd()), unix.LOCK_UN))
	assert.Equal(t, 130, run.wait(), run.String())
	assert.Contains(t, run.String(), "mydocker: SIGINT before the container started: nothing was run", run.String())
	assert.NotContains(t, run.String(), "clone(", "no init should have been started\n%s", run)
}

// holdLayerLock takes the lock mydocker takes before unpacking a layer.
func (e *env) holdLayerLock() *os.File {
	e.t.Helper()
	require.NoError(e.t, os.MkdirAll(filepath.Join(e.root, "layers"), 0o700))
	f, err := os.OpenFile(filepath.Join(e.root, "layers", ".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	require.NoError(e.t, err)
	e.t.Cleanup(func() { f.Close() })
	require.NoError(e.t, unix.Flock(int(f.Fd()), unix.LOCK_EX))
	return f
}

// waitForLockWaiter waits until a process is blocked on the lock: the
// kernel lists waiters in /proc/locks with "->", by device and inode.
func waitForLockWaiter(t *testing.T, lock *os.File) {
	t.Helper()
	var st unix.Stat_t
	require.NoError(t, unix.Fstat(int(lock.Fd()), &st))
	inode := fmt.Sprintf(":%d ", st.Ino)
	require.Eventually(t, func() bool {
		locks, _ := os.ReadFile("/proc/locks")
		for _, line := range strings.Split(string(locks), "\n") {
			if strings.Contains(line, "->") && strings.Contains(line, inode) {
				return true
			}
		}
		return false
	}, patient(10*time.Second), 10*time.Millisecond, "mydocker never waited for the layer lock")
}

// Two containers of one image write into layers of their own, and the
// image's layer never changes.
func TestContainersDoNotSeeEachOthersWrites(t *testing.T) {
	e := newEnv(t)
	// "ready" only once both changes are made: the container may write.
	first := e.start("run", "--", "sh", "-c", "echo first > /etc/motd && rm /etc/os-release && echo ready && exec "+busyboxCmd+" sleep 60")
	first.expectLine("ready")

	r := e.mydocker("run", "--", "sh", "-c", "cat /etc/motd || echo no motd here; cat /etc/os-release")
	require.Equal(t, 0, r.code, r.String())
	assert.Contains(t, r.stdout, "no motd here", "the first container's file is its own\n%s", r)
	assert.Contains(t, r.stdout, `NAME="mydocker busybox"`, "the first container's deletion is its own\n%s", r)

	layer := e.onlyLayer()
	assert.NoFileExists(t, filepath.Join(layer, "etc/motd"), "the image's layer must not change")
	assert.FileExists(t, filepath.Join(layer, "etc/os-release"), "the image's layer must not change")
	assert.Equal(t, 137, first.killContainer(), first.String())
}

// Deleting a file that comes from the image cannot remove it from the
// read-only layer: overlayfs records the deletion in the container's layer
// as a whiteout, a character device with number 0:0 under the same name.
func TestDeletingAnImageFileLeavesAWhiteout(t *testing.T) {
	e := newEnv(t)
	run := e.start("run", "--", "sh", "-c", "rm /etc/os-release && ! test -e /etc/os-release && echo ready && exec "+busyboxCmd+" sleep 60")
	run.expectLine("ready")
	upper := filepath.Join(e.onlyContainerDir(), "upper")
	var st unix.Stat_t
	require.NoError(t, unix.Lstat(filepath.Join(upper, "etc/os-release"), &st))
	assert.Equal(t, uint32(unix.S_IFCHR), st.Mode&unix.S_IFMT, "a whiteout is a character device")
	assert.Equal(t, uint64(0), st.Rdev, "with device number 0:0")
	assert.FileExists(t, filepath.Join(e.onlyLayer(), "etc/os-release"))
	assert.Equal(t, 137, run.killContainer(), run.String())
}

// The state root must not be on overlayfs itself: an overlay's upper layer
// cannot be another overlay. The test makes such a state root.
func TestStateRootOnOverlayIsRefused(t *testing.T) {
	e := newEnv(t)
	dirs := map[string]string{}
	for _, d := range []string{"lower", "upper", "work", "merged"} {
		dirs[d] = filepath.Join(e.root, "ovl", d)
		require.NoError(t, os.MkdirAll(dirs[d], 0o755))
	}
	opts := "lowerdir=" + dirs["lower"] + ",upperdir=" + dirs["upper"] + ",workdir=" + dirs["work"]
	require.NoError(t, unix.Mount("overlay", dirs["merged"], "overlay", 0, opts))
	t.Cleanup(func() { _ = unix.Unmount(dirs["merged"], unix.MNT_DETACH) })

	//book:add images
	// The image is found before the overlay is made: it must be there.
	require.NoError(t, os.MkdirAll(filepath.Join(dirs["merged"], "images"), 0o700))
	data, err := os.ReadFile(testImage)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dirs["merged"], "images", testImageName+".tar"), data, 0o600))
	//book:end
	cmd := e.command(t.Context(), "--root", dirs["merged"], "run", "--", "true")
	out, err := cmd.CombinedOutput()
	require.Error(t, err, string(out))
	assert.Equal(t, 125, cmd.ProcessState.ExitCode(), string(out))
	assert.Contains(t, string(out), "is on an overlay filesystem, which overlay cannot use for a container's upper layer", string(out))
}

func (e *env) onlyLayer() string {
	e.t.Helper()
	return e.only("layers/[0-9a-f]*", "one layer for the image, whatever the number of containers")
}

// overlay's options cannot carry a state root with "," or ":": refused
// before anything is mounted, with what to do.
func TestStateRootWithACommaIsRefused(t *testing.T) {
	e := newEnv(t)
	for _, name := range []string{"a,b", "a:b"} {
		root := filepath.Join(t.TempDir(), name)
		require.NoError(t, os.MkdirAll(filepath.Join(root, "images"), 0o700))
		require.NoError(t, os.Link(testImage, filepath.Join(root, "images", testImageName+".tar")))
		r := e.mydocker("--root", root, "run", "--", "true")
		assert.Equal(t, 125, r.code, r.String())
		assert.Contains(t, r.stderr, "choose a --root without them", r.String())
	}
}
