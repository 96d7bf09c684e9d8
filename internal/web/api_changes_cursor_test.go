package web_test

import (
	"net/url"
	"slices"
	"testing"

	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// The API pages by cursor: next leads through every change once, the
// first page is counted and the following ones only when asked, and a
// broken or foreign cursor is a 422 naming after.
func TestChangeAPIPagesByCursor(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f, c := newChangeAPI(t, db)
		var want []int64
		for range 5 {
			ch := c.call("initiator", "POST", "/api/v1/changes", newChangeBody("MOC", f.NRF, f.CDU), 201)["change"].(map[string]any)
			want = append(want, num(ch["id"]))
		}
		slices.Sort(want) // sort=created, ties by id: the filing order
		var got []int64
		path := "/api/v1/changes?sort=created&limit=2"
		for page := 0; ; page++ {
			p := c.call("initiator", "GET", path, nil, 200)
			if page == 0 && (p["total"] == nil || num(p["total"]) != 5 || p["total_exact"] != true) {
				t.Errorf("first page: total %v exact %v, want 5 exact", p["total"], p["total_exact"])
			}
			if page > 0 && p["total"] != nil {
				t.Errorf("page %d by cursor was counted: %v", page+1, p["total"])
			}
			for _, ch := range p["changes"].([]any) {
				got = append(got, num(ch.(map[string]any)["id"]))
			}
			next, _ := p["next"].(string)
			if next == "" {
				break
			}
			path = "/api/v1/changes?sort=created&limit=2&after=" + url.QueryEscape(next)
			if page == 0 {
				if p := c.call("initiator", "GET", path+"&count=true", nil, 200); p["total"] == nil || num(p["total"]) != 5 {
					t.Errorf("count=true on a cursor page: total %v, want 5", p["total"])
				}
				if e := c.call("initiator", "GET", "/api/v1/changes?sort=-created&after="+url.QueryEscape(next), nil, 422); e["field"] != "after" {
					t.Errorf("cursor of another sort: %v, want a 422 naming after", e)
				}
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("pages by cursor gave %v, want %v", got, want)
		}
		for _, bad := range []string{"after=garbage", "after=eyJzIjoieCJ9", "count=maybe"} {
			e := c.call("initiator", "GET", "/api/v1/changes?"+bad, nil, 422)
			if field := e["field"]; (bad == "count=maybe" && field != "count") || (bad != "count=maybe" && field != "after") {
				t.Errorf("%s: %v, want a 422 naming the parameter", bad, e)
			}
		}
	})
}
