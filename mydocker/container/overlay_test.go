//book:file overlay

package container

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"golang.org/x/sys/unix"
)

// ENODEV from the overlay mount means the kernel could not load overlay:
// the error says what to do, and keeps the errno for errors.Is.
func TestOverlayFailureSaysWhatToDo(t *testing.T) {
	err := explainOverlayFailure(fmt.Errorf("mounting overlay (overlay) on /x: %w", unix.ENODEV))
	assert.ErrorIs(t, err, unix.ENODEV)
	assert.ErrorContains(t, err, "modprobe overlay")
	other := errors.New("mounting overlay: invalid argument")
	assert.Equal(t, other, explainOverlayFailure(other))
	assert.NoError(t, explainOverlayFailure(nil))
}
