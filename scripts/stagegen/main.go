// Command stagegen turns the book's final source into the code as it stands
// at the end of each chapter (a "stage"), and checks that the book's text
// agrees with that code. The grammar of the markers it reads is described
// in docs/markers.md.
//
// Run it from the repository root:
//
//	go run ./scripts/stagegen check                 validate markers, snippets and the README table
//	go run ./scripts/stagegen stage SLUG [-o DIR]   write a stage (default build/stages/SLUG)
//	go run ./scripts/stagegen diff SLUG             diff the previous chapter's stage against SLUG's
//	go run ./scripts/stagegen chapters [--written | --tested]  list chapter slugs
//	go run ./scripts/stagegen prev SLUG             print the previous chapter's slug
//	go run ./scripts/stagegen owntests SLUG         a -run pattern of the integration tests chapter SLUG adds
//	go run ./scripts/stagegen readme                rewrite the chapter table in README.md
//	go run ./scripts/stagegen snippets [--fix]      check (or rewrite) the code snippets in chapter texts
//	go run ./scripts/stagegen lab SLUG [-o DIR]     write a lab workspace (default build/labs/SLUG)
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/mydocker-book/mydocker/chapters"
	"github.com/mydocker-book/mydocker/labs"
)

const usage = `usage: go run ./scripts/stagegen COMMAND (from the repository root)

  check                 validate markers under mydocker/, chapter snippets and the README table
  stage SLUG [-o DIR]   write the code at the end of chapter SLUG (default DIR: build/stages/SLUG)
  diff SLUG             print the diff from the previous chapter's stage to SLUG's
  chapters [--written | --tested]
                        print the chapter slugs, one per line: all, the written ones,
                        or those whose stage is tested (written or code)
  prev SLUG             print the previous chapter's slug (nothing for the first)
  owntests SLUG         print a go test -run pattern of the integration tests in the
                        files chapter SLUG adds (//book:file SLUG), "^$" for none
  readme                rewrite the chapter table in README.md
  snippets [--fix]      check the code snippets in chapter texts (--fix rewrites them)
  lab SLUG [-o DIR] [-part PART] [-reset]
                        write the lab workspace of chapter SLUG (default DIR: build/labs/SLUG):
                        its stage with the lab's parts cut out and replaced by stubs;
                        a workspace with changes is never overwritten (-reset moves it aside)

The markers are described in docs/markers.md.
`

// book is what stagegen works on: a repository root and its chapter list.
// Tests build one from a small folder and a made-up list.
type book struct {
	root     string
	chapters []chapters.Chapter
	labs     []labs.Lab
	// requireLabs asks check for a lab in every written chapter, as the
	// real book does (the tests' made-up books have none).
	requireLabs bool
}

func (b book) order() chapterOrder { return orderOf(b.chapters) }

// find returns the chapter with the given slug.
func (b book) find(slug string) (chapters.Chapter, error) {
	for _, c := range b.chapters {
		if c.Slug == slug {
			return c, nil
		}
	}
	return chapters.Chapter{}, fmt.Errorf("unknown chapter %q; %s", slug, slugListHint)
}

// previous returns the slug of the chapter before slug, or "" for the first.
func (b book) previous(slug string) (string, error) {
	c, err := b.find(slug)
	if err != nil || c.Number == 1 {
		return "", err
	}
	return b.chapters[c.Number-2].Slug, nil
}

func main() {
	b, err := repositoryBook(".")
	if err == nil {
		err = run(b, os.Args[1:], os.Stdout, os.Stderr)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "stagegen:", err)
		os.Exit(1)
	}
}

// run carries out one command on the book. Results go to out; warnings
// go to warn, so that they never end up in a diff or a list.
func run(b book, args []string, out, warn io.Writer) error {
	if len(args) == 0 {
		return errors.New("no command given\n" + usage)
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "check":
		return runCheck(b, args, out)
	case "stage":
		return runStage(b, args, out, warn)
	case "diff":
		slug, err := oneSlug(cmd, args)
		if err != nil {
			return err
		}
		return runDiffCommand(b, slug, out, warn)
	case "chapters":
		return runChapters(b, args, out)
	case "prev":
		slug, err := oneSlug(cmd, args)
		if err != nil {
			return err
		}
		prev, err := b.previous(slug)
		if err == nil && prev != "" {
			fmt.Fprintln(out, prev)
		}
		return err
	case "owntests":
		slug, err := oneSlug(cmd, args)
		if err != nil {
			return err
		}
		pattern, err := ownTests(b.root, slug)
		if err == nil {
			fmt.Fprintln(out, pattern)
		}
		return err
	case "readme":
		return runReadme(b, args)
	case "snippets":
		return runSnippets(b, args)
	case "lab":
		return runLab(b, args, out)
	case "help", "-h", "-help", "--help":
		_, err := io.WriteString(out, usage)
		return err
	}
	return fmt.Errorf("unknown command %q\n%s", cmd, usage)
}

// repositoryBook checks that stagegen runs from the repository root and
// returns the book found there with the real chapter list.
func repositoryBook(root string) (book, error) {
	if _, err := os.Stat(filepath.Join(root, "chapters", "chapters.json")); err != nil {
		return book{}, errors.New("no chapters/chapters.json here: run stagegen from the repository root, " +
			"as `go run ./scripts/stagegen ...`")
	}
	list, err := chapters.Load()
	if err != nil {
		return book{}, err
	}
	labList, err := labs.Load()
	if err != nil {
		return book{}, err
	}
	return book{root: root, chapters: list, labs: labList, requireLabs: true}, nil
}

func oneSlug(cmd string, args []string) (string, error) {
	if len(args) != 1 {
		return "", fmt.Errorf("%s takes one chapter slug; %s", cmd, slugListHint)
	}
	return args[0], nil
}

// parseSlugAndFlags parses a command's flags, which may come before or
// after its one chapter slug, and returns the slug.
func parseSlugAndFlags(flags *flag.FlagSet, args []string) (string, error) {
	var slugs []string
	for {
		if err := flags.Parse(args); err != nil {
			return "", err
		}
		if flags.NArg() == 0 {
			break
		}
		slugs = append(slugs, flags.Arg(0))
		args = flags.Args()[1:]
	}
	return oneSlug(flags.Name(), slugs)
}

// runStage handles `stage SLUG [-o DIR]`, with -o before or after the slug.
func runStage(b book, args []string, out, warn io.Writer) error {
	flags := flag.NewFlagSet("stage", flag.ContinueOnError)
	dir := flags.String("o", "", "output folder (default build/stages/SLUG)")
	slug, err := parseSlugAndFlags(flags, args)
	if err != nil {
		return err
	}
	if *dir == "" {
		*dir = filepath.Join(b.root, "build", "stages", slug)
	}
	c, err := b.find(slug)
	if err != nil {
		return err
	}
	warnIfPlanned(c, warn)
	if err := writeStage(b, slug, *dir); err != nil {
		return err
	}
	unwritten := ""
	if c.Status != chapters.Written {
		unwritten = " (" + string(c.Status) + ")"
	}
	fmt.Fprintf(out, "stagegen: wrote the stage of chapter %d, %s%s, to %s\n", c.Number, slug, unwritten, *dir)
	return nil
}

// warnIfPlanned says that a planned chapter's stage is not a finished
// chapter. Developers stage a chapter while they write it, so it is
// allowed, but a reader asking for it would otherwise get, without a word,
// a copy of the stage before it. A chapter with status code has its whole
// code and tests: only a note says that its text is still to come.
func warnIfPlanned(c chapters.Chapter, warn io.Writer) {
	switch c.Status {
	case chapters.Written:
		return
	case chapters.Code:
		fmt.Fprintf(warn, "stagegen: note: chapter %d, %s, has its code and tests, but its text is not written yet\n",
			c.Number, c.Slug)
		return
	}
	fmt.Fprintf(warn, "stagegen: warning: chapter %d, %s, is %s, not written: its stage is the code written for it so far, "+
		"which may be nothing (then it is the stage before it)\n", c.Number, c.Slug, c.Status)
}

// runDiffCommand handles `diff SLUG`: the diff on out, and on warn a word when the
// chapter is planned or the diff is empty.
func runDiffCommand(b book, slug string, out, warn io.Writer) error {
	c, err := b.find(slug)
	if err != nil {
		return err
	}
	warnIfPlanned(c, warn)
	counted := &countingWriter{w: out}
	if err := diffStage(b, slug, counted); err != nil {
		return err
	}
	if counted.n == 0 {
		prev, _ := b.previous(slug)
		fmt.Fprintf(warn, "stagegen: the diff is empty: no line of the source is marked for chapter %s yet, "+
			"so its stage is the same as the stage of %s\n", slug, prev)
	}
	return nil
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func runChapters(b book, args []string, out io.Writer) error {
	flags := flag.NewFlagSet("chapters", flag.ContinueOnError)
	written := flags.Bool("written", false, "only the chapters whose status is written")
	tested := flags.Bool("tested", false, "only the chapters whose stage is tested: status written or code")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if flags.NArg() > 0 {
		return errors.New("chapters takes no arguments, only --written or --tested")
	}
	if *written && *tested {
		return errors.New("chapters takes --written or --tested, not both")
	}
	for _, c := range b.chapters {
		switch {
		case *written && c.Status != chapters.Written, *tested && !c.Tested():
			continue
		}
		fmt.Fprintln(out, c.Slug)
	}
	return nil
}

func runReadme(b book, args []string) error {
	if len(args) > 0 {
		return errors.New("readme takes no arguments")
	}
	_, err := updateReadme(b, true)
	return err
}

func runSnippets(b book, args []string) error {
	flags := flag.NewFlagSet("snippets", flag.ContinueOnError)
	fix := flags.Bool("fix", false, "rewrite the snippets to match the code")
	if err := flags.Parse(args); err != nil {
		return err
	}
	return problems(checkSnippets(b, *fix))
}

// runCheck validates everything a commit must get right: the markers, the
// snippets in the chapter texts and the chapter table in README.md.
func runCheck(b book, args []string, out io.Writer) error {
	if len(args) > 0 {
		return errors.New("check takes no arguments")
	}
	cuts, errs := sourceLabCuts(b)
	if len(errs) == 0 {
		// Snippets come from generated stages, which need valid markers.
		errs = append(checkSnippets(b, false), checkLabs(b, cuts)...)
	}
	if _, err := updateReadme(b, false); err != nil {
		errs = append(errs, err)
	}
	if err := problems(errs); err != nil {
		return err
	}
	fmt.Fprintln(out, "stagegen: markers, snippets, labs and README table are in order")
	return nil
}

// checkMarkers validates the markers of every Go file under mydocker/.
func checkMarkers(b book) []error {
	_, errs := sourceLabCuts(b)
	return errs
}

// problems turns a list of errors into one that prints each on its own line
// followed by a count.
func problems(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w\n%d problem(s) found", errors.Join(errs...), len(errs))
}

// ownTests is a -run pattern that matches the integration tests of the
// files chapter slug adds. make test runs only those on the stages before
// the last: every earlier chapter's tests run again on the last stage,
// which holds all of their code, and running them on every stage between
// would take the time of the whole suite once per chapter.
func ownTests(root, slug string) (string, error) {
	files, err := filepath.Glob(filepath.Join(root, "mydocker", "integration", "*_test.go"))
	if err != nil {
		return "", err
	}
	var names []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		if first, _, _ := strings.Cut(string(data), "\n"); strings.TrimSpace(first) != "//book:file "+slug {
			continue
		}
		for _, m := range testFunc.FindAllStringSubmatch(string(data), -1) {
			if m[1] != "TestMain" {
				names = append(names, m[1])
			}
		}
	}
	if len(names) == 0 {
		return "^$", nil
	}
	return "^(" + strings.Join(names, "|") + ")$", nil
}
