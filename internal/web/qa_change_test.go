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
	"github.com/mocpcr/mocpcr/internal/problem"
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
		if problem.KindOf(err) != problem.Invalid || !strings.HasPrefix(err.Error(), "due_on: must be today or later") {
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

// Wording on My work, the change page and the change list, as a newcomer
// read it.
func TestWorkAndChangeWording(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newPageFixture(t, db)
		ctx := context.Background()
		svc := f.site.web.Changes

		// A hazard review is not a "Hazard review review".
		hz, err := svc.Create(ctx, f.ini, completeFields(change.KindMOC, "Hazard", f.screening.SiteID))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Submit(ctx, f.ini, hz.ID, change.Screening{Disciplines: []string{"mechanical", "ehs"}, HazardReviewNeeded: true}); err != nil {
			t.Fatal(err)
		}
		for _, d := range []string{"mechanical", "ehs", change.DisciplineHazardReview} {
			if err := svc.AssignReviewer(ctx, f.coord, hz.ID, d, f.rev.ID); err != nil {
				t.Fatal(err)
			}
		}
		if err := svc.SetApprovers(ctx, f.coord, hz.ID, [][]int64{{f.appr.ID}}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Transition(ctx, f.coord, hz.ID, change.TransitionRequest{Action: change.ActStartReview}); err != nil {
			t.Fatal(err)
		}
		home := f.rev2.get("/").Body
		if strings.Contains(home, "review review") || !strings.Contains(home, ">Hazard review<") || !strings.Contains(home, ">EHS review<") {
			t.Errorf("reviewer's My work: want “Hazard review” and “EHS review”\n%s", excerpt(home))
		}
		// Someone who files no changes is not told so.
		if strings.Contains(home, "You file no changes") || strings.Contains(home, `id="mine"`) {
			t.Errorf("a reviewer's My work shows an empty “My open changes” section")
		}

		// The screening summary uses the form's labels.
		page := f.ini2.get("/changes/" + hz.Number).Body
		if !strings.Contains(page, "<li>Disciplines: EHS, Mechanical</li>") || !strings.Contains(page, "<li>Hazard review needed</li>") {
			t.Errorf("screening summary does not use the display labels\n%s", excerpt(page))
		}

		// A change just returned is not overdue on day 0; it is after the
		// reminder threshold.
		if _, err := svc.Transition(ctx, f.coord, f.screening.ID, change.TransitionRequest{Action: change.ActReturn, Comment: "Add the P&ID"}); err != nil {
			t.Fatal(err)
		}
		row := func() string {
			home := f.ini2.get("/").Body
			i := strings.Index(home, `href="/changes/`+f.screening.Number+`"`)
			if i < 0 {
				t.Fatalf("returned change not on My work\n%s", excerpt(home))
			}
			start := strings.LastIndex(home[:i], "<li")
			return home[start : i+strings.Index(home[i:], "</li>")]
		}
		if r := row(); strings.Contains(r, "Overdue") || strings.Contains(r, "is-overdue") || !strings.Contains(r, "waiting since today") {
			t.Errorf("a change returned today is shown overdue:\n%s", r)
		}
		rs, err := svc.ReminderSettings(ctx)
		if err != nil {
			t.Fatal(err)
		}
		f.site.clock.Advance(time.Duration(rs.PendingAfterDays) * 24 * time.Hour)
		f.ini2.login(f.ini.Email)
		if r := row(); !strings.Contains(r, "Overdue") {
			t.Errorf("a change returned %d days ago is not overdue:\n%s", rs.PendingAfterDays, r)
		}

		// "startup", one word, everywhere.
		if _, err := svc.AddAction(ctx, f.ini, f.pssr.ID, change.NewAction{Title: "Walk the line", OwnerID: f.ini.ID, BeforeStartup: true}); err != nil {
			t.Fatal(err)
		}
		if home := f.ini2.get("/").Body; strings.Contains(home, "start-up") || !strings.Contains(home, "before startup") {
			t.Errorf("My work does not say “before startup”")
		}

		// A page past the end of the list says so and leads back.
		list := f.ini2.get("/changes?page=999").Body
		if strings.Contains(list, "No changes yet") || !strings.Contains(list, "past the end of the list") || !strings.Contains(list, `<a href="/changes">Go to the first page</a>`) {
			t.Errorf("/changes?page=999 does not say the page is past the end\n%s", excerpt(list))
		}
	})
}
