//book:file images

package main

import (
	"fmt"
	"io"
	"os"
	"time"

	units "github.com/docker/go-units"
	"golang.org/x/term"
)

// progress shows long work (a layer written or read) on a terminal: one
// line, redrawn at most ten times a second, with the bytes done so far.
// (A progress-bar library would do it with more style, but its package
// initialisers cost every mydocker process, the idle watcher of each
// detached container included, about 600 kB of memory: see
// docs/performance.md.)
type progress struct {
	what  string
	done  int64
	drawn time.Time
}

// progressBar returns a progress line for what on standard error if it
// is a terminal, and nil (nothing shown) on a pipe or a log file.
func progressBar(what string) io.Writer {
	if !term.IsTerminal(int(os.Stderr.Fd())) {
		return nil
	}
	return &progress{what: what}
}

func (p *progress) Write(b []byte) (int, error) {
	p.done += int64(len(b))
	if time.Since(p.drawn) >= 100*time.Millisecond {
		p.drawn = time.Now()
		fmt.Fprintf(os.Stderr, "\r%s: %s", p.what, units.HumanSize(float64(p.done)))
	}
	return len(b), nil
}

// finishBar erases the line, if there is one.
func finishBar(w io.Writer) {
	if _, ok := w.(*progress); ok {
		fmt.Fprint(os.Stderr, "\r\033[K")
	}
}
