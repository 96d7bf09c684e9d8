package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

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
		f.signOffPSSR(t)
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
		if !strings.Contains(approvals, "Startup authorisation") || !strings.Contains(approvals, `<span class="signature">`+f.appr.Name+`</span>`) ||
			!strings.Contains(approvals, "By signing I authorise startup of "+f.pssr.Number) || !strings.Contains(approvals, "password re-entered") {
			t.Errorf("the approvals table does not list the startup signature (name, meaning, method)\n%s", approvals)
		}
		print := f.ini2.get("/changes/" + f.pssr.Number + "/print").Body
		if !strings.Contains(print, "<th>Answered by</th>") || !strings.Contains(print, "<td>"+f.coord.Name+"</td>") {
			t.Errorf("the print view does not name who answered the PSSR items")
		}
		if !strings.Contains(print, `<tr class="sig-startup">`) || !strings.Contains(print, "By signing I authorise startup of "+f.pssr.Number) ||
			!strings.Contains(print, "password re-entered") {
			t.Errorf("the print view does not list the startup signature with the approval signatures")
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
		confirmScreening(t, svc, f.coord, hz.ID)
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
