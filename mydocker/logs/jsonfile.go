//book:file detach

// Package logs keeps a detached container's output in Docker's json-file
// format: one JSON object a line, {"log":"...","stream":"stdout","time":"..."},
// in the file containers/ID/ID-json.log. `mydocker logs` reads it back.
package logs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// maxLine is where a line without a newline is cut into entries, as
// Docker cuts at 16 KiB: a program that never prints a newline must not
// make the monitor buffer its whole output.
const maxLine = 16 << 10

// Entry is one line of the log file. JSON strings are UTF-8: bytes that
// are not valid UTF-8 are written as U+FFFD, as Docker's json-file driver
// writes them, so `logs` shows such output changed.
type Entry struct {
	Log    string    `json:"log"`
	Stream string    `json:"stream"`
	Time   time.Time `json:"time"`
}

// File is an open log, written by the container's two streams.
type File struct {
	mu  sync.Mutex
	f   *os.File
	err error // the first write error: logging stops, the container goes on
}

// Create makes a new log file at path, readable by root alone, as the state
// root it lives in.
func Create(path string) (*File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("creating the container's log: %w", err)
	}
	return &File{f: f}, nil
}

// Open opens a container's existing log to add to it.
func Open(path string) (*File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil, fmt.Errorf("opening the container's log: %w", err)
	}
	return &File{f: f}, nil
}

// Stream is a writer for one stream ("stdout" or "stderr") that cuts what
// it is given into lines, one entry each. Close writes the last line when
// it has no newline.
func (l *File) Stream(name string) io.WriteCloser {
	return &stream{log: l, name: name}
}

// Close closes the file; the streams must be closed before.
func (l *File) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Close()
}

func (l *File) write(stream string, line []byte) {
	data, err := json.Marshal(Entry{Log: string(line), Stream: stream, Time: time.Now().UTC()})
	if err != nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err == nil {
		_, l.err = l.f.Write(append(data, '\n'))
	}
}

type stream struct {
	log     *File
	name    string
	partial []byte // the start of a line whose newline has not come yet
}

// Write never fails: an error writing the log must not stop the watcher
// from copying, or the container would block on a full pipe.
func (s *stream) Write(p []byte) (int, error) {
	//book:lab detach lines
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			s.partial = append(s.partial, p...)
			for len(s.partial) >= maxLine {
				s.log.write(s.name, s.partial[:maxLine])
				s.partial = append(s.partial[:0], s.partial[maxLine:]...)
			}
			break
		}
		line := append(s.partial, p[:i+1]...)
		s.log.write(s.name, line)
		s.partial = s.partial[:0]
		p = p[i+1:]
	}
	return n, nil
	//book:stub
	// // Lab detach, part 2 (labs/08-detach/README.md): one entry per line,
	// // as Docker's json-file driver writes them: a line may come in several
	// // writes, one write may hold several lines, and a line without a
	// // newline is cut at maxLine. Until then each write is one entry, cut
	// // wherever the pipe happened to deliver it.
	// s.log.write(s.name, p)
	// return len(p), nil
	//book:end detach lines
}

func (s *stream) Close() error {
	if len(s.partial) > 0 {
		s.log.write(s.name, s.partial)
		s.partial = nil
	}
	return nil
}
