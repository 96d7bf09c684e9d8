package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// nextCard is the "What you can do now" card of a change page.
func nextCard(body string) string {
	i := strings.Index(body, `id="next"`)
	if i < 0 {
		return ""
	}
	j := strings.Index(body[i:], "</section>")
	if j < 0 {
		return body[i:]
	}
	return body[i : i+j]
}

// An extension request asks the approvers to act: it shows on their My
// work (page and API) and in "What you can do now" on the change page.
func TestExtensionRequestWaitsForTheApprover(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newPageFixture(t, db)
		ctx := context.Background()
		svc := f.site.web.Changes
		if err := svc.RequestExtension(ctx, f.ini, f.pssr.ID, f.site.clock.Now().AddDate(0, 2, 0), "spares arrive late"); err != nil {
			t.Fatal(err)
		}
		home := f.ap2.get("/")
		if !strings.Contains(home.Body, f.pssr.Number) || !strings.Contains(home.Body, "Decide the expiry extension to") {
			t.Errorf("approver's My work does not list the extension request of %s\n%s", f.pssr.Number, excerpt(home.Body))
		}
		api := f.ap2.get("/api/v1/my-work")
		var w struct {
			Extensions []change.WorkItem `json:"extensions"`
		}
		if err := json.Unmarshal([]byte(api.Body), &w); err != nil || api.StatusCode != http.StatusOK {
			t.Fatalf("my-work API: %d %v", api.StatusCode, err)
		}
		if len(w.Extensions) != 1 || w.Extensions[0].ChangeNumber != f.pssr.Number {
			t.Errorf("my-work API extensions = %+v, want the request on %s", w.Extensions, f.pssr.Number)
		}
		next := nextCard(f.ap2.get("/changes/" + f.pssr.Number).Body)
		if !strings.Contains(next, `id="f-extdecision"`) || !strings.Contains(next, "spares arrive late") || strings.Contains(next, "Nothing is waiting for you") {
			t.Errorf("the approver's “What you can do now” does not offer the extension decision\n%s", next)
		}
		// The initiator who asked is not asked to decide.
		if home := f.ini2.get("/"); strings.Contains(home.Body, "Decide the expiry extension") {
			t.Errorf("the initiator is asked to decide their own extension")
		}
	})
}

// The PSSR record names who answered each item and when, and the startup
// authorisation signature is listed with the other signatures, on the
// change page and the print view.
func TestPSSRRecordNamesWhoAnsweredAndStartupSignature(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newPageFixture(t, db)
		ctx := context.Background()
		svc := f.site.web.Changes
		d, err := svc.Get(ctx, f.coord, f.pssr.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range d.PSSR {
			if _, err := svc.AnswerPSSR(ctx, f.coord, it.ID, change.AnswerNA, "not applicable to this change", 0); err != nil {
				t.Fatal(err)
			}
		}
		body := f.ini2.get("/changes/" + f.pssr.Number).Body
		if !strings.Contains(body, "Answered by "+f.coord.Name+", ") {
			t.Errorf("the change page does not say who answered the PSSR items\n%s", excerpt(body))
		}
		if _, err := svc.Transition(ctx, f.appr, f.pssr.ID, change.TransitionRequest{Action: change.ActAuthorizeStartup,
			Signature: change.Signature{Verified: true, Method: "password"}}); err != nil {
			t.Fatal(err)
		}
		body = f.ini2.get("/changes/" + f.pssr.Number).Body
		i := strings.Index(body, `id="approvals"`)
		if i < 0 {
			t.Fatalf("no approvals section\n%s", excerpt(body))
		}
		approvals := body[i:]
		approvals = approvals[:strings.Index(approvals, "</section>")]
		if !strings.Contains(approvals, "Startup authorised") || !strings.Contains(approvals, `<span class="signature">`+f.appr.Name+`</span>`) ||
			!strings.Contains(approvals, "password re-entered") {
			t.Errorf("the approvals table does not list the startup signature (name, meaning, method)\n%s", approvals)
		}
		print := f.ini2.get("/changes/" + f.pssr.Number + "/print").Body
		if !strings.Contains(print, "<th>Answered by</th>") || !strings.Contains(print, "<td>"+f.coord.Name+"</td>") {
			t.Errorf("the print view does not name who answered the PSSR items")
		}
		if !strings.Contains(print, `<tr class="startup-sig"><td>Startup</td><td>`+f.appr.Name+`</td><td>startup authorised`) ||
			!strings.Contains(print, "<td>password</td>") {
			t.Errorf("the print view does not list the startup signature with the approval signatures")
		}
	})
}

// The add-action form shows every field error of one submit, and
// refuses a due date in the past.
func TestAddActionShowsAllErrorsAndRefusesPastDueDate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newPageFixture(t, db)
		csrf := f.ini2.csrf()
		path := "/changes/" + f.pssr.Number + "/actions"
		r := f.ini2.post(path, url.Values{"csrf_token": {csrf}, "title": {" "}, "owner_id": {""}, "due_on": {"soon"}})
		if r.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("empty add-action: %d", r.StatusCode)
		}
		for id, want := range map[string]string{"action-title": "is required", "action-owner_id": "choose who owns", "action-due_on": "expected a date"} {
			if got := errorBeside(r.Body, id); !strings.Contains(got, want) {
				t.Errorf("empty add-action: error beside #%s = %q, want %q", id, got, want)
			}
		}
		yesterday := f.site.clock.Now().AddDate(0, 0, -1).Format(time.DateOnly)
		r = f.ini2.post(path, url.Values{"csrf_token": {csrf}, "title": {"Check the trip"}, "owner_id": {strconv.FormatInt(f.ini.ID, 10)}, "due_on": {yesterday}})
		if got := errorBeside(r.Body, "action-due_on"); r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(got, "today or later") ||
			!strings.Contains(r.Body, `value="Check the trip"`) {
			t.Errorf("action due yesterday: %d %q, want a due date error and the title kept", r.StatusCode, got)
		}
		// The domain refuses it too (the API goes straight there).
		past := f.site.clock.Now().AddDate(0, 0, -1)
		_, err := f.site.web.Changes.AddAction(context.Background(), f.ini, f.pssr.ID, change.NewAction{Title: "x", OwnerID: f.ini.ID, DueOn: &past})
		if change.ErrorCode(err) != change.EInvalid || !strings.HasPrefix(err.Error(), "due_on: must be today or later") {
			t.Errorf("AddAction due yesterday: %v", err)
		}
		today := f.site.clock.Now()
		if _, err := f.site.web.Changes.AddAction(context.Background(), f.ini, f.pssr.ID, change.NewAction{Title: "x", OwnerID: f.ini.ID, DueOn: &today}); err != nil {
			t.Errorf("AddAction due today: %v", err)
		}
	})
}

// A refused approvers form shows its error under the two stage boxes:
// the stylesheet gives the error a line of its own instead of a third
// column (the browser test measures the layout).
func TestApproversErrorSitsUnderTheStages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newPageFixture(t, db)
		id := strconv.FormatInt(f.appr.ID, 10)
		r := f.coord2.post("/changes/"+f.screening.Number+"/approvers", url.Values{"csrf_token": {f.coord2.csrf()}, "stage1": {id}, "stage2": {id}})
		if got := errorBeside(r.Body, "approvers-list"); r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(got, "one stage only") {
			t.Fatalf("same approver in both stages: %d %q", r.StatusCode, got)
		}
		i := strings.Index(r.Body, `id="approvers-list"`)
		if j := strings.Index(r.Body[i:], `id="approvers-list-error"`); j < 0 || strings.Count(r.Body[i:i+j], "</fieldset>") != 2 {
			t.Errorf("the error is not after both stage boxes")
		}
		css := f.coord2.get("/static/app.css").Body
		if !strings.Contains(css, ".approver-stages>.field-error{flex:1 0 100%") {
			t.Errorf("app.css does not make the approvers error span the stage grid")
		}
	})
}
