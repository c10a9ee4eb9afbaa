//book:file rootfs

package image

//book:replace rootfs images
// // validName is a lowercase image name, as in Docker, with at most the tag
// // "latest": this store keeps one version of each image.
// var validName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)
//
// // Archive finds the archive of an image in the state root. An image is a tar
// // of its root filesystem, at images/NAME.tar: `make image` puts busybox
// // there.
// func Archive(stateRoot, name string) (string, error) {
//	base, tag, _ := strings.Cut(name, ":")
//	if !validName.MatchString(base) || (tag != "" && tag != "latest") {
//		return "", fmt.Errorf("invalid image name %q: use a lowercase name such as busybox (only the tag latest is stored)", name)
//	}
//	dir := filepath.Join(stateRoot, "images")
//	path := filepath.Join(dir, base+".tar")
//	if _, err := os.Stat(path); err != nil {
//		return "", fmt.Errorf("image %q not found in %s: build the busybox image with `make image`, or put a root filesystem tar there as %s.tar",
//			name, dir, base)
//	}
//	return path, nil
// }
//
// // UnpackArchive unpacks the image archive at path into dir.
// func UnpackArchive(path, dir string) error {
//	f, err := os.Open(path)
//	if err != nil {
//		return fmt.Errorf("opening the image: %w", err)
//	}
//	defer f.Close()
//	return Unpack(f, dir)
// }
//book:end
