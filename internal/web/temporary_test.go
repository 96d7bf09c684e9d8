package web_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/change/changetest"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// inService drives a temporary MOC (expiring in 30 days, no PSSR) to In
// service through the domain, as the fixture's people.
func inService(t *testing.T, f *changetest.Fixture) *change.Change {
	t.Helper()
	ctx := context.Background()
	s := f.Service
	fields := changetest.Complete(change.KindMOC, f.NRF, f.CDU, "P-101A")
	exp := f.Clock.Now().AddDate(0, 0, 30)
	pe := &exp
	fields.Duration, fields.ExpiresOn = ptr(change.DurationTemporary), &pe
	sig := change.Signature{Verified: true, Method: "password"}
	c, err := s.Create(ctx, f.Initiator, fields)
	steps := []func() error{
		func() error {
			_, err := s.Submit(ctx, f.Initiator, c.ID, change.Screening{Disciplines: []string{"mechanical"}})
			return err
		},
		func() error { return s.AssignReviewer(ctx, f.Coordinator, c.ID, "mechanical", f.Reviewer.ID) },
		func() error { return s.SetApprovers(ctx, f.Coordinator, c.ID, [][]int64{{f.Approver.ID}}) },
		func() error { confirmScreening(t, s, f.Coordinator, c.ID); return nil },
		func() error {
			_, err := s.Transition(ctx, f.Coordinator, c.ID, change.TransitionRequest{Action: change.ActStartReview})
			return err
		},
		func() error { return s.DecideReview(ctx, f.Reviewer, c.ID, "", change.DecisionReviewed, "") },
		func() error { _, err := s.Decide(ctx, f.Approver, c.ID, change.DecisionApproved, "", sig); return err },
		func() error {
			_, err := s.Transition(ctx, f.Initiator, c.ID, change.TransitionRequest{Action: change.ActCompleteImplementation})
			return err
		},
	}
	for _, step := range steps {
		if err != nil {
			break
		}
		err = step()
	}
	if err != nil {
		t.Fatal(err)
	}
	d, err := s.Get(ctx, f.Coordinator, c.ID)
	if err != nil || d.Change.Stage != change.StageInService {
		t.Fatalf("temporary change after implementation: %v %v", err, d)
	}
	return d.Change
}

// Through the API: make permanent is offered only in service, the
// initiator can neither ask nor sign, and the approvers' signed
// re-approval converts it.
func TestAPIMakePermanentNeedsTheApproversSignatures(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f, c := newChangeAPI(t, db)
		ch := inService(t, f)
		base := fmt.Sprintf("/api/v1/changes/%d", ch.ID)
		d := c.call("coordinator", "GET", base, nil, 200)
		if d["change"].(map[string]any)["stage"] != "in_service" {
			t.Fatalf("stage %v", d["change"])
		}
		ask := map[string]any{"action": "make_permanent", "comment": "proved safe"}
		c.call("initiator", "POST", base+"/transitions", ask, 403)
		c.call("coordinator", "POST", base+"/transitions", map[string]any{"action": "make_permanent"}, 422)
		got := c.call("coordinator", "POST", base+"/transitions", ask, 200)
		if got["stage"] != "approval" || got["duration"] != "temporary" {
			t.Fatalf("after asking: %v", got)
		}
		c.call("initiator", "POST", base+"/approvals", map[string]any{"decision": "approved", "password": changetest.Password}, 403)
		c.call("approver", "POST", base+"/approvals", map[string]any{"decision": "approved"}, 403)
		c.call("approver", "POST", base+"/approvals", map[string]any{"decision": "approved", "password": changetest.Password}, 200)
		d = c.call("auditor", "GET", base, nil, 200)
		if cm := d["change"].(map[string]any); cm["duration"] != "permanent" || cm["stage"] != "closeout" || cm["expires_on"] != nil {
			t.Errorf("after re-approval: %v", cm)
		}
		sigs := d["signatures"].([]any)
		last := sigs[len(sigs)-1].(map[string]any)
		if last["control_point"] != "make_permanent" || !strings.Contains(last["meaning"].(string), "making temporary change "+ch.Number+" permanent") {
			t.Errorf("last signature %v", last)
		}
	})
}

// Through the API: site limits on extensions are set per site and an
// extension past them is refused naming the limit.
func TestAPIExtensionRefusedNamingTheSiteLimit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f, c := newChangeAPI(t, db)
		settings := fmt.Sprintf("/api/v1/sites/%d/settings", f.NRF)
		if got := c.call("coordinator", "GET", settings, nil, 200); num(got["max_extensions"]) != 2 || got["time_zone"] != "UTC" {
			t.Errorf("default settings %v", got)
		}
		c.call("coordinator", "PATCH", settings, map[string]any{"max_extensions": 0}, 403)
		bad := c.call("admin", "PATCH", settings, map[string]any{"time_zone": "Mars/Olympus"}, 422)
		if bad["field"] != "time_zone" {
			t.Errorf("bad time zone: %v", bad)
		}
		c.call("admin", "PATCH", settings, map[string]any{"max_extensions": 0}, 200)
		ch := inService(t, f)
		r := c.call("initiator", "POST", fmt.Sprintf("/api/v1/changes/%d/extensions", ch.ID),
			map[string]any{"expires_on": f.Clock.Now().AddDate(0, 2, 0).Format(time.DateOnly), "reason": "parts late"}, 409)
		if msg, _ := r["error"].(string); !strings.Contains(msg, "maximum number of extensions: 0") {
			t.Errorf("refusal %v", r)
		}
	})
}

// On the pages: the In service stage with its countdown, the re-review
// choice on the make-permanent form, and the site settings form.
func TestPagesInServiceAndSiteSettings(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newPageFixture(t, db)
		ctx := context.Background()
		svc := f.site.web.Changes
		sig := change.Signature{Verified: true, Method: "password"}
		d, err := svc.Get(ctx, f.coord, f.pssr.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range d.PSSR {
			if _, err := svc.AnswerPSSR(ctx, f.coord, it.ID, change.AnswerNA, "n/a", 0); err != nil {
				t.Fatal(err)
			}
		}
		f.signOffPSSR(t)
		if _, err := svc.Transition(ctx, f.appr, f.pssr.ID, change.TransitionRequest{Action: change.ActAuthorizeStartup, Signature: sig}); err != nil {
			t.Fatal(err)
		}
		path := "/changes/" + f.pssr.Number
		page := f.coord2.get(path).Body
		for _, want := range []string{`<span class="step-label">In service</span><small class="step-note">expires in `, `id="f-t-make_permanent"`,
			`name="rereview"`, `id="f-t-revert"`} {
			if !strings.Contains(page, want) {
				t.Errorf("in-service page lacks %q\n%s", want, excerpt(page))
			}
		}
		if strings.Contains(f.ini2.get(path).Body, `id="f-t-make_permanent"`) {
			t.Error("the initiator is offered make permanent")
		}
		r := f.coord2.post(path+"/transition", url.Values{"csrf_token": {f.coord2.csrf()}, "action": {"make_permanent"},
			"comment": {"keep it"}, "rereview": {"yes"}})
		if r.StatusCode != 303 {
			t.Fatalf("make permanent with re-review: %d\n%s", r.StatusCode, excerpt(r.Body))
		}
		if d, _ := svc.Get(ctx, f.coord, f.pssr.ID); d.Change.Stage != change.StageReview || !d.Change.Converting() {
			t.Errorf("after asking with re-review: %s", d.Change.Stage)
		}

		admin := f.site.browser()
		f.site.user("admin@example.com", "admin")
		admin.login("admin@example.com")
		settings := fmt.Sprintf("/admin/sites/%d/settings", f.pssr.SiteID)
		r = admin.post(settings, url.Values{"csrf_token": {admin.csrf()}, "time_zone": {"Europe/Brln"}, "max_extensions": {"two"}, "max_temporary_days": {"90"}})
		if r.StatusCode != 422 || !strings.Contains(r.Body, "Maximum number of extensions must be a whole number") {
			t.Errorf("bad settings: %d\n%s", r.StatusCode, excerpt(r.Body))
		}
		r = admin.post(settings, url.Values{"csrf_token": {admin.csrf()}, "time_zone": {"Europe/Brln"}, "max_extensions": {"1"}, "max_temporary_days": {"90"}, "emergency_review_days": {"1"}})
		if r.StatusCode != 422 || !strings.Contains(r.Body, `id="time_zone-error"`) {
			t.Errorf("bad time zone: %d\n%s", r.StatusCode, excerpt(r.Body))
		}
		r = admin.post(settings, url.Values{"csrf_token": {admin.csrf()}, "time_zone": {"America/Chicago"}, "max_extensions": {"1"}, "max_temporary_days": {"90"},
			"emergency_review_days": {"2"}})
		if r.StatusCode != 303 {
			t.Fatalf("save settings: %d\n%s", r.StatusCode, excerpt(r.Body))
		}
		if body := admin.get(settings).Body; !strings.Contains(body, `value="America/Chicago"`) || !strings.Contains(body, `value="90"`) {
			t.Errorf("saved settings not shown\n%s", excerpt(body))
		}
	})
}
