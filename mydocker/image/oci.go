//book:file images

package image

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sys/unix"

	"github.com/mydocker-book/mydocker/mydocker/atomicfile"
)

// The image store is an OCI image layout in images/ of the state root,
// the format that skopeo, umoci, containerd and registries all read:
//
//	images/oci-layout        {"imageLayoutVersion": "1.0.0"}
//	images/index.json        one manifest per name, its name in an annotation
//	images/blobs/sha256/HEX  every manifest, config and layer, named by the
//	                         SHA-256 of its bytes
//
// A blob's name is its content's hash: a blob is written once, never
// changed, shared by every image that has it, and checked on every read.
// A manifest lists an image's config and its layers, bottom first; a
// config holds the image's defaults (Cmd, Env, WorkingDir...) and the
// diff_ids, the hashes of the layers' uncompressed tars.

// Store is the image store of a state root.
type Store struct{ dir string }

// OpenStore returns the store of stateRoot; it is made on first write.
func OpenStore(stateRoot string) Store { return Store{dir: filepath.Join(stateRoot, "images")} }

// Dir is the store's layout directory.
func (s Store) Dir() string { return s.dir }

// refAnnotation names an image in index.json, as `skopeo copy ...
// oci:DIR:NAME` and containerd's exports do.
const refAnnotation = v1.AnnotationRefName

// A reference is a repository and a tag: Docker's lowercase path
// components separated by slashes, and a tag of up to 128 letters,
// digits, _ . and -, not starting with . or -.
var repositoryRule = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$`)

// validTag checks a tag by hand: as a regular expression, its length
// limit ({0,127}) compiles into 127 copies of a character class, 130 kB
// that every mydocker process would build at start-up.
func validTag(tag string) bool {
	if tag == "" || len(tag) > 128 || tag[0] == '.' || tag[0] == '-' {
		return false
	}
	for _, c := range tag {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// ParseReference reads REPOSITORY[:TAG] and returns it with its tag,
// latest when none is given, as Docker names images.
func ParseReference(name string) (string, error) {
	repo, tag := name, "latest"
	if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
		repo, tag = name[:i], name[i+1:]
	}
	if !repositoryRule.MatchString(repo) || !validTag(tag) {
		return "", fmt.Errorf("invalid image name %q: use REPOSITORY[:TAG] in lowercase, such as busybox or busybox:1.36", name)
	}
	return repo + ":" + tag, nil
}

// lock takes the store's lock: every change of index.json happens under
// it, so that two commands never lose each other's names.
func (s Store) lock() (func(), error) { return s.lockFile(".lock") }

func (s Store) lockFile(name string) (func(), error) {
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating the image store %s: %w", s.dir, err)
	}
	return lock(filepath.Join(s.dir, name))
}

// readIndex reads index.json; a store without one is empty.
func (s Store) readIndex() (v1.Index, error) {
	index := v1.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: v1.MediaTypeImageIndex}
	data, err := os.ReadFile(filepath.Join(s.dir, v1.ImageIndexFile))
	if errors.Is(err, fs.ErrNotExist) {
		return index, nil
	}
	if err == nil {
		err = json.Unmarshal(data, &index)
	}
	if err != nil {
		return index, fmt.Errorf("reading the image store's index: %w", err)
	}
	return index, nil
}

// writeIndex replaces index.json, atomically: a reader sees the old or the
// new one, never half of one. It also writes oci-layout, which makes the
// directory a layout other tools accept.
func (s Store) writeIndex(index v1.Index) error {
	layout, _ := json.Marshal(v1.ImageLayout{Version: v1.ImageLayoutVersion})
	if err := writeDurably(filepath.Join(s.dir, v1.ImageLayoutFile), layout); err != nil {
		return err
	}
	data, err := json.MarshalIndent(index, "", "  ")
	if err != nil {
		return err
	}
	return writeDurably(filepath.Join(s.dir, v1.ImageIndexFile), data)
}

// writeDurably replaces a file of the store whole, on the disk before it
// is renamed: an image's index outlives a power cut.
func writeDurably(path string, data []byte) error {
	if err := atomicfile.Write(path, data, true); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// BlobPath is where the blob with digest d is kept.
func (s Store) BlobPath(d digest.Digest) string {
	return filepath.Join(s.dir, v1.ImageBlobsDir, d.Algorithm().String(), d.Encoded())
}

// WriteBlob copies r into the store and returns its descriptor. The bytes
// go to a temporary file, hashed on the way, which is renamed to its
// digest: a blob's file exists only once it is whole.
func (s Store) WriteBlob(r io.Reader, mediaType string) (v1.Descriptor, error) {
	dir := filepath.Join(s.dir, v1.ImageBlobsDir, "sha256")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return v1.Descriptor{}, fmt.Errorf("creating the image store's blobs: %w", err)
	}
	tmp, err := createLockedTemp(dir)
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("writing a blob: %w", err)
	}
	// Closed, and its lock dropped, only once renamed: until then another
	// mydocker's sweep would take it for a killed writer's.
	defer tmp.Close()
	defer os.Remove(tmp.Name()) // gone once renamed
	h := sha256.New()
	size, err := io.Copy(io.MultiWriter(tmp, h), r)
	if err == nil {
		err = tmp.Sync()
	}
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("writing a blob: %w", err)
	}
	d := digest.NewDigest(digest.SHA256, h)
	if err := os.Rename(tmp.Name(), s.BlobPath(d)); err != nil {
		return v1.Descriptor{}, fmt.Errorf("writing blob %s: %w", d, err)
	}
	return v1.Descriptor{MediaType: mediaType, Digest: d, Size: size}, nil
}

// createLockedTemp creates a .writing- file in dir and locks it: GC
// removes a .writing- file that no one holds, what a killed commit or
// load left. Between the creation and the lock another mydocker's sweep
// may find the file unlocked and remove it: once locked, the name must
// still lead to this file, or it is made again.
func createLockedTemp(dir string) (*os.File, error) {
	for {
		tmp, err := os.CreateTemp(dir, ".writing-")
		if err != nil {
			return nil, err
		}
		if err := unix.Flock(int(tmp.Fd()), unix.LOCK_EX); err != nil {
			tmp.Close()
			return nil, err
		}
		mine, err := tmp.Stat()
		if err != nil {
			tmp.Close()
			return nil, err
		}
		if named, err := os.Stat(tmp.Name()); err == nil && os.SameFile(mine, named) {
			return tmp, nil
		}
		tmp.Close() // removed under us: a file nobody can see
	}
}

// writeJSON stores v as a JSON blob.
func (s Store) writeJSON(v any, mediaType string) (v1.Descriptor, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return v1.Descriptor{}, err
	}
	return s.WriteBlob(strings.NewReader(string(data)), mediaType)
}

// readJSON reads the blob of desc into v, after checking that its bytes
// are the ones the digest names: a blob changed on disk is refused.
func (s Store) readJSON(desc v1.Descriptor, v any) error {
	if err := desc.Digest.Validate(); err != nil {
		return fmt.Errorf("blob %q: %w", desc.Digest, err)
	}
	data, err := os.ReadFile(s.BlobPath(desc.Digest))
	if err != nil {
		return fmt.Errorf("reading blob %s: %w", desc.Digest, err)
	}
	if got := digest.FromBytes(data); got != desc.Digest {
		return fmt.Errorf("blob %s is damaged: its content hashes to %s; remove the image and load it again", desc.Digest, got)
	}
	return json.Unmarshal(data, v)
}

// Image is one image of the store: its name, manifest and config.
type Image struct {
	Name     string // REPOSITORY:TAG
	Manifest v1.Manifest
	Config   v1.Image
	Desc     v1.Descriptor // the manifest's
}

// ID is Docker's image id: the digest of the config.
func (img Image) ID() digest.Digest { return img.Manifest.Config.Digest }

// Find returns the image a name (REPOSITORY[:TAG]) or an id prefix names.
func (s Store) Find(ref string) (Image, error) {
	index, err := s.readIndex()
	if err != nil {
		return Image{}, err
	}
	name, nameErr := ParseReference(ref)
	for _, m := range index.Manifests {
		if nameErr == nil && m.Annotations[refAnnotation] == name {
			return s.load(m)
		}
	}
	if id := strings.TrimPrefix(ref, "sha256:"); len(id) >= 4 && !strings.Contains(id, ":") {
		var found []Image
		for _, m := range index.Manifests {
			img, err := s.load(m)
			if err == nil && strings.HasPrefix(img.ID().Encoded(), id) && !slices.ContainsFunc(found, func(f Image) bool { return f.ID() == img.ID() }) {
				found = append(found, img)
			}
		}
		if len(found) == 1 {
			return found[0], nil
		}
	}
	return Image{}, fmt.Errorf("%w: %s", ErrNoSuchImage, ref)
}

// ErrNoSuchImage is Find's error when nothing matches.
var ErrNoSuchImage = errors.New("no such image")

// Load reads the image whose manifest has digest d, named or not.
func (s Store) Load(d digest.Digest) (Image, error) {
	if err := d.Validate(); err != nil {
		return Image{}, fmt.Errorf("image %q: %w", d, err)
	}
	return s.load(v1.Descriptor{MediaType: v1.MediaTypeImageManifest, Digest: d})
}

func (s Store) load(desc v1.Descriptor) (Image, error) {
	img := Image{Name: desc.Annotations[refAnnotation], Desc: desc}
	if err := s.readJSON(desc, &img.Manifest); err != nil {
		return img, err
	}
	if err := s.readJSON(img.Manifest.Config, &img.Config); err != nil {
		return img, err
	}
	if len(img.Config.RootFS.DiffIDs) != len(img.Manifest.Layers) {
		return img, fmt.Errorf("image %s: its config lists %d layers and its manifest %d", img.Name, len(img.Config.RootFS.DiffIDs), len(img.Manifest.Layers))
	}
	return img, nil
}

// List returns every named image of the store.
func (s Store) List() ([]Image, error) {
	index, err := s.readIndex()
	if err != nil {
		return nil, err
	}
	var images []Image
	for _, m := range index.Manifests {
		img, err := s.load(m)
		if err != nil {
			return nil, err
		}
		images = append(images, img)
	}
	return images, nil
}

// Tag gives the manifest desc the name (REPOSITORY:TAG), taking it from
// the image that had it.
func (s Store) Tag(name string, desc v1.Descriptor) error {
	return s.updateIndex(func(index *v1.Index) error {
		untag(index, name)
		desc.Annotations = map[string]string{refAnnotation: name}
		index.Manifests = append(index.Manifests, desc)
		return nil
	})
}

// Untag removes a name. The blobs stay until GC.
func (s Store) Untag(name string) error {
	return s.updateIndex(func(index *v1.Index) error {
		if !untag(index, name) {
			return fmt.Errorf("%w: %s", ErrNoSuchImage, name)
		}
		return nil
	})
}

// untag removes name from index, and says whether it was there.
func untag(index *v1.Index, name string) bool {
	before := len(index.Manifests)
	index.Manifests = slices.DeleteFunc(index.Manifests, func(m v1.Descriptor) bool { return m.Annotations[refAnnotation] == name })
	return len(index.Manifests) < before
}

// updateIndex changes index.json under the store's lock: read, change,
// write atomically.
func (s Store) updateIndex(change func(*v1.Index) error) error {
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	index, err := s.readIndex()
	if err != nil {
		return err
	}
	if err := change(&index); err != nil {
		return err
	}
	return s.writeIndex(index)
}
