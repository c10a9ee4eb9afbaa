//book:file lifecycle

package container

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// ParseEnv reads the -e values and the --env-file files into KEY=VALUE
// entries, in the order Docker applies them: the files first, then each
// -e, a later one winning. KEY alone takes the value from the caller's
// environment (lookup), and is left out when the caller has none, as the
// docker command does. Values are bytes: nothing is trimmed or unquoted
// after the first "=".
func ParseEnv(values, files []string, lookup func(string) (string, bool)) ([]string, error) {
	var env, fromFiles []string
	for _, path := range files {
		lines, err := readEnvFile(path)
		if err != nil {
			return nil, err
		}
		fromFiles = append(fromFiles, lines...)
	}
	values = append(fromFiles, values...)
	for _, v := range values {
		kv, ok, err := envEntry(v, lookup)
		if err != nil {
			return nil, err
		}
		if ok {
			env = append(env, kv)
		}
	}
	return env, nil
}

// readEnvFile reads an --env-file: one KEY=VALUE or KEY a line; blank
// lines and lines that start with # are skipped, as in Docker.
func readEnvFile(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--env-file: %w", err)
	}
	var lines []string
	scanner := bufio.NewScanner(bytes.NewReader(data))
	scanner.Buffer(nil, len(data)+1)
	for scanner.Scan() {
		line := strings.TrimLeft(scanner.Text(), " \t")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		lines = append(lines, line)
	}
	return lines, scanner.Err()
}

func envEntry(v string, lookup func(string) (string, bool)) (string, bool, error) {
	key, _, hasValue := strings.Cut(v, "=")
	if key == "" || strings.ContainsAny(key, " \t\x00") {
		return "", false, fmt.Errorf("invalid environment variable %q: give KEY=VALUE, or KEY to pass on the caller's value", v)
	}
	if hasValue {
		return v, true, nil
	}
	value, ok := lookup(key)
	return key + "=" + value, ok, nil
}

// mergeEnv gives each entry of overrides its place in base: a key that
// base has keeps its position with the new value, a new one is added at
// the end (Docker's order).
func mergeEnv(base, overrides []string) []string {
	env := append([]string(nil), base...)
	for _, kv := range overrides {
		key, _, _ := strings.Cut(kv, "=")
		replaced := false
		for i, old := range env {
			if strings.HasPrefix(old, key+"=") {
				env[i], replaced = kv, true
			}
		}
		if !replaced {
			env = append(env, kv)
		}
	}
	return env
}

// envHas tells whether env sets key.
func envHas(env []string, key string) bool {
	for _, kv := range env {
		if strings.HasPrefix(kv, key+"=") {
			return true
		}
	}
	return false
}

// enterWorkDir makes the -w directory if it is missing, as Docker does,
// and changes to it, while the init is still root with every capability:
// as with runc, a user may start in a directory it could not enter itself
// (-u nobody -w /root), and the command finds out when it reads it. It
// runs after pivot_root: the path, and any symbolic link on it, resolves
// inside the container's root, never on the host.
func enterWorkDir(dir string) error {
	if dir == "" {
		return nil
	}
	logrus.Debugf("mkdir -p %s, chdir(%s)", dir, dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("making the working directory %s: %w", dir, err)
	}
	if err := unix.Chdir(dir); err != nil {
		return &Error{Code: ExitCannotInvoke, Err: fmt.Errorf("changing to the working directory %s: %w", dir, err)}
	}
	return nil
}
