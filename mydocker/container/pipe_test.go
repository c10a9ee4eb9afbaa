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

// The command line survives the pipe exactly: no splitting, no quoting.
func TestConfigCrossesThePipeIntact(t *testing.T) {
	readEnd, writeEnd, err := os.Pipe()
	require.NoError(t, err)
	defer readEnd.Close()
	sent := Config{ID: NewID(), Hostname: "box", Args: []string{"sh", "-c", `echo a; echo "b  c"`, "", "--debug"}}
	require.NoError(t, sendConfig(writeEnd, sent))

	var got Config
	require.NoError(t, json.NewDecoder(readEnd).Decode(&got))
	assert.Equal(t, sent, got)
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
