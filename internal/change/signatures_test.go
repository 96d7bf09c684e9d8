package change_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/change/changetest"
	"github.com/mocpcr/mocpcr/internal/problem"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// Every control point a normal MOC passes (approval, startup, close-out)
// leaves a signature record with the meaning the form stated, the
// signer's printed name and job title, and the time in the site's zone.
func TestSignaturesRecordMeaningNameTitleAndSiteTimeZone(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := changetest.Seed(t, db, start)
		ctx := context.Background()
		s := f.Service
		must(s.UpdateSiteSettings(ctx, f.Admin, f.NRF, change.SiteSettingsUpdate{TimeZone: ptr("America/Chicago")}))(t)
		c := toStage(t, f, change.StageApproval, nil)
		d := must(s.Get(ctx, f.Approver, c.ID))(t)
		st, found := d.Statement(change.ActApprove, change.DecisionApproved)
		wantMeaning := "By signing I approve " + c.Number + " as approver, stage 1"
		if !found || st.Meaning != wantMeaning || st.PrintedName != "Arno" || st.JobTitle != "Operations Superintendent" {
			t.Fatalf("approval form states %+v (found %v), want %q by Arno, Operations Superintendent", st, found, wantMeaning)
		}
		if rej, _ := d.Statement(change.ActApprove, change.DecisionRejected); rej.Meaning != "By signing I reject "+c.Number+" as approver, stage 1" {
			t.Errorf("rejection meaning %q", rej.Meaning)
		}
		if d := must(s.Get(ctx, f.Initiator, c.ID))(t); len(d.ToSign) != 0 {
			t.Errorf("the initiator is offered signatures on their own change: %+v", d.ToSign)
		}
		c = toStage(t, f, change.StageClosed, nil)
		d = must(s.Get(ctx, f.Auditor, c.ID))(t)
		var points []change.ControlPoint
		for _, r := range d.Signatures {
			points = append(points, r.ControlPoint)
		}
		if !slices.Equal(points, []change.ControlPoint{change.CPScreening, change.CPApproval, change.CPPSSRSignoff, change.CPStartup, change.CPCloseout}) {
			t.Fatalf("signatures of a closed MOC: %v, want screening_confirmation, approval, pssr_signoff, startup, closeout", points)
		}
		ap := d.ApprovalSignature(d.Approvals[0].ID)
		if ap == nil || ap.Meaning != "By signing I approve "+c.Number+" as approver, stage 1" || ap.Signer() != "Arno, Operations Superintendent" ||
			ap.Method != "password" || ap.TimeZone != "America/Chicago" {
			t.Fatalf("approval signature %+v", ap)
		}
		// 9:00 UTC on 2 March 2026 is 3:00 in Chicago (CST, before DST).
		if got := ap.When(); got != "2026-03-02 03:00 CST (UTC-06:00)" {
			t.Errorf("approval signed %q, want the Chicago time with zone and offset", got)
		}
		b, _ := json.Marshal(ap)
		if !strings.Contains(string(b), `"signed_at":"2026-03-02T03:00:00-06:00"`) || !strings.Contains(string(b), `"job_title":"Operations Superintendent"`) {
			t.Errorf("API signature %s: want the local time with its offset and the job title", b)
		}
		if cl := d.Signature(change.CPCloseout, 0); cl == nil || cl.PrintedName != "Cora" || cl.JobTitle != "MOC Coordinator" ||
			cl.Meaning != "By signing I close out "+c.Number+" as MOC coordinator: every action is done" {
			t.Errorf("close-out signature %+v", cl)
		}
		if su := d.Signature(change.CPStartup, 0); su == nil || !strings.HasPrefix(su.Meaning, "By signing I authorise startup of "+c.Number) {
			t.Errorf("startup signature %+v", su)
		}
		// The audit chain carries each signature's meaning, so editing a
		// stored meaning breaks the chain.
		trail := must(s.AuditTrail(ctx, f.Auditor, c.ID))(t)
		signed := 0
		for _, e := range trail {
			if e.Action == "signed" && strings.Contains(e.NewValue, "By signing I") && strings.Contains(e.NewValue, "CST") {
				signed++
			}
		}
		if signed != 5 {
			t.Errorf("audit trail has %d signature entries with meaning and zone, want 5 (screening, approval, PSSR, startup, close-out)", signed)
		}
	})
}

// A delegate's signature says whom it is for, in the meaning as well.
func TestDelegateSignatureNamesTheApprover(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := changetest.Seed(t, db, start)
		ctx := context.Background()
		s := f.Service
		c := toStage(t, f, change.StageApproval, nil)
		must(s.CreateDelegation(ctx, f.Approver, f.Approver2.ID, start, start.AddDate(0, 0, 3), "leave"))(t)
		must(s.Decide(ctx, f.Approver2, c.ID, change.DecisionApproved, "", verified))(t)
		d := must(s.Get(ctx, f.Auditor, c.ID))(t)
		r := d.ApprovalSignature(d.Approvals[0].ID)
		if r == nil || r.PrintedName != "Anke" || r.JobTitle != "Maintenance Manager" || r.OnBehalfOf != "Arno" ||
			r.Meaning != "By signing I approve "+c.Number+" as approver, stage 1, on behalf of Arno" {
			t.Fatalf("delegate signature %+v", r)
		}
	})
}

// Close-out is signed: without the signer confirming who they are it is
// refused and the change stays in Close-out.
func TestCloseoutNeedsSignature(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := changetest.Seed(t, db, start)
		ctx := context.Background()
		c := toStage(t, f, change.StageCloseout, nil)
		_, err := f.Service.Transition(ctx, f.Coordinator, c.ID, change.TransitionRequest{Action: change.ActClose})
		if problem.KindOf(err) != problem.Reauth {
			t.Fatalf("unsigned close-out: %v, want reauth_required", err)
		}
		if d := must(f.Service.Get(ctx, f.Coordinator, c.ID))(t); d.Change.Stage != change.StageCloseout || len(d.Signatures) != 4 {
			t.Errorf("after refused close-out: stage %s, %d signatures", d.Change.Stage, len(d.Signatures))
		}
	})
}

// A site's time zone must be a real IANA zone, and only an admin sets it.
func TestSiteTimeZoneValidated(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := changetest.Seed(t, db, start)
		ctx := context.Background()
		s := f.Service
		for _, tz := range []string{"", "Europe/Brln", "Local"} {
			_, err := s.UpdateSiteSettings(ctx, f.Admin, f.NRF, change.SiteSettingsUpdate{TimeZone: ptr(tz)})
			var de *problem.Error
			if !errors.As(err, &de) || de.Field != "time_zone" || !strings.HasPrefix(de.Message, "time_zone: ") {
				t.Errorf("time zone %q: %v, want an invalid time_zone", tz, err)
			}
		}
		if _, err := s.UpdateSiteSettings(ctx, f.Coordinator, f.NRF, change.SiteSettingsUpdate{TimeZone: ptr("UTC")}); problem.KindOf(err) != problem.Forbidden {
			t.Errorf("coordinator sets site settings: %v", err)
		}
		got := must(s.SiteSettings(ctx, f.Coordinator, f.SCP))(t)
		if got.TimeZone != "UTC" {
			t.Errorf("default time zone %q", got.TimeZone)
		}
		if _, err := s.SiteSettings(ctx, f.Initiator, f.SCP); problem.KindOf(err) != problem.NotFound {
			t.Errorf("settings of another site: %v", err)
		}
	})
}

func ptr[T any](v T) *T { return &v }
