package web_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/change/changetest"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// The API states what a signature means before it is given (to_sign),
// and returns the record after: printed name, job title, meaning, and
// the time with the site's offset and zone.
func TestAPISignatureStatedBeforeAndRecordedAfter(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f, c := newChangeAPI(t, db)
		ctx := context.Background()
		if _, err := f.Service.UpdateSiteSettings(ctx, f.Admin, f.NRF, change.SiteSettingsUpdate{TimeZone: ptr("Europe/Berlin")}); err != nil {
			t.Fatal(err)
		}
		ch, err := f.Service.Create(ctx, f.Initiator, changetest.Complete(change.KindMOC, f.NRF, f.CDU))
		if err != nil {
			t.Fatal(err)
		}
		s := f.Service
		if _, err := s.Submit(ctx, f.Initiator, ch.ID, change.Screening{Disciplines: []string{"mechanical"}}); err != nil {
			t.Fatal(err)
		}
		for _, err := range []error{s.AssignReviewer(ctx, f.Coordinator, ch.ID, "mechanical", f.Reviewer.ID),
			s.SetApprovers(ctx, f.Coordinator, ch.ID, [][]int64{{f.Approver.ID}})} {
			if err != nil {
				t.Fatal(err)
			}
		}
		confirmScreening(t, s, f.Coordinator, ch.ID)
		if _, err := s.Transition(ctx, f.Coordinator, ch.ID, change.TransitionRequest{Action: change.ActStartReview}); err != nil {
			t.Fatal(err)
		}
		if err := s.DecideReview(ctx, f.Reviewer, ch.ID, "", change.DecisionReviewed, ""); err != nil {
			t.Fatal(err)
		}
		base := fmt.Sprintf("/api/v1/changes/%d", ch.ID)
		toSign := c.call("approver", "GET", base, nil, 200)["to_sign"].([]any)
		first := toSign[0].(map[string]any)
		if len(toSign) != 2 || first["meaning"] != "By signing I approve "+ch.Number+" as approver, stage 1" ||
			first["printed_name"] != "Arno" || first["job_title"] != "Operations Superintendent" {
			t.Fatalf("to_sign = %v", toSign)
		}
		if got := c.call("initiator", "GET", base, nil, 200)["to_sign"].([]any); len(got) != 0 {
			t.Errorf("the initiator is offered signatures on their own change: %v", got)
		}
		c.call("initiator", "POST", base+"/approvals", map[string]any{"decision": "approved", "password": changetest.Password}, 403)
		c.call("approver", "POST", base+"/approvals", map[string]any{"decision": "approved", "password": changetest.Password}, 200)
		sigs := c.call("auditor", "GET", base, nil, 200)["signatures"].([]any)
		if len(sigs) != 2 || sigs[0].(map[string]any)["control_point"] != "screening_confirmation" {
			t.Fatalf("signatures = %v, want the screening confirmation and the approval", sigs)
		}
		r := sigs[1].(map[string]any)
		// 8:00 UTC on 1 April 2026 is 10:00 summer time in Berlin.
		if r["control_point"] != "approval" || r["printed_name"] != "Arno" || r["job_title"] != "Operations Superintendent" ||
			r["meaning"] != "By signing I approve "+ch.Number+" as approver, stage 1" || r["time_zone"] != "Europe/Berlin" ||
			r["signed_at"] != "2026-04-01T10:00:00+02:00" || r["method"] != "password" {
			t.Errorf("signature record %v", r)
		}
	})
}

// The approval form states both meanings and the name and title the
// signature will print; the change page and print view list the record.
func TestPagesStateMeaningBeforeSigningAndShowRecord(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newPageFixture(t, db)
		title := "Operations Superintendent"
		if err := auth.UpdateUser(context.Background(), db, f.appr.ID, auth.UserUpdate{Name: f.appr.Name, Roles: f.appr.Roles,
			AllSites: f.appr.AllSites, SiteIDs: f.appr.SiteIDs, JobTitle: &title}, time.Now()); err != nil {
			t.Fatal(err)
		}
		if acc := f.ap2.get("/account").Body; !strings.Contains(acc, "<dt>Job title</dt><dd>"+title+"</dd>") {
			t.Errorf("the account page does not show the job title signatures print\n%s", excerpt(acc))
		}
		path := "/changes/" + f.approval.Number
		page := f.ap2.get(path).Body
		form := page[strings.Index(page, `id="f-decision"`):]
		form = form[:strings.Index(form, "</form>")]
		for _, want := range []string{"By signing I approve " + f.approval.Number + " as approver, stage 1",
			"By signing I reject " + f.approval.Number + " as approver, stage 1", "<strong>" + f.appr.Name + "</strong>, " + title} {
			if !strings.Contains(form, want) {
				t.Errorf("approval form lacks %q:\n%s", want, form)
			}
		}
		if strings.Contains(f.ini2.get(path).Body, `id="f-decision"`) {
			t.Error("the initiator is shown the approval form of their own change")
		}
		r := f.ap2.post(path+"/decision", url.Values{"csrf_token": {f.ap2.csrf()}, "decision": {"approved"}, "reauth_password": {testPassword}})
		if r.StatusCode != 303 {
			t.Fatalf("approve: %d\n%s", r.StatusCode, excerpt(r.Body))
		}
		for _, p := range []string{path, path + "/print"} {
			body := f.coord2.get(p).Body
			if !strings.Contains(body, `<tr class="sig-approval">`) || !strings.Contains(body, f.appr.Name+`</span>, `+title) {
				t.Errorf("%s does not list the approval signature with name and job title\n%s", p, excerpt(body))
			}
		}
	})
}

// An administrator sets a user's job title on the user form and in the
// API; a title too long is refused naming the field.
func TestAdminSetsJobTitle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		_, c := newChangeAPI(t, db)
		id := num(c.call("approver", "GET", "/api/v1/me", nil, 200)["id"])
		got := c.call("admin", "PATCH", fmt.Sprintf("/api/v1/users/%d", id), map[string]any{"job_title": "  Shift Superintendent "}, 200)
		if got["job_title"] != "Shift Superintendent" {
			t.Errorf("job title after PATCH = %v", got["job_title"])
		}
		bad := c.call("admin", "PATCH", fmt.Sprintf("/api/v1/users/%d", id), map[string]any{"job_title": strings.Repeat("x", 101)}, 422)
		if msg, _ := bad["error"].(string); !strings.HasPrefix(strings.ToLower(msg), "job_title: must be at most 100 characters") {
			t.Errorf("too long a title: %v", bad)
		}
	})
}
