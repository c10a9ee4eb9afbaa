package chapters

import (
	"strings"
	"testing"
)

func TestTheListIsValid(t *testing.T) {
	list := All()
	if len(list) == 0 {
		t.Fatal("chapters.json lists no chapter")
	}
	seen := map[string]bool{}
	for i, c := range list {
		if c.Number != i+1 {
			t.Errorf("chapter %q is number %d, want %d", c.Slug, c.Number, i+1)
		}
		if seen[c.Slug] {
			t.Errorf("the slug %q appears twice", c.Slug)
		}
		seen[c.Slug] = true
	}
}

func TestParseKnowsTheThreeStatuses(t *testing.T) {
	list, err := parse([]byte(`[
		{"slug": "a", "title": "A", "status": "written"},
		{"slug": "b", "title": "B", "status": "code"},
		{"slug": "c", "title": "C", "status": "planned"}
	]`))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		status Status
		tested bool
	}{{Written, true}, {Code, true}, {Planned, false}}
	for i, c := range list {
		if c.Status != want[i].status || c.Tested() != want[i].tested {
			t.Errorf("chapter %s: status %q, tested %v; want %q, %v", c.Slug, c.Status, c.Tested(), want[i].status, want[i].tested)
		}
	}
}

func TestParseRejectsAnUnknownStatus(t *testing.T) {
	for _, status := range []string{"done", "Written", ""} {
		_, err := parse([]byte(`[{"slug": "a", "title": "A", "status": "` + status + `"}]`))
		if err == nil || !strings.Contains(err.Error(), `chapter "a" has the status "`+status+`"`) {
			t.Errorf("status %q: got error %v, want one naming the chapter and the status", status, err)
		}
	}
}
