//book:file rootfs

package integration

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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

// checkContainerDirsRemoved fails the test if a container's directory is
// left in the state root after mydocker has exited.
func (e *env) checkContainerDirsRemoved() {
	entries, _ := os.ReadDir(filepath.Join(e.root, "containers"))
	var left []string
	for _, entry := range entries {
		left = append(left, entry.Name())
	}
	assert.Empty(e.t, left, "container directories left in %s/containers", e.root)
}

// removeLeftoverContainerDir removes the directory of a container whose
// mydocker was killed, and fails the test if there is none.
func (e *env) removeLeftoverContainerDir() {
	e.t.Helper()
	entries, err := os.ReadDir(filepath.Join(e.root, "containers"))
	require.NoError(e.t, err)
	require.Len(e.t, entries, 1, "the killed container's directory")
	require.NoError(e.t, os.RemoveAll(filepath.Join(e.root, "containers", entries[0].Name())))
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
	for _, target := range targets {
		if !strings.HasPrefix(target, "/sys/fs/cgroup") {
			assert.Contains(t, expected, target, "a mount the container should not have\n%s", r)
		}
	}
	assert.Subset(t, targets, expected, r.String())

	r = e.mydocker("run", "--", "sh", "-c", "cat /etc/os-release; test -e "+marker+" && echo host file visible; ls /")
	require.Equal(t, 0, r.code, r.String())
	assert.Contains(t, r.stdout, `NAME="mydocker busybox"`, r.String())
	assert.NotContains(t, r.stdout, "host file visible", r.String())
}
