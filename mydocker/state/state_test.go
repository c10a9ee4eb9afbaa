//book:file namespaces

package state

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSaveThenLoad(t *testing.T) {
	dir := t.TempDir()
	started := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	code := 3
	s := State{ID: "abc", Status: Stopped, Pid: 42, PidStartTime: 123456, Created: started.Add(-time.Second), Started: &started, ExitCode: &code}
	require.NoError(t, Save(dir, s))
	got, err := Load(dir)
	require.NoError(t, err)
	assert.Equal(t, s, got)
}

// A save replaces the file whole and leaves no temporary file beside it.
func TestSaveReplacesTheFileWhole(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, Save(dir, State{ID: "abc", Status: Creating}))
	require.NoError(t, Save(dir, State{ID: "abc", Status: Running, Pid: 7}))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "only state.json is left")
	assert.Equal(t, FileName, entries[0].Name())
	got, err := Load(dir)
	require.NoError(t, err)
	assert.Equal(t, Running, got.Status)
	assert.Equal(t, 7, got.Pid)
}

func TestSaveIntoAMissingDirectoryFails(t *testing.T) {
	err := Save(filepath.Join(t.TempDir(), "gone"), State{ID: "abc"})
	assert.ErrorContains(t, err, "saving the state of container abc")
}

func TestLoadOfADamagedFileSaysSo(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, FileName), []byte(`{"id": "ab`), 0o600))
	_, err := Load(dir)
	assert.ErrorContains(t, err, "damaged")
}

// The command name in /proc/PID/stat may hold spaces and ')'.
func TestStartTimeIsField22(t *testing.T) {
	stat := "1234 (a) b (c) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10 18446744073709551615\n"
	got, err := startTimeFromStat([]byte(stat))
	require.NoError(t, err)
	assert.Equal(t, uint64(987654), got)

	_, err = startTimeFromStat([]byte("1234 (a) S 1"))
	assert.Error(t, err)
}

// Our own process started after the machine booted, and its start time
// does not change between two reads.
func TestProcessStartTimeOfThisProcess(t *testing.T) {
	first, err := ProcessStartTime(os.Getpid())
	require.NoError(t, err)
	assert.NotZero(t, first)
	again, err := ProcessStartTime(os.Getpid())
	require.NoError(t, err)
	assert.Equal(t, first, again)
	_, err = ProcessStartTime(-1)
	assert.Error(t, err)
}
