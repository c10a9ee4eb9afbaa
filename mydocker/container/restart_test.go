//book:file lifecycle

package container

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mydocker-book/mydocker/mydocker/cgroups"
)

// The exact record keeps what JSON would change: bytes that are not
// UTF-8, negative numbers, an optional number, the compiled filter.
func TestExactRecordKeepsTheConfiguration(t *testing.T) {
	ten := 10
	cfg := Config{
		ID: "abc", Args: []string{"sh", "caf\xe9"}, Env: []string{"K=\xff"}, WorkDir: "/w\xe4",
		Resources:   cgroups.Resources{MemorySwap: -1, PidsLimit: -1, Memory: 1 << 30},
		StopTimeout: &ten, Seccomp: "\x00\x01filter", Volumes: []Volume{{Source: "/h\xe9", Destination: "/d", ReadOnly: true}},
		Restarting: true,
	}
	got, err := decodeRecord(encodeRecord(cfg))
	require.NoError(t, err)
	cfg.Restarting = false // never recorded: only start's monitor sets it
	assert.Equal(t, cfg, got)

	var none Config
	got, err = decodeRecord(encodeRecord(none))
	require.NoError(t, err)
	assert.Nil(t, got.StopTimeout)

	_, err = decodeRecord(encodeRecord(cfg)[:20])
	assert.Error(t, err, "a cut record is refused")
}

func TestParseEnv(t *testing.T) {
	lookup := func(k string) (string, bool) { v, ok := map[string]string{"SET": "from caller"}[k]; return v, ok }
	env, err := ParseEnv([]string{"A=1", "SET", "UNSET", "B=x=y", "C="}, nil, lookup)
	require.NoError(t, err)
	assert.Equal(t, []string{"A=1", "SET=from caller", "B=x=y", "C="}, env)
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	require.NoError(t, os.WriteFile(a, []byte("X=from-a\nA=1\n"), 0o600))
	require.NoError(t, os.WriteFile(b, []byte("# b\nX=from-b\n"), 0o600))
	env, err = ParseEnv([]string{"A=flag"}, []string{a, b}, lookup)
	require.NoError(t, err)
	assert.Equal(t, []string{"X=from-a", "A=1", "X=from-b", "A=flag"}, env, "files in order, then -e: the later wins once merged")
	assert.Equal(t, []string{"X=from-b", "A=flag"}, mergeEnv(nil, env))
	_, err = ParseEnv([]string{"=v"}, nil, lookup)
	assert.Error(t, err)
	assert.Equal(t, []string{"PATH=/bin", "HOME=/root", "NEW=1"}, mergeEnv([]string{"PATH=/usr/bin", "HOME=/root"}, []string{"NEW=1", "PATH=/bin"}))
}

func TestParseSignal(t *testing.T) {
	for in, want := range map[string]int{"KILL": 9, "sigterm": 15, "SIGUSR1": 10, "2": 2} {
		sig, err := ParseSignal(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, int(sig), in)
	}
	for _, bad := range []string{"NOPE", "0", "65", ""} {
		_, err := ParseSignal(bad)
		assert.Error(t, err, bad)
	}
}
