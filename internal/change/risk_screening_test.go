package change_test

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/change/changetest"
	"github.com/mocpcr/mocpcr/internal/problem"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// sifQuestionnaire is a site's own questionnaire: a yes to the safety
// instrumented function question requires an instrumentation review and a
// hazard review; a yes to the envelope question a process review.
func sifQuestionnaire() change.QuestionnaireDefinition {
	none := change.ScreeningEffects{}
	return change.QuestionnaireDefinition{Questions: []change.Question{
		{Key: "sif", Text: "Does it bypass or change a safety instrumented function?", Help: "Trips, permissives, SIL-rated loops.",
			Yes: change.ScreeningEffects{Disciplines: []string{"instrumentation"}, HazardReview: true}, No: none},
		{Key: "envelope", Text: "Does it change the operating envelope?", Yes: change.ScreeningEffects{Disciplines: []string{"process"}}, No: none},
		{Key: "org", Text: "Organisational change?", Yes: change.ScreeningEffects{Disciplines: []string{"operations"}, Actions: []string{"training"}}, No: none},
	}}
}

func kindOf(t *testing.T, err error, want problem.Kind, field string) *problem.Error {
	t.Helper()
	pe := problem.As(err)
	if pe == nil || pe.Kind != want || (field != "" && pe.Field != field) {
		t.Fatalf("got %v (%#v), want a %s error on %q", err, pe, want, field)
	}
	return pe
}

func TestQuestionnaireAnswerRequiringADisciplineCannotBeBypassedAtStartReview(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := changetest.Seed(t, db, start)
		s := f.Service
		q := must(s.SaveQuestionnaire(ctx, f.Admin, f.NRF, sifQuestionnaire()))(t)
		if q.Version != 2 {
			t.Fatalf("first saved questionnaire is version %d, want 2 (version 1 is the default)", q.Version)
		}
		c := must(s.Create(ctx, f.Initiator, changetest.Complete(change.KindMOC, f.NRF, f.CDU, "P-101A")))(t)

		_, err := s.Submit(ctx, f.Initiator, c.ID, change.Screening{Answers: map[string]string{"sif": "yes", "envelope": "no"}})
		kindOf(t, err, problem.Invalid, "screening.answers.org")
		// The answers decide: disciplines claimed beside them are ignored.
		c = must(s.Submit(ctx, f.Initiator, c.ID, change.Screening{Disciplines: []string{"civil"},
			Answers: map[string]string{"sif": "yes", "envelope": "no", "org": "no"}}))(t)
		if sc := c.Screening; sc.QuestionnaireVersion != 2 || !slices.Equal(sc.Disciplines, []string{"instrumentation"}) || !sc.HazardReviewNeeded {
			t.Fatalf("screening from the answers = %+v", sc)
		}
		ok(t, s.SetApprovers(ctx, f.Coordinator, c.ID, [][]int64{{f.Approver.ID}}))
		ok(t, s.AssignReviewer(ctx, f.Coordinator, c.ID, "instrumentation", f.Reviewer.ID))
		ok(t, s.AssignReviewer(ctx, f.Coordinator, c.ID, change.DisciplineHazardReview, f.Reviewer2.ID))

		// Not confirmed: no review.
		_, err = s.Transition(ctx, f.Coordinator, c.ID, change.TransitionRequest{Action: change.ActStartReview})
		if pe := kindOf(t, err, problem.Conflict, ""); !strings.Contains(pe.Message, "not confirmed") {
			t.Errorf("start review before confirmation: %q", pe.Message)
		}
		// Dropping the answer needs a reason and a signature.
		drop := change.ScreeningConfirmation{Overrides: []change.ScreeningOverride{{Question: "sif", Answer: "no"},
			{Question: "envelope", Answer: "yes", Reason: "hotter"}}, Signature: verified}
		_, err = s.ConfirmScreening(ctx, f.Coordinator, c.ID, drop)
		kindOf(t, err, problem.Invalid, "overrides[0].reason")
		drop.Overrides[0].Reason = "the trip is not touched"
		drop.Signature = change.Signature{}
		_, err = s.ConfirmScreening(ctx, f.Coordinator, c.ID, drop)
		kindOf(t, err, problem.Reauth, "password")
		// A reviewer without the coordinator role cannot confirm.
		_, err = s.ConfirmScreening(ctx, f.Reviewer, c.ID, change.ScreeningConfirmation{Signature: verified})
		kindOf(t, err, problem.Forbidden, "")

		c = must(s.ConfirmScreening(ctx, f.Coordinator, c.ID, change.ScreeningConfirmation{Signature: verified}))(t)
		if c.Screening.ConfirmedBy != f.Coordinator.ID || c.Screening.ConfirmedAt == nil {
			t.Fatalf("confirmation not recorded: %+v", c.Screening)
		}
		d := must(s.Get(ctx, f.Coordinator, c.ID))(t)
		if r := d.Signature(change.CPScreening, 0); r == nil || r.SignerID != f.Coordinator.ID || r.Decision != change.DecisionConfirmed {
			t.Fatalf("screening signature = %+v", r)
		}
		// Assigning the hazard reviewer away leaves the review the
		// answers require without one: refused, named.
		_, err = db.SQL.ExecContext(ctx, `UPDATE change_reviews SET reviewer_id = NULL WHERE change_id = $1 AND discipline = 'hazard_review'`, c.ID)
		ok(t, err)
		_, err = s.Transition(ctx, f.Coordinator, c.ID, change.TransitionRequest{Action: change.ActStartReview})
		if pe := kindOf(t, err, problem.Invalid, "reviewer_id"); !strings.Contains(pe.Message, "hazard review") {
			t.Errorf("refusal does not name the hazard review: %q", pe.Message)
		}
		_, err = db.SQL.ExecContext(ctx, `DELETE FROM change_reviews WHERE change_id = $1 AND discipline = 'hazard_review'`, c.ID)
		ok(t, err)
		_, err = s.Transition(ctx, f.Coordinator, c.ID, change.TransitionRequest{Action: change.ActStartReview})
		kindOf(t, err, problem.Conflict, "reviewer_id")
		ok(t, s.AddReview(ctx, f.Coordinator, c.ID, change.DisciplineHazardReview, f.Reviewer2.ID))
		c = must(s.Transition(ctx, f.Coordinator, c.ID, change.TransitionRequest{Action: change.ActStartReview}))(t)
		if c.Stage != change.StageReview {
			t.Fatalf("stage %s after start review", c.Stage)
		}
	})
}

func TestCoordinatorOverrideIsRecordedAndReshapesTheReviews(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := changetest.Seed(t, db, start)
		s := f.Service
		must(s.SaveQuestionnaire(ctx, f.Admin, f.NRF, sifQuestionnaire()))(t)
		// The coordinator's own change: another coordinator must confirm.
		own := must(s.Create(ctx, f.Coordinator, changetest.Complete(change.KindMOC, f.NRF, f.CDU)))(t)
		must(s.Submit(ctx, f.Coordinator, own.ID, change.Screening{Answers: map[string]string{"sif": "no", "envelope": "yes", "org": "no"}}))(t)
		_, err := s.ConfirmScreening(ctx, f.Coordinator, own.ID, change.ScreeningConfirmation{Signature: verified})
		kindOf(t, err, problem.Forbidden, "")

		c := must(s.Create(ctx, f.Initiator, changetest.Complete(change.KindMOC, f.NRF, f.CDU)))(t)
		must(s.Submit(ctx, f.Initiator, c.ID, change.Screening{Answers: map[string]string{"sif": "yes", "envelope": "no", "org": "no"}}))(t)
		c = must(s.ConfirmScreening(ctx, f.Coordinator, c.ID, change.ScreeningConfirmation{Signature: verified,
			Overrides: []change.ScreeningOverride{
				{Question: "sif", Answer: "no", Reason: "only the alarm text changes"},
				{Question: "envelope", Answer: "yes", Reason: "the new seal allows a higher temperature"},
			}}))(t)
		sc := c.Screening
		if sc.Answers["sif"] != "no" || sc.InitiatorAnswers["sif"] != "yes" || len(sc.Overrides) != 2 || sc.Overrides[0].From != "yes" ||
			!slices.Equal(sc.Disciplines, []string{"process"}) || sc.HazardReviewNeeded {
			t.Fatalf("screening after overrides = %+v", sc)
		}
		d := must(s.Get(ctx, f.Coordinator, c.ID))(t)
		var discs []string
		for _, r := range d.Reviews {
			discs = append(discs, r.Discipline)
		}
		if !slices.Equal(discs, []string{"process"}) {
			t.Errorf("reviews after overrides = %v, want the process review only", discs)
		}
		if r := d.Signature(change.CPScreening, 0); r == nil || !strings.Contains(r.Comment, "only the alarm text changes") {
			t.Errorf("signature does not carry the override's reason: %+v", r)
		}
		trail := must(s.AuditTrail(ctx, f.Coordinator, c.ID))(t)
		if !slices.ContainsFunc(trail, func(e change.AuditEntry) bool {
			return e.Action == "screening_overridden" && e.Field == "screening.sif" && e.OldValue == "yes" && strings.HasPrefix(e.NewValue, "no: ")
		}) {
			t.Errorf("override not audited: %+v", trail)
		}
		_, err = s.ConfirmScreening(ctx, f.Coordinator, c.ID, change.ScreeningConfirmation{Signature: verified})
		kindOf(t, err, problem.Conflict, "")
	})
}

// plantManagerMatrix is the default matrix where very high needs the
// plant manager's stage, which Anke (Approver2) signs.
func plantManagerMatrix(f *changetest.Fixture) change.RiskMatrixDefinition {
	m := change.DefaultRiskMatrix()
	m.Stages = []change.ApprovalStageDef{{Name: "Plant manager", ApproverIDs: []int64{f.Approver2.ID}}}
	m.Levels[3].RequiredStages = []string{"Plant manager"}
	return m
}

func veryHigh() *change.RiskInput {
	return &change.RiskInput{Categories: map[string]change.RiskPair{
		"people": {Before: change.RiskRating{Severity: 5, Likelihood: 5}, After: change.RiskRating{Severity: 5, Likelihood: 4}},
		"asset":  {Before: change.RiskRating{Severity: 2, Likelihood: 2}, After: change.RiskRating{Severity: 1, Likelihood: 1}},
	}, Mitigations: "Second trip on high level"}
}

func TestVeryHighRiskCannotStartOrBeApprovedWithoutItsRequiredStage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := changetest.Seed(t, db, start)
		s := f.Service
		m := must(s.SaveRiskMatrix(ctx, f.Admin, f.NRF, plantManagerMatrix(f)))(t)
		fields := changetest.Complete(change.KindMOC, f.NRF, f.CDU)
		fields.RiskRanking, fields.Risk = nil, veryHigh()
		c := must(s.Create(ctx, f.Initiator, fields))(t)
		if c.RiskRanking != "very_high" || c.RiskBefore != "very_high" || c.Risk.MatrixVersion != m.Version {
			t.Fatalf("assessed change: ranking %q before %q on %+v", c.RiskRanking, c.RiskBefore, c.Risk)
		}
		must(s.Submit(ctx, f.Initiator, c.ID, change.Screening{Disciplines: []string{"mechanical"}}))(t)
		ok(t, s.AssignReviewer(ctx, f.Coordinator, c.ID, "mechanical", f.Reviewer.ID))
		ok(t, s.SetApprovers(ctx, f.Coordinator, c.ID, [][]int64{{f.Approver.ID}}))
		f.ConfirmScreening(t, c.ID)
		_, err := s.Transition(ctx, f.Coordinator, c.ID, change.TransitionRequest{Action: change.ActStartReview})
		if pe := kindOf(t, err, problem.Conflict, "approvers"); !strings.Contains(pe.Message, "Plant manager") || !strings.Contains(pe.Message, "Anke") {
			t.Errorf("refusal does not name the stage and who signs it: %q", pe.Message)
		}
		d := must(s.Get(ctx, f.Coordinator, c.ID))(t)
		if slices.Contains(d.AllowedActions, change.ActStartReview) || len(d.Blocked[change.ActStartReview]) == 0 {
			t.Errorf("start review offered (%v) or not explained (%v)", d.AllowedActions, d.Blocked)
		}
		ok(t, s.SetApprovers(ctx, f.Coordinator, c.ID, [][]int64{{f.Approver.ID}, {f.Approver2.ID}}))
		c = must(s.Transition(ctx, f.Coordinator, c.ID, change.TransitionRequest{Action: change.ActStartReview}))(t)
		if c.Stage != change.StageReview {
			t.Fatalf("stage %s", c.Stage)
		}

		// A change ranked very high without the matrix started its review
		// before the site required the stage: its approval waits for it.
		old := toStage(t, f, change.StageApproval, func(fl *change.Fields) { fl.RiskRanking = changetest.Str("high") })
		m2 := plantManagerMatrix(f)
		m2.Levels[2].RequiredStages = []string{"Plant manager"}
		must(s.SaveRiskMatrix(ctx, f.Admin, f.NRF, m2))(t)
		_, err = s.Decide(ctx, f.Approver, old.ID, change.DecisionApproved, "", verified)
		kindOf(t, err, problem.Conflict, "approvers")
	})
}

func TestNewVersionsDoNotChangeExistingChanges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := changetest.Seed(t, db, start)
		s := f.Service
		v1 := must(s.Questionnaire(ctx, f.Initiator, f.NRF, 0))(t)
		answers := map[string]string{}
		for _, q := range v1.Questions {
			answers[q.Key] = "no"
		}
		answers["mechanical"], answers["procedures"] = "yes", "yes"
		fields := changetest.Complete(change.KindMOC, f.NRF, f.CDU)
		fields.RiskRanking, fields.Risk = nil, veryHigh()
		c := must(s.Create(ctx, f.Initiator, fields))(t)
		must(s.Submit(ctx, f.Initiator, c.ID, change.Screening{Answers: answers}))(t)

		must(s.SaveQuestionnaire(ctx, f.Admin, f.NRF, sifQuestionnaire()))(t)
		low := change.DefaultRiskMatrix()
		for i := range low.Cells {
			for j := range low.Cells[i] {
				low.Cells[i][j] = "low"
			}
		}
		must(s.SaveRiskMatrix(ctx, f.Admin, f.NRF, low))(t)

		d := must(s.Get(ctx, f.Coordinator, c.ID))(t)
		sc := d.Change.Screening
		if sc.QuestionnaireVersion != 1 || d.Questionnaire.Version != 1 || !reflect.DeepEqual(sc.Answers, answers) ||
			!slices.Equal(sc.Disciplines, []string{"mechanical"}) || !sc.TrainingRequired {
			t.Fatalf("screening after a new questionnaire version = %+v (questionnaire v%d)", sc, d.Questionnaire.Version)
		}
		if d.Change.RiskRanking != "very_high" || d.Matrix.Version != 1 {
			t.Fatalf("risk after a new matrix version = %q on v%d", d.Change.RiskRanking, d.Matrix.Version)
		}
		// The confirmation works on the change's own version.
		_, err := s.ConfirmScreening(ctx, f.Coordinator, c.ID, change.ScreeningConfirmation{Signature: verified,
			Overrides: []change.ScreeningOverride{{Question: "sif", Answer: "yes", Reason: "r"}}})
		kindOf(t, err, problem.Invalid, "overrides[0].question")
		c = must(s.ConfirmScreening(ctx, f.Coordinator, c.ID, change.ScreeningConfirmation{Signature: verified,
			Overrides: []change.ScreeningOverride{{Question: "civil", Answer: "yes", Reason: "new plinth"}}}))(t)
		if !slices.Equal(c.Screening.Disciplines, []string{"civil", "mechanical"}) {
			t.Errorf("disciplines after override on version 1 = %v", c.Screening.Disciplines)
		}
		// A new change is screened and assessed on the new versions.
		n := must(s.Create(ctx, f.Initiator, fields))(t)
		if n.RiskRanking != "low" || n.Risk.MatrixVersion != 2 {
			t.Errorf("new change on the new matrix: %q v%d", n.RiskRanking, n.Risk.MatrixVersion)
		}
	})
}

func TestRiskAndQuestionnaireInputNamesTheWrongField(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := changetest.Seed(t, db, start)
		s := f.Service
		bad := change.DefaultRiskMatrix()
		bad.Cells[1][2] = "extreme"
		bad.Levels[0].Colour = "green"
		bad.Levels[3].RequiredStages = []string{"Board"}
		_, err := s.SaveRiskMatrix(ctx, f.Admin, f.NRF, bad)
		pe := kindOf(t, err, problem.Invalid, "")
		var got []string
		for _, fe := range pe.Fields {
			got = append(got, fe.Field)
		}
		for _, want := range []string{"cells[1][2]", "levels[0].colour", "levels[3].required_stages"} {
			if !slices.Contains(got, want) {
				t.Errorf("matrix refusal lacks %s: %v", want, got)
			}
		}
		_, err = s.SaveRiskMatrix(ctx, f.Coordinator, f.NRF, change.DefaultRiskMatrix())
		kindOf(t, err, problem.Forbidden, "")
		siteAdmin := &auth.User{ID: f.Admin.ID, Name: "Sam", Roles: []auth.Role{auth.RoleAdmin}, SiteIDs: []int64{f.SCP}}
		_, err = s.SaveQuestionnaire(ctx, siteAdmin, f.NRF, change.DefaultQuestionnaire())
		kindOf(t, err, problem.NotFound, "")
		stage := plantManagerMatrix(f)
		stage.Stages[0].ApproverIDs = []int64{f.Reviewer2.ID}
		_, err = s.SaveRiskMatrix(ctx, f.Admin, f.NRF, stage)
		kindOf(t, err, problem.Invalid, "stages[0].approver_ids")

		fields := changetest.Complete(change.KindMOC, f.NRF, f.CDU)
		fields.Risk = &change.RiskInput{Categories: map[string]change.RiskPair{"people": {Before: change.RiskRating{Severity: 6, Likelihood: 1}}}}
		_, err = s.Create(ctx, f.Initiator, fields)
		pe = kindOf(t, err, problem.Invalid, "")
		if !slices.ContainsFunc(pe.Fields, func(fe problem.FieldError) bool { return fe.Field == "risk.categories.people.before" }) {
			t.Errorf("assessment refusal = %+v", pe.Fields)
		}
		var n int
		ok(t, db.SQL.QueryRow(`SELECT count(*) FROM changes`).Scan(&n))
		if n != 0 {
			t.Errorf("a refused change was saved")
		}
		q := sifQuestionnaire()
		q.Questions[1].Key = "sif"
		q.Questions[2].Yes.Actions = []string{"paperwork"}
		_, err = s.SaveQuestionnaire(ctx, f.Admin, f.NRF, q)
		pe = kindOf(t, err, problem.Invalid, "")
		if len(pe.Fields) != 2 || pe.Fields[0].Field != "questions[1].key" || pe.Fields[1].Field != "questions[2].yes.actions" {
			t.Errorf("questionnaire refusal = %+v", pe.Fields)
		}
	})
}

// Screenings ticked on the checkboxes become answers to version 1, and
// rankings the four levels; version 1 is the default in Go.
func TestMigrationCarriesCheckboxScreeningAndRankingOver(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		at := time.Date(2025, 11, 3, 14, 0, 0, 0, time.UTC)
		edb := storetest.OpenEmpty(t, db.Dialect)
		id := oldPlant(t, edb, 150, at, `UPDATE changes SET risk_ranking = 'Very High', stage = 'screening', screening =
			'{"replacement_in_kind":false,"disciplines":["mechanical","process"],"psi_changes":false,"procedures_change":true,"hazard_review_needed":true,"pssr_needed":false}'
			WHERE id = {change}`)
		svc := &change.Service{DB: edb, Now: func() time.Time { return at }}
		auditor := &auth.User{Name: "Audrey", Roles: []auth.Role{auth.RoleAuditor}, AllSites: true}
		d := must(svc.Get(context.Background(), auditor, id))(t)
		sc := d.Change.Screening
		want := map[string]string{"process": "yes", "mechanical": "yes", "electrical": "no", "instrumentation": "no", "operations": "no",
			"ehs": "no", "civil": "no", "maintenance": "no", "psi": "no", "procedures": "yes", "hazard_review": "yes", "pssr": "no"}
		if sc.QuestionnaireVersion != 1 || !sc.CarriedOver || !reflect.DeepEqual(sc.Answers, want) || !sc.TrainingRequired ||
			!slices.Equal(sc.Disciplines, []string{"mechanical", "process"}) || !sc.HazardReviewNeeded {
			t.Fatalf("carried-over screening = %+v", sc)
		}
		if d.Change.RiskRanking != "very_high" || d.Change.Risk != nil {
			t.Errorf("carried-over ranking %q, assessment %+v", d.Change.RiskRanking, d.Change.Risk)
		}
		// Carried over, not asked to confirm: start review is not held for it.
		if slices.Contains(d.AllowedActions, change.ActConfirmScreening) {
			t.Errorf("a carried-over screening asks for confirmation")
		}
		q := must(svc.Questionnaire(context.Background(), auditor, d.Change.SiteID, 1))(t)
		if !reflect.DeepEqual(q.QuestionnaireDefinition, change.DefaultQuestionnaire()) {
			t.Errorf("migration's questionnaire v1 differs from change.DefaultQuestionnaire")
		}
		m := must(svc.RiskMatrix(context.Background(), auditor, d.Change.SiteID, 1))(t)
		if !reflect.DeepEqual(m.RiskMatrixDefinition, change.DefaultRiskMatrix()) {
			t.Errorf("migration's matrix v1 differs from change.DefaultRiskMatrix")
		}
	})
}

// An API client may still screen on the checkboxes, without answers; the
// initiator still does not decide alone which reviews their change gets:
// another coordinator confirms that screening, signed, before the review.
func TestCheckboxScreeningNeedsACoordinatorsSignedConfirmation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := changetest.Seed(t, db, start)
		s := f.Service
		c := must(s.Create(ctx, f.Initiator, changetest.Complete(change.KindMOC, f.NRF, f.CDU, "P-101A")))(t)
		c = must(s.Submit(ctx, f.Initiator, c.ID, change.Screening{Disciplines: []string{"mechanical"}}))(t)
		ok(t, s.AssignReviewer(ctx, f.Coordinator, c.ID, "mechanical", f.Reviewer.ID))
		ok(t, s.SetApprovers(ctx, f.Coordinator, c.ID, [][]int64{{f.Approver.ID}}))

		_, err := s.Transition(ctx, f.Coordinator, c.ID, change.TransitionRequest{Action: change.ActStartReview})
		if pe := kindOf(t, err, problem.Conflict, ""); !strings.Contains(pe.Message, "not confirmed") {
			t.Errorf("start review of an unconfirmed checkbox screening: %q", pe.Message)
		}
		d := must(s.Get(ctx, f.Coordinator, c.ID))(t)
		if !slices.Contains(d.AllowedActions, change.ActConfirmScreening) || slices.Contains(d.AllowedActions, change.ActStartReview) {
			t.Errorf("allowed actions %v: want confirm_screening, not start_review", d.AllowedActions)
		}
		// No answers, so nothing to override; unsigned is refused.
		_, err = s.ConfirmScreening(ctx, f.Coordinator, c.ID, change.ScreeningConfirmation{Signature: verified,
			Overrides: []change.ScreeningOverride{{Question: "process", Answer: "yes", Reason: "hotter"}}})
		kindOf(t, err, problem.Invalid, "overrides")
		_, err = s.ConfirmScreening(ctx, f.Coordinator, c.ID, change.ScreeningConfirmation{})
		kindOf(t, err, problem.Reauth, "password")
		_, err = s.ConfirmScreening(ctx, f.Initiator, c.ID, change.ScreeningConfirmation{Signature: verified})
		kindOf(t, err, problem.Forbidden, "")

		// The coordinator removes the mechanical review; confirming the
		// screening that asks for it brings it back.
		_, err = db.SQL.ExecContext(ctx, `DELETE FROM change_reviews WHERE change_id = $1 AND discipline = 'mechanical'`, c.ID)
		ok(t, err)
		c = must(s.ConfirmScreening(ctx, f.Coordinator, c.ID, change.ScreeningConfirmation{Comment: "as screened", Signature: verified}))(t)
		if sc := c.Screening; sc.ConfirmedBy != f.Coordinator.ID || sc.ConfirmedAt == nil || !slices.Equal(sc.Disciplines, []string{"mechanical"}) {
			t.Fatalf("confirmed checkbox screening = %+v", sc)
		}
		d = must(s.Get(ctx, f.Coordinator, c.ID))(t)
		if r := d.Signature(change.CPScreening, 0); r == nil || r.SignerID != f.Coordinator.ID || r.Comment != "as screened" {
			t.Fatalf("screening signature = %+v", r)
		}
		if !slices.ContainsFunc(d.Reviews, func(r change.Review) bool { return r.Discipline == "mechanical" }) {
			t.Fatal("the mechanical review the screening asks for did not come back on confirmation")
		}
		ok(t, s.AssignReviewer(ctx, f.Coordinator, c.ID, "mechanical", f.Reviewer.ID))
		c = must(s.Transition(ctx, f.Coordinator, c.ID, change.TransitionRequest{Action: change.ActStartReview}))(t)
		if c.Stage != change.StageReview {
			t.Fatalf("stage %s after confirmation and start review", c.Stage)
		}

		// A replacement in kind is confirmed as such, not as a screening.
		rik := must(s.Create(ctx, f.Initiator, changetest.Complete(change.KindMOC, f.NRF, f.CDU, "P-101B")))(t)
		must(s.Submit(ctx, f.Initiator, rik.ID, change.Screening{ReplacementInKind: true}))(t)
		if d := must(s.Get(ctx, f.Coordinator, rik.ID))(t); slices.Contains(d.AllowedActions, change.ActConfirmScreening) {
			t.Error("a replacement in kind is offered a screening confirmation beside its own")
		}
	})
}
