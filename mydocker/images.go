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
	if failed {
		return silentExit(1)
	}
	return nil
}

func removeImage(store image.Store, records []container.Record, ref string, force bool) error {
	img, err := store.Find(ref)
	if err != nil {
		return err
	}
	for _, r := range records {
		if used, err := image.ParseReference(r.Image); err == nil && used == img.Name && !force {
			return fmt.Errorf("conflict: unable to remove repository reference %q (must force) - container %s is using its referenced image %s",
				ref, container.ShortID(r.ID), img.ID().Encoded()[:12])
		}
	}
	if err := store.Untag(img.Name); err != nil {
		return err
	}
	fmt.Printf("Untagged: %s\n", img.Name)
	return nil
}
