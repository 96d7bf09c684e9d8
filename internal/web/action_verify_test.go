package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// Completing an action records who, when, a note and evidence from the
// change's attachments; an action a coordinator marked for verification
// waits, still blocking startup, until a coordinator other than the
// completer verifies it.
func TestActionCompletionWithEvidenceAndVerification(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newPageFixture(t, db)
		ctx := context.Background()
		svc := f.site.web.Changes
		att, err := svc.AddAttachment(ctx, f.ini, f.pssr.ID, "torque-record.txt", []byte("bolts torqued to 120 Nm"))
		if err != nil {
			t.Fatal(err)
		}
		a, err := svc.AddAction(ctx, f.ini, f.pssr.ID, change.NewAction{Title: "Torque flange bolts", OwnerID: f.ini.ID, BeforeStartup: true})
		if err != nil {
			t.Fatal(err)
		}
		path := "/api/v1/actions/" + strconv.FormatInt(a.ID, 10)
		coordTok, iniTok := f.site.token(f.coord), f.site.token(f.ini)
		if r := bearer(t, f.site.URL, "PATCH", path, iniTok, strings.NewReader(`{"verification_required":true}`)); r.StatusCode != http.StatusForbidden {
			t.Errorf("the owner asks for verification: %d %s", r.StatusCode, r.Body)
		}
		if r := bearer(t, f.site.URL, "PATCH", path, coordTok, strings.NewReader(`{"verification_required":true}`)); r.StatusCode != http.StatusOK ||
			!strings.Contains(r.Body, `"verification_required":true`) {
			t.Fatalf("coordinator asks for verification: %d %s", r.StatusCode, r.Body)
		}
		if r := bearer(t, f.site.URL, "POST", path+"/complete", iniTok, strings.NewReader(`{"note":"done","evidence_id":999999}`)); r.StatusCode != http.StatusUnprocessableEntity ||
			!strings.Contains(r.Body, "evidence_id") {
			t.Errorf("evidence from elsewhere: %d %s", r.StatusCode, r.Body)
		}
		r := bearer(t, f.site.URL, "POST", path+"/complete", iniTok, strings.NewReader(`{"note":"torqued","evidence_id":`+strconv.FormatInt(att.ID, 10)+`}`))
		if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, `"status":"to_verify"`) || !strings.Contains(r.Body, `"evidence_id":`+strconv.FormatInt(att.ID, 10)) ||
			!strings.Contains(r.Body, `"completed_by_name":"ini"`) && !strings.Contains(r.Body, `"completed_by_name":"User ini@example.com"`) {
			t.Fatalf("complete: %d %s", r.StatusCode, r.Body)
		}
		d, err := svc.Get(ctx, f.coord, f.pssr.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(d.Blocked[change.ActAuthorizeStartup], " "); !strings.Contains(got, "“Torque flange bolts” (awaiting verification)") {
			t.Errorf("an action awaiting verification does not block startup: %q", got)
		}
		// The completer may not verify their own work, even as a coordinator.
		selfCoord := f.site.user("both@example.com", auth.RoleCoordinator)
		b, err := svc.AddAction(ctx, f.coord, f.pssr.ID, change.NewAction{Title: "Check the gasket", OwnerID: selfCoord.ID, BeforeStartup: true})
		if err != nil {
			t.Fatal(err)
		}
		yes := true
		if _, err := svc.UpdateAction(ctx, f.coord, b.ID, change.ActionUpdate{VerificationRequired: &yes}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.CompleteAction(ctx, selfCoord, b.ID, ""); err != nil {
			t.Fatal(err)
		}
		bp := "/api/v1/actions/" + strconv.FormatInt(b.ID, 10) + "/verify"
		if r := bearer(t, f.site.URL, "POST", bp, f.site.token(selfCoord), strings.NewReader(`{}`)); r.StatusCode != http.StatusForbidden ||
			!strings.Contains(r.Body, "someone other than") {
			t.Errorf("the completer verifies: %d %s", r.StatusCode, r.Body)
		}
		if r := bearer(t, f.site.URL, "POST", path+"/verify", coordTok, strings.NewReader(`{"note":"seen the record"}`)); r.StatusCode != http.StatusOK ||
			!strings.Contains(r.Body, `"status":"done"`) || !strings.Contains(r.Body, `"verified_by":`+strconv.FormatInt(f.coord.ID, 10)) {
			t.Fatalf("verify: %d %s", r.StatusCode, r.Body)
		}
		if r := bearer(t, f.site.URL, "POST", path+"/verify", coordTok, strings.NewReader(`{}`)); r.StatusCode != http.StatusConflict {
			t.Errorf("verify twice: %d %s", r.StatusCode, r.Body)
		}

		// On the page: the verify button for the other coordinator, the
		// completion's who and evidence, and a flash after verifying.
		page := f.coord2.get("/changes/" + f.pssr.Number)
		if !strings.Contains(page.Body, "torque-record.txt") || !strings.Contains(page.Body, "verified") {
			t.Errorf("the page does not show the completion and its evidence\n%s", excerpt(page.Body))
		}
		bid := strconv.FormatInt(b.ID, 10)
		if !strings.Contains(page.Body, `id="f-action-`+bid+`-verify"`) {
			t.Fatalf("no verify form for the other coordinator")
		}
		resp := f.coord2.post("/changes/"+f.pssr.Number+"/actions/"+bid+"/verify", url.Values{"csrf_token": {f.coord2.csrf()}})
		if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "done=action-verified") {
			t.Errorf("verify on the page: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
}

// The complete form offers the change's attachments as evidence.
func TestActionCompleteFormOffersAttachmentsAsEvidence(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newPageFixture(t, db)
		ctx := context.Background()
		svc := f.site.web.Changes
		att, err := svc.AddAttachment(ctx, f.ini, f.pssr.ID, "photo-note.txt", []byte("valve tagged"))
		if err != nil {
			t.Fatal(err)
		}
		a, err := svc.AddAction(ctx, f.ini, f.pssr.ID, change.NewAction{Title: "Tag the valve", OwnerID: f.ini.ID, BeforeStartup: false})
		if err != nil {
			t.Fatal(err)
		}
		id := strconv.FormatInt(a.ID, 10)
		if p := f.ini2.get("/changes/" + f.pssr.Number); !strings.Contains(p.Body, `id="action-`+id+`-evidence"`) {
			t.Fatalf("no evidence choice in the complete form\n%s", excerpt(p.Body))
		}
		r := f.ini2.post("/changes/"+f.pssr.Number+"/actions/"+id+"/complete", url.Values{"csrf_token": {f.ini2.csrf()}, "note": {"tagged"},
			"evidence_id": {strconv.FormatInt(att.ID, 10)}})
		if r.StatusCode != http.StatusSeeOther || !strings.Contains(r.Header.Get("Location"), "done=action-done") {
			t.Fatalf("complete: %d %q\n%s", r.StatusCode, r.Header.Get("Location"), excerpt(r.Body))
		}
		d, err := svc.Get(ctx, f.ini, f.pssr.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range d.Actions {
			if x.ID == a.ID && (x.Status != change.ActionDone || x.EvidenceID != att.ID || x.CompletedBy != f.ini.ID || x.CompletedAt == nil) {
				t.Errorf("completed action: %+v", x)
			}
		}
	})
}
