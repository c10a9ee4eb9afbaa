//book:file cgroups

package main

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseCPUs(t *testing.T) {
	for value, want := range map[string]int64{"": 0, "0.5": 5e8, "2": 2e9, "0.01": 1e7, "1e-9": 1} {
		got, err := parseCPUs(value)
		require.NoError(t, err, value)
		assert.Equal(t, want, got, value)
	}
}

// ParseFloat accepts NaN and infinities, and numbers that no int64 holds:
// each must be refused with a message, never turned into a number.
func TestParseCPUsRefusesWhatIsNotACount(t *testing.T) {
	for _, value := range []string{"NaN", "nan", "Inf", "+Inf", "-Inf", "infinity", "-0", "0", "-1", "abc", "1e400"} {
		_, err := parseCPUs(value)
		require.Error(t, err, value)
		assert.Equal(t, fmt.Sprintf("invalid --cpus %q: use a positive number of CPUs, such as 0.5 or 2", value), err.Error())
	}
	ncpu := runtime.NumCPU()
	for _, value := range []string{"1e300", "9.3e9", "1e-12"} {
		_, err := parseCPUs(value)
		require.Error(t, err, value)
		assert.Equal(t, fmt.Sprintf("--cpus %s is out of range: this machine has %d CPUs, so use a value from 0.01 to %d", value, ncpu, ncpu), err.Error())
	}
}
