package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// The initiator links "depends on" from the change page: both pages show
// it (the other as Required by), a bad number is named beside its field
// with the typed value kept, and Remove takes it off both.
func TestRelatedChangeLinkOnBothPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newPageFixture(t, db)
		from, to := f.screening, f.review
		ini, coord, rev := f.ini2.csrf(), f.coord2.csrf(), f.rev2.csrf()
		res := f.ini2.post("/changes/"+from.Number+"/links", url.Values{"csrf_token": {ini}, "kind": {"depends_on"}, "linked_change": {to.Number}})
		if res.StatusCode != http.StatusSeeOther || !strings.HasSuffix(res.Header.Get("Location"), "?done=linked#links") {
			t.Fatalf("link: %d %s\n%s", res.StatusCode, res.Header.Get("Location"), res.Body)
		}
		page := f.ini2.get("/changes/" + from.Number)
		if !strings.Contains(page.Body, `<span class="link-kind">Depends on</span> <a href="/changes/`+to.Number+`">`+to.Number+`</a> In review`) {
			t.Errorf("the change does not list what it depends on:\n%s", linksSection(page.Body))
		}
		other := f.coord2.get("/changes/" + to.Number)
		if !strings.Contains(other.Body, `<span class="link-kind">Required by</span> <a href="/changes/`+from.Number+`">`+from.Number+`</a>`) {
			t.Errorf("the other change does not list what requires it:\n%s", linksSection(other.Body))
		}

		bad := f.ini2.post("/changes/"+from.Number+"/links", url.Values{"csrf_token": {ini}, "kind": {"related_to"}, "linked_change": {"MOC-2099-0001"}})
		if bad.StatusCode != http.StatusUnprocessableEntity && bad.StatusCode != http.StatusBadRequest {
			t.Errorf("unknown number: %d, want a form error", bad.StatusCode)
		}
		if msg := errorBeside(bad.Body, "link-change"); !strings.Contains(msg, "no change MOC-2099-0001 that you can see") {
			t.Errorf("error beside the number %q", msg)
		}
		if !strings.Contains(bad.Body, `value="MOC-2099-0001"`) {
			t.Error("the typed number is lost after the error")
		}

		// A reviewer may read but not link.
		if strings.Contains(f.rev2.get("/changes/"+from.Number).Body, `id="f-link"`) {
			t.Error("a reviewer is offered the link form")
		}
		if r := f.rev2.post("/changes/"+from.Number+"/links", url.Values{"csrf_token": {rev}, "kind": {"related_to"}, "linked_change": {f.approval.Number}}); r.StatusCode != http.StatusForbidden {
			t.Errorf("a reviewer links: %d, want 403", r.StatusCode)
		}

		// Remove from the other change's page.
		i := strings.Index(other.Body, `/links/`)
		if i < 0 {
			t.Fatal("no Remove form")
		}
		action := other.Body[strings.LastIndex(other.Body[:i], `action="`)+len(`action="`) : i+strings.Index(other.Body[i:], `"`)]
		if r := f.coord2.post(action, url.Values{"csrf_token": {coord}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("remove %s: %d\n%s", action, r.StatusCode, r.Body)
		}
		if p := f.ini2.get("/changes/" + from.Number); strings.Contains(p.Body, `class="link-kind"`) || !strings.Contains(p.Body, "No related changes linked.") {
			t.Errorf("the link is still shown after removal:\n%s", linksSection(p.Body))
		}
	})
}

// linksSection is the page's related-changes section, for messages.
func linksSection(body string) string {
	i := strings.Index(body, `<section id="links"`)
	if i < 0 {
		return "(no related-changes section)"
	}
	j := strings.Index(body[i:], "</section>")
	if j < 0 {
		return body[i:]
	}
	return body[i : i+j]
}
