//book:file overlay

package image

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

//book:replace overlay images
// // Layer returns the directory holding the image's files, unpacked once and
// // shared, read-only, by every container of the image: layers/DIGEST in the
// // state root, named after the SHA-256 of the archive, so a changed archive
// // gets a new layer and an unchanged one is never unpacked twice.
// func Layer(stateRoot, name string) (string, error) {
//	archive, err := Archive(stateRoot, name)
//	if err != nil {
//		return "", err
//	}
//	layers := filepath.Join(stateRoot, "layers")
//	digest, err := archiveDigest(archive, filepath.Join(layers, ".digests", filepath.Base(archive)))
//	if err != nil {
//		return "", err
//	}
//	dir := filepath.Join(layers, digest)
//	if exists(dir) {
//		logrus.Debugf("image %s: layer %s already unpacked", name, dir)
//		return dir, nil
//	}
//	return dir, unpackLayer(archive, layers, dir)
// }
//book:end

//book:replace overlay images
// // archiveDigest returns the SHA-256 of the archive. Reading the whole
// // archive on every run would cost more than the rest of the setup, so the
// // digest is remembered in cache with the archive's identity and computed
// // again only when that changes. The identity is the inode, the size and the
// // change time: unlike the modification time, no one can set the change
// // time back, and every write moves it.
// func archiveDigest(archive, cache string) (string, error) {
//	var st unix.Stat_t
//	if err := unix.Stat(archive, &st); err != nil {
//		return "", fmt.Errorf("reading the image %s: %w", archive, err)
//	}
//	identity := fmt.Sprintf("%d %d %d.%09d", st.Ino, st.Size, st.Ctim.Sec, st.Ctim.Nsec)
//	if data, err := os.ReadFile(cache); err == nil {
//		if id, digest, ok := strings.Cut(strings.TrimSpace(string(data)), " sha256:"); ok && id == identity {
//			return digest, nil
//		}
//	}
//	digest, err := fileDigest(archive)
//	if err != nil {
//		return "", err
//	}
//	// A cache that cannot be written only costs time on the next run.
//	if os.MkdirAll(filepath.Dir(cache), 0o700) == nil {
//		_ = os.WriteFile(cache, []byte(identity+" sha256:"+digest+"\n"), 0o600)
//	}
//	return digest, nil
// }
//book:end

//book:replace overlay images
// func fileDigest(path string) (string, error) {
//	f, err := os.Open(path)
//	if err != nil {
//		return "", fmt.Errorf("opening the image: %w", err)
//	}
//	defer f.Close()
//	h := sha256.New()
//	if _, err := io.Copy(h, f); err != nil {
//		return "", fmt.Errorf("reading the image %s: %w", path, err)
//	}
//	return hex.EncodeToString(h.Sum(nil)), nil
// }
//book:end

//book:replace overlay images
// // unpackLayer unpacks the archive into dir so that no container ever sees
// // a half-unpacked layer: two containers starting at once take turns on a
// // lock, and the layer is unpacked beside its place and renamed into it,
// // which is atomic.
// func unpackLayer(archive, layers, dir string) error {
//	if err := os.MkdirAll(layers, 0o700); err != nil {
//		return fmt.Errorf("creating %s: %w", layers, err)
//	}
//	unlock, err := lock(filepath.Join(layers, ".lock"))
//	if err != nil {
//		return err
//	}
//	defer unlock()
//	if exists(dir) { // unpacked by the container we waited for
//		return nil
//	}
//	tmp, err := os.MkdirTemp(layers, ".unpacking-")
//	if err != nil {
//		return fmt.Errorf("creating a directory in %s: %w", layers, err)
//	}
//	// A failed unpacking, out of space included, leaves no half layer, and
//	// gives the space back.
//	defer os.RemoveAll(tmp)
//	logrus.Debugf("unpacking %s into the layer %s", archive, dir)
//	if err := UnpackArchive(archive, tmp); err != nil {
//		return err
//	}
//	if err := os.Rename(tmp, dir); err != nil {
//		return fmt.Errorf("moving the unpacked layer into place: %w", err)
//	}
//	return nil
// }
//book:end

// RemoveStaleUnpacks removes the half-unpacked layers of runs that were
// killed while unpacking. Unpacking happens only under the layers' lock:
// if the lock is free, a .unpacking- directory belongs to nobody any more.
// If another run holds it, its own unpacking is under way, and is left
// alone until a later run.
func RemoveStaleUnpacks(stateRoot string) error {
	layers := filepath.Join(stateRoot, "layers")
	stale, _ := filepath.Glob(filepath.Join(layers, ".unpacking-*"))
	if len(stale) == 0 {
		return nil
	}
	f, err := os.OpenFile(filepath.Join(layers, ".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("opening the layers' lock: %w", err)
	}
	defer f.Close()
	if unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) != nil {
		return nil
	}
	for _, dir := range stale {
		logrus.Debugf("removing %s: the run that unpacked it was killed", dir)
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("removing a half-unpacked layer %s: %w; remove it by hand", dir, err)
		}
	}
	return nil
}

// lock takes an exclusive flock(2) on path; the returned function releases
// it. The kernel releases it too if the process dies.
func lock(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the lock %s: %w", path, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return !errors.Is(err, fs.ErrNotExist)
}
