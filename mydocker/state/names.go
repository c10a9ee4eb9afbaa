//book:file detach

package state

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// A container's name is a symbolic link in the state root's names/
// directory, names/NAME -> ID. symlink(2) creates it or fails with EEXIST
// in one step, so two runs that want the same name never both get it, and
// finding a container by name reads one link instead of every container.

// validName is Docker's rule for names: a letter or digit, then at least one
// more of letters, digits, "_", "." and "-".
var validName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)

// CheckName refuses a name Docker would refuse. A leading "/", which
// Docker shows before every name, is allowed and dropped.
func CheckName(name string) (string, error) {
	name = strings.TrimPrefix(name, "/")
	if !validName.MatchString(name) {
		return "", fmt.Errorf("invalid container name %q: use two or more of the characters a-z, A-Z, 0-9, _, . and -, "+
			"starting with a letter or a digit", name)
	}
	return name, nil
}

func namesDir(root string) string { return filepath.Join(root, "names") }

// ReserveName gives name to container id, or says which container has it.
// A link left by a container whose directory is gone (its mydocker was
// killed while removing it) no longer holds the name.
func ReserveName(root, name, id string) error {
	if err := os.MkdirAll(namesDir(root), 0o700); err != nil {
		return fmt.Errorf("creating the names directory: %w", err)
	}
	link := filepath.Join(namesDir(root), name)
	for attempt := 0; ; attempt++ {
		err := os.Symlink(id, link)
		if !errors.Is(err, fs.ErrExist) {
			if err != nil {
				return fmt.Errorf("reserving the name %q: %w", name, err)
			}
			return nil
		}
		owner, readErr := os.Readlink(link)
		if readErr == nil && (attempt > 0 || exists(ContainerDir(root, owner))) {
			return fmt.Errorf("the container name %q is already in use by container %s: remove that container (mydocker rm %s) or choose another name",
				name, owner, name)
		}
		_ = ReleaseName(root, name, owner)
	}
}

// ReleaseName frees name if container id holds it.
func ReleaseName(root, name, id string) error {
	link := filepath.Join(namesDir(root), name)
	if owner, err := os.Readlink(link); err != nil || owner != id {
		return nil
	}
	if err := os.Remove(link); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("freeing the name %q: %w", name, err)
	}
	return nil
}

// ContainerDir is where container id's files are kept.
func ContainerDir(root, id string) string { return filepath.Join(root, "containers", id) }

// IDs lists the containers in the state root, oldest directory name first
// (the order does not matter to the callers, but must not change from one
// call to the next).
func IDs(root string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(root, "containers"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing the containers: %w", err)
	}
	var ids []string
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			ids = append(ids, e.Name())
		}
	}
	sort.Strings(ids)
	return ids, nil
}

// ErrNoSuchContainer is the error of Find when nothing matches.
var ErrNoSuchContainer = errors.New("no such container")

// Find resolves what the user typed to name a container, as Docker does: a
// full id, then a name, then a prefix of one id. A prefix that more than
// one id starts with is an error that lists them.
func Find(root, ref string) (string, error) {
	//book:lab detach find
	if ref == "" {
		return "", fmt.Errorf("%w: the name or id is empty", ErrNoSuchContainer)
	}
	if len(ref) == 64 && exists(ContainerDir(root, ref)) && !strings.ContainsAny(ref, "/.") {
		return ref, nil
	}
	if name, err := CheckName(ref); err == nil {
		if id, err := os.Readlink(filepath.Join(namesDir(root), name)); err == nil && exists(ContainerDir(root, id)) {
			return id, nil
		}
	}
	ids, err := IDs(root)
	if err != nil {
		return "", err
	}
	var matches []string
	for _, id := range ids {
		if strings.HasPrefix(id, ref) {
			matches = append(matches, id)
		}
	}
	switch len(matches) {
	case 0:
		return "", fmt.Errorf("%w: %s", ErrNoSuchContainer, ref)
	case 1:
		return matches[0], nil
	}
	for i, id := range matches {
		matches[i] = id[:12]
	}
	return "", fmt.Errorf("%q is the start of the ids of %d containers (%s): type more of the id",
		ref, len(matches), strings.Join(matches, ", "))
	//book:stub
	// // Lab detach, part 1 (labs/08-detach/README.md): resolve what the user
	// // typed, as Docker does: a full id, then a name (names/NAME), then a
	// // prefix of exactly one id. Until then only a full id is found.
	// if len(ref) == 64 && exists(ContainerDir(root, ref)) && !strings.ContainsAny(ref, "/.") {
	// 	return ref, nil
	// }
	// return "", fmt.Errorf("%w: %s (lab detach, part 1: Find knows full ids only)", ErrNoSuchContainer, ref)
	//book:end detach find
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// ReleaseStaleNames frees the names whose container's directory is gone:
// a mydocker killed between removing a container and freeing its name
// leaves such a link.
func ReleaseStaleNames(root string) error {
	entries, err := os.ReadDir(namesDir(root))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("listing the names: %w", err)
	}
	var errs []error
	for _, e := range entries {
		owner, err := os.Readlink(filepath.Join(namesDir(root), e.Name()))
		if err == nil && !exists(ContainerDir(root, owner)) {
			errs = append(errs, ReleaseName(root, e.Name(), owner))
		}
	}
	return errors.Join(errs...)
}
