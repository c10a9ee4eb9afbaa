//book:file images

package image

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/sirupsen/logrus"
)

// A layer is unpacked once, into layers/CHAINID of the state root, and
// shared read-only by every image and container that has it. The chain ID
// names a layer together with every layer below it (the OCI image spec's
// definition):
//
//	ChainID(L0) = DiffID(L0)
//	ChainID(Ln) = SHA-256(ChainID(Ln-1) + " " + DiffID(Ln))
//
// so the same tar on two different stacks is two directories: what a
// layer's whiteouts hide depends on what is under it.

// ChainIDs returns the chain ID of each layer of diffIDs, bottom first.
func ChainIDs(diffIDs []digest.Digest) []digest.Digest {
	//book:lab images stack
	chain := make([]digest.Digest, len(diffIDs))
	for i, d := range diffIDs {
		if i == 0 {
			chain[i] = d
			continue
		}
		chain[i] = digest.FromString(chain[i-1].String() + " " + d.String())
	}
	return chain
	//book:stub
	// // Lab images, part 3 (labs/11-images/README.md): the chain ID of a
	// // layer names it with everything below it: the first is its diff_id,
	// // each next one the digest of "PREVIOUS_CHAIN_ID DIFF_ID". Until then
	// // a layer is keyed by its own diff_id, and two images that share a
	// // layer's content on different layers below would share its directory.
	// return append([]digest.Digest(nil), diffIDs...)
	//book:end images stack
}

// LayersDir is where the unpacked layers and their short links are.
func LayersDir(stateRoot string) string { return filepath.Join(stateRoot, "layers") }

// Layers returns the image's layers for overlay's lowerdir, top first as
// overlay wants them, each as a short link relative to LayersDir
// ("l/3f2a9c1b7e0d"), unpacking those not unpacked yet. overlay's mount
// options must fit in one page (4096 bytes): a full path of 100 bytes per
// layer would stop at about 40 layers, where images can have 127. Docker
// keeps the same kind of links, in overlay2/l/.
//
// ref is a name, or the digest of a manifest ("sha256:..."): a container
// records the one it was created from, which stays in the store even
// once no name leads to it.
func Layers(stateRoot, ref string) ([]string, error) {
	s := OpenStore(stateRoot)
	if d, err := digest.Parse(ref); err == nil {
		img, err := s.load(v1.Descriptor{MediaType: v1.MediaTypeImageManifest, Digest: d})
		if err != nil {
			return nil, err
		}
		return s.unpackLayers(img, false)
	}
	img, err := s.Find(ref)
	imported := errors.Is(err, ErrNoSuchImage)
	if imported {
		img, err = s.importLegacy(ref)
	}
	if err != nil {
		return nil, err
	}
	return s.unpackLayers(img, imported)
}

// FindOrImport finds an image, moving an earlier chapter's archive into
// the store first if that is where it is.
func (s Store) FindOrImport(ref string) (Image, error) {
	img, err := s.Find(ref)
	if errors.Is(err, ErrNoSuchImage) {
		return s.importLegacy(ref)
	}
	return img, err
}

// unpackLayers unpacks what is missing of img's layers and returns them
// for lowerdir, top first.
func (s Store) unpackLayers(img Image, imported bool) ([]string, error) {
	stateRoot, ref := filepath.Dir(s.dir), img.Name
	layers := LayersDir(stateRoot)
	var lower []string
	for i, chain := range ChainIDs(img.Config.RootFS.DiffIDs) {
		dir := filepath.Join(layers, chain.Encoded())
		if exists(dir) {
			if !imported { // the import has just unpacked it: nothing to say
				logrus.Debugf("image %s: layer %s was unpacked before", ref, dir)
			}
		} else {
			blob := s.BlobPath(img.Manifest.Layers[i].Digest)
			if _, err := unpackBlob(blob, layers, img.Config.RootFS.DiffIDs[i], func(digest.Digest) string { return dir }); err != nil {
				return nil, fmt.Errorf("image %s, layer %d: %w", ref, i+1, err)
			}
		}
		link, err := shortLink(layers, chain)
		if err != nil {
			return nil, err
		}
		//book:lab images stack
		lower = append([]string{link}, lower...)
		//book:stub
		// // Lab images, part 3 (labs/11-images/README.md): overlay reads lowerdir top first, and the
		// // image lists its layers bottom first. Until then the base layer
		// // lies on top and hides every change of the layers above it.
		// lower = append(lower, link)
		//book:end images stack
	}
	logrus.Debugf("image %s: layers %s", ref, strings.Join(lower, ":"))
	return lower, nil
}

// shortLink returns l/NAME, a symbolic link to the layer's directory,
// made if missing. NAME is the chain ID's first 12 hex digits; should
// another layer have them already, a longer prefix is taken.
func shortLink(layers string, chain digest.Digest) (string, error) {
	if err := os.MkdirAll(filepath.Join(layers, "l"), 0o700); err != nil {
		return "", fmt.Errorf("creating %s/l: %w", layers, err)
	}
	target := filepath.Join("..", chain.Encoded())
	for n := 12; n <= len(chain.Encoded()); n += 4 {
		name := filepath.Join("l", chain.Encoded()[:n])
		err := os.Symlink(target, filepath.Join(layers, name))
		if err == nil || errors.Is(err, fs.ErrExist) {
			if got, _ := os.Readlink(filepath.Join(layers, name)); got == target {
				return name, nil
			}
		}
		if err != nil && !errors.Is(err, fs.ErrExist) {
			return "", fmt.Errorf("linking %s: %w", name, err)
		}
	}
	return "", fmt.Errorf("layer %s: no short name is free", chain)
}

// Import stores a root filesystem tar (plain or gzip-compressed) as an
// image of one layer named name, as `docker import` does. The blob is the
// archive as given; its diff_id, the hash of the uncompressed tar, is
// computed while the safe unpacker unpacks it at once: an archive the
// unpacker refuses never becomes an image, and a gzip bomb is refused
// before its zeros reach the disk.
func (s Store) Import(r io.Reader, name, createdBy string) (Image, error) {
	ref, err := ParseReference(name)
	if err != nil {
		return Image{}, err
	}
	in := bufio.NewReader(r)
	mediaType := v1.MediaTypeImageLayer
	if magic, _ := in.Peek(len(gzipMagic)); bytes.Equal(magic, gzipMagic) {
		mediaType = v1.MediaTypeImageLayerGzip
	}
	layer, err := s.WriteBlob(in, mediaType)
	if err != nil {
		return Image{}, err
	}
	layers := LayersDir(filepath.Dir(s.dir))
	diffID, err := unpackBlob(s.BlobPath(layer.Digest), layers, "", func(d digest.Digest) string { return filepath.Join(layers, d.Encoded()) })
	if err != nil {
		os.Remove(s.BlobPath(layer.Digest))
		return Image{}, err
	}
	now := time.Now().UTC()
	config := v1.Image{
		Created:  &now,
		Platform: v1.Platform{Architecture: runtime.GOARCH, OS: "linux"},
		RootFS:   v1.RootFS{Type: "layers", DiffIDs: []digest.Digest{diffID}},
		History:  []v1.History{{Created: &now, CreatedBy: createdBy}},
	}
	return s.AddImage(ref, config, []v1.Descriptor{layer})
}

// unpackBlob unpacks a layer blob into the directory dirOf names for its
// diff_id, and returns the diff_id it hashed on the way: the whole
// uncompressed stream, end-of-archive padding included. With want, the
// diff_id the image's config gives, a blob that hashes to anything else
// is refused: the layer directories are keyed by chain IDs computed from
// the config, and a forged image must not put its files under the name
// of another image's layer.
func unpackBlob(blob, layers string, want digest.Digest, dirOf func(digest.Digest) string) (digest.Digest, error) {
	if err := os.MkdirAll(layers, 0o700); err != nil {
		return "", fmt.Errorf("creating %s: %w", layers, err)
	}
	unlock, err := lock(filepath.Join(layers, ".lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	tmp, err := os.MkdirTemp(layers, ".unpacking-")
	if err != nil {
		return "", fmt.Errorf("creating a directory in %s: %w", layers, err)
	}
	defer os.RemoveAll(tmp)
	f, err := os.Open(blob)
	if err != nil {
		return "", err
	}
	defer f.Close()
	stream, err := decompress(f)
	if err != nil {
		return "", err
	}
	logrus.Debugf("unpacking %s into %s", blob, tmp)
	h := sha256.New()
	tee := io.TeeReader(stream, h)
	if err := Unpack(tee, tmp); err != nil {
		return "", err
	}
	if _, err := io.Copy(io.Discard, tee); err != nil {
		return "", fmt.Errorf("reading the layer: %w", err)
	}
	diffID := digest.NewDigest(digest.SHA256, h)
	if want != "" && diffID != want {
		return "", fmt.Errorf("the layer hashes to %s where the image's config says %s: the image is damaged or forged; remove it", diffID, want)
	}
	dir := dirOf(diffID)
	if exists(dir) {
		return diffID, nil // the same layer, unpacked before
	}
	if err := os.Rename(tmp, dir); err != nil {
		return "", fmt.Errorf("moving the unpacked layer into place: %w", err)
	}
	return diffID, nil
}

// AddImage writes the config and the manifest of layers, and names the
// manifest ref.
func (s Store) AddImage(ref string, config v1.Image, layers []v1.Descriptor) (Image, error) {
	configDesc, err := s.writeJSON(config, v1.MediaTypeImageConfig)
	if err != nil {
		return Image{}, err
	}
	manifest := v1.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: v1.MediaTypeImageManifest,
		Config:    configDesc,
		Layers:    layers,
	}
	desc, err := s.writeJSON(manifest, v1.MediaTypeImageManifest)
	if err != nil {
		return Image{}, err
	}
	if err := s.Tag(ref, desc); err != nil {
		return Image{}, err
	}
	return Image{Name: ref, Manifest: manifest, Config: config, Desc: desc}, nil
}

// importLegacy moves an image of the earlier chapters' store, a root
// filesystem tar at images/NAME.tar, into the OCI layout, once: `make
// image` and the earlier chapters put busybox there.
func (s Store) importLegacy(ref string) (Image, error) {
	name, err := ParseReference(ref)
	if err != nil {
		return Image{}, err
	}
	notFound := fmt.Errorf("%w: %s: import one with `mydocker import FILE %s` (make image builds busybox.tar)", ErrNoSuchImage, ref, ref)
	repo, latest := strings.CutSuffix(name, ":latest")
	if !latest || strings.Contains(repo, "/") {
		return Image{}, notFound
	}
	// Containers started together would each import it: one does, under
	// a lock of its own (Tag takes the store's), and the others find it.
	unlock, err := s.lockFile(".import.lock")
	if err != nil {
		return Image{}, err
	}
	defer unlock()
	if img, err := s.Find(name); err == nil {
		return img, nil
	}
	legacy := filepath.Join(s.dir, repo+".tar")
	f, err := os.Open(legacy)
	if errors.Is(err, fs.ErrNotExist) {
		return Image{}, notFound
	}
	if err != nil {
		return Image{}, err
	}
	defer f.Close()
	logrus.Debugf("moving %s into the image store", legacy)
	img, err := s.Import(f, name, "mydocker import "+repo+".tar")
	if err != nil {
		return img, err
	}
	_ = os.Remove(legacy)
	return img, nil
}
