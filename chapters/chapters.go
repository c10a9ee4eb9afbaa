// Package chapters is the book's table of contents: the one list of chapter
// slugs, numbers and titles that the stage generator, the tests, the Makefile
// and the README table all read.
package chapters

import (
	_ "embed"
	"encoding/json"
	"fmt"
)

//go:embed chapters.json
var listJSON []byte

// Status says whether a chapter's code and text exist yet.
type Status string

const (
	// Written chapters have code, tests and text; their stage is generated and tested.
	Written Status = "written"
	// Planned chapters are in the table of contents but have no code yet.
	Planned Status = "planned"
)

// Chapter is one entry of the table of contents.
type Chapter struct {
	Number int    `json:"-"`
	Slug   string `json:"slug"`
	Title  string `json:"title"`
	Status Status `json:"status"`
}

// Dir is the chapter's folder under chapters/, such as "01-namespaces".
func (c Chapter) Dir() string { return fmt.Sprintf("%02d-%s", c.Number, c.Slug) }

// All returns every chapter in book order, numbered from 1.
func All() []Chapter {
	var list []Chapter
	if err := json.Unmarshal(listJSON, &list); err != nil {
		panic(fmt.Sprintf("chapters.json is not valid: %v", err))
	}
	for i := range list {
		list[i].Number = i + 1
	}
	return list
}

// WrittenChapters returns the chapters whose stage exists, in book order.
func WrittenChapters() []Chapter {
	var out []Chapter
	for _, c := range All() {
		if c.Status == Written {
			out = append(out, c)
		}
	}
	return out
}

// Find returns the chapter with the given slug.
func Find(slug string) (Chapter, error) {
	for _, c := range All() {
		if c.Slug == slug {
			return c, nil
		}
	}
	return Chapter{}, fmt.Errorf("unknown chapter %q: the slugs are listed in chapters/chapters.json", slug)
}
