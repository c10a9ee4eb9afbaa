//book:file rootfs

package integration

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creack/pty"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// testImageName is the image every test container runs: the busybox image
// that `make image` builds, with the probe added as /usr/local/bin/probe.
const testImageName = "busybox-probe"

// testImage is that image's archive, made once by TestMain.
var testImage string

// buildTestImage writes the test image into a new directory, which the
// caller removes.
func buildTestImage() (string, error) {
	busybox, err := findBusyboxImage()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "mydocker-test-image-")
	if err != nil {
		return "", err
	}
	testImage = filepath.Join(dir, testImageName+".tar")
	return dir, addProbe(busybox, probeBin, testImage)
}

// findBusyboxImage finds the archive of `make image`: named by
// MYDOCKER_TEST_BUSYBOX_IMAGE, beside prebuilt binaries, or in the
// repository's build/images, from the final source or from a stage.
func findBusyboxImage() (string, error) {
	candidates := []string{os.Getenv("MYDOCKER_TEST_BUSYBOX_IMAGE")}
	if dir := os.Getenv("MYDOCKER_TEST_BINARIES"); dir != "" {
		candidates = append(candidates, filepath.Join(dir, "busybox.tar"))
	}
	if root, err := moduleRoot(); err == nil {
		candidates = append(candidates, filepath.Join(root, "build/images/busybox.tar"), filepath.Join(root, "../../images/busybox.tar"))
	}
	for _, path := range candidates {
		if _, err := os.Stat(path); path != "" && err == nil {
			return path, nil
		}
	}
	return "", errors.New("the tests need the busybox image: run `make image` in the repository, or set MYDOCKER_TEST_BUSYBOX_IMAGE to its tar")
}

// addProbe copies the image archive from, adding the probe.
func addProbe(from, probe, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	defer out.Close()
	tw := tar.NewWriter(out)
	tr := tar.NewReader(in)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("reading %s: %w", from, err)
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return err
		}
	}
	if err := addFile(tw, probe, "usr/local/bin/probe"); err != nil {
		return err
	}
	return tw.Close()
}

func addFile(tw *tar.Writer, path, name string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	for _, dir := range []string{"usr/local/", "usr/local/bin/"} {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir, Mode: 0o755}); err != nil {
			return err
		}
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o755, Size: int64(len(data))}); err != nil {
		return err
	}
	_, err = tw.Write(data)
	return err
}

// installTestImage puts the test image in the test's state root, where
// mydocker run looks for images.
func (e *env) installTestImage() {
	dir := filepath.Join(e.root, "images")
	require.NoError(e.t, os.MkdirAll(dir, 0o755))
	require.NoError(e.t, os.Link(testImage, filepath.Join(dir, testImageName+".tar")))
}

// The probe, run from the image, sees the image's files and the mounts
// every container gets, and nothing of the host.
func TestContainerSeesOnlyTheImage(t *testing.T) {
	e := newEnv(t)
	marker := filepath.Join(e.root, "host-only")
	require.NoError(t, os.WriteFile(marker, nil, 0o644))
	inside, r := e.probe()
	var targets []string
	for _, m := range inside.Mounts {
		targets = append(targets, m.Target)
	}
	expected := []string{"/", "/proc", "/sys", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue"}
	//book:add netns
	// The files that say who the container is on its network.
	expected = append(expected, "/etc/hosts", "/etc/hostname", "/etc/resolv.conf")
	//book:end
	for _, target := range targets {
		if strings.HasPrefix(target, "/sys/fs/cgroup") {
			continue
		}
		//book:add security
		if isHardeningMount(target) {
			continue
		}
		//book:end
		assert.Contains(t, expected, target, "a mount the container should not have\n%s", r)
	}
	assert.Subset(t, targets, expected, r.String())

	r = e.mydocker("run", "--", "sh", "-c", "cat /etc/os-release; test -e "+marker+" && echo host file visible; ls /")
	require.Equal(t, 0, r.code, r.String())
	assert.Contains(t, r.stdout, `NAME="mydocker busybox"`, r.String())
	assert.NotContains(t, r.stdout, "host file visible", r.String())
}

func TestDevHoldsOnlyTheDefaultDevices(t *testing.T) {
	e := newEnv(t)
	r := e.mydocker("run", "--", "sh", "-c", strings.Join([]string{
		"ls /dev",
		"stat -c '%n %F %t:%T %a' /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty",
		"for l in ptmx fd stdin stdout stderr; do readlink /dev/$l; done",
		"echo x > /dev/null && echo null works",
		"echo x 2>/dev/null > /dev/full || echo full is full",
		"head -c 3 /dev/zero | wc -c",
	}, "; "))
	require.Equal(t, 0, r.code, r.String())
	want := strings.Join([]string{
		"fd", "full", "mqueue", "null", "ptmx", "pts", "random", "shm", "stderr", "stdin", "stdout", "tty", "urandom", "zero",
		"/dev/null character special file 1:3 666",
		"/dev/zero character special file 1:5 666",
		"/dev/full character special file 1:7 666",
		"/dev/random character special file 1:8 666",
		"/dev/urandom character special file 1:9 666",
		"/dev/tty character special file 5:0 666",
		"pts/ptmx", "/proc/self/fd", "/proc/self/fd/0", "/proc/self/fd/1", "/proc/self/fd/2",
		"null works", "full is full", "3",
	}, "\n") + "\n"
	assert.Equal(t, want, r.stdout, r.String())
}

// The container's /dev/pts is a devpts of its own: it does not list the
// host's terminals, such as the one this test opens.
func TestDevPtsIsANewInstance(t *testing.T) {
	e := newEnv(t)
	master, slave, err := pty.Open()
	require.NoError(t, err)
	defer master.Close()
	defer slave.Close()
	r := e.mydocker("run", "--", "ls", "/dev/pts")
	require.Equal(t, 0, r.code, r.String())
	assert.Equal(t, "ptmx\n", r.stdout, "the host has %s open\n%s", slave.Name(), r)
}

func TestSysAndCgroupsAreReadOnly(t *testing.T) {
	e := newEnv(t)
	inside, r := e.probe()
	seen := 0
	for _, m := range inside.Mounts {
		if m.Target == "/sys" || strings.HasPrefix(m.Target, "/sys/") {
			seen++
			assert.Contains(t, strings.Split(m.Options, ","), "ro", "%s should be read-only\n%s", m.Target, r)
		}
	}
	assert.GreaterOrEqual(t, seen, 2, "/sys and the cgroup tree\n%s", r)
	r = e.mydocker("run", "--", "sh", "-c", "echo 1 > /sys/fs/cgroup/x")
	assert.NotEqual(t, 0, r.code, r.String())
	assert.Contains(t, r.stderr, "Read-only file system", r.String())
}

// With -t the container gets a terminal of its own, in its own devpts,
// with mydocker's window size, which follows when mydocker's changes.
func TestTTYIsATerminalOfTheContainer(t *testing.T) {
	e := newEnv(t)
	// The kernel tells a terminal's foreground group of a new size with
	// SIGWINCH: the shell prints the size it then sees.
	script := "tty; stty size; trap 'stty size; exit 0' WINCH; echo ready; while :; do sleep 1; done"
	term := e.startOnTerminal("run", "-it", "--", "sh", "-c", script)
	term.expect("/dev/pts/0")
	term.expect("33 101")
	term.expect("ready")
	require.NoError(t, pty.Setsize(term.tty, &pty.Winsize{Rows: 40, Cols: 120}))
	term.expect("40 120")
	assert.Equal(t, 0, term.wait(), term.String())
}

// chroot can be escaped by a process that keeps a handle on a directory
// outside its root; pivot_root with the old root detached cannot.
func TestPivotRootLeavesNoWayBackToTheHost(t *testing.T) {
	e := newEnv(t)
	marker := filepath.Join(e.root, "host-only")
	require.NoError(t, os.WriteFile(marker, nil, 0o644))
	r := e.mydocker("run", "--", probeCmd, "escape", marker)
	require.Equal(t, 0, r.code, r.String())
	assert.Equal(t, "contained\n", r.stdout, r.String())
}

func TestUnknownImageIsRefusedWith125(t *testing.T) {
	e := newEnv(t)
	r := e.mydocker("run", "no-such-image", "true")
	assert.Equal(t, 125, r.code, r.String())
	//book:replace rootfs images
	// assert.Contains(t, r.stderr, `image "no-such-image" not found in `+filepath.Join(e.root, "images")+": build the busybox image with `make image`", r.String())
	//book:end
	//book:add images
	assert.Contains(t, r.stderr, "no such image: no-such-image: import one with `mydocker import FILE no-such-image`", r.String())
	//book:end

	r = e.mydocker("run", "Bad/Name", "true")
	assert.Equal(t, 125, r.code, r.String())
	assert.Contains(t, r.stderr, `invalid image name "Bad/Name"`, r.String())

	r = e.mydocker("run", testImageName)
	assert.Equal(t, 125, r.code, r.String())
	assert.Contains(t, r.stderr, "run needs an image and a command", r.String())
}

// An image decides what its paths are, and a symlink in it can name a
// directory of the host: an absolute target is a host path too, and a
// relative one with enough ".." climbs to the host's root from wherever
// the image is unpacked. The runtime mounts on, and creates files in, the
// image's paths before pivot_root, while the host's tree is still there:
// each of those paths must be found inside the container's root. These
// tests point such links at a directory they made on the host, outside
// the state root, and require that nothing appears in it.

// linkKinds are the two ways a link names a host directory.
var linkKinds = []string{"absolute", "relative"}

// linkTo is a symlink target that names hostDir from anywhere in the image.
func linkTo(kind, hostDir string) string {
	if kind == "relative" {
		return strings.Repeat("../", 32) + strings.TrimPrefix(hostDir, "/")
	}
	return hostDir
}

// hostDirForLinks makes the directory of the host that an image's links
// point at, outside the test's state root.
func hostDirForLinks(t *testing.T) string {
	dir := filepath.Join(t.TempDir(), "victim")
	require.NoError(t, os.Mkdir(dir, 0o755))
	return dir
}

func assertEmptyDir(t *testing.T, dir string, r fmt.Stringer) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, entry := range entries {
		names = append(names, entry.Name())
	}
	assert.Empty(t, names, "mydocker created files in the host directory %s\n%s", dir, r)
}

// With /dev a symlink, the runtime follows it inside the container's root,
// as runc does: its tmpfs, devices and links are made there, and the
// container's /dev works through the link, with -t too (/dev/ptmx).
func TestSymlinkedDevIsFollowedInsideTheRoot(t *testing.T) {
	sameOnEveryCgroupVersion(t)
	for _, kind := range linkKinds {
		t.Run(kind, func(t *testing.T) { testSymlinkedDev(t, kind) })
	}
}

func testSymlinkedDev(t *testing.T, kind string) {
	e := newEnv(t)
	hostDir := hostDirForLinks(t)
	link := linkTo(kind, hostDir)
	e.installImage("dev-link", map[string]string{"dev": link})
	r := e.mydocker("run", "dev-link", "sh", "-c",
		"readlink /dev; stat -c '%F %t:%T' /dev/null; echo x > /dev/null && echo null works; ls /dev/pts")
	assert.Equal(t, 0, r.code, r.String())
	assert.Equal(t, link+"\ncharacter special file 1:3\nnull works\nptmx\n", r.stdout, r.String())
	assertEmptyDir(t, hostDir, r)

	term := e.startOnTerminal("run", "-t", "dev-link", "sh", "-c", "tty; echo x > /dev/null && echo null works")
	term.expect("/pts/0")
	term.expect("null works")
	assert.Equal(t, 0, term.wait(), term.String())
	assertEmptyDir(t, hostDir, term)
}

// procfs and sysfs go on the image's own /proc and /sys, never through a
// link: an image where either is a symlink is refused, as runc refuses it.
func TestSymlinkedProcOrSysIsRefused(t *testing.T) {
	sameOnEveryCgroupVersion(t)
	for _, path := range []string{"proc", "sys"} {
		for _, kind := range linkKinds {
			t.Run(path+"/"+kind, func(t *testing.T) {
				e := newEnv(t)
				hostDir := hostDirForLinks(t)
				e.installImage(path+"-link", map[string]string{path: linkTo(kind, hostDir)})
				r := e.mydocker("run", path+"-link", "true")
				assert.Equal(t, 125, r.code, r.String())
				assert.Contains(t, r.stderr, fmt.Sprintf("the image's /%s is a symlink (to %s)", path, linkTo(kind, hostDir)), r.String())
				assert.Contains(t, r.stderr, "make /"+path+" a directory in the image", r.String())
				assertEmptyDir(t, hostDir, r)
			})
		}
	}
}

// The mount points below /dev and /sys are made in the runtime's fresh
// tmpfs and sysfs, which cover what the image has there: the image's own
// links are never followed, and the container gets real mount points.
func TestSymlinksUnderDevAndSysAreCovered(t *testing.T) {
	sameOnEveryCgroupVersion(t)
	for _, path := range []string{"dev/pts", "dev/shm", "dev/mqueue", "sys/fs/cgroup"} {
		for _, kind := range linkKinds {
			t.Run(path+"/"+kind, func(t *testing.T) {
				e := newEnv(t)
				hostDir := hostDirForLinks(t)
				image := strings.ReplaceAll(path, "/", "-") + "-link"
				e.installImage(image, map[string]string{path: linkTo(kind, hostDir)})
				check := fmt.Sprintf("test -d /%[1]s && ! test -L /%[1]s && echo directory; grep -q ' /%[1]s ' /proc/self/mountinfo && echo mounted", path)
				r := e.mydocker("run", image, "sh", "-c", check)
				assert.Equal(t, 0, r.code, r.String())
				assert.Equal(t, "directory\nmounted\n", r.stdout, r.String())
				assertEmptyDir(t, hostDir, r)
			})
		}
	}
}

// installImage adds an image to the test's state root: the test image with
// the given paths replaced by symlinks.
func (e *env) installImage(name string, symlinks map[string]string) {
	e.t.Helper()
	in, err := os.Open(testImage)
	require.NoError(e.t, err)
	defer in.Close()
	out, err := os.Create(filepath.Join(e.root, "images", name+".tar"))
	require.NoError(e.t, err)
	defer out.Close()
	tr, tw := tar.NewReader(in), tar.NewWriter(out)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(e.t, err)
		if _, replaced := symlinks[strings.Trim(hdr.Name, "./")]; replaced {
			continue
		}
		require.NoError(e.t, tw.WriteHeader(hdr))
		_, err = io.Copy(tw, tr)
		require.NoError(e.t, err)
	}
	for path, target := range symlinks {
		require.NoError(e.t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: path, Linkname: target, Mode: 0o777}))
	}
	require.NoError(e.t, tw.Close())
}

// A tar bomb, an archive that expands far beyond its size, must not fill
// the state root, and an unpacking that runs out of room must stop with an
// error that says what to do, and leave nothing behind. The state root is
// a small tmpfs of the test's own, so the test never fills the real disk.
func TestImageBiggerThanTheStateRootIsRefused(t *testing.T) {
	sameOnEveryCgroupVersion(t)
	bombs := []struct {
		name, tmpfsOptions, message string
		write                       func(*testing.T, *tar.Writer)
	}{
		// 64 MiB of zeros, about 64 KiB gzipped: refused before it is written.
		{"zeros", "size=8m", `image archive entry "zeros": no space left on device: the file is 64.0 MiB`, writeZeros},
		// More files than the filesystem has inodes: the kernel's ENOSPC, partway.
		{"many-files", "size=8m,nr_inodes=64", "create file: ", writeEmptyFiles},
	}
	for _, bomb := range bombs {
		t.Run(bomb.name, func(t *testing.T) {
			e := newEnv(t)
			root := smallStateRoot(t, bomb.tmpfsOptions)
			writeImage(t, filepath.Join(root, "images", bomb.name+".tar"), bomb.write)
			before := usedSpace(t, root)
			r := e.mydocker("--root", root, "run", bomb.name, "true")
			assert.Equal(t, 125, r.code, r.String())
			assert.Contains(t, r.stderr, bomb.message, r.String())
			assert.Contains(t, r.stderr, "no space left on device", r.String())
			assert.Contains(t, r.stderr, "the image does not fit in the state root: "+
				"free space there, or put the state root on a filesystem with room with --root", r.String())
			assertNothingLeft(t, root, before, r)
		})
	}
}

// smallStateRoot mounts a tmpfs of its own for a state root, which a test
// may fill, and unmounts it when the test ends.
func smallStateRoot(t *testing.T, options string) string {
	dir := filepath.Join(t.TempDir(), "small-root")
	require.NoError(t, os.Mkdir(dir, 0o700))
	require.NoError(t, unix.Mount("tmpfs", dir, "tmpfs", 0, options))
	t.Cleanup(func() {
		if err := unix.Unmount(dir, 0); err != nil {
			t.Errorf("unmounting the test's state root %s: %v", dir, err)
			_ = unix.Unmount(dir, unix.MNT_DETACH)
		}
	})
	return dir
}

func writeImage(t *testing.T, path string, write func(*testing.T, *tar.Writer)) {
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()
	zw := gzip.NewWriter(f)
	tw := tar.NewWriter(zw)
	write(t, tw)
	require.NoError(t, tw.Close())
	require.NoError(t, zw.Close())
	require.NoError(t, f.Close())
}

func writeZeros(t *testing.T, tw *tar.Writer) {
	const size = 64 << 20
	require.NoError(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "zeros", Mode: 0o644, Size: size}))
	zero, err := os.Open("/dev/zero")
	require.NoError(t, err)
	defer zero.Close()
	_, err = io.CopyN(tw, zero, size)
	require.NoError(t, err)
}

func writeEmptyFiles(t *testing.T, tw *tar.Writer) {
	for i := range 200 {
		require.NoError(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: fmt.Sprintf("f%03d", i), Mode: 0o644}))
	}
}

// usedSpace is what root's filesystem holds: bytes and inodes.
func usedSpace(t *testing.T, root string) [2]uint64 {
	var st unix.Statfs_t
	require.NoError(t, unix.Statfs(root, &st))
	return [2]uint64{(st.Blocks - st.Bfree) * uint64(st.Bsize), st.Files - st.Ffree}
}

// assertNothingLeft checks that a failed unpacking left nothing in root
// but a few bookkeeping files: no container, and nothing of the layer.
func assertNothingLeft(t *testing.T, root string, before [2]uint64, r fmt.Stringer) {
	t.Helper()
	patterns := []string{"containers/[0-9a-f]*"}
	//book:add overlay
	patterns = append(patterns, "layers/.unpacking-*", "layers/[0-9a-f]*")
	//book:end
	for _, pattern := range patterns {
		left, err := filepath.Glob(filepath.Join(root, pattern))
		require.NoError(t, err)
		assert.Empty(t, left, "left in the state root\n%s", r)
	}
	after := usedSpace(t, root)
	assert.LessOrEqual(t, after[0], before[0]+16<<10, "bytes used on the state root's filesystem, before and after\n%s", r)
	bookkeeping := uint64(8) // the state root's directories and lock files
	//book:add images
	bookkeeping += 4 // the image store's blobs/sha256 and its import lock
	//book:end
	assert.LessOrEqual(t, after[1], before[1]+bookkeeping, "inodes used on the state root's filesystem, before and after\n%s", r)
}

// With -t too, the command holds its terminal as 0, 1 and 2, and nothing
// that mydocker's caller left open.
func TestOnlyTheTerminalReachesATTYCommand(t *testing.T) {
	e := newEnv(t)
	cmd := e.command(t.Context(), append([]string{"run", "-it", "--"}, listOwnDescriptors()...)...)
	cmd.ExtraFiles = openStrayDescriptors(t)
	term := e.startCommandOnTerminal(cmd)
	require.Equal(t, 0, term.wait(), term.String())
	assert.Contains(t, term.String(), "0\r\n1\r\n2\r\n")
	assert.NotContains(t, term.String(), "\r\n3\r\n")
}

// The container sees its own cgroup at /sys/fs/cgroup, with its own
// limits, and nothing else of the tree: not its parent, not another
// container. On v2 it is the root of the container's cgroup namespace, or
// its directory bound in (--cgroupns host); on v1, its own directory in
// each hierarchy, in a tmpfs. Read-only, and no setuid, devices or
// programs, as Docker mounts it.
func TestContainerSeesOnlyItsOwnCgroup(t *testing.T) {
	e := newEnv(t)
	other := e.start("run", "--", probeCmd, "sleep")
	other.expectLine("ready")
	script := "find /sys/fs/cgroup -mindepth 1 -type d; echo limit; cat /sys/fs/cgroup/pids.max /sys/fs/cgroup/pids/pids.max 2>/dev/null; " +
		"grep ' /sys/fs/cgroup' /proc/self/mountinfo"
	for _, flags := range [][]string{nil, {"--cgroupns", "private"}, {"--cgroupns", "host"}} {
		r := e.mydocker(append(append([]string{"run", "--pids-limit", "33"}, flags...), "--", "sh", "-c", script)...)
		require.Equal(t, 0, r.code, r.String())
		dirs, rest, ok := strings.Cut(r.stdout, "limit\n")
		require.True(t, ok, r.String())
		for _, dir := range strings.Fields(dirs) {
			// v1: the hierarchies' mount points, each the container's own
			// cgroup, which has no children; v2: no directory at all.
			assert.Regexp(t, `^/sys/fs/cgroup/[^/]+$`, dir, "%v: only the container's own cgroup\n%s", flags, r)
		}
		assert.True(t, strings.HasPrefix(rest, "33\n"), "%v: the container's own pids.max\n%s", flags, r)
		for _, line := range strings.Split(strings.TrimSpace(rest), "\n")[1:] {
			options := strings.Split(strings.Fields(line)[5], ",")
			for _, want := range []string{"ro", "nosuid", "nodev", "noexec"} {
				assert.Contains(t, options, want, "%v: %s\n%s", flags, line, r)
			}
		}
	}
	assert.Equal(t, 128+int(unix.SIGKILL), other.killContainer(), other.String())
}
