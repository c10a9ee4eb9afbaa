//book:file images

package image

import (
	"os"
	"path/filepath"
	"strings"

	digest "github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// GC removes what no image needs any more: the blobs that no named image
// and no container's image (inUse, manifest digests) refers to, and the
// unpacked layers of no such image, with their short links. It returns
// the manifests it removed. It takes the store's lock and the layers'
// lock, so no image is named and no layer unpacked meanwhile.
func (s Store) GC(inUse []digest.Digest) ([]digest.Digest, error) {
	unlock, err := s.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	layers := LayersDir(filepath.Dir(s.dir))
	if err := os.MkdirAll(layers, 0o700); err != nil {
		return nil, err
	}
	unlockLayers, err := lock(filepath.Join(layers, ".lock"))
	if err != nil {
		return nil, err
	}
	defer unlockLayers()
	index, err := s.readIndex()
	if err != nil {
		return nil, err
	}
	manifests := append([]digest.Digest{}, inUse...)
	for _, m := range index.Manifests {
		manifests = append(manifests, m.Digest)
	}
	blobs, chains := map[digest.Digest]bool{}, map[string]bool{}
	for _, m := range manifests {
		img, err := s.load(v1.Descriptor{MediaType: v1.MediaTypeImageManifest, Digest: m})
		if err != nil {
			logrus.Warnf("keeping everything: image %s cannot be read: %v", m, err)
			return nil, nil
		}
		blobs[m], blobs[img.Manifest.Config.Digest] = true, true
		for _, l := range img.Manifest.Layers {
			blobs[l.Digest] = true
		}
		for _, c := range ChainIDs(img.Config.RootFS.DiffIDs) {
			chains[c.Encoded()] = true
		}
	}
	removed := s.removeUnusedBlobs(blobs)
	removeUnusedLayers(layers, chains)
	return removed, nil
}

// removeUnusedBlobs removes the blobs not in keep and returns the
// manifests among them.
func (s Store) removeUnusedBlobs(keep map[digest.Digest]bool) []digest.Digest {
	dir := filepath.Join(s.dir, v1.ImageBlobsDir, "sha256")
	entries, _ := os.ReadDir(dir)
	var manifests []digest.Digest
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".writing-") {
			removeIfAbandoned(filepath.Join(dir, e.Name()))
			continue
		}
		d := digest.NewDigestFromEncoded(digest.SHA256, e.Name())
		if strings.HasPrefix(e.Name(), ".") || d.Validate() != nil || keep[d] {
			continue // one still needed
		}
		var m v1.Manifest
		if s.readJSON(v1.Descriptor{Digest: d}, &m) == nil && m.MediaType == v1.MediaTypeImageManifest {
			manifests = append(manifests, d)
		}
		logrus.Debugf("removing blob %s: no image needs it", d)
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
			logrus.Warnf("removing blob %s: %v", d, err)
		}
	}
	return manifests
}

// removeUnusedLayers removes the unpacked layers not in keep (chain IDs),
// and the short links that led to them.
func removeUnusedLayers(layers string, keep map[string]bool) {
	entries, _ := os.ReadDir(layers)
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") || e.Name() == "l" || keep[e.Name()] {
			continue
		}
		logrus.Debugf("removing layer %s: no image needs it", e.Name())
		if err := os.RemoveAll(filepath.Join(layers, e.Name())); err != nil {
			logrus.Warnf("removing layer %s: %v", e.Name(), err)
		}
	}
	links, _ := os.ReadDir(filepath.Join(layers, "l"))
	for _, l := range links {
		link := filepath.Join(layers, "l", l.Name())
		if _, err := os.Stat(link); err != nil { // it leads nowhere now
			_ = os.Remove(link)
		}
	}
}

// RemoveAbandonedWrites removes the blobs that killed commits, imports
// and loads left half written: every run's sweep calls it.
func RemoveAbandonedWrites(stateRoot string) {
	dir := filepath.Join(OpenStore(stateRoot).Dir(), v1.ImageBlobsDir, "sha256")
	stale, _ := filepath.Glob(filepath.Join(dir, ".writing-*"))
	for _, path := range stale {
		removeIfAbandoned(path)
	}
}

// removeIfAbandoned removes a blob being written if no one writes it any
// more: its writer holds a lock on it, which the kernel drops when the
// writer dies.
func removeIfAbandoned(path string) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	if unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) == nil {
		logrus.Debugf("removing %s: its writer was killed", path)
		_ = os.Remove(path)
	}
}
