//book:file images

package main

import (
	"io"
	"os"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progressBar shows long work (a layer written or read) on a terminal, as
// a bar of bytes, or a count when the total is unknown (-1); on anything
// else, a pipe or a log file, it shows nothing and returns nil.
func progressBar(total int64, what string) io.Writer {
	if !term.IsTerminal(int(os.Stderr.Fd())) {
		return nil
	}
	return progressbar.NewOptions64(total,
		progressbar.OptionSetDescription(what),
		progressbar.OptionSetWriter(os.Stderr),
		progressbar.OptionShowBytes(true),
		progressbar.OptionThrottle(100_000_000), // 0.1 s between redraws
		progressbar.OptionClearOnFinish(),
	)
}

// finishBar clears the bar, if there is one.
func finishBar(w io.Writer) {
	if bar, ok := w.(*progressbar.ProgressBar); ok {
		_ = bar.Finish()
	}
}
