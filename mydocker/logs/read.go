//book:file detach

package logs

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"
)

// Options are those of `mydocker logs`.
type Options struct {
	Tail       int  // only the last Tail entries; -1 for all
	Timestamps bool // each line starts with its time, as Docker's -t shows it
}

// Copy writes a log's entries to stdout and stderr, each to the stream it
// came from, as `docker logs` does.
func Copy(path string, opts Options, stdout, stderr io.Writer) error {
	entries, err := read(path)
	if err != nil {
		return err
	}
	if opts.Tail >= 0 && opts.Tail < len(entries) {
		entries = entries[len(entries)-opts.Tail:]
	}
	for _, e := range entries {
		out := stdout
		if e.Stream == "stderr" {
			out = stderr
		}
		if opts.Timestamps {
			fmt.Fprintf(out, "%s ", e.Time.Format(time.RFC3339Nano))
		}
		if _, err := io.WriteString(out, e.Log); err != nil {
			return err
		}
	}
	return nil
}

// read decodes every entry. A last line cut short (the monitor was killed
// while writing it) is skipped; any other bad line is an error.
func read(path string) ([]Entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening the container's log: %w", err)
	}
	defer f.Close()
	var entries []Entry
	lines := bufio.NewScanner(f)
	lines.Buffer(make([]byte, 64<<10), 4*maxLine+1024) // a 16 KiB entry, every byte escaped
	var bad error
	for lines.Scan() {
		if bad != nil {
			return nil, bad
		}
		var e Entry
		if err := json.Unmarshal(lines.Bytes(), &e); err != nil {
			bad = fmt.Errorf("the container's log %s is damaged after %d entries: %w", path, len(entries), err)
			continue
		}
		entries = append(entries, e)
	}
	return entries, lines.Err()
}
