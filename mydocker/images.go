//book:file images

package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	units "github.com/docker/go-units"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/mydocker-book/mydocker/mydocker/atomicfile"
	"github.com/mydocker-book/mydocker/mydocker/container"
	"github.com/mydocker-book/mydocker/mydocker/image"
)

func importCommand() *cli.Command {
	return &cli.Command{
		Name:         "import",
		Usage:        "make an image of one layer from a root filesystem tar (- for standard input)",
		ArgsUsage:    "FILE|- REPOSITORY[:TAG]",
		OnUsageError: usageError,
		Action: func(ctx *cli.Context) error {
			if ctx.NArg() != 2 {
				return commandFailed(errors.New("import needs a file and a name: mydocker import FILE|- REPOSITORY[:TAG]"))
			}
			var in io.Reader = os.Stdin
			if file := ctx.Args().First(); file != "-" {
				f, err := os.Open(file)
				if err != nil {
					return commandFailed(err)
				}
				defer f.Close()
				in = f
			}
			img, err := image.OpenStore(ctx.String("root")).Import(in, ctx.Args().Get(1), "mydocker import "+ctx.Args().First())
			if err != nil {
				return commandFailed(err)
			}
			fmt.Println(img.ID())
			return nil
		},
	}
}

func imagesCommand() *cli.Command {
	return &cli.Command{
		Name:         "images",
		Usage:        "list the images",
		OnUsageError: usageError,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print the image ids only"},
		},
		Action: listImages,
	}
}

// listImages prints Docker's table, newest first.
func listImages(ctx *cli.Context) error {
	images, err := image.OpenStore(ctx.String("root")).List()
	if err != nil {
		return commandFailed(err)
	}
	slices.SortStableFunc(images, func(a, b image.Image) int { return created(b).Compare(created(a)) })
	out := tabwriter.NewWriter(os.Stdout, 10, 1, 3, ' ', 0)
	if !ctx.Bool("quiet") {
		fmt.Fprintln(out, "REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE")
	}
	for _, img := range images {
		id := img.ID().Encoded()[:12]
		if ctx.Bool("quiet") {
			fmt.Fprintln(out, id)
			continue
		}
		repo, tag, _ := strings.Cut(img.Name, ":")
		fmt.Fprintf(out, "%s\t%s\t%s\t%s ago\t%s\n", repo, tag, id,
			units.HumanDuration(time.Since(created(img))), units.HumanSizeWithPrecision(float64(layersSize(img)), 3))
	}
	return out.Flush()
}

func created(img image.Image) time.Time {
	if img.Config.Created == nil {
		return time.Time{}
	}
	return *img.Config.Created
}

// layersSize is the size of the image's layers, uncompressed as they are
// stored.
func layersSize(img image.Image) int64 {
	var size int64
	for _, l := range img.Manifest.Layers {
		size += l.Size
	}
	return size
}

func tagCommand() *cli.Command {
	return &cli.Command{
		Name:         "tag",
		Usage:        "give an image one more name",
		ArgsUsage:    "SOURCE TARGET",
		OnUsageError: usageError,
		Action: func(ctx *cli.Context) error {
			if ctx.NArg() != 2 {
				return commandFailed(errors.New("tag needs two names: mydocker tag SOURCE[:TAG] TARGET[:TAG]"))
			}
			store := image.OpenStore(ctx.String("root"))
			img, err := store.Find(ctx.Args().First())
			if err != nil {
				return commandFailed(err)
			}
			target, err := image.ParseReference(ctx.Args().Get(1))
			if err != nil {
				return commandFailed(err)
			}
			return commandFailed(store.Tag(target, img.Desc))
		},
	}
}

func rmiCommand() *cli.Command {
	return &cli.Command{
		Name:         "rmi",
		Usage:        "remove image names (-f: also those a container uses)",
		ArgsUsage:    "IMAGE [IMAGE...]",
		OnUsageError: usageError,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "remove the name even if a container uses it"},
		},
		Action: removeImages,
	}
}

// removeImages removes each name, refusing one that a container uses, as
// Docker does: its container could no longer be started again.
func removeImages(ctx *cli.Context) error {
	if ctx.NArg() == 0 {
		return commandFailed(errors.New("rmi needs at least one image: mydocker rmi [-f] IMAGE [IMAGE...]"))
	}
	store := image.OpenStore(ctx.String("root"))
	records, err := container.Records(ctx.String("root"))
	if err != nil {
		return commandFailed(err)
	}
	failed := false
	for _, ref := range ctx.Args().Slice() {
		if err := removeImage(store, records, ref, ctx.Bool("force")); err != nil {
			fmt.Fprintf(os.Stderr, "mydocker: %v\n", err)
			failed = true
		}
	}
	if err := collectGarbage(ctx.String("root"), store); err != nil {
		fmt.Fprintf(os.Stderr, "mydocker: %v\n", err)
		failed = true
	}
	if failed {
		return silentExit(1)
	}
	return nil
}

// collectGarbage removes the blobs and layers that no image needs any
// more, as Docker does when an image loses its last name. While a
// container is being created it removes nothing: that container's image
// is not on record yet.
func collectGarbage(stateRoot string, store image.Store) error {
	inUse, creating, err := container.ImagesInUse(stateRoot)
	if err != nil || creating {
		return err
	}
	removed, err := store.GC(inUse)
	for _, d := range removed {
		fmt.Printf("Deleted: %s\n", d)
	}
	return err
}

func removeImage(store image.Store, records []container.Record, ref string, force bool) error {
	img, err := store.Find(ref)
	if err != nil {
		return err
	}
	if names, err := namesOf(store, img); err != nil || names > 1 {
		return untag(store, img, err) // another name keeps the image
	}
	for _, r := range records {
		if r.ImageDigest == img.Desc.Digest.String() && !force {
			return fmt.Errorf("conflict: unable to remove repository reference %q (must force) - container %s is using its referenced image %s",
				ref, container.ShortID(r.ID), img.ID().Encoded()[:12])
		}
	}
	return untag(store, img, nil)
}

func untag(store image.Store, img image.Image, err error) error {
	if err == nil {
		err = store.Untag(img.Name)
	}
	if err != nil {
		return err
	}
	fmt.Printf("Untagged: %s\n", img.Name)
	return nil
}

// namesOf counts the names that lead to img's manifest.
func namesOf(store image.Store, img image.Image) (int, error) {
	images, err := store.List()
	n := 0
	for _, other := range images {
		if other.Desc.Digest == img.Desc.Digest {
			n++
		}
	}
	return n, err
}

func commitCommand() *cli.Command {
	return &cli.Command{
		Name:         "commit",
		Usage:        "make an image of a container: its image's layers and what it wrote",
		ArgsUsage:    "CONTAINER REPOSITORY[:TAG]",
		OnUsageError: usageError,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "message", Aliases: []string{"m"}, Usage: "a comment for the image's history"},
			&cli.StringFlag{Name: "author", Aliases: []string{"a"}, Usage: "the author, as \"Name <email>\""},
			&cli.BoolFlag{Name: "pause", Aliases: []string{"p"}, Value: true, Usage: "pause a running container while its layer is written"},
		},
		Action: func(ctx *cli.Context) error {
			if ctx.NArg() != 2 {
				return commandFailed(errors.New("commit needs a container and a name: mydocker commit CONTAINER REPOSITORY[:TAG]"))
			}
			bar := progressBar("writing the layer")
			img, err := container.Commit(ctx.String("root"), ctx.Args().First(), ctx.Args().Get(1), container.CommitOptions{
				Message: ctx.String("message"), Author: ctx.String("author"), NoPause: !ctx.Bool("pause"), Progress: bar,
			})
			finishBar(bar)
			if err != nil {
				return commandFailed(err)
			}
			fmt.Println(img.ID())
			return nil
		},
	}
}

func exportCommand() *cli.Command {
	return &cli.Command{
		Name:         "export",
		Usage:        "write a container's filesystem as a tar",
		ArgsUsage:    "CONTAINER",
		OnUsageError: usageError,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "the file to write (default: standard output)"},
		},
		Action: func(ctx *cli.Context) error {
			if ctx.NArg() != 1 {
				return commandFailed(errors.New("export needs one container: mydocker export [-o FILE] CONTAINER"))
			}
			out, done, err := outputFile(ctx.String("output"))
			if err != nil {
				return commandFailed(err)
			}
			bar := progressBar("exporting")
			err = container.Export(ctx.String("root"), ctx.Args().First(), out, bar)
			finishBar(bar)
			return commandFailed(done(err))
		},
	}
}

// outputFile is -o FILE, written beside its place and renamed into it once
// whole, or standard output (refused on a terminal, as Docker does).
func outputFile(path string) (io.Writer, func(error) error, error) {
	if path == "" {
		if term.IsTerminal(int(os.Stdout.Fd())) {
			return nil, nil, errors.New("refusing to write a tar to a terminal: give -o FILE, or redirect the output")
		}
		return os.Stdout, func(err error) error { return err }, nil
	}
	tmp, err := atomicfile.Create(path)
	if err != nil {
		return nil, nil, err
	}
	done := func(err error) error {
		if err != nil {
			tmp.Abort()
			return err
		}
		return tmp.Commit(false)
	}
	return tmp, done, nil
}

func saveCommand() *cli.Command {
	return &cli.Command{
		Name:         "save",
		Usage:        "write images as an OCI archive",
		ArgsUsage:    "IMAGE [IMAGE...]",
		OnUsageError: usageError,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "the file to write (default: standard output)"},
		},
		Action: func(ctx *cli.Context) error {
			if ctx.NArg() == 0 {
				return commandFailed(errors.New("save needs at least one image: mydocker save [-o FILE] IMAGE [IMAGE...]"))
			}
			out, done, err := outputFile(ctx.String("output"))
			if err != nil {
				return commandFailed(err)
			}
			bar := progressBar("saving")
			err = image.OpenStore(ctx.String("root")).Save(ctx.Args().Slice(), out, bar)
			finishBar(bar)
			return commandFailed(done(err))
		},
	}
}

func loadCommand() *cli.Command {
	return &cli.Command{
		Name:         "load",
		Usage:        "read images from an OCI archive",
		OnUsageError: usageError,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "input", Aliases: []string{"i"}, Usage: "the archive to read (default: standard input)"},
		},
		Action: func(ctx *cli.Context) error {
			var in io.Reader = os.Stdin
			if file := ctx.String("input"); file != "" {
				f, err := os.Open(file)
				if err != nil {
					return commandFailed(err)
				}
				defer f.Close()
				in = f
			}
			bar := progressBar("loading")
			if bar != nil {
				in = io.TeeReader(in, bar)
			}
			names, err := image.OpenStore(ctx.String("root")).LoadArchive(in, nil)
			finishBar(bar)
			if err != nil {
				return commandFailed(err)
			}
			for _, n := range names {
				fmt.Printf("Loaded image: %s\n", n)
			}
			return nil
		},
	}
}

func historyCommand() *cli.Command {
	return &cli.Command{
		Name:         "history",
		Usage:        "show how an image was made, newest layer first",
		ArgsUsage:    "IMAGE",
		OnUsageError: usageError,
		Action: func(ctx *cli.Context) error {
			if ctx.NArg() != 1 {
				return commandFailed(errors.New("history needs one image: mydocker history IMAGE"))
			}
			img, err := image.OpenStore(ctx.String("root")).Find(ctx.Args().First())
			if err != nil {
				return commandFailed(err)
			}
			out := tabwriter.NewWriter(os.Stdout, 10, 1, 3, ' ', 0)
			fmt.Fprintln(out, "IMAGE\tCREATED\tCREATED BY\tSIZE\tCOMMENT")
			for _, h := range historyLines(img) {
				fmt.Fprintln(out, h)
			}
			return out.Flush()
		},
	}
}

// historyLines pairs the config's history entries with the layers they
// made (an entry marked empty_layer made none), newest first.
func historyLines(img image.Image) []string {
	var lines []string
	layer := 0
	for i, h := range img.Config.History {
		size := "0B"
		if !h.EmptyLayer && layer < len(img.Manifest.Layers) {
			size = units.HumanSizeWithPrecision(float64(img.Manifest.Layers[layer].Size), 3)
			layer++
		}
		id := "<missing>"
		if i == len(img.Config.History)-1 {
			id = img.ID().Encoded()[:12]
		}
		created := "unknown"
		if h.Created != nil {
			created = units.HumanDuration(time.Since(*h.Created)) + " ago"
		}
		lines = append([]string{fmt.Sprintf("%s\t%s\t%s\t%s\t%s", id, created, ellipsis(h.CreatedBy, 45), size, h.Comment)}, lines...)
	}
	return lines
}
