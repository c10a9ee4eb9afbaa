//book:file detach

package logs

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStreamsAreCutIntoLinesAndReadBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c-json.log")
	f, err := Create(path)
	require.NoError(t, err)
	out, errs := f.Stream("stdout"), f.Stream("stderr")
	for _, w := range []struct {
		s    interface{ Write([]byte) (int, error) }
		data string
	}{{out, "one\ntw"}, {errs, "oops\n"}, {out, "o\nthree"}} {
		_, err := w.s.Write([]byte(w.data))
		require.NoError(t, err)
	}
	require.NoError(t, out.Close())
	require.NoError(t, errs.Close())
	require.NoError(t, f.Close())

	var stdout, stderr bytes.Buffer
	require.NoError(t, Copy(path, Options{Tail: -1}, &stdout, &stderr))
	assert.Equal(t, "one\ntwo\nthree", stdout.String(), "a line written in two parts is one entry; the last one is kept without its newline")
	assert.Equal(t, "oops\n", stderr.String())

	stdout.Reset()
	require.NoError(t, Copy(path, Options{Tail: 1}, &stdout, &stderr))
	assert.Equal(t, "three", stdout.String())
}

func TestALineWithoutNewlineIsCutAt16KiB(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c-json.log")
	f, err := Create(path)
	require.NoError(t, err)
	out := f.Stream("stdout")
	_, err = out.Write([]byte(strings.Repeat("x", 2*maxLine+10)))
	require.NoError(t, err)
	require.NoError(t, out.Close())
	require.NoError(t, f.Close())
	entries, err := readAll(t, path)
	require.NoError(t, err)
	require.Len(t, entries, 3)
	assert.Len(t, entries[0].Log, maxLine)
	assert.Len(t, entries[2].Log, 10)
}

func TestADamagedLogIsAnErrorButACutLastLineIsNot(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c-json.log")
	f, err := Create(path)
	require.NoError(t, err)
	_, err = f.Stream("stdout").Write([]byte("whole\n"))
	require.NoError(t, err)
	_, err = f.f.WriteString(`{"log":"cut sh`)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	entries, err := readAll(t, path)
	require.NoError(t, err, "the monitor was killed while writing the last line")
	assert.Len(t, entries, 1)

	f2, err := Create(filepath.Join(t.TempDir(), "d-json.log"))
	require.NoError(t, err)
	_, err = f2.f.WriteString("garbage\n{\"log\":\"after\\n\",\"stream\":\"stdout\",\"time\":\"2024-01-01T00:00:00Z\"}\n")
	require.NoError(t, err)
	require.NoError(t, f2.Close())
	_, err = readAll(t, f2.f.Name())
	assert.ErrorContains(t, err, "is damaged after 0 entries")
}

func readAll(t *testing.T, path string) ([]Entry, error) {
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	return (&reader{path: path, in: bufio.NewReader(f)}).available()
}

func TestFollowShowsEntriesAsTheyComeUntilTheContainerStops(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c-json.log")
	f, err := Create(path)
	require.NoError(t, err)
	out := f.Stream("stdout")
	_, err = out.Write([]byte("before\n"))
	require.NoError(t, err)
	var running atomic.Bool
	running.Store(true)
	go func() {
		time.Sleep(150 * time.Millisecond)
		_, _ = out.Write([]byte("after\n"))
		_ = f.Close()
		running.Store(false)
	}()
	var stdout, stderr bytes.Buffer
	require.NoError(t, Copy(path, Options{Tail: -1, Follow: running.Load}, &stdout, &stderr))
	assert.Equal(t, "before\nafter\n", stdout.String())
}
