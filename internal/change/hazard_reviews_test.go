package change_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/change/changetest"
	"github.com/mocpcr/mocpcr/internal/notify"
	"github.com/mocpcr/mocpcr/internal/problem"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// hazardChange files an MOC whose screening asks for a hazard review
// and a mechanical review, with Rolf as hazard reviewer, in review.
func hazardChange(t *testing.T, f *changetest.Fixture) *change.Change {
	t.Helper()
	ctx := context.Background()
	s := f.Service
	c := must(s.Create(ctx, f.Initiator, changetest.Complete(change.KindMOC, f.NRF, f.CDU, "P-101A")))(t)
	must(s.Submit(ctx, f.Initiator, c.ID, change.Screening{Disciplines: []string{"mechanical"}, HazardReviewNeeded: true, PSSRNeeded: true}))(t)
	ok(t, s.AssignReviewer(ctx, f.Coordinator, c.ID, "mechanical", f.Reviewer.ID))
	ok(t, s.AssignReviewer(ctx, f.Coordinator, c.ID, change.DisciplineHazardReview, f.Reviewer2.ID))
	ok(t, s.SetApprovers(ctx, f.Coordinator, c.ID, [][]int64{{f.Approver.ID}}))
	f.ConfirmScreening(t, c.ID)
	return must(s.Transition(ctx, f.Coordinator, c.ID, change.TransitionRequest{Action: change.ActStartReview}))(t)
}

func day(offset int) *time.Time {
	d := time.Date(start.Year(), start.Month(), start.Day()+offset, 0, 0, 0, 0, time.UTC)
	return &d
}

// A hazard review is a record: method, date, team (people in mocpcr and
// named outsiders), summary, worksheet and recommendations, each
// recommendation an action item of its owner, told about it; the audit
// trail has the record and each action.
func TestHazardReviewRecordKeepsTeamWorksheetAndRecommendations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := changetest.Seed(t, db, start)
		s := f.Service
		c := hazardChange(t, f)
		ws := must(s.AddAttachment(ctx, f.Reviewer2, c.ID, "hazop-node4.csv", []byte("node,deviation,cause\n4,high temperature,afterburn\n")))(t)
		mark := changetest.LastNotification(t, db)
		hr := must(s.RecordHazardReview(ctx, f.Reviewer2, c.ID, change.NewHazardReview{
			Method: change.HazardHAZOP, HeldOn: day(-1), Summary: "  Node 4: high temperature in the regenerator.  ", WorksheetID: ws.ID,
			Team: []change.HazardTeamMember{{UserID: f.Reviewer2.ID}, {UserID: f.Approver.ID, Name: "ignored"}, {Name: "Hans Vogt", Organisation: "Vendor AG"}},
			Recommendations: []change.HazardRecommendation{
				{Title: "Add a second temperature transmitter", OwnerID: f.Reviewer.ID, DueOn: day(10), BeforeStartup: true},
				{Title: "Review the alarm set points after a year", OwnerID: f.Approver.ID, BeforeStartup: false},
			},
		}))(t)
		if hr.Method != change.HazardHAZOP || !hr.HeldOn.Equal(*day(-1)) || hr.Summary != "Node 4: high temperature in the regenerator." ||
			hr.WorksheetID != ws.ID || hr.RecordedName != "Rolf" || hr.Round != 1 || hr.ReviewID == 0 {
			t.Fatalf("record = %+v", hr)
		}
		want := []change.HazardTeamMember{{UserID: f.Reviewer2.ID, Name: "Rolf"}, {UserID: f.Approver.ID, Name: "Arno"}, {Name: "Hans Vogt", Organisation: "Vendor AG"}}
		if !slices.Equal(hr.Team, want) {
			t.Errorf("team = %+v, want %+v", hr.Team, want)
		}
		if len(hr.Recommendations) != 2 {
			t.Fatalf("recommendations = %+v", hr.Recommendations)
		}
		r0, r1 := hr.Recommendations[0], hr.Recommendations[1]
		if r0.Kind != change.ActionRecommendation || r0.OwnerID != f.Reviewer.ID || !r0.BeforeStartup || !r0.DueOn.Equal(*day(10)) || r0.HazardReviewID != hr.ID {
			t.Errorf("first recommendation = %+v", r0)
		}
		// No date given: the site's default (14 days), so it can go overdue.
		if r1.BeforeStartup || r1.DueOn == nil || !r1.DueOn.Equal(*day(14)) {
			t.Errorf("second recommendation = %+v", r1)
		}
		if got := changetest.Notified(t, db, notify.TypeActionAssigned, mark); !slices.Equal(got, []int64{f.Reviewer.ID, f.Approver.ID}) &&
			!slices.Equal(got, []int64{f.Approver.ID, f.Reviewer.ID}) {
			t.Errorf("notified owners = %v, want Rita and Arno", got)
		}
		trail := must(s.AuditTrail(ctx, f.Coordinator, c.ID))(t)
		var rec, added int
		for _, e := range trail {
			switch e.Action {
			case "hazard_review_recorded":
				rec++
				if !strings.Contains(e.NewValue, "HAZOP held "+day(-1).Format(time.DateOnly)) || !strings.Contains(e.NewValue, "Hans Vogt (Vendor AG)") ||
					!strings.Contains(e.NewValue, fmt.Sprintf("worksheet: attachment %d", ws.ID)) {
					t.Errorf("audit entry = %q", e.NewValue)
				}
			case "action_added":
				added++
			}
		}
		if rec != 1 || added != 2 {
			t.Errorf("audit: %d records, %d actions added", rec, added)
		}
	})
}

// The bounds and checks name the field: method, date, summary, team size
// and members, recommendations count and each one's fields, the
// worksheet, team members of other sites.
func TestHazardReviewRefusesBadInputNamingTheField(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := changetest.Seed(t, db, start)
		s := f.Service
		c := hazardChange(t, f)
		good := func() change.NewHazardReview {
			return change.NewHazardReview{Method: change.HazardWhatIf, HeldOn: day(0), Summary: "What if the clamp leaks?",
				Team: []change.HazardTeamMember{{UserID: f.Reviewer2.ID}}}
		}
		many := func(n int, m change.HazardTeamMember) []change.HazardTeamMember {
			out := make([]change.HazardTeamMember, n)
			for i := range out {
				out[i] = m
				out[i].Name = fmt.Sprintf("%s %d", m.Name, i)
			}
			return out
		}
		recs := make([]change.HazardRecommendation, change.MaxHazardRecommendations+1)
		for i := range recs {
			recs[i] = change.HazardRecommendation{Title: "x", OwnerID: f.Reviewer.ID}
		}
		cases := []struct {
			name  string
			mod   func(*change.NewHazardReview)
			field string
		}{
			{"unknown method", func(h *change.NewHazardReview) { h.Method = "fmea" }, "method"},
			{"no date", func(h *change.NewHazardReview) { h.HeldOn = nil }, "held_on"},
			{"date in the future", func(h *change.NewHazardReview) { h.HeldOn = day(1) }, "held_on"},
			{"no summary", func(h *change.NewHazardReview) { h.Summary = "  " }, "summary"},
			{"summary too long", func(h *change.NewHazardReview) { h.Summary = strings.Repeat("é", change.MaxHazardSummary+1) }, "summary"},
			{"no team", func(h *change.NewHazardReview) { h.Team = nil }, "team"},
			{"team too large", func(h *change.NewHazardReview) {
				h.Team = many(change.MaxHazardTeam+1, change.HazardTeamMember{Name: "Guest"})
			}, "team"},
			{"outsider without a name", func(h *change.NewHazardReview) {
				h.Team = append(h.Team, change.HazardTeamMember{Organisation: "Vendor"})
			}, "team[1].name"},
			{"name too long", func(h *change.NewHazardReview) {
				h.Team[0] = change.HazardTeamMember{Name: strings.Repeat("n", change.MaxHazardName+1)}
			}, "team[0].name"},
			{"member of another site", func(h *change.NewHazardReview) {
				h.Team = append(h.Team, change.HazardTeamMember{UserID: f.Outsider.ID})
			}, "team[1].user_id"},
			{"member twice", func(h *change.NewHazardReview) {
				h.Team = append(h.Team, change.HazardTeamMember{UserID: f.Reviewer2.ID})
			}, "team[1].user_id"},
			{"too many recommendations", func(h *change.NewHazardReview) { h.Recommendations = recs }, "recommendations"},
			{"recommendation without text", func(h *change.NewHazardReview) {
				h.Recommendations = []change.HazardRecommendation{{Title: " ", OwnerID: f.Reviewer.ID}}
			}, "recommendations[0].title"},
			{"recommendation without owner", func(h *change.NewHazardReview) {
				h.Recommendations = []change.HazardRecommendation{{Title: "Add a PSV"}}
			}, "recommendations[0].owner_id"},
			{"recommendation owner elsewhere", func(h *change.NewHazardReview) {
				h.Recommendations = []change.HazardRecommendation{{Title: "Add a PSV", OwnerID: f.Outsider.ID}}
			}, "recommendations[0].owner_id"},
			{"recommendation due in the past", func(h *change.NewHazardReview) {
				h.Recommendations = []change.HazardRecommendation{{Title: "Add a PSV", OwnerID: f.Reviewer.ID, DueOn: day(-1)}}
			}, "recommendations[0].due_on"},
			{"worksheet of no attachment", func(h *change.NewHazardReview) { h.WorksheetID = 999 }, "worksheet_id"},
		}
		for _, tc := range cases {
			h := good()
			tc.mod(&h)
			_, err := s.RecordHazardReview(ctx, f.Reviewer2, c.ID, h)
			if pe := problem.As(err); pe == nil || pe.Kind != problem.Invalid || pe.Field != tc.field {
				t.Errorf("%s: %v, want invalid %s", tc.name, err, tc.field)
			}
		}
		d := must(s.Get(ctx, f.Coordinator, c.ID))(t)
		if len(d.HazardReviews) != 0 || len(d.Actions) != 0 {
			t.Errorf("a refused record left %d records, %d actions", len(d.HazardReviews), len(d.Actions))
		}
		// Someone with no part in it may not record it.
		if _, err := s.RecordHazardReview(ctx, f.Reviewer, c.ID, good()); problem.KindOf(err) != problem.Forbidden {
			t.Errorf("mechanical reviewer recorded the hazard review: %v", err)
		}
	})
}

// The hazard reviewer cannot tick the hazard review done without a
// record; with one, the review goes on. A recommendation due before
// startup then blocks startup like any pre-startup action, until its
// owner completes it.
func TestHazardRecommendationBeforeStartupBlocksStartup(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := changetest.Seed(t, db, start)
		s := f.Service
		c := hazardChange(t, f)
		ok(t, s.DecideReview(ctx, f.Reviewer, c.ID, "", change.DecisionReviewed, ""))
		err := s.DecideReview(ctx, f.Reviewer2, c.ID, change.DisciplineHazardReview, change.DecisionReviewed, "HAZOP done")
		if pe := problem.As(err); pe == nil || pe.Kind != problem.Conflict || !strings.Contains(pe.Message, "Record the hazard review first") {
			t.Fatalf("hazard review ticked without a record: %v", err)
		}
		hr := must(s.RecordHazardReview(ctx, f.Reviewer2, c.ID, change.NewHazardReview{Method: change.HazardLOPA, HeldOn: day(0),
			Summary: "One IPL short for the afterburn scenario.", Team: []change.HazardTeamMember{{UserID: f.Reviewer2.ID}, {Name: "Fiona Facilitator"}},
			Recommendations: []change.HazardRecommendation{{Title: "Install the 2oo3 trip before startup", OwnerID: f.Reviewer.ID, DueOn: day(5), BeforeStartup: true}}}))(t)
		ok(t, s.DecideReview(ctx, f.Reviewer2, c.ID, change.DisciplineHazardReview, change.DecisionReviewed, "LOPA done"))
		must(s.Decide(ctx, f.Approver, c.ID, change.DecisionApproved, "", verified))(t)
		// Implementation cannot complete while the recommendation is open.
		_, err = s.Transition(ctx, f.Initiator, c.ID, change.TransitionRequest{Action: change.ActCompleteImplementation})
		if pe := problem.As(err); pe == nil || pe.Kind != problem.Conflict || !strings.Contains(pe.Message, "Install the 2oo3 trip before startup") {
			t.Fatalf("complete implementation with an open recommendation: %v", err)
		}
		d := must(s.Get(ctx, f.Coordinator, c.ID))(t)
		if open := d.Blocked[change.ActCompleteImplementation]; len(open) != 1 || !strings.Contains(open[0], "Install the 2oo3 trip") {
			t.Errorf("blocked = %v", d.Blocked)
		}
		// Recommendations come from the record, not from the action form.
		if _, err := s.AddAction(ctx, f.Coordinator, c.ID, change.NewAction{Title: "x", Kind: change.ActionRecommendation, OwnerID: f.Reviewer.ID}); problem.KindOf(err) != problem.Invalid {
			t.Errorf("recommendation added through the action form: %v", err)
		}
		rec := hr.Recommendations[0]
		must(s.CompleteAction(ctx, f.Reviewer, rec.ID, "trip installed and proof-tested"))(t)
		c = must(s.Transition(ctx, f.Initiator, c.ID, change.TransitionRequest{Action: change.ActCompleteImplementation}))(t)
		if c.Stage != change.StagePSSR {
			t.Errorf("stage = %s after the recommendation was done", c.Stage)
		}
	})
}

// Hazard reviews decided before records existed are carried over as
// records (method other, the reviewer as the team, the comment as the
// summary), so the reviewer's word is not lost and the rule holds for
// old changes too.
func TestMigrationCarriesDecidedHazardReviewsOver(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		at := time.Date(2025, 11, 3, 14, 0, 0, 0, time.UTC)
		edb := storetest.OpenEmpty(t, db.Dialect)
		id := oldPlant(t, edb, 150, at,
			`INSERT INTO change_reviews (change_id, round, discipline, reviewer_id, requested_at, decision, comment, decided_by, decided_at)
				VALUES ({change}, 1, 'hazard_review', {appr}, $1, 'reviewed', 'What-if session, no new hazards', {appr}, $1)`,
			`INSERT INTO change_reviews (change_id, round, discipline, reviewer_id, requested_at, decision, comment, decided_by, decided_at)
				VALUES ({change}, 1, 'mechanical', {appr}, $1, 'reviewed', 'fine', {appr}, $1)`)
		svc := &change.Service{DB: edb, Now: func() time.Time { return at }}
		d := must(svc.Get(context.Background(), &auth.User{Name: "Audrey", Roles: []auth.Role{auth.RoleAuditor}, AllSites: true}, id))(t)
		if len(d.HazardReviews) != 1 {
			t.Fatalf("carried over %d records, want 1 (the hazard review only)", len(d.HazardReviews))
		}
		h := d.HazardReviews[0]
		if h.Method != change.HazardOther || !h.HeldOn.Equal(time.Date(2025, 11, 3, 0, 0, 0, 0, time.UTC)) || h.Summary != "What-if session, no new hazards" ||
			h.RecordedName != "Arno" || len(h.Team) != 1 || h.Team[0].Name != "Arno" || h.ReviewID == 0 {
			t.Errorf("carried-over record = %+v", h)
		}
	})
}
