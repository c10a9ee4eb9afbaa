//book:file detach

package logs

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Options are those of `mydocker logs`.
type Options struct {
	Tail       int  // only the last Tail entries; -1 for all
	Timestamps bool // each line starts with its time, as Docker's -t shows it
	// Follow, when set, makes Copy wait for new entries for as long as it
	// returns true (the container runs), as `logs -f` does.
	Follow func() bool
	//book:add lifecycle
	// Offset skips the log's first bytes: start -a shows what this start
	// adds, from where the log ended.
	Offset int64
	//book:end
}

// pollInterval is how often a followed log is read again for new entries.
const pollInterval = 100 * time.Millisecond

// Copy writes a log's entries to stdout and stderr, each to the stream it
// came from, as `docker logs` does.
func Copy(path string, opts Options, stdout, stderr io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("opening the container's log: %w", err)
	}
	defer f.Close()
	//book:add lifecycle
	if _, err := f.Seek(opts.Offset, io.SeekStart); err != nil {
		return fmt.Errorf("reading the container's log: %w", err)
	}
	//book:end
	r := &reader{path: path, in: bufio.NewReader(f)}
	entries, err := r.available()
	if err != nil {
		return err
	}
	if opts.Tail >= 0 && opts.Tail < len(entries) {
		entries = entries[len(entries)-opts.Tail:]
	}
	for {
		for _, e := range entries {
			if err := write(e, opts, stdout, stderr); err != nil {
				return err
			}
		}
		if opts.Follow == nil {
			return nil
		}
		// Asked before reading, so that what was written before the
		// container ended is read once more, and nothing after.
		running := opts.Follow()
		time.Sleep(pollInterval)
		if entries, err = r.available(); err != nil {
			return err
		}
		if !running {
			opts.Follow = nil
		}
	}
}

func write(e Entry, opts Options, stdout, stderr io.Writer) error {
	out := stdout
	if e.Stream == "stderr" {
		out = stderr
	}
	if opts.Timestamps {
		if _, err := fmt.Fprintf(out, "%s ", e.Time.Format(time.RFC3339Nano)); err != nil {
			return err
		}
	}
	_, err := io.WriteString(out, e.Log)
	return err
}

// reader decodes a log's entries as they come. A line without its newline
// yet is kept until the rest arrives: the monitor may be writing it, or
// was killed while writing it (then it is never shown).
type reader struct {
	path    string
	in      *bufio.Reader
	partial []byte
	count   int
}

// available returns the entries written since the last call.
func (r *reader) available() ([]Entry, error) {
	var entries []Entry
	for {
		line, err := r.in.ReadBytes('\n')
		r.partial = append(r.partial, line...)
		if errors.Is(err, io.EOF) {
			return entries, nil
		}
		if err != nil {
			return entries, fmt.Errorf("reading the container's log: %w", err)
		}
		var e Entry
		if err := json.Unmarshal(bytes.TrimSuffix(r.partial, []byte("\n")), &e); err != nil {
			return entries, fmt.Errorf("the container's log %s is damaged after %d entries: %w", r.path, r.count, err)
		}
		r.partial = r.partial[:0]
		r.count++
		entries = append(entries, e)
	}
}
