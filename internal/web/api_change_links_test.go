package web_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// Through the API, related changes are listed, linked and unlinked as on
// the change page: the other change shows the link from its side, a bad
// number is named by field, someone off the site finds no change.
func TestAPIRelatedChangeLinks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f, c := newChangeAPI(t, db)
		create := func() (string, string) {
			ch := c.call("initiator", "POST", "/api/v1/changes", newChangeBody("MOC", f.NRF, f.CDU), 201)["change"].(map[string]any)
			return jsonNum(ch["id"]), ch["number"].(string)
		}
		a, _ := create()
		b, bNumber := create()
		links := func(id string) []any {
			return c.call("initiator", "GET", "/api/v1/changes/"+id+"/links", nil, 200)["links"].([]any)
		}
		if got := links(a); len(got) != 0 {
			t.Fatalf("a new change has links %v", got)
		}
		l := c.call("initiator", "POST", "/api/v1/changes/"+a+"/links", map[string]any{"kind": "depends_on", "linked_change": bNumber}, 201)
		if l["number"] != bNumber || l["kind"] != "depends_on" {
			t.Fatalf("link = %v", l)
		}
		if got := links(b); len(got) != 1 || got[0].(map[string]any)["kind"] != "required_by" {
			t.Errorf("the other side lists %v, want one required_by", got)
		}
		if e := c.call("initiator", "POST", "/api/v1/changes/"+a+"/links", map[string]any{"kind": "related_to", "linked_change": "MOC-2099-0001"}, 422); e["field"] != "linked_change" ||
			!strings.Contains(fmt.Sprint(e["error"]), "MOC-2099-0001") {
			t.Errorf("unknown number: %v", e)
		}
		if e := c.call("initiator", "POST", "/api/v1/changes/"+a+"/links", map[string]any{"kind": "blocks", "linked_change": bNumber}, 422); e["field"] != "kind" {
			t.Errorf("unknown kind: %v", e)
		}
		c.call("outsider", "GET", "/api/v1/changes/"+a+"/links", nil, 404)
		c.call("initiator", "DELETE", fmt.Sprintf("/api/v1/changes/%s/links/%s", a, jsonNum(l["id"])), nil, 204)
		c.call("initiator", "DELETE", "/api/v1/changes/"+a+"/links/x", nil, 404)
		if got := links(b); len(got) != 0 {
			t.Errorf("after unlinking the other side still lists %v", got)
		}
	})
}
