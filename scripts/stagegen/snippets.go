package main

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// snippetComment introduces a snippet: <!-- snippet: PATH[#SYMBOL] [@SLUG] -->
var snippetComment = regexp.MustCompile(`^<!--\s*snippet:\s*([^\s#]+)(?:#(\S+))?(?:\s+@(\S+))?\s*-->$`)

const (
	fenceOpen  = "```go"
	fenceClose = "```"
)

// snippetRef names a piece of code in a stage.
type snippetRef struct {
	path   string // relative to the stage root, such as mydocker/container/init.go
	symbol string // "" for the whole file, Name, or Type.Method
	slug   string // the stage to take the code from
}

// stageCache generates each stage at most once per run: a chapter text
// usually quotes many snippets of the same stage.
type stageCache struct {
	b    book
	tmp  string
	dirs map[string]string
}

func (c *stageCache) dir(slug string) (string, error) {
	if dir, ok := c.dirs[slug]; ok {
		return dir, nil
	}
	dir := filepath.Join(c.tmp, slug)
	if err := writeStage(c.b, slug, dir); err != nil {
		return "", err
	}
	c.dirs[slug] = dir
	return dir, nil
}

// checkSnippets compares every snippet in the chapter texts with the code it
// names. With fix it rewrites the stale blocks instead of reporting them.
func checkSnippets(b book, fix bool) []error {
	tmp, err := os.MkdirTemp("", "stagegen-snippets-")
	if err != nil {
		return []error{err}
	}
	defer os.RemoveAll(tmp)
	cache := &stageCache{b: b, tmp: tmp, dirs: map[string]string{}}
	var errs []error
	for _, c := range b.chapters {
		rel := chapterTextPath(c)
		if _, err := os.Stat(filepath.Join(b.root, rel)); err != nil {
			continue // this chapter has no text yet
		}
		errs = append(errs, checkChapterText(b, cache, rel, c.Slug, fix)...)
	}
	return errs
}

// checkChapterText checks (or fixes) the snippets of one Markdown file whose
// snippets default to stage slug.
func checkChapterText(b book, cache *stageCache, rel, slug string, fix bool) []error {
	path := filepath.Join(b.root, rel)
	data, err := os.ReadFile(path)
	if err != nil {
		return []error{err}
	}
	lines := strings.Split(string(data), "\n")
	var errs []error
	var out []string
	inFence := false
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		out = append(out, line)
		if strings.HasPrefix(strings.TrimSpace(line), fenceClose) {
			inFence = !inFence // a snippet comment shown inside a code block is not a snippet
			continue
		}
		if inFence || !strings.HasPrefix(strings.TrimSpace(line), "<!-- snippet:") {
			continue
		}
		where := fmt.Sprintf("%s:%d", rel, i+1)
		want, err := snippetCode(b, cache, strings.TrimSpace(line), slug)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
			continue
		}
		open, close := findBlock(lines, i+1)
		switch {
		case open >= 0 && strings.Join(lines[open+1:close], "\n") == want:
			out = append(out, lines[i+1:close+1]...)
			i = close
		case fix && open >= 0:
			out = append(append(append(out, lines[i+1:open+1]...), want), lines[close])
			i = close
		case fix:
			out = append(out, fenceOpen, want, fenceClose) // a new snippet: write its block
		case open >= 0:
			errs = append(errs, fmt.Errorf("%s: the code block differs from the code it quotes; "+
				"run `make snippets` to update it\n%s", where, firstDifference(lines[open+1:close], want)))
			out = append(out, lines[i+1:close+1]...)
			i = close
		default:
			errs = append(errs, fmt.Errorf("%s: a snippet comment must be followed by a %s block "+
				"(closed by %s); run `make snippets` to write it", where, fenceOpen, fenceClose))
		}
	}
	if fix {
		if updated := strings.Join(out, "\n"); updated != string(data) {
			if err := os.WriteFile(path, []byte(updated), 0o644); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errs
}

// findBlock returns the lines that open and close the ```go block that
// starts at the first non-blank line from start, or -1, -1 if there is none.
func findBlock(lines []string, start int) (open, close int) {
	for open = start; open < len(lines) && strings.TrimSpace(lines[open]) == ""; open++ {
	}
	if open >= len(lines) || strings.TrimSpace(lines[open]) != fenceOpen {
		return -1, -1
	}
	for close = open + 1; close < len(lines); close++ {
		if strings.TrimSpace(lines[close]) == fenceClose {
			return open, close
		}
	}
	return -1, -1
}

// firstDifference shows the first line where a block and its code disagree.
func firstDifference(have []string, want string) string {
	wantLines := strings.Split(want, "\n")
	for i := 0; i < max(len(have), len(wantLines)); i++ {
		h, w := "(nothing)", "(nothing)"
		if i < len(have) {
			h = have[i]
		}
		if i < len(wantLines) {
			w = wantLines[i]
		}
		if h != w {
			return fmt.Sprintf("  first difference at line %d of the block:\n    block: %s\n    code:  %s", i+1, h, w)
		}
	}
	return ""
}

// snippetCode returns the code that a snippet comment names.
func snippetCode(b book, cache *stageCache, comment, defaultSlug string) (string, error) {
	ref, err := parseSnippetRef(comment, defaultSlug)
	if err != nil {
		return "", err
	}
	if _, err := b.find(ref.slug); err != nil {
		return "", err
	}
	dir, err := cache.dir(ref.slug)
	if err != nil {
		return "", err
	}
	src, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(ref.path)))
	if errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("%s does not exist in stage %q; the path is relative to the repository root", ref.path, ref.slug)
	}
	if err != nil {
		return "", err
	}
	if ref.symbol == "" {
		return strings.TrimSuffix(string(src), "\n"), nil
	}
	code, err := extractSymbol(ref.path, src, ref.symbol)
	if err != nil {
		return "", fmt.Errorf("%w in stage %q", err, ref.slug)
	}
	return code, nil
}

func parseSnippetRef(comment, defaultSlug string) (snippetRef, error) {
	m := snippetComment.FindStringSubmatch(comment)
	if m == nil {
		return snippetRef{}, errors.New("malformed snippet comment: write <!-- snippet: PATH#SYMBOL -->, " +
			"optionally with @SLUG before -->")
	}
	ref := snippetRef{path: m[1], symbol: m[2], slug: m[3]}
	if ref.slug == "" {
		ref.slug = defaultSlug
	}
	return ref, nil
}

// extractSymbol returns the source of a top-level declaration, with its doc
// comment: a func, a method written Type.Method, or a type, var or const.
// From a grouped declaration ( type ( ... ) ) it takes the one spec.
func extractSymbol(path string, src []byte, symbol string) (string, error) {
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, path, src, parser.ParseComments)
	if err != nil {
		return "", err
	}
	start, end, ok := findDecl(file, symbol)
	if !ok {
		return "", fmt.Errorf("%s has no top-level func, method, type, var or const named %s", path, symbol)
	}
	lines := strings.Split(string(src), "\n")
	picked := lines[fset.Position(start).Line-1 : fset.Position(end).Line]
	return strings.Join(dedent(picked), "\n"), nil
}

// findDecl finds where the declaration of symbol starts (its doc comment
// included) and ends.
func findDecl(file *ast.File, symbol string) (start, end token.Pos, ok bool) {
	typeName, method, isMethod := strings.Cut(symbol, ".")
	for _, decl := range file.Decls {
		switch d := decl.(type) {
		case *ast.FuncDecl:
			if d.Recv == nil && !isMethod && d.Name.Name == symbol ||
				d.Recv != nil && isMethod && d.Name.Name == method && receiverType(d.Recv) == typeName {
				return withDoc(d.Doc, d.Pos()), d.End(), true
			}
		case *ast.GenDecl:
			if isMethod {
				continue
			}
			for _, spec := range d.Specs {
				if !specDeclares(spec, symbol) {
					continue
				}
				if d.Lparen.IsValid() {
					return withDoc(specDoc(spec), spec.Pos()), spec.End(), true
				}
				return withDoc(d.Doc, d.Pos()), d.End(), true
			}
		}
	}
	return token.NoPos, token.NoPos, false
}

func withDoc(doc *ast.CommentGroup, pos token.Pos) token.Pos {
	if doc != nil {
		return doc.Pos()
	}
	return pos
}

// receiverType is the name of a method's receiver type, without * or type parameters.
func receiverType(recv *ast.FieldList) string {
	expr := recv.List[0].Type
	for {
		switch e := expr.(type) {
		case *ast.StarExpr:
			expr = e.X
		case *ast.IndexExpr:
			expr = e.X
		case *ast.IndexListExpr:
			expr = e.X
		case *ast.Ident:
			return e.Name
		default:
			return ""
		}
	}
}

func specDeclares(spec ast.Spec, name string) bool {
	switch s := spec.(type) {
	case *ast.TypeSpec:
		return s.Name.Name == name
	case *ast.ValueSpec:
		for _, n := range s.Names {
			if n.Name == name {
				return true
			}
		}
	}
	return false
}

func specDoc(spec ast.Spec) *ast.CommentGroup {
	switch s := spec.(type) {
	case *ast.TypeSpec:
		return s.Doc
	case *ast.ValueSpec:
		return s.Doc
	}
	return nil
}

// dedent removes the indentation that all non-blank lines share, so that a
// spec taken out of a group reads like top-level code.
func dedent(lines []string) []string {
	prefix := indentOf(lines[0])
	for _, l := range lines[1:] {
		if strings.TrimSpace(l) != "" {
			prefix = commonPrefix(prefix, indentOf(l))
		}
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = strings.TrimPrefix(l, prefix)
	}
	return out
}

func indentOf(line string) string { return line[:len(line)-len(strings.TrimLeft(line, " \t"))] }

func commonPrefix(a, b string) string {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return a[:n]
}
