package change

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/notify"
	"github.com/mocpcr/mocpcr/internal/problem"
	"github.com/mocpcr/mocpcr/internal/store"
)

// Screening is a questionnaire each site's admin defines and versions:
// yes/no questions whose answers require discipline reviews, a hazard
// review, a PSSR and actions. The initiator answers at submit; an MOC
// coordinator other than the initiator confirms the answers, or
// overrides some with a reason, signed, before the review can start.
// A change keeps the version it was answered on: a new version changes
// the changes screened after it only.

// Bounds of a questionnaire and of a confirmation.
const (
	MaxQuestions          = 60
	MaxQuestionText       = 300
	MaxQuestionHelp       = 1000
	MaxOverrideReason     = 1000
	MaxScreeningComment   = 2000
	maxQuestionKeyLength  = 40
	screeningAnswersField = "screening.answers"
)

// The actions an answer can require.
const (
	RequiredPSI       = "psi"
	RequiredProcedure = "procedure"
	// RequiredTraining holds startup (or completion) until the people on
	// the training and acknowledgement roster have signed, and an empty
	// roster holds it too.
	RequiredTraining = "training"
)

// questionKeyPattern is what a question's key looks like: answers are
// keyed by it, in the API and in every change screened on the version.
var questionKeyPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// RequiredActions lists them in form order.
var RequiredActions = []string{RequiredPSI, RequiredProcedure, RequiredTraining}

// Questionnaire is one version of a site's screening questionnaire.
type Questionnaire struct {
	ID        int64     `json:"id"`
	SiteID    int64     `json:"site_id"`
	Version   int       `json:"version"`
	CreatedBy string    `json:"created_by,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	QuestionnaireDefinition
}

// QuestionnaireDefinition is what an admin edits.
type QuestionnaireDefinition struct {
	Questions []Question `json:"questions"`
}

// Question is one yes/no question and what each answer requires.
type Question struct {
	Key  string           `json:"key"`
	Text string           `json:"text"`
	Help string           `json:"help,omitempty"`
	Yes  ScreeningEffects `json:"yes"`
	No   ScreeningEffects `json:"no"`
}

// ScreeningEffects is what one answer requires.
type ScreeningEffects struct {
	Disciplines  []string `json:"disciplines"`
	HazardReview bool     `json:"hazard_review"`
	PSSR         bool     `json:"pssr"`
	// Actions are some of RequiredActions.
	Actions []string `json:"actions"`
}

// Effects is what answer (yes or no) to q requires.
func (q Question) Effects(answer string) ScreeningEffects {
	if answer == AnswerYes {
		return q.Yes
	}
	return q.No
}

// PSSROnly reports whether the question's only use is asking for a PSSR
// (a PCR's form leaves it out).
func (q Question) PSSROnly() bool {
	y := q.Yes
	return y.PSSR && len(y.Disciplines) == 0 && !y.HazardReview && len(y.Actions) == 0 && q.No.Empty()
}

// Empty reports whether the answer requires nothing.
func (e ScreeningEffects) Empty() bool {
	return len(e.Disciplines) == 0 && !e.HazardReview && !e.PSSR && len(e.Actions) == 0
}

// Summary says what the answer requires, for people.
func (e ScreeningEffects) Summary() string {
	var out []string
	for _, d := range e.Disciplines {
		out = append(out, DisciplineLabel(d)+" review")
	}
	if e.HazardReview {
		out = append(out, "hazard review")
	}
	if e.PSSR {
		out = append(out, "PSSR")
	}
	for _, a := range e.Actions {
		out = append(out, map[string]string{RequiredPSI: "PSI update", RequiredProcedure: "procedure update", RequiredTraining: "training"}[a])
	}
	if len(out) == 0 {
		return "nothing"
	}
	return strings.Join(out, ", ")
}

// DisciplineLabel names a discipline for people.
func DisciplineLabel(d string) string {
	switch d {
	case "ehs":
		return "EHS"
	case DisciplineHazardReview:
		return "hazard"
	}
	return strings.ToUpper(d[:1]) + d[1:]
}

// Question is the question keyed key, or nil.
func (q *QuestionnaireDefinition) Question(key string) *Question {
	for i := range q.Questions {
		if q.Questions[i].Key == key {
			return &q.Questions[i]
		}
	}
	return nil
}

// DefaultQuestionnaire is version 1 of every site's questionnaire: the
// twelve checkboxes screening had before questionnaires, one question
// each, with the same effects, so changes screened on them carry over
// (migration 00161 writes it, and their answers). It is frozen.
func DefaultQuestionnaire() QuestionnaireDefinition {
	q := func(key, text, help string, yes ScreeningEffects) Question {
		if yes.Disciplines == nil {
			yes.Disciplines = []string{}
		}
		if yes.Actions == nil {
			yes.Actions = []string{}
		}
		return Question{Key: key, Text: text, Help: help, Yes: yes, No: ScreeningEffects{Disciplines: []string{}, Actions: []string{}}}
	}
	disc := func(d string) ScreeningEffects { return ScreeningEffects{Disciplines: []string{d}} }
	return QuestionnaireDefinition{Questions: []Question{
		q("process", "Does the change affect the process (chemistry, conditions, flows, the operating envelope)?", "Adds a process review.", disc("process")),
		q("mechanical", "Does it affect mechanical equipment or piping?", "Adds a mechanical review.", disc("mechanical")),
		q("electrical", "Does it affect electrical equipment or power supply?", "Adds an electrical review.", disc("electrical")),
		q("instrumentation", "Does it affect instruments, controls, alarms or interlocks?", "Adds an instrumentation review.", disc("instrumentation")),
		q("operations", "Does it change how the unit is operated?", "Adds an operations review.", disc("operations")),
		q("ehs", "Does it affect environment, health or safety (emissions, exposure, permits)?", "Adds an EHS review.", disc("ehs")),
		q("civil", "Does it affect structures, foundations or civil works?", "Adds a civil review.", disc("civil")),
		q("maintenance", "Does it affect maintenance (practices, spares, inspection)?", "Adds a maintenance review.", disc("maintenance")),
		q("psi", "Does process safety information change (P&IDs, data sheets, relief design)?", "Adds a required action to update it.",
			ScreeningEffects{Actions: []string{RequiredPSI}}),
		q("procedures", "Do operating procedures change?", "Adds a required action to update them, and the operators' training before startup.",
			ScreeningEffects{Actions: []string{RequiredProcedure, RequiredTraining}}),
		q("hazard_review", "Is a hazard review (PHA, HAZOP or what-if) needed?", "Adds a hazard review.", ScreeningEffects{HazardReview: true}),
		q("pssr", "Is a pre-startup safety review (PSSR) needed?", "MOC only: a PCR starts nothing up.", ScreeningEffects{PSSR: true}),
	}}
}

// validate checks a definition, every problem by field (questions[3].text).
func (q *QuestionnaireDefinition) validate() error {
	var p problem.List
	if len(q.Questions) == 0 || len(q.Questions) > MaxQuestions {
		p.Invalid("questions", "must have 1 to %d questions, got %d", MaxQuestions, len(q.Questions))
	}
	keys := map[string]bool{}
	for i := range q.Questions {
		qu := &q.Questions[i]
		f := fmt.Sprintf("questions[%d]", i)
		qu.Text, qu.Help = strings.TrimSpace(qu.Text), strings.TrimSpace(qu.Help)
		switch n := utf8.RuneCountInString(qu.Text); {
		case n == 0:
			p.Invalid(f+".text", "is required")
		case n > MaxQuestionText:
			p.Invalid(f+".text", "must be at most %d characters", MaxQuestionText)
		}
		if utf8.RuneCountInString(qu.Help) > MaxQuestionHelp {
			p.Invalid(f+".help", "must be at most %d characters", MaxQuestionHelp)
		}
		qu.Key = strings.ToLower(strings.TrimSpace(qu.Key))
		if qu.Key == "" {
			qu.Key = strings.Trim(nonKeyRunes.ReplaceAllString(strings.ToLower(qu.Text), "_"), "_")
			if qu.Key == "" || qu.Key[0] < 'a' || qu.Key[0] > 'z' {
				qu.Key = "q_" + qu.Key
			}
			if len(qu.Key) > maxQuestionKeyLength {
				qu.Key = strings.Trim(qu.Key[:maxQuestionKeyLength], "_")
			}
			for base, n := qu.Key, 2; keys[qu.Key]; n++ {
				qu.Key = fmt.Sprintf("%s_%d", base, n)
			}
		}
		if !questionKeyPattern.MatchString(qu.Key) {
			p.Invalid(f+".key", "%q is not a key (lower-case letters, digits and _, starting with a letter, at most %d)", qu.Key, maxQuestionKeyLength)
		} else if keys[qu.Key] {
			p.Invalid(f+".key", "%q is used by two questions", qu.Key)
		}
		keys[qu.Key] = true
		for _, side := range []struct {
			name string
			e    *ScreeningEffects
		}{{"yes", &qu.Yes}, {"no", &qu.No}} {
			e := side.e
			for j, d := range e.Disciplines {
				e.Disciplines[j] = strings.ToLower(strings.TrimSpace(d))
				if !slices.Contains(Disciplines, e.Disciplines[j]) {
					p.Invalid(f+"."+side.name+".disciplines", "%q is not a discipline: expected some of %s", d, strings.Join(Disciplines, ", "))
				}
			}
			for j, a := range e.Actions {
				e.Actions[j] = strings.ToLower(strings.TrimSpace(a))
				if !slices.Contains(RequiredActions, e.Actions[j]) {
					p.Invalid(f+"."+side.name+".actions", "%q is not a required action: expected some of %s", a, strings.Join(RequiredActions, ", "))
				}
			}
			e.Disciplines = sortedSet(e.Disciplines)
			e.Actions = sortedSet(e.Actions)
		}
	}
	return p.Err()
}

func sortedSet(in []string) []string {
	out := slices.Clone(in)
	if out == nil {
		out = []string{}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// outcome is the screening the answers require (answers complete).
func (q *QuestionnaireDefinition) outcome(answers map[string]string) Screening {
	sc := Screening{Disciplines: []string{}}
	for _, qu := range q.Questions {
		e := qu.Effects(answers[qu.Key])
		sc.Disciplines = append(sc.Disciplines, e.Disciplines...)
		sc.HazardReviewNeeded = sc.HazardReviewNeeded || e.HazardReview
		sc.PSSRNeeded = sc.PSSRNeeded || e.PSSR
		sc.PSIChanges = sc.PSIChanges || slices.Contains(e.Actions, RequiredPSI)
		sc.ProceduresChange = sc.ProceduresChange || slices.Contains(e.Actions, RequiredProcedure)
		sc.TrainingRequired = sc.TrainingRequired || slices.Contains(e.Actions, RequiredTraining)
	}
	sc.Disciplines = sortedSet(sc.Disciplines)
	return sc
}

// checkAnswers normalises answers and refuses a missing, unknown or
// malformed one, naming the question (screening.answers.pssr).
func (q *QuestionnaireDefinition) checkAnswers(kind Kind, in map[string]string) (map[string]string, error) {
	var p problem.List
	out := map[string]string{}
	for key := range in {
		if q.Question(key) == nil {
			p.Invalid(screeningAnswersField+"."+key, "%q is not a question of this site's questionnaire", key)
		}
	}
	for _, qu := range q.Questions {
		a := strings.ToLower(strings.TrimSpace(in[qu.Key]))
		switch a {
		case AnswerYes, AnswerNo:
			out[qu.Key] = a
		case "":
			if kind == KindPCR && qu.PSSROnly() {
				// Not asked on a PCR's form: it never has a PSSR.
				out[qu.Key] = AnswerNo
				continue
			}
			p.Invalid(screeningAnswersField+"."+qu.Key, "answer yes or no: %s", qu.Text)
		default:
			p.Invalid(screeningAnswersField+"."+qu.Key, "must be yes or no, got %q (%s)", a, qu.Text)
		}
		if kind == KindPCR && qu.Effects(a).PSSR && (a == AnswerYes || a == AnswerNo) {
			p.Invalid(screeningAnswersField+"."+qu.Key, "this answer requires a PSSR, and a PCR never has one: file an MOC for hardware changes (%s)", qu.Text)
		}
	}
	return out, p.Err()
}

const questionnaireSelect = `SELECT q.id, q.site_id, q.version, q.definition, COALESCE(u.name, ''), q.created_at
	FROM screening_questionnaires q LEFT JOIN users u ON u.id = q.created_by`

func scanQuestionnaire(row scanner) (*Questionnaire, error) {
	q := &Questionnaire{}
	var def string
	if err := row.Scan(&q.ID, &q.SiteID, &q.Version, &def, &q.CreatedBy, &q.CreatedAt); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(def), &q.QuestionnaireDefinition); err != nil {
		return nil, fmt.Errorf("questionnaire %d: %w", q.ID, err)
	}
	q.CreatedAt = q.CreatedAt.UTC()
	return q, nil
}

func questionnaireByID(ctx context.Context, q store.Querier, id int64) (*Questionnaire, error) {
	qn, err := scanQuestionnaire(q.QueryRowContext(ctx, questionnaireSelect+` WHERE q.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("questionnaire %d not found", id)
	}
	return qn, err
}

// currentQuestionnaire is a site's newest version; a site made after
// migration 00161 gets the default as version 1 when first needed.
func currentQuestionnaire(ctx context.Context, q store.Querier, siteID int64, now time.Time) (*Questionnaire, error) {
	const newest = questionnaireSelect + ` WHERE q.site_id = $1 ORDER BY q.version DESC LIMIT 1`
	qn, err := scanQuestionnaire(q.QueryRowContext(ctx, newest, siteID))
	if err == nil || !errors.Is(err, sql.ErrNoRows) {
		return qn, err
	}
	def, _ := json.Marshal(DefaultQuestionnaire())
	if _, err := q.ExecContext(ctx, `INSERT INTO screening_questionnaires (site_id, version, definition, created_at) VALUES ($1, 1, $2, $3)
		ON CONFLICT (site_id, version) DO NOTHING`, siteID, string(def), now); err != nil {
		return nil, fmt.Errorf("site %d default questionnaire: %w", siteID, err)
	}
	return scanQuestionnaire(q.QueryRowContext(ctx, newest, siteID))
}

// Questionnaire returns a site's current questionnaire (version 0) or
// the given version, to anyone who works on the site.
func (s *Service) Questionnaire(ctx context.Context, actor *auth.User, siteID int64, version int) (*Questionnaire, error) {
	if err := s.siteVisible(ctx, actor, siteID); err != nil {
		return nil, err
	}
	if version == 0 {
		return currentQuestionnaire(ctx, s.DB.SQL, siteID, s.now())
	}
	qn, err := scanQuestionnaire(s.DB.SQL.QueryRowContext(ctx, questionnaireSelect+` WHERE q.site_id = $1 AND q.version = $2`, siteID, version))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("site %d has no questionnaire version %d", siteID, version)
	}
	return qn, err
}

// changeQuestionnaire is the version the change was screened on, or for
// one to be (re)submitted or not screened on a questionnaire, its site's
// current version: a submission answers the current one.
func (s *Service) changeQuestionnaire(ctx context.Context, q store.Querier, c *Change) (*Questionnaire, error) {
	if c.Screening != nil && c.Screening.QuestionnaireID != 0 && !in(c.Stage, StageDraft, StageReturned) {
		return questionnaireByID(ctx, q, c.Screening.QuestionnaireID)
	}
	return currentQuestionnaire(ctx, q, c.SiteID, s.now())
}

// SaveQuestionnaire writes def as the site's next questionnaire version
// (admin of the site). Changes screened before keep their version.
func (s *Service) SaveQuestionnaire(ctx context.Context, actor *auth.User, siteID int64, def QuestionnaireDefinition) (*Questionnaire, error) {
	if err := s.siteManaged(ctx, actor, siteID, "screening questionnaire"); err != nil {
		return nil, err
	}
	if err := def.validate(); err != nil {
		return nil, err
	}
	id, err := saveVersion(ctx, s, actor, siteID, "questionnaire", "screening_questionnaires", def, nil, currentQuestionnaire)
	if err != nil {
		return nil, err
	}
	return questionnaireByID(ctx, s.DB.SQL, id)
}

// versioned is a site's versioned definition (risk matrix, screening
// questionnaire) as read back.
type versioned interface{ versionNumber() int }

func (q *Questionnaire) versionNumber() int { return q.Version }
func (m *RiskMatrix) versionNumber() int    { return m.Version }

// saveVersion writes def as the next version of a site's versioned
// definition in table (risk_matrices, screening_questionnaires), after
// check (if any) inside the transaction; current reads the version now
// current (making the default version 1 for a site that has none). Two
// saves at the same moment: the second is a conflict, to reload and save
// again. It returns the new row's id.
func saveVersion[T versioned](ctx context.Context, s *Service, actor *auth.User, siteID int64, what, table string, def any,
	check func(tx *sql.Tx) error, current func(context.Context, store.Querier, int64, time.Time) (T, error)) (int64, error) {
	var id int64
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		if check != nil {
			if err := check(tx); err != nil {
				return err
			}
		}
		cur, err := current(ctx, tx, siteID, s.now())
		if err != nil {
			return err
		}
		b, _ := json.Marshal(def)
		return tx.QueryRowContext(ctx, `INSERT INTO `+table+` (site_id, version, definition, created_by, created_at)
			VALUES ($1, $2, $3, $4, $5) RETURNING id`, siteID, cur.versionNumber()+1, string(b), actor.ID, s.now()).Scan(&id)
	})
	if store.IsUniqueViolation(err) {
		return 0, conflict("someone saved the %s of site %d at the same moment: reload it and save again", what, siteID)
	}
	return id, err
}

// ScreeningOverride is a coordinator's change of one answer, with why.
type ScreeningOverride struct {
	Question string `json:"question"`
	Answer   string `json:"answer"`
	Reason   string `json:"reason"`
	// From is the answer overridden (set by the service).
	From string `json:"from,omitempty"`
}

// ScreeningConfirmation is the coordinator's signed confirmation of a
// change's screening, with the answers they override.
type ScreeningConfirmation struct {
	Overrides []ScreeningOverride `json:"overrides"`
	Comment   string              `json:"comment"`
	Signature Signature           `json:"-"`
}

// screeningToConfirm reports whether the change's screening needs a
// coordinator's confirmation: every screening the initiator gave does,
// on the questionnaire or on the checkboxes API clients may still send,
// or the initiator alone would decide which reviews their change gets.
// Screenings carried over from before questionnaires (migration 00161)
// were never asked for one, and a replacement in kind submitted without
// answers has its own confirmation (ConfirmRIK).
func (c *Change) screeningToConfirm() bool {
	sc := c.Screening
	return sc != nil && !sc.CarriedOver && (sc.QuestionnaireID != 0 || !sc.ReplacementInKind)
}

// requireScreeningConfirmed refuses while the answers wait for the
// coordinator's confirmation.
func (d *Detail) requireScreeningConfirmed() *problem.Error {
	c := d.Change
	if !c.screeningToConfirm() || c.Screening.ConfirmedAt != nil {
		return nil
	}
	return &problem.Error{Kind: problem.Conflict, Field: "screening", Message: "The screening of " + c.Number +
		" is not confirmed yet: an MOC coordinator other than the initiator confirms it (and may override answers, with a reason), signed, before the review starts."}
}

// requireScreenedReviews refuses while a review the screening requires
// is missing from the round, naming each: no way around a discipline
// the questionnaire asked for. (One without a reviewer is refused by
// startReview, as every review is.)
func (d *Detail) requireScreenedReviews() *problem.Error {
	c := d.Change
	if !c.screeningToConfirm() {
		return nil
	}
	need := slices.Clone(c.Screening.Disciplines)
	if c.Screening.HazardReviewNeeded {
		need = append(need, DisciplineHazardReview)
	}
	var missing []string
	for _, disc := range need {
		if !slices.ContainsFunc(d.Reviews, func(r Review) bool { return r.Round == c.Round && r.Discipline == disc }) {
			missing = append(missing, reviewName(disc))
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return &problem.Error{Kind: problem.Conflict, Field: "reviewer_id", Message: fmt.Sprintf(
		"The screening requires the %s: add %s with %s before starting the review.", strings.Join(missing, " and the "),
		map[bool]string{true: "it", false: "them"}[len(missing) == 1], map[bool]string{true: "a reviewer", false: "their reviewers"}[len(missing) == 1])}
}

// ConfirmScreening records the coordinator's signed confirmation of the
// screening answers, applying the overrides given (each with a reason):
// the reviews, PSSR and required actions follow the confirmed answers.
func (s *Service) ConfirmScreening(ctx context.Context, actor *auth.User, id int64, in ScreeningConfirmation) (*Change, error) {
	err := s.changeTx(ctx, actor, id, ActConfirmScreening, func(tx *sql.Tx, d *Detail) error {
		c := d.Change
		comment := strings.TrimSpace(in.Comment)
		var out Screening
		var lines []string
		var err error
		if c.Screening.QuestionnaireID == 0 {
			out, err = checkboxConfirmation(c, in, comment)
		} else {
			out, lines, err = answerOverrides(ctx, tx, c, in, comment)
		}
		if err != nil {
			return err
		}
		if !in.Signature.Verified {
			return &problem.Error{Kind: problem.Reauth, Field: "password", Message: "password: confirm your identity to sign the screening"}
		}
		signed := comment
		if len(lines) > 0 {
			signed = strings.TrimSpace("Overridden: " + strings.Join(lines, "; ") + ". " + comment)
		}
		rec, err := s.sign(ctx, tx, actor, d, ActConfirmScreening, DecisionConfirmed, 0, signed, in.Signature)
		if err != nil {
			return err
		}
		at := rec.SignedAt.UTC()
		out.ConfirmedBy, out.ConfirmedByName, out.ConfirmedAt = actor.ID, actor.Name, &at
		for _, o := range out.Overrides {
			if err := s.audit(ctx, tx, c.ID, actor, "", "screening_overridden", "screening."+o.Question, o.From, o.Answer+": "+o.Reason); err != nil {
				return err
			}
		}
		// The reviews follow the confirmed screening: overridden answers
		// reshape them, and one the coordinator removed meanwhile comes
		// back, since the screening confirmed asks for it.
		if err := s.reconcileScreening(ctx, tx, actor, d, &out); err != nil {
			return err
		}
		scJSON, _ := json.Marshal(out)
		if _, err := tx.ExecContext(ctx, `UPDATE changes SET screening = $1, pssr_required = $2, updated_at = $3 WHERE id = $4`,
			string(scJSON), out.PSSRNeeded && c.Kind == KindMOC, s.now(), c.ID); err != nil {
			return fmt.Errorf("confirm screening of %s: %w", c.Number, err)
		}
		if err := s.audit(ctx, tx, c.ID, actor, "", "screening_confirmed", "screening", "", string(scJSON)); err != nil {
			return err
		}
		if len(out.Overrides) == 0 {
			return nil
		}
		return s.notify(ctx, tx, notify.TypeSubmitted, c, "Screening of "+c.Number+" confirmed with changes",
			fmt.Sprintf("%s changed %s of your screening answers: %s", actor.Name, count(len(out.Overrides), "answer", "answers"), strings.Join(lines, "; ")),
			c.InitiatorID)
	})
	if err != nil {
		return nil, err
	}
	return loadChange(ctx, s.DB.SQL, id)
}

// checkboxConfirmation is the screening a confirmation of c confirms when
// it was given on the checkboxes (an API client that sends no answers):
// as it is. There are no answers to override: a coordinator who
// disagrees returns the change, and the initiator answers the
// questionnaire.
func checkboxConfirmation(c *Change, in ScreeningConfirmation, comment string) (Screening, error) {
	if len(in.Overrides) > 0 {
		return Screening{}, invalid("overrides", "%s was screened on the checkboxes, not on the questionnaire, so there are no answers to override: "+
			"confirm it as it is, or return it to the initiator to answer the questionnaire", c.Number)
	}
	if utf8.RuneCountInString(comment) > MaxScreeningComment {
		return Screening{}, invalid("comment", "must be at most %d characters", MaxScreeningComment)
	}
	return *c.Screening, nil
}

// answerOverrides is the screening a confirmation of c's questionnaire
// answers confirms, with the overrides applied (each checked, with its
// reason), and a line per override for people; every problem is named.
func answerOverrides(ctx context.Context, tx *sql.Tx, c *Change, in ScreeningConfirmation, comment string) (Screening, []string, error) {
	qn, err := questionnaireByID(ctx, tx, c.Screening.QuestionnaireID)
	if err != nil {
		return Screening{}, nil, err
	}
	answers := maps.Clone(c.Screening.Answers)
	var p problem.List
	if len(in.Overrides) > len(qn.Questions) {
		return Screening{}, nil, invalid("overrides", "at most one override per question (%d), got %d", len(qn.Questions), len(in.Overrides))
	}
	if utf8.RuneCountInString(comment) > MaxScreeningComment {
		p.Invalid("comment", "must be at most %d characters", MaxScreeningComment)
	}
	seen := map[string]bool{}
	overrides := []ScreeningOverride{}
	for i, o := range in.Overrides {
		f := fmt.Sprintf("overrides[%d]", i)
		qu := qn.Question(strings.TrimSpace(o.Question))
		if qu == nil {
			p.Invalid(f+".question", "%q is not a question of questionnaire version %d", o.Question, qn.Version)
			continue
		}
		if seen[qu.Key] {
			p.Invalid(f+".question", "%q is overridden twice", qu.Text)
			continue
		}
		seen[qu.Key] = true
		o.Question, o.Answer, o.Reason = qu.Key, strings.ToLower(strings.TrimSpace(o.Answer)), strings.TrimSpace(o.Reason)
		if o.Answer != AnswerYes && o.Answer != AnswerNo {
			p.Invalid(f+".answer", "must be yes or no, got %q", o.Answer)
			continue
		}
		if o.Answer == answers[qu.Key] {
			p.Invalid(f+".answer", "the answer to %q is already %s: an override changes an answer", qu.Text, o.Answer)
			continue
		}
		switch n := utf8.RuneCountInString(o.Reason); {
		case n == 0:
			p.Invalid(f+".reason", "is required: say why the answer to %q is %s", qu.Text, o.Answer)
		case n > MaxOverrideReason:
			p.Invalid(f+".reason", "must be at most %d characters", MaxOverrideReason)
		}
		if c.Kind == KindPCR && qu.Effects(o.Answer).PSSR {
			p.Invalid(f+".answer", "this answer requires a PSSR, and a PCR never has one")
		}
		o.From = answers[qu.Key]
		answers[qu.Key] = o.Answer
		overrides = append(overrides, o)
	}
	if err := p.Err(); err != nil {
		return Screening{}, nil, err
	}
	out := qn.outcome(answers)
	out.ReplacementInKind = c.Screening.ReplacementInKind
	out.QuestionnaireID, out.QuestionnaireVersion = qn.ID, qn.Version
	out.Answers, out.InitiatorAnswers, out.Overrides = answers, c.Screening.InitiatorAnswers, overrides
	if err := validateScreening(c, &out); err != nil {
		return Screening{}, nil, err
	}
	var lines []string
	for _, o := range overrides {
		lines = append(lines, fmt.Sprintf("%s: %s → %s (%s)", qn.Question(o.Question).Text, o.From, o.Answer, o.Reason))
	}
	return out, lines, nil
}

// reconcileScreening makes the current round's reviews and the required
// actions follow screening sc: a review it no longer asks for goes while
// nobody decided it, one it newly asks for is added.
func (s *Service) reconcileScreening(ctx context.Context, tx *sql.Tx, actor *auth.User, d *Detail, sc *Screening) error {
	c := d.Change
	need := slices.Clone(sc.Disciplines)
	if sc.HazardReviewNeeded {
		need = append(need, DisciplineHazardReview)
	}
	for _, r := range d.Reviews {
		if r.Round == c.Round && r.DecidedAt == nil && !slices.Contains(need, r.Discipline) {
			if _, err := tx.ExecContext(ctx, `DELETE FROM change_reviews WHERE id = $1`, r.ID); err != nil {
				return err
			}
			if err := s.audit(ctx, tx, c.ID, actor, "", "review_removed", r.Discipline, r.ReviewerName, ""); err != nil {
				return err
			}
		}
	}
	for _, disc := range need {
		if slices.ContainsFunc(d.Reviews, func(r Review) bool { return r.Round == c.Round && r.Discipline == disc }) {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO change_reviews (change_id, round, discipline) VALUES ($1,$2,$3)`, c.ID, c.Round, disc); err != nil {
			return fmt.Errorf("add review: %w", err)
		}
		if err := s.audit(ctx, tx, c.ID, actor, "", "review_added", disc, "", ""); err != nil {
			return err
		}
	}
	return s.addRequiredActions(ctx, tx, actor, d, *sc)
}

// addRequiredActions creates, once, the actions screening sc requires
// (updates of process safety information and of operating procedures).
func (s *Service) addRequiredActions(ctx context.Context, tx *sql.Tx, actor *auth.User, d *Detail, sc Screening) error {
	auto := []struct {
		need  bool
		kind  ActionKind
		title string
	}{
		{sc.PSIChanges, ActionPSI, "Update process safety information (P&IDs, data sheets, relief design)"},
		{sc.ProceduresChange, ActionProcedure, "Update operating procedures"},
	}
	for _, a := range auto {
		if !a.need || slices.ContainsFunc(d.Actions, func(x ActionItem) bool { return x.Kind == a.kind }) {
			continue
		}
		if _, err := s.insertAction(ctx, tx, actor, d.Change, NewAction{Title: a.title, Kind: a.kind, OwnerID: d.Change.InitiatorID, BeforeStartup: true}); err != nil {
			return err
		}
	}
	return nil
}

// needsTraining reports whether the screening holds startup until the
// roster is trained: required by an answer, or, for a screening ticked
// before questionnaires, whenever procedures changed.
func (sc *Screening) needsTraining() bool {
	return sc.TrainingRequired || (sc.QuestionnaireID == 0 && sc.ProceduresChange)
}
