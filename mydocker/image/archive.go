//book:file images

package image

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// An OCI archive is an OCI image layout in a tar: oci-layout, index.json
// and blobs/sha256/..., the same files as the store, for the images asked
// for only. `skopeo copy oci-archive:FILE ...` reads one; `docker save`
// writes a layout like it from Docker 25 on (older ones wrote their own
// format, manifest.json and one directory per layer, which load refuses
// with a message that says so).

// Save writes the images refs name as an OCI archive.
func (s Store) Save(refs []string, out io.Writer, progress io.Writer) error {
	index := v1.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: v1.MediaTypeImageIndex}
	var blobs []v1.Descriptor
	for _, ref := range refs {
		img, err := s.Find(ref)
		if err != nil {
			return err
		}
		desc := img.Desc
		desc.Annotations = map[string]string{refAnnotation: img.Name}
		index.Manifests = append(index.Manifests, desc)
		for _, b := range append([]v1.Descriptor{img.Desc, img.Manifest.Config}, img.Manifest.Layers...) {
			if !slices.ContainsFunc(blobs, func(d v1.Descriptor) bool { return d.Digest == b.Digest }) {
				blobs = append(blobs, b)
			}
		}
	}
	tw := tar.NewWriter(out)
	layout, _ := json.Marshal(v1.ImageLayout{Version: v1.ImageLayoutVersion})
	indexJSON, err := json.Marshal(index)
	if err != nil {
		return err
	}
	if err := writeTarFile(tw, v1.ImageLayoutFile, layout); err != nil {
		return err
	}
	if err := writeTarFile(tw, v1.ImageIndexFile, indexJSON); err != nil {
		return err
	}
	for _, b := range blobs {
		if err := s.copyBlobToTar(tw, b, progress); err != nil {
			return err
		}
	}
	return tw.Close()
}

func writeTarFile(tw *tar.Writer, name string, data []byte) error {
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	_, err := tw.Write(data)
	return err
}

func (s Store) copyBlobToTar(tw *tar.Writer, b v1.Descriptor, progress io.Writer) error {
	f, err := os.Open(s.BlobPath(b.Digest))
	if err != nil {
		return fmt.Errorf("reading blob %s: %w", b.Digest, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	name := path.Join(v1.ImageBlobsDir, b.Digest.Algorithm().String(), b.Digest.Encoded())
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: fi.Size(), Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	var w io.Writer = tw
	if progress != nil {
		w = io.MultiWriter(tw, progress)
	}
	_, err = io.Copy(w, f)
	return err
}

// maxIndexSize bounds what load reads into memory of index.json and
// oci-layout.
const maxIndexSize = 1 << 20

// LoadArchive reads an OCI archive into the store and returns the names of its
// images. Each blob is checked against its name as it is written; the
// images are named only once every blob they need is there and checked.
func (s Store) LoadArchive(in io.Reader, progress io.Writer) ([]string, error) {
	tr := tar.NewReader(in)
	var index, layout []byte
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading the archive: %w: it is damaged, or not a tar", err)
		}
		name := strings.TrimPrefix(path.Clean(hdr.Name), "./")
		switch {
		case hdr.Typeflag != tar.TypeReg:
			continue // directories: the layout is known
		case name == v1.ImageIndexFile:
			index, err = io.ReadAll(io.LimitReader(tr, maxIndexSize))
		case name == v1.ImageLayoutFile:
			layout, err = io.ReadAll(io.LimitReader(tr, maxIndexSize))
		case name == "manifest.json" || name == "repositories":
			err = errors.New("this is an archive of docker save before Docker 25, which load does not read: " +
				"save it again with Docker 25 or later, or copy it with `skopeo copy docker-archive:FILE oci-archive:OUT:NAME`")
		case strings.HasPrefix(name, v1.ImageBlobsDir+"/sha256/"):
			err = s.loadBlob(tr, strings.TrimPrefix(name, v1.ImageBlobsDir+"/sha256/"), progress)
		}
		if err != nil {
			return nil, err
		}
	}
	return s.nameLoaded(layout, index)
}

// loadBlob writes one blob and checks that its content is the digest its
// name says.
func (s Store) loadBlob(r io.Reader, hex string, progress io.Writer) error {
	want := digest.NewDigestFromEncoded(digest.SHA256, hex)
	if err := want.Validate(); err != nil {
		return fmt.Errorf("the archive has a blob named %q, which is not a SHA-256 digest", hex)
	}
	if progress != nil {
		r = io.TeeReader(r, progress)
	}
	desc, err := s.WriteBlob(r, "")
	if err != nil {
		return err
	}
	if desc.Digest != want {
		os.Remove(s.BlobPath(desc.Digest))
		return fmt.Errorf("blob %s of the archive hashes to %s: the archive is damaged", want, desc.Digest)
	}
	return nil
}

// nameLoaded checks the archive's layout and names its images.
func (s Store) nameLoaded(layout, indexJSON []byte) ([]string, error) {
	var l v1.ImageLayout
	if err := json.Unmarshal(layout, &l); err != nil || l.Version != v1.ImageLayoutVersion {
		return nil, errors.New("the archive is not an OCI image layout: it has no oci-layout file of version 1.0.0")
	}
	var index v1.Index
	if err := json.Unmarshal(indexJSON, &index); err != nil {
		return nil, fmt.Errorf("the archive's index.json: %w", err)
	}
	var names []string
	for _, m := range index.Manifests {
		if m.MediaType != v1.MediaTypeImageManifest {
			return nil, fmt.Errorf("the archive lists a %s: load reads image manifests only (one platform)", m.MediaType)
		}
		name, err := loadedName(m.Annotations)
		if err != nil {
			return nil, err
		}
		img, err := s.load(m)
		if err != nil {
			return nil, fmt.Errorf("image %s of the archive: %w", name, err)
		}
		for _, layer := range img.Manifest.Layers {
			if _, err := os.Stat(s.BlobPath(layer.Digest)); err != nil {
				return nil, fmt.Errorf("image %s of the archive: layer %s is missing from it", name, layer.Digest)
			}
		}
		m.Annotations = nil
		if err := s.Tag(name, m); err != nil {
			return nil, err
		}
		names = append(names, name)
	}
	return names, nil
}

// loadedName is an archived image's name: the OCI ref name (REPO:TAG, as
// save writes it), or containerd's full name, without docker.io/library/.
func loadedName(annotations map[string]string) (string, error) {
	name := annotations[refAnnotation]
	if full := annotations["io.containerd.image.name"]; full != "" {
		name = strings.TrimPrefix(strings.TrimPrefix(full, "docker.io/"), "library/")
	}
	if name == "" {
		return "", errors.New("an image of the archive has no name (annotation org.opencontainers.image.ref.name): name it when you make the archive")
	}
	return ParseReference(name)
}
