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

// Status says whether a chapter's code and text exist yet. A chapter goes
// from planned to code to written; chapters.json may hold no other status.
type Status string

const (
	// Planned chapters are in the table of contents but have no finished
	// code yet: their stage is not tested.
	Planned Status = "planned"
	// Code chapters have their code and their root integration tests, and
	// their stage is generated and tested like a written chapter's, but
	// their text is not written yet.
	Code Status = "code"
	// Written chapters have code, tests and text; their stage is generated and tested.
	Written Status = "written"
)

// known reports whether s is one of the statuses above.
func (s Status) known() bool { return s == Planned || s == Code || s == Written }

// Chapter is one entry of the table of contents.
type Chapter struct {
	Number int    `json:"-"`
	Slug   string `json:"slug"`
	Title  string `json:"title"`
	Status Status `json:"status"`
}

// Dir is the chapter's folder under chapters/, such as "01-namespaces".
func (c Chapter) Dir() string { return fmt.Sprintf("%02d-%s", c.Number, c.Slug) }

// Tested reports whether the chapter's stage is tested (by make test, CI,
// make test-vm and make bench): its status is written or code.
func (c Chapter) Tested() bool { return c.Status == Written || c.Status == Code }

// All returns every chapter in book order, numbered from 1. It panics if
// chapters.json is not valid (see Load).
func All() []Chapter {
	list, err := Load()
	if err != nil {
		panic(err)
	}
	return list
}

// Load returns every chapter in book order, numbered from 1, or an error
// if chapters.json is not valid JSON or a chapter's status is unknown.
func Load() ([]Chapter, error) {
	list, err := parse(listJSON)
	if err != nil {
		return nil, fmt.Errorf("chapters/chapters.json is not valid: %w", err)
	}
	return list, nil
}

// parse reads a chapter list in the format of chapters.json and numbers it.
func parse(data []byte) ([]Chapter, error) {
	var list []Chapter
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, err
	}
	for i := range list {
		list[i].Number = i + 1
		if !list[i].Status.known() {
			return nil, fmt.Errorf("chapter %q has the status %q; a status is %q, %q or %q",
				list[i].Slug, list[i].Status, Planned, Code, Written)
		}
	}
	return list, nil
}

// WrittenChapters returns the chapters whose status is written (code, tests
// and text), in book order. The chapters whose stage is tested are those
// for which Tested is true.
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
