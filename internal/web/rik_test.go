package web_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/change/changetest"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// Through the API, a replacement in kind waits for someone else's
// signed confirmation: the initiator cannot close it, an approver can,
// and auditors find it with the rik filter and in the CSV.
func TestAPIReplacementInKindNeedsSomeoneElsesSignature(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f, c := newChangeAPI(t, db)
		id := num(c.call("initiator", "POST", "/api/v1/changes", newChangeBody("MOC", f.NRF, f.CDU), 201)["change"].(map[string]any)["id"])
		base := fmt.Sprintf("/api/v1/changes/%d", id)
		got := c.call("initiator", "POST", base+"/submit", map[string]any{"screening": map[string]any{"replacement_in_kind": true}}, 200)
		if got["stage"] != "rik_confirmation" || got["replacement_in_kind"] != true {
			t.Fatalf("submitted RIK: %v", got)
		}
		confirm := map[string]any{"action": "confirm_rik", "password": changetest.Password}
		c.call("initiator", "POST", base+"/transitions", confirm, 403)
		c.call("reviewer", "POST", base+"/transitions", confirm, 403)
		c.call("approver", "POST", base+"/transitions", map[string]any{"action": "confirm_rik"}, 403)
		work := c.call("approver", "GET", "/api/v1/my-work", nil, 200)["to_confirm"].([]any)
		if len(work) != 1 || num(work[0].(map[string]any)["change_id"]) != id {
			t.Errorf("approver's to_confirm: %v", work)
		}
		closed := c.call("approver", "POST", base+"/transitions", confirm, 200)
		if closed["stage"] != "closed" {
			t.Fatalf("confirmed RIK: %v", closed)
		}
		sigs := c.call("auditor", "GET", base, nil, 200)["signatures"].([]any)
		if len(sigs) != 1 || sigs[0].(map[string]any)["control_point"] != "rik_confirmation" || sigs[0].(map[string]any)["printed_name"] != "Arno" {
			t.Errorf("signatures of the confirmed RIK: %v", sigs)
		}
		list := c.call("auditor", "GET", "/api/v1/changes?rik=1", nil, 200)
		if num(list["total"]) != 1 {
			t.Errorf("rik filter: %v", list)
		}
		csv := c.call("auditor", "GET", "/api/v1/changes.csv?rik=1", nil, 200)["raw"].(string)
		if lines := strings.Split(strings.TrimSpace(csv), "\n"); len(lines) != 2 || !strings.HasSuffix(lines[0], ",replacement_in_kind,rik_confirmed_by,rik_confirmed_at") ||
			!strings.Contains(lines[1], ",yes,Arno,") {
			t.Errorf("RIK CSV:\n%s", csv)
		}
	})
}

// On the pages the claim is visibly awaiting confirmation; the confirmer
// reads the meaning and signs; the steps then say review and approval
// were not needed, not that they happened.
func TestPagesReplacementInKindConfirmation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newPageFixture(t, db)
		svc := f.site.web.Changes
		ch, err := svc.Create(t.Context(), f.ini, completeFields(change.KindMOC, "Like-for-like gasket", f.draft.SiteID))
		if err != nil {
			t.Fatal(err)
		}
		path := "/changes/" + ch.Number
		r := f.ini2.post(path+"/submit", url.Values{"csrf_token": {f.ini2.csrf()}, "replacement_in_kind": {"yes"}})
		if r.StatusCode != 303 || !strings.Contains(r.Header.Get("Location"), "done=submitted-rik") {
			t.Fatalf("submit RIK: %d %s\n%s", r.StatusCode, r.Header.Get("Location"), excerpt(r.Body))
		}
		mine := f.ini2.get(path).Body
		if !strings.Contains(mine, "Awaiting RIK confirmation") || strings.Contains(mine, `id="f-t-confirm_rik"`) {
			t.Errorf("initiator's page: want the stage shown and no confirmation form\n%s", excerpt(mine))
		}
		page := f.coord2.get(path).Body
		form := page[strings.Index(page, `id="f-t-confirm_rik"`):]
		form = form[:strings.Index(form, "</form>")]
		if !strings.Contains(form, "By signing I confirm "+ch.Number+" as a replacement in kind: same specification") {
			t.Errorf("confirmation form does not state the meaning:\n%s", form)
		}
		r = f.ini2.post(path+"/transition", url.Values{"csrf_token": {f.ini2.csrf()}, "action": {"confirm_rik"}, "reauth_password": {testPassword}})
		if r.StatusCode != 403 {
			t.Errorf("initiator confirms own RIK on the page: %d", r.StatusCode)
		}
		r = f.coord2.post(path+"/transition", url.Values{"csrf_token": {f.coord2.csrf()}, "action": {"confirm_rik"}, "reauth_password": {testPassword}})
		if r.StatusCode != 303 {
			t.Fatalf("coordinator confirms: %d\n%s", r.StatusCode, excerpt(r.Body))
		}
		body := f.coord2.get(path).Body
		stepper := body[strings.Index(body, `class="stepper"`):]
		stepper = stepper[:strings.Index(stepper, "</ol>")]
		for _, want := range []string{`step skipped`, "not needed: replacement in kind", "confirmed by " + f.coord.Name} {
			if !strings.Contains(stepper, want) {
				t.Errorf("steps of the confirmed RIK lack %q:\n%s", want, stepper)
			}
		}
	})
}
