//book:file proc

package container

import (
	"encoding/json"
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
