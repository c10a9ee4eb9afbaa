package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strings"

	"github.com/mydocker-book/mydocker/chapters"
)

// markerPrefix starts every marker comment.
const markerPrefix = "//book:"

// slugListHint tells the reader where valid slugs come from.
const slugListHint = "the slugs are listed in chapters/chapters.json"

// chapterOrder numbers the chapters so that markers can be compared:
// stage i is the code as it stands at the end of the chapter with index i.
// The parser takes an order instead of reading chapters.json itself so that
// tests can use a short made-up list.
type chapterOrder struct {
	slugs []string
	index map[string]int
}

func orderOf(list []chapters.Chapter) chapterOrder {
	o := chapterOrder{index: map[string]int{}}
	for i, c := range list {
		o.slugs = append(o.slugs, c.Slug)
		o.index[c.Slug] = i
	}
	return o
}

// never is one past the last stage: a line whose span ends there stays to the end.
func (o chapterOrder) never() int { return len(o.slugs) }

func (o chapterOrder) last() int { return len(o.slugs) - 1 }

// span is the range of stages in which a line exists: from <= stage < until.
type span struct{ from, until int }

func (s span) has(stage int) bool { return s.from <= stage && stage < s.until }

// markedLine is one line of a source file together with what the markers say about it.
type markedLine struct {
	text      string
	span      span
	uncomment bool   // line of a replace block: shown as code while it exists
	marker    bool   // a //book: line: never part of any stage
	lab       string // the chapter whose lab cuts this line out (solution) or puts it in (stub)
	part      string // the lab's part that the line belongs to
	stub      bool   // line of a lab's stub: a comment, shown as code only in that lab's workspace
}

// labCut is one //book:lab block: a piece of a chapter's code that the
// chapter's lab workspace replaces by a stub for the student to fill in.
type labCut struct {
	slug, part string
	path       string
	line       int
	stub       []string // the stub's lines, uncommented
}

// markedFile is a Go source file read with its markers, ready to be written
// out as it stands at any stage.
type markedFile struct {
	path  string
	since int // stage from which the file exists (its //book:file chapter)
	lines []markedLine
	order chapterOrder
	labs  []labCut
}

// markerError points at the file and line that is wrong.
type markerError struct {
	path string
	line int
	msg  string
}

func (e markerError) Error() string { return fmt.Sprintf("%s:%d: %s", e.path, e.line, e.msg) }

// marker is one parsed //book: comment.
type marker struct {
	line      int
	directive string
	args      []string
}

// String is the marker as written, with its spacing normalised.
func (m marker) String() string {
	return strings.Join(append([]string{markerPrefix + m.directive}, m.args...), " ")
}

// openBlock is an add or replace block whose //book:end has not been seen yet.
type openBlock struct {
	marker
	span   span
	argsOK bool   // the opener has the right number of arguments, so a closer can name it
	inside string // the block that holds this one, as "//book:add a of line 3"; empty at the top level
	holds  string // the first block opened inside this one, in the same form; empty if none
	stubAt int    // in a lab block: the line of its //book:stub, 0 before it
	code   int    // in a lab block: lines of solution, then of stub, seen so far
}

// needsName says whether the closer must repeat the opener's arguments. In
// nested code a bare //book:end does not say which block it ends, and a
// misplaced one silently moves lines to another chapter.
func (b openBlock) needsName() bool { return b.inside != "" || b.holds != "" }

// namedCloser is the //book:end that names this block.
func (b openBlock) namedCloser() string { return marker{directive: "end", args: b.args}.String() }

// closerHint is the //book:end to suggest for this block: named where a name is required.
func (b openBlock) closerHint() string {
	if b.argsOK && b.needsName() {
		return b.namedCloser()
	}
	return markerPrefix + "end"
}

// where names the block for messages about other lines.
func (b openBlock) where() string { return fmt.Sprintf("%s of line %d", b.marker, b.line) }

// parseMarkers reads the markers of a Go file and checks them. It reports
// every problem it finds, not just the first, so one run of `check` lists
// all that needs fixing.
func parseMarkers(path string, src []byte, order chapterOrder) (*markedFile, []error) {
	fset := token.NewFileSet()
	// Parsing (rather than scanning lines) tells comments from strings and
	// finds the package clause, the import blocks and the doc comments.
	file, err := parser.ParseFile(fset, path, src, parser.ParseComments)
	if err != nil {
		return nil, []error{fmt.Errorf("%v: fix the Go syntax first", err)}
	}
	p := &fileParser{
		path:    path,
		order:   order,
		fset:    fset,
		file:    file,
		markers: map[int]marker{},
		result:  &markedFile{path: path, order: order},
	}
	p.findMarkers(src)
	p.checkDocComments()
	p.walkLines(strings.Split(strings.TrimSuffix(string(src), "\n"), "\n"))
	return p.result, p.errs
}

// fileParser holds the state of parseMarkers while it walks one file.
type fileParser struct {
	path    string
	order   chapterOrder
	fset    *token.FileSet
	file    *ast.File
	markers map[int]marker // by line number
	stack   []openBlock
	sawFile bool
	result  *markedFile
	errs    []error
}

func (p *fileParser) errorf(line int, format string, args ...any) {
	p.errs = append(p.errs, markerError{p.path, line, fmt.Sprintf(format, args...)})
}

func (p *fileParser) line(pos token.Pos) int { return p.fset.Position(pos).Line }

// findMarkers collects the //book: comments. A marker must be alone on its
// line, because the generator drops whole lines.
func (p *fileParser) findMarkers(src []byte) {
	lines := strings.Split(string(src), "\n")
	for _, group := range p.file.Comments {
		for _, c := range group.List {
			if !strings.HasPrefix(c.Text, markerPrefix) {
				continue
			}
			n := p.line(c.Pos())
			if strings.TrimSpace(lines[n-1]) != c.Text {
				p.errorf(n, "%s must be alone on its line: the generator keeps or drops whole lines", c.Text)
				continue
			}
			fields := strings.Fields(strings.TrimPrefix(c.Text, markerPrefix))
			if len(fields) == 0 {
				fields = []string{""}
			}
			p.markers[n] = marker{line: n, directive: fields[0], args: fields[1:]}
		}
	}
}

// checkDocComments rejects a marker that touches a declaration's doc
// comment. gofmt rewrites doc comments and moves lines that look like
// directives (such as //book:add) to their end, which would silently move
// the marker to the wrong side of the comment.
func (p *fileParser) checkDocComments() {
	docs := []*ast.CommentGroup{p.file.Doc}
	for _, decl := range p.file.Decls {
		switch d := decl.(type) {
		case *ast.FuncDecl:
			docs = append(docs, d.Doc)
		case *ast.GenDecl:
			docs = append(docs, d.Doc)
		}
	}
	for _, doc := range docs {
		if doc == nil {
			continue
		}
		var markerLines []int
		hasText := false
		for _, c := range doc.List {
			if strings.HasPrefix(c.Text, markerPrefix) {
				markerLines = append(markerLines, p.line(c.Pos()))
			} else {
				hasText = true
			}
		}
		if !hasText {
			continue
		}
		for _, n := range markerLines {
			p.errorf(n, "marker touches the doc comment of the declaration below it; gofmt moves such "+
				"lines to the end of the comment: put a blank line between the marker and the comment")
		}
	}
}

// inImportDecl reports whether line n lies inside an import declaration.
func (p *fileParser) inImportDecl(n int) bool {
	for _, decl := range p.file.Decls {
		if d, ok := decl.(*ast.GenDecl); ok && d.Tok == token.IMPORT {
			if p.line(d.Pos()) <= n && n <= p.line(d.End()) {
				return true
			}
		}
	}
	return false
}

// current is the span that a plain line at this point of the file gets:
// that of the innermost open block, or the whole file's.
func (p *fileParser) current() span {
	if len(p.stack) > 0 {
		return p.stack[len(p.stack)-1].span
	}
	return span{p.result.since, p.order.never()}
}

func (p *fileParser) insideReplace() (openBlock, bool) {
	return p.inside("replace")
}

// inside returns the innermost open block if it is a block of that kind.
func (p *fileParser) inside(directive string) (openBlock, bool) {
	if len(p.stack) > 0 && p.stack[len(p.stack)-1].directive == directive {
		return p.stack[len(p.stack)-1], true
	}
	return openBlock{}, false
}

func (p *fileParser) walkLines(lines []string) {
	for i, text := range lines {
		n := i + 1
		if m, ok := p.markers[n]; ok {
			p.handleMarker(m)
			p.result.lines = append(p.result.lines, markedLine{text: text, marker: true})
			continue
		}
		line := markedLine{text: text, span: p.current()}
		if block, ok := p.inside("lab"); ok {
			p.labLine(&line, block, n)
		}
		if block, ok := p.insideReplace(); ok {
			line.uncomment = true
			if !strings.HasPrefix(strings.TrimSpace(text), "//") {
				p.errorf(n, "line is not a comment, but it is inside the replace block opened at line %d: "+
					"every line of the old code must start with // (use a bare // for an empty line)", block.line)
			}
		}
		p.result.lines = append(p.result.lines, line)
	}
	for _, block := range p.stack {
		p.errorf(block.line, "//book:%s opened here is still open at the end of the file: close it with %s",
			block.directive, block.closerHint())
	}
}

func (p *fileParser) handleMarker(m marker) {
	if p.inImportDecl(m.line) {
		p.errorf(m.line, "marker inside an import declaration: imports are repaired by the generator, "+
			"so do not wrap import lines in markers; just list every import in the final source")
	}
	if m.directive != "end" {
		if block, ok := p.insideReplace(); ok {
			p.errorf(m.line, "//book:%s inside the replace block opened at line %d: a replace block holds only "+
				"the old code as comments; close it with //book:end first", m.directive, block.line)
		}
	}
	if m.directive != "end" && m.directive != "stub" {
		if block, ok := p.inside("lab"); ok {
			p.errorf(m.line, "//book:%s inside the lab block opened at line %d: a lab block holds only its "+
				"solution, //book:stub and the stub; close it first", m.directive, block.line)
		}
	}
	switch m.directive {
	case "add":
		p.openAdd(m)
	case "replace":
		p.openReplace(m)
	case "lab":
		p.openLab(m)
	case "stub":
		p.stubMarker(m)
	case "end":
		p.closeBlock(m)
	case "file":
		p.fileMarker(m)
	default:
		p.errorf(m.line, "unknown marker //book:%s: the markers are //book:add, //book:replace, //book:lab, "+
			"//book:stub, //book:end and //book:file (see docs/markers.md)", m.directive)
	}
}

// slugIndex turns a marker's slug into a stage number, reporting unknown slugs.
func (p *fileParser) slugIndex(m marker, slug string) (int, bool) {
	i, ok := p.order.index[slug]
	if !ok {
		p.errorf(m.line, "//book:%s names unknown chapter %q; %s", m.directive, slug, slugListHint)
	}
	return i, ok
}

func (p *fileParser) wantArgs(m marker, n int, usage string) bool {
	if len(m.args) != n {
		p.errorf(m.line, "//book:%s takes %d argument(s): write %s", m.directive, n, usage)
		return false
	}
	return true
}

// enclosingStart is the first stage of the innermost open block, or of the file.
func (p *fileParser) enclosingStart() (int, string) {
	if len(p.stack) > 0 {
		top := p.stack[len(p.stack)-1]
		return top.span.from, fmt.Sprintf("the block opened at line %d", top.line)
	}
	return p.result.since, "the file (//book:file)"
}

// push opens a block. It records the nesting on both sides because the
// closers of nested blocks and of the blocks that hold them must be named.
func (p *fileParser) push(block openBlock) {
	if len(p.stack) > 0 {
		parent := &p.stack[len(p.stack)-1]
		block.inside = parent.where()
		if parent.holds == "" {
			parent.holds = block.where()
		}
	}
	p.stack = append(p.stack, block)
}

func (p *fileParser) openAdd(m marker) {
	block := openBlock{marker: m, span: p.current(), argsOK: p.wantArgs(m, 1, "//book:add SLUG")}
	if block.argsOK {
		if from, ok := p.slugIndex(m, m.args[0]); ok {
			if start, what := p.enclosingStart(); from < start {
				p.errorf(m.line, "out of order: //book:add %s starts before %s, which starts at chapter %q; "+
					"an inner block cannot exist before its enclosing one", m.args[0], what, p.order.slugs[start])
			} else {
				block.span.from = from
			}
		}
	}
	p.push(block)
}

func (p *fileParser) openReplace(m marker) {
	block := openBlock{marker: m, span: p.current(), argsOK: p.wantArgs(m, 2, "//book:replace FROM TO")}
	if block.argsOK {
		from, okFrom := p.slugIndex(m, m.args[0])
		to, okTo := p.slugIndex(m, m.args[1])
		start, what := p.enclosingStart()
		switch {
		case !okFrom || !okTo:
		case from >= to:
			p.errorf(m.line, "out of order: //book:replace %s %s must name the chapter that introduces the "+
				"code first and a later chapter that replaces it", m.args[0], m.args[1])
		case from < start:
			p.errorf(m.line, "out of order: //book:replace %s %s starts before %s, which starts at chapter %q",
				m.args[0], m.args[1], what, p.order.slugs[start])
		default:
			block.span = span{from, min(to, block.span.until)}
		}
	}
	p.push(block)
}

// openLab opens a lab cut: the lines up to //book:stub are the solution,
// which every stage has; the comment lines after it are the stub that
// replaces the solution in the lab workspace of chapter SLUG. The code
// must exist in that chapter's stage, so the block must lie in code that
// exists there.
func (p *fileParser) openLab(m marker) {
	block := openBlock{marker: m, span: p.current(), argsOK: p.wantArgs(m, 2, "//book:lab SLUG PART")}
	if block.argsOK {
		if stage, ok := p.slugIndex(m, m.args[0]); ok && !block.span.has(stage) {
			_, what := p.enclosingStart()
			p.errorf(m.line, "//book:lab %s: the code it cuts must exist in the stage of chapter %q, but %s "+
				"exists only from chapter %q to before %q", m.args[0], m.args[0], what,
				p.order.slugs[block.span.from], p.slugOrEnd(block.span.until))
		}
		if !validPart(m.args[1]) {
			p.errorf(m.line, "//book:lab %s %s: a part is named with lower-case letters, digits and dashes",
				m.args[0], m.args[1])
		}
	}
	p.push(block)
}

// slugOrEnd names the stage i, or the end of the book.
func (p *fileParser) slugOrEnd(i int) string {
	if i >= len(p.order.slugs) {
		return "the end of the book"
	}
	return p.order.slugs[i]
}

func validPart(part string) bool {
	for _, r := range part {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
			return false
		}
	}
	return part != ""
}

// stubMarker ends a lab block's solution and starts its stub.
func (p *fileParser) stubMarker(m marker) {
	block, ok := p.inside("lab")
	switch {
	case !ok:
		p.errorf(m.line, "//book:stub outside a lab block: it separates a //book:lab block's solution from its stub")
	case len(m.args) > 0:
		p.errorf(m.line, "//book:stub takes no arguments")
	case block.stubAt != 0:
		p.errorf(m.line, "a second //book:stub in the lab block opened at line %d (the first is at line %d)",
			block.line, block.stubAt)
	default:
		top := &p.stack[len(p.stack)-1]
		if top.code == 0 {
			p.errorf(m.line, "the lab block opened at line %d has no solution before its //book:stub", block.line)
		}
		top.stubAt, top.code = m.line, 0
	}
}

// labLine marks a line of a lab block as solution or stub. A stub line is
// code written as a comment, as in a replace block.
func (p *fileParser) labLine(line *markedLine, block openBlock, n int) {
	top := &p.stack[len(p.stack)-1]
	top.code++
	if block.argsOK {
		line.lab, line.part = block.args[0], block.args[1]
	}
	if block.stubAt == 0 {
		return
	}
	line.stub = true
	if !strings.HasPrefix(strings.TrimSpace(line.text), "//") {
		p.errorf(n, "line is not a comment, but it is in the stub of the lab block opened at line %d: "+
			"every line of a stub must start with // (use a bare // for an empty line)", block.line)
	}
}

// closeLab records a finished lab block.
func (p *fileParser) closeLab(m marker, block openBlock) {
	if block.stubAt == 0 {
		p.errorf(block.line, "the lab block opened here has no //book:stub: write the stub the student starts from after it")
		return
	}
	if block.code == 0 {
		p.errorf(m.line, "the stub of the lab block opened at line %d is empty", block.line)
		return
	}
	if !block.argsOK {
		return
	}
	cut := labCut{slug: block.args[0], part: block.args[1], path: p.path, line: block.line}
	for _, l := range p.result.lines[len(p.result.lines)-block.code:] {
		cut.stub = append(cut.stub, uncomment(l.text))
	}
	p.result.labs = append(p.result.labs, cut)
}

// closeBlock ends the innermost open block. A closer that names the wrong
// block still ends the innermost one: guessing which block was meant would
// only move the mistake to other lines.
func (p *fileParser) closeBlock(m marker) {
	if len(p.stack) == 0 {
		p.errorf(m.line, "//book:end without an open //book:add or //book:replace block")
		return
	}
	block := p.stack[len(p.stack)-1]
	p.stack = p.stack[:len(p.stack)-1]
	p.checkCloserName(m, block)
	if block.directive == "lab" {
		p.closeLab(m, block)
	}
}

// checkCloserName enforces named closers: a name, if given, must repeat the
// opener's arguments exactly, and nested code must use names.
func (p *fileParser) checkCloserName(m marker, block openBlock) {
	if !block.argsOK {
		return // the opener's arguments are already reported as wrong; no name could match them
	}
	switch {
	case len(m.args) > 0 && !slices.Equal(m.args, block.args):
		p.errorf(m.line, "%s does not match its block, the %s: write %s",
			m, block.where(), block.namedCloser())
	case len(m.args) == 0 && block.needsName():
		p.errorf(m.line, "name this closer: %s (it closes the %s, which %s)",
			block.namedCloser(), block.where(), nestingReason(block))
	}
}

// nestingReason says why a block's closer must be named.
func nestingReason(block openBlock) string {
	if block.inside != "" {
		return "is nested in the " + block.inside
	}
	return "holds the " + block.holds
}

func (p *fileParser) fileMarker(m marker) {
	if pkg := p.line(p.file.Package); m.line > pkg {
		p.errorf(m.line, "//book:file must come before the package clause (line %d): it applies to the whole file", pkg)
		return
	}
	if p.sawFile {
		p.errorf(m.line, "a second //book:file: a file starts in one chapter only")
		return
	}
	p.sawFile = true
	if !p.wantArgs(m, 1, "//book:file SLUG") {
		return
	}
	if from, ok := p.slugIndex(m, m.args[0]); ok {
		p.result.since = from
	}
}

// exists reports whether the file is part of the given stage at all.
func (f *markedFile) exists(stage int) bool { return stage >= f.since }

// render returns the file's text at the given stage (not yet formatted) and
// whether it differs from the final source beyond the marker lines, which
// tells the generator whether imports may need repairing. With lab set to
// a chapter's slug, the text is that chapter's lab workspace: its lab
// cuts hold their stubs instead of their solutions (with lab set to
// SLUG/PART, only that part's cuts).
func (f *markedFile) render(stage int, lab string) (text []byte, changed bool) {
	var b strings.Builder
	for _, l := range f.lines {
		cut := lab != "" && l.lab != "" && (l.lab == lab || l.lab+"/"+l.part == lab)
		if l.marker || l.stub && !cut {
			continue
		}
		if l.span.has(stage) != l.span.has(f.order.last()) || cut {
			changed = true
		}
		if !l.span.has(stage) || cut && !l.stub {
			continue
		}
		if l.uncomment || l.stub {
			b.WriteString(uncomment(l.text))
		} else {
			b.WriteString(l.text)
		}
		b.WriteByte('\n')
	}
	return []byte(b.String()), changed
}

// uncomment turns a line of a replace block back into code: it strips the
// first // and one space after it, keeping the indentation in front.
func uncomment(line string) string {
	i := strings.Index(line, "//")
	if i < 0 {
		return line // only in a file with marker errors, which is never written out
	}
	return line[:i] + strings.TrimPrefix(line[i+2:], " ")
}
