//book:file proc

package container

import (
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The command line survives the pipe exactly: no splitting, no quoting,
// and bytes that are not UTF-8 (a Latin-1 file name) stay what they are.
func TestConfigCrossesThePipeIntact(t *testing.T) {
	readEnd, writeEnd, err := os.Pipe()
	require.NoError(t, err)
	defer readEnd.Close()
	latin1 := "caf\xe9.txt"
	sent := initConfig{Hostname: "box", Args: []string{"sh", "-c", `echo a; echo "b  c"`, "", "--debug", latin1}}
	require.NoError(t, sendConfig(writeEnd, sent))

	got, err := decodeConfig(readEnd)
	require.NoError(t, err)
	assert.Equal(t, sent, got)
	assert.Equal(t, []byte{'c', 'a', 'f', 0xe9, '.', 't', 'x', 't'}, []byte(got.Args[5]))
}

// Closing the pipes twice, or after a step has used one up, closes each
// descriptor once and leaves none open.
func TestInitPipesCloseWhatIsLeft(t *testing.T) {
	configRead, configWrite, err := os.Pipe()
	require.NoError(t, err)
	defer configRead.Close()
	execRead, execWrite, err := os.Pipe()
	require.NoError(t, err)
	defer execWrite.Close()
	pipes := initPipes{config: configWrite, exec: execRead}
	pipes.config = nil // as sendConfig's step does
	configWrite.Close()
	pipes.close()
	pipes.close()
	assert.Equal(t, initPipes{}, pipes)
	_, err = execRead.Stat()
	assert.ErrorIs(t, err, os.ErrClosed, "close left the exec pipe open")
}

// The conversation of a successful start: ready, go, end of file.
func TestReadyGoThenEndOfFileMeansTheCommandRuns(t *testing.T) {
	configRead, configWrite, err := os.Pipe()
	require.NoError(t, err)
	execRead, execWrite, err := os.Pipe()
	require.NoError(t, err)
	defer execRead.Close()
	init := make(chan error, 1)
	go func() {
		err := readyToExec(initEnds{config: configRead, exec: execWrite})
		execWrite.Close() // what a successful execve does to the init's end
		init <- err
	}()
	messages := json.NewDecoder(execRead)
	require.NoError(t, waitUntilReady(messages))
	require.NoError(t, sendGo(configWrite))
	assert.NoError(t, waitForExec(messages))
	assert.NoError(t, <-init)
}

// End of file before "ready" is an init that died on the way.
func TestEndOfFileBeforeReadyIsTheInitDying(t *testing.T) {
	readEnd, writeEnd, err := os.Pipe()
	require.NoError(t, err)
	writeEnd.Close()
	assert.ErrorIs(t, waitUntilReady(json.NewDecoder(readEnd)), errInitDied)
}

// Without mydocker's go, the init does not exec.
func TestNoGoNoExec(t *testing.T) {
	configRead, configWrite, err := os.Pipe()
	require.NoError(t, err)
	execRead, execWrite, err := os.Pipe()
	require.NoError(t, err)
	defer execRead.Close()
	configWrite.Close() // mydocker went away
	assert.ErrorContains(t, readyToExec(initEnds{config: configRead, exec: execWrite}), "went away")
}

func TestExecPipeCarriesTheInitsFailure(t *testing.T) {
	readEnd, writeEnd, err := os.Pipe()
	require.NoError(t, err)
	notFound := &Error{Code: ExitNotFound, Err: errors.New(`"nope": command not found`)}
	assert.Equal(t, ExitNotFound, reportFailure(writeEnd, notFound))

	var failed *Error
	require.ErrorAs(t, waitUntilReady(json.NewDecoder(readEnd)), &failed)
	assert.Equal(t, ExitNotFound, failed.Code)
	assert.Equal(t, notFound.Error(), failed.Error())
}

func TestInitFailuresWithoutACodeAre125(t *testing.T) {
	readEnd, writeEnd, err := os.Pipe()
	require.NoError(t, err)
	assert.Equal(t, ExitRuntimeError, reportFailure(writeEnd, errors.New("mounting /proc: permission denied")))
	var failed *Error
	require.ErrorAs(t, waitForExec(json.NewDecoder(readEnd)), &failed)
	assert.Equal(t, ExitRuntimeError, failed.Code)
}
