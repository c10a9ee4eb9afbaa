//book:file proc

package container

import (
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

func TestExecPipeEndOfFileMeansTheCommandRuns(t *testing.T) {
	readEnd, writeEnd, err := os.Pipe()
	require.NoError(t, err)
	writeEnd.Close() // what a successful execve does to the init's end
	assert.NoError(t, waitForExec(readEnd))
}

func TestExecPipeCarriesTheInitsFailure(t *testing.T) {
	readEnd, writeEnd, err := os.Pipe()
	require.NoError(t, err)
	notFound := &Error{Code: ExitNotFound, Err: errors.New(`"nope": command not found`)}
	assert.Equal(t, ExitNotFound, reportFailure(writeEnd, notFound))

	var failed *Error
	require.ErrorAs(t, waitForExec(readEnd), &failed)
	assert.Equal(t, ExitNotFound, failed.Code)
	assert.Equal(t, notFound.Error(), failed.Error())
}

func TestInitFailuresWithoutACodeAre125(t *testing.T) {
	readEnd, writeEnd, err := os.Pipe()
	require.NoError(t, err)
	assert.Equal(t, ExitRuntimeError, reportFailure(writeEnd, errors.New("mounting /proc: permission denied")))
	var failed *Error
	require.ErrorAs(t, waitForExec(readEnd), &failed)
	assert.Equal(t, ExitRuntimeError, failed.Code)
}
