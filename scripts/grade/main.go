// Command grade grades a lab workspace: it runs the book's own tests of the
// chapter's stage (not the copies in the workspace) against the student's
// code, and prints a scoreboard, one line per test, grouped by the lab's
// parts. With -selftest it proves the lab's grader both ways: the stubs
// fail the tests of their part, and the book's own code passes them.
//
// Run it from the repository root, as root (the tests start containers):
//
//	go run ./scripts/grade SLUG WORKSPACE      grade a workspace (make grade)
//	go run ./scripts/grade -selftest SLUG      prove the grader (make test, CI)
//	go run ./scripts/grade -list               the chapters that have a lab
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/mydocker-book/mydocker/chapters"
	"github.com/mydocker-book/mydocker/labs"
)

const usage = `usage (from the repository root, as root):
  go run ./scripts/grade [-image TAR] SLUG WORKSPACE   grade the lab workspace of chapter SLUG
  go run ./scripts/grade [-image TAR] -selftest SLUG   prove that lab's grader both ways
  go run ./scripts/grade -list                         the chapters that have a lab`

func main() {
	selftest := flag.Bool("selftest", false, "prove the grader of a lab: stubs fail, the book's code passes")
	list := flag.Bool("list", false, "print the chapters that have a lab, one per line")
	image := flag.String("image", "build/images/busybox.tar", "the busybox image the tests use")
	flag.Usage = func() { fmt.Fprintln(os.Stderr, usage) }
	flag.Parse()
	var err error
	switch {
	case *list && flag.NArg() == 0:
		err = printLabs()
	case *selftest && flag.NArg() == 1:
		err = selfTest(flag.Arg(0), *image)
	case !*selftest && flag.NArg() == 2:
		var ok bool
		ok, err = gradeWorkspace(flag.Arg(0), flag.Arg(1), *image)
		if err == nil && !ok {
			os.Exit(1)
		}
	default:
		flag.Usage()
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "grade:", err)
		os.Exit(1)
	}
}

func printLabs() error {
	list, err := labs.Load()
	for _, l := range list {
		fmt.Println(l.Chapter)
	}
	return err
}

// lab is what the grader needs to know about one chapter's lab.
type lab struct {
	labs.Lab
	chapter chapters.Chapter
	image   string // absolute path of the busybox image
	work    string // build/grade/SLUG: the grader's own folder
}

func findLab(slug, image string) (lab, error) {
	if os.Geteuid() != 0 {
		return lab{}, errors.New("grading runs the book's integration tests, which start containers, and that needs root: " +
			"sudo make grade CH=" + slug)
	}
	if _, err := os.Stat("chapters/chapters.json"); err != nil {
		return lab{}, errors.New("run the grader from the repository root (make grade does)")
	}
	c, err := chapters.Find(slug)
	if err != nil {
		return lab{}, err
	}
	l, err := labs.Find(slug)
	if err != nil {
		return lab{}, err
	}
	abs, err := filepath.Abs(image)
	if err != nil {
		return lab{}, err
	}
	if _, err := os.Stat(abs); err != nil {
		return lab{}, fmt.Errorf("the tests need the busybox image %s: make image builds it (make grade does)", image)
	}
	return lab{Lab: l, chapter: c, image: abs, work: filepath.Join("build", "grade", slug)}, nil
}

// gradeWorkspace grades a student's workspace with every test of the stage
// and prints the scoreboard. ok is false while any test fails.
func gradeWorkspace(slug, workspace, image string) (ok bool, err error) {
	l, err := findLab(slug, image)
	if err != nil {
		return false, err
	}
	if err := checkWorkspace(workspace, slug); err != nil {
		return false, err
	}
	reference, err := l.reference()
	if err != nil {
		return false, err
	}
	tree := filepath.Join(l.work, "tree")
	fmt.Printf("grading %s against the book's tests of stage %s (this takes one to three minutes)\n", workspace, slug)
	res, err := l.run(reference, workspace, tree, "")
	if err != nil {
		return false, err
	}
	docs, err := testDocs(tree)
	if err != nil {
		return false, err
	}
	printScoreboard(os.Stdout, l, res, docs)
	return res.allPassed(), nil
}

// checkWorkspace refuses a folder that is not a lab workspace of slug, with
// the command that makes one.
func checkWorkspace(dir, slug string) error {
	data, err := os.ReadFile(filepath.Join(dir, "STAGE"))
	if err != nil {
		return fmt.Errorf("%s is not a lab workspace: make lab CH=%s writes one (DIR=... for another folder)", dir, slug)
	}
	if got := strings.TrimSpace(string(data)); got != slug {
		return fmt.Errorf("%s is the workspace of chapter %s, not %s: make grade CH=%s", dir, got, slug, got)
	}
	return nil
}

// reference writes the book's own stage of the chapter, with its tests:
// the tests are always taken from here.
func (l lab) reference() (string, error) {
	dir := filepath.Join(l.work, "reference")
	if err := goRun("./scripts/stagegen", "stage", l.Chapter, "-o", dir); err != nil {
		return "", fmt.Errorf("writing the book's stage %s: %w", l.Chapter, err)
	}
	return dir, nil
}

// run builds the grading tree, the reference with the workspace's code in
// place of its own, and runs the tests that match pattern (all if "").
func (l lab) run(reference, workspace, tree, pattern string) (results, error) {
	if err := overlay(reference, workspace, tree); err != nil {
		return results{}, err
	}
	// -trimpath: without it, Go's build cache keys every package on the
	// directory it was compiled in, and each part's tree would compile
	// all of mydocker again; with it, only the packages that differ.
	args := []string{"test", "-json", "-count=1", "-trimpath", "-timeout", "20m"}
	packages := []string{"./..."}
	if pattern != "" {
		args = append(args, "-run", pattern)
		// Only the packages that hold the tests: every other package's
		// test binary would be built and linked for nothing.
		var err error
		if packages, err = packagesWithTests(tree, pattern); err != nil {
			return results{}, err
		}
	}
	// In a network namespace of their own, as make test runs them: the
	// network chapters' tests make bridges and iptables rules.
	ownNetns, err := filepath.Abs("scripts/own-netns.sh")
	if err != nil {
		return results{}, err
	}
	cmd := exec.Command(ownNetns, append(append([]string{goBinary()}, args...), packages...)...)
	cmd.Dir = tree
	cmd.Env = append(os.Environ(), "MYDOCKER_TEST_BUSYBOX_IMAGE="+l.image)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return results{}, fmt.Errorf("running go test: %w", err)
	}
	return parseTestEvents(out)
}

// overlay makes tree a copy of reference whose non-test Go files under
// mydocker/ are the workspace's: the student's code, the book's tests.
func overlay(reference, workspace, tree string) error {
	if err := os.RemoveAll(tree); err != nil {
		return err
	}
	if err := copyTree(reference, tree, func(rel string) bool { return !isCode(rel) }); err != nil {
		return err
	}
	return copyTree(workspace, tree, isCode)
}

// isCode is a Go file of mydocker that is not a test.
func isCode(rel string) bool {
	return strings.HasPrefix(rel, "mydocker/") && strings.HasSuffix(rel, ".go") && !strings.HasSuffix(rel, "_test.go")
}

// copyTree copies the regular files of from whose relative path keep
// accepts into to.
func copyTree(from, to string, keep func(rel string) bool) error {
	return filepath.WalkDir(from, func(path string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, err := filepath.Rel(from, path)
		if err != nil || !keep(filepath.ToSlash(rel)) {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		dst := filepath.Join(to, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, data, info.Mode().Perm())
	})
}

func goBinary() string {
	if g := os.Getenv("GO"); g != "" {
		return g
	}
	return "go"
}

func goRun(args ...string) error {
	cmd := exec.Command(goBinary(), append([]string{"run"}, args...)...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	return cmd.Run()
}

// packagesWithTests lists the package directories of tree (as ./DIR) whose
// test files define a top-level test that pattern matches.
func packagesWithTests(tree, pattern string) ([]string, error) {
	match, err := regexp.Compile(pattern)
	if err != nil {
		return nil, err
	}
	found := map[string]bool{}
	err = filepath.WalkDir(tree, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range testFuncs.FindAllStringSubmatch(string(data), -1) {
			if match.MatchString(m[1]) {
				rel, _ := filepath.Rel(tree, filepath.Dir(path))
				found["./"+filepath.ToSlash(rel)] = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(found) == 0 {
		return []string{"./..."}, nil // go test reports what is missing
	}
	var packages []string
	for p := range found {
		packages = append(packages, p)
	}
	sort.Strings(packages)
	return packages, nil
}

// testFuncs finds the top-level test functions of a test file.
var testFuncs = regexp.MustCompile(`(?m)^func (Test\w+)\(`)
