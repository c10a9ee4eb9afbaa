// Package labs lists the book's labs: for each chapter, the parts a
// student writes and the tests that grade each part. The stage generator
// checks the list against the //book:lab blocks of the source, and the
// grader reads it to group its scoreboard.
package labs

import (
	_ "embed"
	"encoding/json"
	"fmt"
)

//go:embed labs.json
var listJSON []byte

// Lab is the lab of one chapter.
type Lab struct {
	Chapter string `json:"chapter"` // the chapter's slug
	Level   string `json:"level"`   // beginner, intermediate or advanced
	Minutes string `json:"minutes"` // a time estimate, such as "45-60"
	Parts   []Part `json:"parts"`
}

// Part is one piece of the chapter's code that the lab cuts out.
type Part struct {
	Name  string   `json:"name"`  // as in //book:lab SLUG NAME
	Title string   `json:"title"` // what the student writes, in a few words
	Tests []string `json:"tests"` // tests that fail while this part is a stub
}

// Levels are the difficulty tags a lab may have.
var Levels = []string{"beginner", "intermediate", "advanced"}

// Load returns every lab, in the order of labs.json.
func Load() ([]Lab, error) {
	var list struct {
		Labs []Lab `json:"labs"`
	}
	if err := json.Unmarshal(listJSON, &list); err != nil {
		return nil, fmt.Errorf("labs/labs.json is not valid: %w", err)
	}
	return list.Labs, nil
}

// Find returns the lab of chapter slug.
func Find(slug string) (Lab, error) {
	list, err := Load()
	if err != nil {
		return Lab{}, err
	}
	for _, l := range list {
		if l.Chapter == slug {
			return l, nil
		}
	}
	return Lab{}, fmt.Errorf("chapter %q has no lab: the labs are listed in labs/labs.json", slug)
}

// Tests are the tests of every part, in order, each once.
func (l Lab) Tests() []string {
	seen := map[string]bool{}
	var tests []string
	for _, p := range l.Parts {
		for _, t := range p.Tests {
			if !seen[t] {
				seen[t] = true
				tests = append(tests, t)
			}
		}
	}
	return tests
}

// Part returns the part called name.
func (l Lab) Part(name string) (Part, bool) {
	for _, p := range l.Parts {
		if p.Name == name {
			return p, true
		}
	}
	return Part{}, false
}
