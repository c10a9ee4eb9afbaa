// Command transcripts runs the console blocks of the book's texts (the
// chapters, the labs and README.md) against the stage each belongs to, and
// compares what they print with the text. With -fix it rewrites the text
// from the run, keeping the placeholders that still match.
//
// It must run as root, in a mount namespace of its own with a tmpfs at
// /var/lib/mydocker, so that the transcripts' paths are the book's and the
// machine's own state root is never touched: `make transcripts-check`
// (run by make test) and `make transcripts` (which rewrites) do that.
// docs/transcripts.md describes the placeholders and the directive that
// marks a block that is not run.
package main

import (
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mydocker-book/mydocker/chapters"
)

// stateRoot is mydocker's default state root: the transcripts show it.
const stateRoot = "/var/lib/mydocker"

func main() {
	// The blocks' commands see what a reader's do: standard input, output
	// and error, and no descriptor that whoever started the checker left
	// open (make's jobserver pipe, say), which ls /proc/self/fd would show.
	_ = unix.CloseRange(3, math.MaxUint32, unix.CLOSE_RANGE_CLOEXEC)
	var opts options
	flag.BoolVar(&opts.fix, "fix", false, "rewrite the texts' outputs from the run")
	flag.StringVar(&opts.image, "image", "build/images/busybox.tar", "the busybox image the transcripts run")
	list := flag.String("texts-from", "", "run the texts listed in this file (one a line, # comments)")
	flag.StringVar(&opts.bins, "bins", "", "take the stage's mydocker, mydocker-faults and probe from this directory "+
		"instead of building them (for texts of one stage, in the test VM)")
	flag.BoolVar(&opts.cgroupOnly, "cgroup-only", false, "run only the blocks that need this host's cgroup version (in the test VM)")
	flag.Parse()
	texts := flag.Args()
	if *list != "" {
		var err error
		if texts, err = readList(*list); err != nil {
			fmt.Fprintln(os.Stderr, "transcripts:", err)
			os.Exit(1)
		}
	}
	if err := run(opts, texts); err != nil {
		fmt.Fprintln(os.Stderr, "transcripts:", err)
		os.Exit(1)
	}
}

// options are the checker's flags.
type options struct {
	fix        bool
	image      string
	bins       string // prebuilt stage binaries ("": build each text's stage)
	cgroupOnly bool   // only the blocks marked with this host's cgroup version
}

func run(opts options, only []string) error {
	fix := opts.fix
	if err := checkSandbox(); err != nil {
		return err
	}
	host, err := hostCgroupVersion()
	if err != nil {
		return err
	}
	parentsBefore := cgroupParents()
	files, err := textFiles(only)
	if err != nil {
		return err
	}
	work, err := filepath.Abs(filepath.Join("build", "transcripts"))
	if err != nil {
		return err
	}
	image, err := filepath.Abs(opts.image)
	if err != nil {
		return err
	}
	goBin := os.Getenv("GO")
	if goBin == "" {
		goBin = "go"
	}
	bins := map[string]string{}
	failed := 0
	var report []string
	var total counts
	for _, file := range files {
		slug, err := stageOf(file)
		if err != nil {
			return err
		}
		blocks, lines, err := parseFile(file)
		if err != nil {
			return err
		}
		toRun, elsewhere := 0, 0
		for i := range blocks {
			switch b := &blocks[i]; {
			case b.skip != "":
			case b.cgroup != "" && b.cgroup != host:
				b.skip, b.elsewhere = "it needs cgroup "+b.cgroup, true
				elsewhere++
			case opts.cgroupOnly && b.cgroup == "":
				b.skip = "the host runs it"
			default:
				toRun++
			}
		}
		report = append(report, reportLine(file, slug, host, opts.cgroupOnly, toRun, elsewhere, blocks))
		total.add(toRun, elsewhere, len(blocks))
		if toRun == 0 {
			continue
		}
		env := os.Environ()
		if slug != "" && opts.bins != "" {
			bins[slug] = opts.bins
		}
		if slug != "" {
			if bins[slug] == "" {
				if bins[slug], err = stageBinaries(goBin, slug, filepath.Join(work, slug)); err != nil {
					return err
				}
			}
			env = append(env, "PATH="+bins[slug]+":"+os.Getenv("PATH"))
		}
		dir := filepath.Join(work, "work", filepath.Base(filepath.Dir(file)))
		if err := freshState(dir, image); err != nil {
			return err
		}
		if slug != "" {
			// The texts run the probe from their working directory, as
			// `go build -o probe ./mydocker/probe` leaves it.
			if data, err := os.ReadFile(filepath.Join(bins[slug], "probe")); err == nil {
				if err := os.WriteFile(filepath.Join(dir, "probe"), data, 0o755); err != nil {
					return err
				}
			}
		}
		info, err := parseTextInfo(lines)
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		if err := saveFiles(info.files, dir); err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		var outputs [][][]string // per block, per command; nil: run it alone
		if info.interactive {
			if outputs, err = runInteractive(blocks, dir, env); err != nil {
				fmt.Printf("%v\n", err)
				failed++
				continue
			}
		}
		rewrites := map[int][]string{} // a block's first line: its new body
		for i, b := range blocks {
			if b.skip != "" {
				continue
			}
			var n int
			var body []string
			if outputs != nil {
				n, body = compareBlock(b, outputs[i])
			} else {
				n, body = checkBlock(b, dir, env)
			}
			failed += n
			if n > 0 && fix && body != nil {
				rewrites[b.start] = body
			}
		}
		if len(rewrites) > 0 {
			if err := rewrite(file, lines, blocks, rewrites); err != nil {
				return err
			}
		}
	}
	fmt.Println("transcripts: console blocks per text")
	for _, line := range report {
		fmt.Println("  " + line)
	}
	if !opts.cgroupOnly {
		fmt.Println("  " + total.String())
	}
	if err := removeNewCgroupParents(parentsBefore); err != nil {
		return err
	}
	if failed > 0 && !fix {
		return fmt.Errorf("%d command(s) print something else than their text says: fix the code or the text "+
			"(make transcripts rewrites the texts from a run)", failed)
	}
	return nil
}

// reportLine counts a text's blocks: those checked here, those that need
// the other cgroup version (a v2 block runs in the test VM), and those
// marked as not run.
func reportLine(file, slug, host string, cgroupOnly bool, checked, elsewhere int, blocks []block) string {
	if cgroupOnly {
		return fmt.Sprintf("%-36s %3d checked on cgroup %s", file, checked, host)
	}
	notRun := 0
	for _, b := range blocks {
		if b.skip != "" && !b.elsewhere {
			notRun++
		}
	}
	line := fmt.Sprintf("%-36s %3d checked, %2d not run", file, checked, notRun)
	switch {
	case elsewhere > 0 && host == "v1":
		line += fmt.Sprintf(", %2d on cgroup v2 (make test-vm CH=%s)", elsewhere, slug)
	case elsewhere > 0:
		line += fmt.Sprintf(", %2d on cgroup v1 only", elsewhere)
	}
	return line
}

// counts add up the blocks of every text.
type counts struct{ checked, elsewhere, all int }

func (c *counts) add(checked, elsewhere, all int) {
	c.checked += checked
	c.elsewhere += elsewhere
	c.all += all
}

// String says how many blocks are checked, here or on the other cgroup
// version, of all.
func (c counts) String() string {
	if c.all == 0 {
		return "no console blocks"
	}
	return fmt.Sprintf("all texts: %d of %d blocks checked here, %d on the other cgroup version: %.0f%% checked",
		c.checked, c.all, c.elsewhere, 100*float64(c.checked+c.elsewhere)/float64(c.all))
}

// hostCgroupVersion is "v2" where /sys/fs/cgroup is the unified hierarchy,
// and "v1" elsewhere (hybrid hosts included: mydocker drives their v1
// controllers).
func hostCgroupVersion() (string, error) {
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup", &st); err != nil {
		return "", fmt.Errorf("cannot tell this host's cgroup version: %w", err)
	}
	if st.Type == unix.CGROUP2_SUPER_MAGIC {
		return "v2", nil
	}
	return "v1", nil
}

// checkBlock runs one block and compares each command's output with the
// text. It returns how many commands differ, and the block's body as the
// run printed it (placeholders that still match kept), for -fix.
func checkBlock(b block, dir string, env []string) (int, []string) {
	start := time.Now()
	outputs, err := runBlock(b, dir, filepath.Join(filepath.Dir(dir), "scripts"), env)
	if took := time.Since(start); took > 10*time.Second {
		fmt.Printf("%s:%d: the block took %s\n", b.file, b.line, took.Round(time.Second))
	}
	if err != nil {
		fmt.Printf("%s:%d: the block did not run: %v\n", b.file, b.line, err)
		return 1, nil
	}
	return compareBlock(b, outputs)
}

// compareBlock compares each command's output with the text.
func compareBlock(b block, outputs [][]string) (int, []string) {
	failed := 0
	var body []string
	for i, c := range b.commands {
		if c.text == "" {
			body = append(body, "$")
		} else {
			body = append(body, "$ "+c.text)
		}
		body = append(body, fixLines(c.output, outputs[i])...)
		if ok, at := matchLines(c.output, outputs[i]); !ok {
			failed++
			fmt.Printf("%s:%d: `%s` printed something else than the text says (from its line %d of output on):\n",
				b.file, c.line, firstLine(c.text), at+1)
			fmt.Printf("    expected:\n%s    got:\n%s", indent(c.output), indent(outputs[i]))
		}
	}
	return failed, body
}

// rewrite replaces the bodies of the blocks in rewrites, from the last
// block up, so that the line numbers of the others stay right.
func rewrite(file string, lines []string, blocks []block, rewrites map[int][]string) error {
	for k := len(blocks) - 1; k >= 0; k-- {
		b := blocks[k]
		body, ok := rewrites[b.start]
		if !ok {
			continue
		}
		lines = slices.Concat(lines[:b.start], strings.Split(strings.Join(body, "\n"), "\n"), lines[b.end+1:])
	}
	fmt.Printf("transcripts: rewrote %s\n", file)
	return os.WriteFile(file, []byte(strings.Join(lines, "\n")), 0o644)
}

func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}

func indent(lines []string) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString("      " + l + "\n")
	}
	return b.String()
}

// checkSandbox refuses to run anywhere but as root in a mount namespace of
// its own whose /var/lib/mydocker is a tmpfs: the transcripts run
// containers, and must not touch the machine's own state root.
func checkSandbox() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("the transcripts run containers, which needs root: sudo make transcripts-check")
	}
	ours, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	host, err := os.ReadFile("/proc/1/mountinfo")
	if err != nil {
		return err
	}
	for _, dir := range []string{stateRoot, "/tmp"} {
		// A tmpfs of this run's own: mounted in this namespace, so the
		// machine's first process does not have it. (A host whose /tmp is
		// a tmpfs must never be taken for the sandbox: it is emptied.)
		var st unix.Statfs_t
		id := mountID(string(ours), dir)
		if err := unix.Statfs(dir, &st); err != nil || st.Type != unix.TMPFS_MAGIC || id == "" || mountID(string(host), dir) == id {
			return fmt.Errorf("%s must be a tmpfs of this run's own: run through make transcripts-check "+
				"(or make transcripts), which mounts one in a mount namespace of its own", dir)
		}
	}
	return nil
}

// saveFiles writes the files a text has its reader save, relative to the
// working directory, or absolute under /tmp (the sandbox's own).
func saveFiles(files []savedFile, dir string) error {
	for _, f := range files {
		path := f.path
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
		} else if !strings.HasPrefix(filepath.Clean(path), "/tmp/") {
			return fmt.Errorf("a saved file must be under /tmp, or relative: %s", f.path)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, []byte(f.content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// mountID is the id of the mount at target in a mountinfo, the last one
// mounted there; "" if there is none.
func mountID(mountinfo, target string) string {
	id := ""
	for _, line := range strings.Split(mountinfo, "\n") {
		if f := strings.Fields(line); len(f) > 4 && f[4] == target {
			id = f[0]
		}
	}
	return id
}

// freshState empties the state root and /tmp (the sandbox's tmpfs
// mounts; the go command's own build directories in /tmp excepted) and
// the working directory, and puts the book's busybox image in place.
func freshState(dir, image string) error {
	for _, d := range []string{stateRoot, "/tmp"} {
		entries, err := os.ReadDir(d)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), "go-build") {
				continue
			}
			if err := os.RemoveAll(filepath.Join(d, e.Name())); err != nil {
				return err
			}
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(filepath.Dir(dir), "scripts"), 0o755); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(stateRoot, "images"), 0o700); err != nil {
		return err
	}
	data, err := os.ReadFile(image)
	if err != nil {
		return fmt.Errorf("the transcripts need the busybox image (make image): %w", err)
	}
	return os.WriteFile(filepath.Join(stateRoot, "images", "busybox.tar"), data, 0o600)
}

// readList reads a list of texts, one a line, skipping blanks and comments.
func readList(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var texts []string
	for _, line := range strings.Split(string(data), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			texts = append(texts, line)
		}
	}
	return texts, nil
}

// textFiles are the texts whose console blocks are checked.
func textFiles(only []string) ([]string, error) {
	if len(only) > 0 {
		return only, nil
	}
	var files []string
	for _, pattern := range []string{"chapters/*/README.md", "labs/*/README.md"} {
		matches, err := filepath.Glob(pattern)
		if err != nil {
			return nil, err
		}
		files = append(files, matches...)
	}
	sort.Strings(files)
	return append(files, "README.md"), nil
}

// stageOf is the stage a text's transcripts run against: its chapter's
// (for a chapter or its lab), the last tested one for README.md, and none
// for the primer, whose commands need no mydocker.
func stageOf(file string) (string, error) {
	list, err := chapters.Load()
	if err != nil {
		return "", err
	}
	if file == "README.md" {
		last := ""
		for _, c := range list {
			if c.Tested() {
				last = c.Slug
			}
		}
		return last, nil
	}
	dir := filepath.Base(filepath.Dir(file))
	if dir == "00-primer" {
		return "", nil
	}
	for _, c := range list {
		if c.Dir() == dir {
			return c.Slug, nil
		}
	}
	return "", fmt.Errorf("%s: no chapter of chapters/chapters.json has the folder %s", file, dir)
}
