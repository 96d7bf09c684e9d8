package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/problem"
)

// The risk matrix and the screening questionnaire as the pages show and
// read them: the change form's assessment grid, the submit form's
// questions, the change page's record of both. The rules are
// change.Service's (riskmatrix.go, questionnaire.go).

// riskSides are the two ratings of a category, in form order.
var riskSides = []string{"before", "after"}

// matrixCell is one cell of a drawn matrix.
type matrixCell struct {
	Label, Colour string
	// Before and After mark the cells the change's ratings fall in.
	Before, After []string
}

// matrixRow is one severity row of a drawn matrix, most severe first.
type matrixRow struct {
	No    int
	Label string
	Cells []matrixCell
}

// riskOption is one choice of a rating select.
type riskOption struct {
	Value, Label string
	Selected     bool
}

// riskSelect is one rating select of the assessment form.
type riskSelect struct {
	ID, Label string
	Options   []riskOption
}

// riskFormRow is one category's row of the assessment form.
type riskFormRow struct {
	Key, Label string
	// Error is the element id an error of the row is shown under.
	Sides   []riskFormSide
	ErrorID string
}

// riskFormSide is the before or the after pair of selects.
type riskFormSide struct {
	Name     string
	ErrorID  string
	Severity riskSelect
	Like     riskSelect
}

// riskGrid draws matrix m, marking the ratings of assessment a (or nil)
// in the cells they fall in.
func riskGrid(m *change.RiskMatrix, a *change.RiskAssessment) []matrixRow {
	if m == nil {
		return nil
	}
	var rows []matrixRow
	for s := len(m.Severities) - 1; s >= 0; s-- {
		row := matrixRow{No: s + 1, Label: m.Severities[s].Label}
		for l := range m.Likelihoods {
			key := ""
			if s < len(m.Cells) && l < len(m.Cells[s]) {
				key = m.Cells[s][l]
			}
			lv := m.Level(key)
			cell := matrixCell{Label: lv.Label, Colour: lv.Colour}
			if a != nil {
				for _, cat := range m.Categories {
					pr, ok := a.Categories[cat.Key]
					if !ok {
						continue
					}
					if pr.Before.Severity == s+1 && pr.Before.Likelihood == l+1 {
						cell.Before = append(cell.Before, cat.Label)
					}
					if pr.After.Severity == s+1 && pr.After.Likelihood == l+1 {
						cell.After = append(cell.After, cat.Label)
					}
				}
			}
			row.Cells = append(row.Cells, cell)
		}
		rows = append(rows, row)
	}
	return rows
}

// riskFormRows are the assessment form's rows for matrix m, filled from
// values (the form as typed, by element id).
func riskFormRows(m *change.RiskMatrix, values map[string]string) []riskFormRow {
	if m == nil {
		return nil
	}
	opts := func(id string, scale []change.RiskScale) []riskOption {
		out := []riskOption{{Value: "", Label: "—"}}
		for i, sc := range scale {
			v := strconv.Itoa(i + 1)
			out = append(out, riskOption{Value: v, Label: v + " " + sc.Label, Selected: values[id] == v})
		}
		return out
	}
	var rows []riskFormRow
	for _, cat := range m.Categories {
		row := riskFormRow{Key: cat.Key, Label: cat.Label, ErrorID: "risk-" + cat.Key}
		for _, side := range riskSides {
			base := "risk-" + cat.Key + "-" + side
			row.Sides = append(row.Sides, riskFormSide{Name: side, ErrorID: base,
				Severity: riskSelect{ID: base + "-severity", Label: cat.Label + " " + side + ": severity", Options: opts(base+"-severity", m.Severities)},
				Like:     riskSelect{ID: base + "-likelihood", Label: cat.Label + " " + side + ": likelihood", Options: opts(base+"-likelihood", m.Likelihoods)}})
		}
		rows = append(rows, row)
	}
	return rows
}

// riskValues are the assessment's form values, by element id.
func riskValues(a *change.RiskAssessment, into map[string]string) {
	if a == nil {
		return
	}
	for key, pr := range a.Categories {
		for _, side := range []struct {
			name string
			r    change.RiskRating
		}{{"before", pr.Before}, {"after", pr.After}} {
			into["risk-"+key+"-"+side.name+"-severity"] = strconv.Itoa(side.r.Severity)
			into["risk-"+key+"-"+side.name+"-likelihood"] = strconv.Itoa(side.r.Likelihood)
		}
	}
	into["risk-mitigations"] = a.Mitigations
}

// readRiskForm reads the assessment grid of the change form for matrix m
// into values and returns it, or nil when the form has no grid (a form
// from before the matrix) or nothing in it was rated.
func readRiskForm(r *http.Request, m *change.RiskMatrix, values map[string]string) (*change.RiskInput, []problem.FieldError) {
	if m == nil || r.PostFormValue("risk-form") == "" {
		return nil, nil
	}
	in := &change.RiskInput{Categories: map[string]change.RiskPair{}, Mitigations: r.PostFormValue("risk-mitigations")}
	values["risk-mitigations"] = in.Mitigations
	var probs []problem.FieldError
	num := func(id string) int {
		v := strings.TrimSpace(r.PostFormValue(id))
		values[id] = v
		if v == "" {
			return 0
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			probs = append(probs, problem.FieldError{Field: id, Message: "choose from the list"})
		}
		return n
	}
	for _, cat := range m.Categories {
		var pr change.RiskPair
		pr.Before.Severity, pr.Before.Likelihood = num("risk-"+cat.Key+"-before-severity"), num("risk-"+cat.Key+"-before-likelihood")
		pr.After.Severity, pr.After.Likelihood = num("risk-"+cat.Key+"-after-severity"), num("risk-"+cat.Key+"-after-likelihood")
		if pr != (change.RiskPair{}) {
			in.Categories[cat.Key] = pr
		}
	}
	if len(in.Categories) == 0 && strings.TrimSpace(in.Mitigations) == "" && len(probs) == 0 {
		return nil, nil // not assessed yet: a draft may wait
	}
	return in, probs
}

// riskErrorIDs maps the domain's assessment fields to the form's ids.
func riskErrorIDs(m *change.RiskMatrix, into map[string]string) {
	into["risk.categories"] = "risk-matrix"
	into["risk.mitigations"] = "risk-mitigations"
	if m == nil {
		return
	}
	for _, cat := range m.Categories {
		for _, side := range riskSides {
			into["risk.categories."+cat.Key+"."+side] = "risk-" + cat.Key + "-" + side
		}
	}
}

// screeningQuestion is one question of the submit or confirm form.
type screeningQuestion struct {
	change.Question
	// ID is the element id of its yes/no group.
	ID string
	// Answer is the answer shown checked (as typed, or as saved).
	Answer string
	// Initiator is what the initiator answered, on the confirm form.
	Initiator string
}

// screeningQuestions lists q's questions with the answers given.
func screeningQuestions(q *change.Questionnaire, kind change.Kind, answers, initiator map[string]string) []screeningQuestion {
	if q == nil {
		return nil
	}
	var out []screeningQuestion
	for _, qu := range q.Questions {
		// A PCR never has a PSSR: a question whose only use is one is not asked.
		if kind == change.KindPCR && qu.PSSROnly() {
			continue
		}
		out = append(out, screeningQuestion{Question: qu, ID: "sq-" + qu.Key, Answer: answers[qu.Key], Initiator: initiator[qu.Key]})
	}
	return out
}

// SubmitQuestions are the questions of the submit form: the user's last
// input, else the answers of the previous submission.
func (v *changeView) SubmitQuestions() []screeningQuestion {
	answers := map[string]string{}
	if sc := v.C.Screening; sc != nil && len(v.Input) == 0 {
		answers = sc.Answers
	}
	for k, val := range v.Input {
		if key, ok := strings.CutPrefix(k, "sq-"); ok {
			answers[key] = val
		}
	}
	return screeningQuestions(v.D.Questionnaire, v.C.Kind, answers, nil)
}

// ConfirmQuestions are the questions of the confirm form, with the
// initiator's answers and any override typed.
func (v *changeView) ConfirmQuestions() []screeningQuestion {
	sc := v.C.Screening
	if sc == nil || sc.QuestionnaireID == 0 {
		return nil
	}
	return screeningQuestions(v.D.Questionnaire, v.C.Kind, sc.Answers, sc.Answers)
}

// AnsweredQuestions are the change's confirmed (or submitted) answers
// on the version it was screened on, for the record.
func (v *changeView) AnsweredQuestions() []screeningQuestion {
	sc := v.C.Screening
	if sc == nil || sc.QuestionnaireID == 0 || v.D.Questionnaire == nil || v.D.Questionnaire.ID != sc.QuestionnaireID {
		return nil
	}
	return screeningQuestions(v.D.Questionnaire, v.C.Kind, sc.Answers, sc.InitiatorAnswers)
}

// QuestionText is a question's text on the change's questionnaire.
func (v *changeView) QuestionText(key string) string {
	if q := v.D.Questionnaire; q != nil {
		if qu := q.Question(key); qu != nil {
			return qu.Text
		}
	}
	return key
}

// RiskGrid draws the change's matrix with its ratings marked.
func (v *changeView) RiskGrid() []matrixRow { return riskGrid(v.D.Matrix, v.C.Risk) }

// riskLine is one category of the assessment, for the record.
type riskLine struct {
	Label                     string
	Before, After             change.RiskRating
	BeforeLevel, AfterLevel   string
	BeforeColour, AfterColour string
	BeforeScale, AfterScale   string
}

// RiskLines are the assessment's rated categories, in matrix order.
func (v *changeView) RiskLines() []riskLine {
	m, a := v.D.Matrix, v.C.Risk
	if m == nil || a == nil {
		return nil
	}
	scale := func(r change.RiskRating) string {
		if r.Severity < 1 || r.Severity > len(m.Severities) || r.Likelihood < 1 || r.Likelihood > len(m.Likelihoods) {
			return ""
		}
		return m.Severities[r.Severity-1].Label + " × " + m.Likelihoods[r.Likelihood-1].Label
	}
	var out []riskLine
	for _, cat := range m.Categories {
		pr, ok := a.Categories[cat.Key]
		if !ok {
			continue
		}
		b, af := m.Level(m.Cell(pr.Before)), m.Level(m.Cell(pr.After))
		out = append(out, riskLine{Label: cat.Label, Before: pr.Before, After: pr.After, BeforeLevel: b.Label, AfterLevel: af.Label,
			BeforeColour: b.Colour, AfterColour: af.Colour, BeforeScale: scale(pr.Before), AfterScale: scale(pr.After)})
	}
	return out
}

// RiskLevel is the label of a level key on the change's matrix.
func (v *changeView) RiskLevel(key string) string {
	if v.D.Matrix == nil || key == "" {
		return key
	}
	return v.D.Matrix.Level(key).Label
}
