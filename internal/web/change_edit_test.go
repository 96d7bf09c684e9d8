package web_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// The change form shows what it could not read (a date) and what the
// domain refused (a risk ranking, a tag) together, one round trip for
// all, through the same mechanism as the API's "errors".
func TestChangeFormShowsEveryInvalidFieldAtOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newPageFixture(t, db)
		form := url.Values{"csrf_token": {f.ini2.csrf()}, "kind": {"MOC"}, "duration": {"temporary"}, "site_id": {"1"},
			"title": {" "}, "risk_ranking": {"extreme"}, "equipment_tags": {"P-1, bad tag!"}, "expires_on": {"31/12/2030"},
			"reason": {"typed reason"}}
		r := f.ini2.post("/changes/new", form)
		if r.StatusCode != 422 {
			t.Fatalf("status %d\n%s", r.StatusCode, excerpt(r.Body))
		}
		for id, want := range map[string]string{"title": "Title is required", "risk_ranking": "must be one of",
			"equipment_tags": "is not a tag like P-101A", "expires_on": "expected a date"} {
			if got := errorBeside(r.Body, id); !strings.Contains(got, want) {
				t.Errorf("beside #%s: %q, want %q", id, got, want)
			}
			if !strings.Contains(r.Body, `href="#`+id+`"`) {
				t.Errorf("the summary does not link to #%s", id)
			}
		}
		for _, kept := range []string{"typed reason", "31/12/2030", "bad tag!"} {
			if !strings.Contains(r.Body, kept) {
				t.Errorf("input %q not shown again", kept)
			}
		}
		var n int
		if err := f.site.db.SQL.QueryRow(`SELECT COUNT(*) FROM changes WHERE risk_ranking = 'extreme'`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("a refused form saved %d changes (%v)", n, err)
		}
	})
}
