//book:file namespaces

// Package integration runs the built mydocker of one stage as root and
// checks what its containers see, through the probe program. Every test gets
// its own state root, and a leak check after it fails the test when anything
// it created is still there.
package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/mydocker-book/mydocker/chapters"
)

// Built (or copied) once per test binary, in TestMain.
var (
	mydockerBin string
	// mydockerFaultsBin is mydocker built with -tags faults: any step of a
	// container's phases can be made to fail (phases_test.go).
	mydockerFaultsBin string
	probeBin          string
	// busyboxBin is a static C program for the tests that need one: unlike
	// the probe (Go installs signal handlers), its "sleep" keeps the kernel's
	// default signal actions.
	busyboxBin string
	// probeCmd and busyboxCmd are the same programs as a container names
	// them: the host's files until the rootfs chapter, then the copies in
	// the test image.
	probeCmd, busyboxCmd string
)

func TestMain(m *testing.M) {
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "The integration tests create namespaces and mounts, so they need root.\n"+
			"Run them as root: sudo make test (or sudo make test CH=<slug>).")
		os.Exit(1)
	}
	os.Exit(runTests(m))
}

// runTests builds what the tests need, runs them, and removes what it
// built, also when a build fails half-way.
func runTests(m *testing.M) int {
	binDir, err := buildBinaries()
	if binDir != "" {
		defer os.RemoveAll(binDir)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	setContainerPaths()
	//book:add rootfs
	imageDir, err := buildTestImage()
	if imageDir != "" {
		defer os.RemoveAll(imageDir)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	//book:end
	//book:replace namespaces cgroups
	// return m.Run()
	//book:end
	//book:add cgroups
	status := m.Run()
	if err := parentsLeftAtTheEnd(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		status = 1
	}
	return status
	//book:end
}

// buildBinaries builds this stage's mydocker and a static probe into a
// directory every user may read, since containers may run as other users.
func buildBinaries() (string, error) {
	if dir := os.Getenv("MYDOCKER_TEST_BINARIES"); dir != "" {
		return usePrebuilt(dir)
	}
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	fmt.Fprintf(os.Stderr, "integration tests of %s\n", describeStage(root))
	dir, err := os.MkdirTemp("", "mydocker-test-bin-")
	if err != nil {
		return "", err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return dir, err
	}
	mydockerBin, probeBin = filepath.Join(dir, "mydocker"), filepath.Join(dir, "probe")
	mydockerFaultsBin = filepath.Join(dir, "mydocker-faults")
	// -tags replaces the tags of GOFLAGS, where the Makefile leaves out
	// urfave/cli's doc generators (urfave_cli_no_docs): name it again, so
	// that the tests build the mydocker that make builds, with the modules
	// that make downloaded (the tests run without a network).
	builds := []struct{ out, pkg, tags string }{
		{mydockerBin, "./mydocker", "urfave_cli_no_docs"},
		{mydockerFaultsBin, "./mydocker", "urfave_cli_no_docs,faults"},
		{probeBin, "./mydocker/probe", "urfave_cli_no_docs"},
	}
	for _, b := range builds {
		// -trimpath: the same package compiled in another directory (the
		// next stage, a lab's grading tree) is then found in Go's cache.
		cmd := exec.Command(goBinary(), "build", "-trimpath", "-o", b.out, "-tags="+b.tags, b.pkg)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return dir, fmt.Errorf("building %s: %v\n%s", b.pkg, err, out)
		}
	}
	busyboxBin = filepath.Join(dir, "busybox")
	if err := copyBusybox(busyboxBin); err != nil {
		return dir, err
	}
	return dir, nil
}

// usePrebuilt takes mydocker, probe and busybox from dir, for machines that
// have no Go toolchain, such as the cgroup v2 test VM. It returns "" so that
// runTests removes nothing.
func usePrebuilt(dir string) (string, error) {
	fmt.Fprintf(os.Stderr, "integration tests with the binaries in %s\n", dir)
	mydockerBin, probeBin, busyboxBin = filepath.Join(dir, "mydocker"), filepath.Join(dir, "probe"), filepath.Join(dir, "busybox")
	mydockerFaultsBin = filepath.Join(dir, "mydocker-faults")
	for _, bin := range []string{mydockerBin, mydockerFaultsBin, probeBin, busyboxBin} {
		if _, err := os.Stat(bin); err != nil {
			return "", fmt.Errorf("MYDOCKER_TEST_BINARIES: %w", err)
		}
	}
	return "", nil
}

func setContainerPaths() {
	//book:replace namespaces rootfs
	// probeCmd, busyboxCmd = probeBin, busyboxBin
	//book:end
	//book:add rootfs
	probeCmd, busyboxCmd = "/usr/local/bin/probe", "/bin/busybox"
	//book:end
}

func copyBusybox(to string) error {
	from, err := exec.LookPath("busybox")
	if err != nil {
		return fmt.Errorf("the tests need a static busybox: install busybox-static (scripts/provision.sh does)")
	}
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, data, 0o755)
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for ; dir != "/"; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
	}
	return "", fmt.Errorf("no go.mod above the test directory")
}

// describeStage names the stage under test, from the STAGE file the
// generator writes (the final source has none).
func describeStage(root string) string {
	data, err := os.ReadFile(filepath.Join(root, "STAGE"))
	if err != nil {
		return "the final source"
	}
	slug := strings.TrimSpace(string(data))
	ch, err := chapters.Find(slug)
	if err != nil {
		return "unknown stage " + slug
	}
	return fmt.Sprintf("stage %q (chapter %d of %d: %s)", slug, ch.Number, len(chapters.All()), ch.Title)
}

// goBinary finds the go command even under sudo, whose PATH may lack it.
func goBinary() string {
	if path, err := exec.LookPath("go"); err == nil {
		return path
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}
