//book:file proc

package container

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every field, every byte: a Latin-1 name, an empty string, a NUL-free
// binary blob, true and false.
func TestWireKeepsEveryByte(t *testing.T) {
	sent := initConfig{
		Args:     []string{"ls", "caf\xe9", "", "\xff\xfe\x01"},
		Hostname: "h\xe4st",
		//book:add rootfs
		Rootfs: rootfsDirs{Dir: "/var/lib/mydocker/containers/x/rootfs"},
		TTY:    true,
		//book:end rootfs
		//book:add volumes
		Volumes: []Volume{{Source: "/srv/d\xe9j\xe0", Destination: "/data", ReadOnly: true}, {Source: "/a", Destination: "/b"}},
		//book:end volumes
		//book:add security
		Tmpfs: []Tmpfs{{Destination: "/run", Flags: 1<<63 | 6, Data: "size=1m"}},
		//book:end security
	}
	got, err := decodeConfig(bytes.NewReader(encodeConfig(sent)))
	require.NoError(t, err)
	assert.Equal(t, sent, got)
}

func TestWireRefusesDamagedData(t *testing.T) {
	data := encodeConfig(initConfig{Args: []string{"echo", "hello"}, Hostname: "box"})
	for cut := 0; cut < len(data); cut++ {
		_, err := decodeConfig(bytes.NewReader(data[:cut]))
		assert.Error(t, err, "%d of %d bytes decoded without an error", cut, len(data))
	}
	huge := binary.AppendUvarint(nil, 1)               // one argument...
	huge = binary.AppendUvarint(huge, maxWireString+1) // ...longer than allowed
	_, err := decodeConfig(bytes.NewReader(huge))
	assert.ErrorContains(t, err, "damaged")
}
