package web_test

import (
	"strings"
	"testing"

	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// The API takes a change's number wherever it takes its id, as the
// pages' addresses do (/changes/MOC-2026-0001).
func TestChangeAPIAcceptsChangeNumbers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f, c := newChangeAPI(t, db)
		ch := c.call("initiator", "POST", "/api/v1/changes", newChangeBody("MOC", f.NRF, f.CDU), 201)["change"].(map[string]any)
		id, number := jsonNum(ch["id"]), ch["number"].(string)
		for _, ref := range []string{id, number, strings.ToLower(number)} {
			got := c.call("initiator", "GET", "/api/v1/changes/"+ref, nil, 200)["change"].(map[string]any)
			if got["number"] != number {
				t.Fatalf("GET /changes/%s: %v", ref, got["number"])
			}
		}
		c.call("initiator", "PATCH", "/api/v1/changes/"+number, map[string]any{"title": "Renamed by number"}, 200)
		if got := c.call("initiator", "GET", "/api/v1/changes/"+id, nil, 200)["change"].(map[string]any); got["title"] != "Renamed by number" {
			t.Fatalf("PATCH by number did not apply: %v", got["title"])
		}
		c.call("auditor", "GET", "/api/v1/changes/"+number+"/audit", nil, 200)
		c.call("initiator", "GET", "/api/v1/changes/"+number+"/attachments", nil, 200)
		c.upload("initiator", "/api/v1/changes/"+number+"/attachments", "notes.txt", []byte("hello"))
		c.call("initiator", "POST", "/api/v1/changes/"+number+"/submit",
			map[string]any{"screening": map[string]any{"disciplines": []string{"mechanical"}}}, 200)

		for _, tc := range []struct{ who, ref, want string }{
			{"initiator", "MOC-2026-9999", "change MOC-2026-9999 not found"},
			{"outsider", number, "change " + number + " not found"}, // another site's change stays hidden
			{"outsider", id, "change " + id + " not found"},
			{"initiator", "nonsense", "neither a change id"},
			{"initiator", "0", "neither a change id"},
		} {
			e := c.call(tc.who, "GET", "/api/v1/changes/"+tc.ref, nil, 404)
			if e["code"] != "not_found" || !strings.Contains(e["error"].(string), tc.want) {
				t.Errorf("%s GET %s: %v, want %q", tc.who, tc.ref, e, tc.want)
			}
		}
	})
}
