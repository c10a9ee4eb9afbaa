package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/mydocker-book/mydocker/chapters"
	"github.com/mydocker-book/mydocker/labs"
)

// manifestFile, at the root of a lab workspace, lists the files as they
// were written, so that the next `lab` can tell a student's work from a
// fresh workspace and never overwrite the work.
const manifestFile = ".lab.json"

// labGuideFile is the short guide written at the root of a workspace.
const labGuideFile = "LAB.md"

type manifest struct {
	Chapter string            `json:"chapter"`
	Part    string            `json:"part,omitempty"`
	Files   map[string]string `json:"files"` // path in the workspace: sha256 of its content
}

// labReadme is the path of a chapter's lab text, from the repository root.
func labReadme(c chapters.Chapter) string {
	return "labs/" + c.Dir() + "/README.md"
}

// runLab handles `lab SLUG [-o DIR] [-part PART] [-reset]`: it writes the
// stage of chapter SLUG with the chapter's lab cuts replaced by their
// stubs (only PART's, with -part), as a module that builds and vets.
func runLab(b book, args []string, out io.Writer) error {
	flags := flag.NewFlagSet("lab", flag.ContinueOnError)
	dir := flags.String("o", "", "the workspace (default build/labs/SLUG)")
	part := flags.String("part", "", "cut only this part (for the grader's self-test)")
	reset := flags.Bool("reset", false, "start again: move a workspace with changes aside first")
	slug, err := parseSlugAndFlags(flags, args)
	if err != nil {
		return err
	}
	c, err := b.find(slug)
	if err != nil {
		return err
	}
	lab, err := b.lab(slug)
	if err != nil {
		return err
	}
	if _, ok := lab.Part(*part); *part != "" && !ok {
		return fmt.Errorf("the lab of chapter %s has no part %q", slug, *part)
	}
	if *dir == "" {
		*dir = filepath.Join(b.root, "build", "labs", slug)
	}
	if err := makeRoomForWorkspace(*dir, slug, *reset, out); err != nil {
		return err
	}
	cut := slug
	if *part != "" {
		cut = slug + "/" + *part
	}
	if err := writeTree(b, slug, *dir, cut); err != nil {
		return err
	}
	files, err := stubbedFiles(b, slug, *part)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(*dir, labGuideFile), []byte(labGuide(c, lab, files)), 0o644); err != nil {
		return err
	}
	if err := writeManifest(*dir, manifest{Chapter: slug, Part: *part}); err != nil {
		return err
	}
	fmt.Fprintf(out, "stagegen: wrote the lab workspace of chapter %d, %s, to %s\n", c.Number, slug, *dir)
	fmt.Fprintf(out, "  the task: %s\n  write the stubs in: %s\n  then, from the repository root: sudo make grade CH=%s%s\n",
		labReadme(c), strings.Join(files, ", "), slug, dirArg(b, slug, *dir))
	return nil
}

// dirArg is the DIR= to add to make grade, if the workspace is not the default one.
func dirArg(b book, slug, dir string) string {
	if filepath.Clean(dir) == filepath.Join(b.root, "build", "labs", slug) {
		return ""
	}
	return " DIR=" + dir
}

// lab returns the lab of chapter slug.
func (b book) lab(slug string) (labs.Lab, error) {
	for _, l := range b.labs {
		if l.Chapter == slug {
			return l, nil
		}
	}
	return labs.Lab{}, fmt.Errorf("chapter %q has no lab: the labs are listed in labs/labs.json", slug)
}

// makeRoomForWorkspace empties dir for a new workspace. A workspace whose
// files changed since `lab` wrote it holds the student's work: it is kept,
// or with reset moved aside, never overwritten.
func makeRoomForWorkspace(dir, slug string, reset bool, out io.Writer) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) || err == nil && len(entries) == 0 {
		return nil
	}
	if err != nil {
		return err
	}
	changed, err := workspaceChanges(dir)
	if err != nil {
		return err
	}
	if len(changed) == 0 {
		return clearDir(dir)
	}
	if !reset {
		if len(changed) > 8 {
			changed = append(changed[:8], "...")
		}
		return fmt.Errorf("%s holds your work (changed since it was written: %s), so it is left as it is; "+
			"to start again from the stubs: make lab CH=%s RESET=1 (your files are moved aside, not deleted)",
			dir, strings.Join(changed, ", "), slug)
	}
	backup := fmt.Sprintf("%s.bak-%s", strings.TrimSuffix(dir, "/"), time.Now().Format("20060102-150405"))
	if err := os.Rename(dir, backup); err != nil {
		return fmt.Errorf("moving your workspace aside: %w", err)
	}
	fmt.Fprintf(out, "stagegen: your workspace is now %s\n", backup)
	return nil
}

// workspaceChanges lists the files of a workspace that differ from its
// manifest, or that it did not list. A folder without a manifest is not a
// workspace: all of it counts as someone's work.
func workspaceChanges(dir string) ([]string, error) {
	data, err := os.ReadFile(filepath.Join(dir, manifestFile))
	if errors.Is(err, fs.ErrNotExist) {
		return []string{"it is not a lab workspace: it has no " + manifestFile}, nil
	}
	if err != nil {
		return nil, err
	}
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return []string{manifestFile + " is damaged"}, nil
	}
	now, err := hashTree(dir)
	if err != nil {
		return nil, err
	}
	var changed []string
	for path, sum := range now {
		if m.Files[path] != sum {
			changed = append(changed, path)
		}
	}
	for path := range m.Files {
		if _, ok := now[path]; !ok {
			changed = append(changed, path+" (removed)")
		}
	}
	sort.Strings(changed)
	return changed, nil
}

func clearDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// hashTree hashes every regular file under dir but the manifest.
func hashTree(dir string) (map[string]string, error) {
	sums := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil || rel == manifestFile {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		sums[filepath.ToSlash(rel)] = hex.EncodeToString(sum[:])
		return nil
	})
	return sums, err
}

func writeManifest(dir string, m manifest) error {
	files, err := hashTree(dir)
	if err != nil {
		return err
	}
	m.Files = files
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, manifestFile), append(data, '\n'), 0o644)
}

// stubbedFiles lists the files that hold the lab's stubs (part's only, if set).
func stubbedFiles(b book, slug, part string) ([]string, error) {
	cuts, errs := sourceLabCuts(b)
	if len(errs) > 0 {
		return nil, problems(errs)
	}
	var files []string
	for _, c := range cuts {
		if c.slug == slug && (part == "" || c.part == part) && !slices.Contains(files, c.path) {
			files = append(files, c.path)
		}
	}
	return files, nil
}

// labGuide is the LAB.md of a workspace: where the task is and how to grade.
func labGuide(c chapters.Chapter, lab labs.Lab, files []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Lab workspace: chapter %d, %s\n\n", c.Number, c.Title)
	fmt.Fprintf(&b, "This is the code at the end of chapter `%s`, with the pieces of the lab\n", c.Slug)
	fmt.Fprintf(&b, "cut out and replaced by stubs. The task is in `%s` of the book's\nrepository.\n\n", labReadme(c))
	b.WriteString("The stubs are in:\n\n")
	for _, f := range files {
		fmt.Fprintf(&b, "- `%s`\n", f)
	}
	b.WriteString("\nParts:\n\n")
	for i, p := range lab.Parts {
		fmt.Fprintf(&b, "%d. %s (`%s`)\n", i+1, p.Title, p.Name)
	}
	fmt.Fprintf(&b, "\nGrade your work from the repository root: `sudo make grade CH=%s DIR=<this folder>`\n", c.Slug)
	b.WriteString("(DIR may be left out for the default folder, build/labs/" + c.Slug + ").\n")
	b.WriteString("The grader runs the book's own tests, not the copies in this folder.\n")
	return b.String()
}

// sourceLabCuts parses every Go file under mydocker/ and returns its lab cuts.
func sourceLabCuts(b book) ([]labCut, []error) {
	var cuts []labCut
	var errs []error
	order := b.order()
	walkErr := filepath.WalkDir(filepath.Join(b.root, sourceDir), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(b.root, path)
		if err != nil {
			return err
		}
		f, fileErrs := parseMarkers(filepath.ToSlash(rel), data, order)
		errs = append(errs, fileErrs...)
		if f != nil {
			cuts = append(cuts, f.labs...)
		}
		return nil
	})
	if walkErr != nil {
		errs = append(errs, fmt.Errorf("reading %s/ failed: %w", sourceDir, walkErr))
	}
	return cuts, errs
}

// testFunc finds the test functions of a _test.go file.
var testFunc = regexp.MustCompile(`(?m)^func (Test\w+)\(`)

// sourceTests lists the test functions under mydocker/.
func sourceTests(b book) (map[string]bool, error) {
	tests := map[string]bool{}
	err := filepath.WalkDir(filepath.Join(b.root, sourceDir), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range testFunc.FindAllStringSubmatch(string(data), -1) {
			tests[m[1]] = true
		}
		return nil
	})
	return tests, err
}

// checkLabs checks the labs against the lab cuts of the source: every
// written chapter has a lab of at least two parts; every part has its cuts,
// its tests (one at least that no other part lists) and a known name; every
// stub points to its lab text, which exists.
func checkLabs(b book, cuts []labCut) []error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	tests, err := sourceTests(b)
	if err != nil {
		return []error{err}
	}
	hasCut := map[string]bool{}
	for _, cut := range cuts {
		hasCut[cut.slug+"/"+cut.part] = true
		lab, err := b.lab(cut.slug)
		if err != nil {
			fail("%s:%d: //book:lab %s %s: %v", cut.path, cut.line, cut.slug, cut.part, err)
			continue
		}
		if _, ok := lab.Part(cut.part); !ok {
			fail("%s:%d: //book:lab %s %s: labs/labs.json lists no part %q for this lab", cut.path, cut.line, cut.slug, cut.part, cut.part)
		}
		c, _ := b.find(cut.slug)
		if !strings.Contains(strings.Join(cut.stub, "\n"), labReadme(c)) {
			fail("%s:%d: the stub of //book:lab %s %s must point the student to %s", cut.path, cut.line, cut.slug, cut.part, labReadme(c))
		}
	}
	for _, lab := range b.labs {
		c, err := b.find(lab.Chapter)
		if err != nil {
			fail("labs/labs.json: %v", err)
			continue
		}
		where := "labs/labs.json, lab " + lab.Chapter
		if !c.Tested() {
			fail("%s: chapter %s is %s: a lab needs a chapter whose stage is tested", where, c.Slug, c.Status)
		}
		if !slices.Contains(labs.Levels, lab.Level) {
			fail("%s: level %q is not one of %s", where, lab.Level, strings.Join(labs.Levels, ", "))
		}
		if lab.Minutes == "" {
			fail("%s: give a time estimate (minutes)", where)
		}
		if len(lab.Parts) < 2 {
			fail("%s: a lab has two parts at least, each graded by tests of its own", where)
		}
		if _, err := os.Stat(filepath.Join(b.root, labReadme(c))); err != nil {
			fail("%s: its text %s is missing", where, labReadme(c))
		}
		errs = append(errs, checkParts(lab, where, tests, hasCut)...)
	}
	for _, c := range b.chapters {
		if _, err := b.lab(c.Slug); err != nil && c.Status == chapters.Written && b.requireLabs {
			fail("chapter %s is written but has no lab in labs/labs.json", c.Slug)
		}
	}
	return errs
}

func checkParts(lab labs.Lab, where string, tests, hasCut map[string]bool) []error {
	var errs []error
	listedBy := map[string]int{}
	for _, p := range lab.Parts {
		for _, t := range p.Tests {
			listedBy[t]++
		}
	}
	for _, p := range lab.Parts {
		if !hasCut[lab.Chapter+"/"+p.Name] {
			errs = append(errs, fmt.Errorf("%s: part %s has no //book:lab %s %s block in the source", where, p.Name, lab.Chapter, p.Name))
		}
		if p.Title == "" || len(p.Tests) == 0 {
			errs = append(errs, fmt.Errorf("%s: part %s needs a title and its tests", where, p.Name))
		}
		own := 0
		for _, t := range p.Tests {
			if !tests[t] {
				errs = append(errs, fmt.Errorf("%s: part %s lists %s, which is no test function under mydocker/", where, p.Name, t))
			}
			if listedBy[t] == 1 {
				own++
			}
		}
		if own == 0 && len(p.Tests) > 0 {
			errs = append(errs, fmt.Errorf("%s: part %s has no test of its own: every test it lists is listed by another part too", where, p.Name))
		}
	}
	return errs
}
