package web

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/problem"
)

// A site's screening questionnaire, edited by an admin of the site:
// each save is a new version (change.Service.SaveQuestionnaire); changes
// screened before keep theirs. Empty the text of a question to drop it;
// three blank rows add new ones.

// questionnaireForm is what admin_screening.html shows.
type questionnaireForm struct {
	Site        auth.Site
	Current     *change.Questionnaire
	Questions   []change.Question
	Disciplines []string
	Actions     []string
}

// Has says whether effects e include discipline or action x, or the
// flags "hazard_review" and "pssr" (for the checkboxes).
func (f *questionnaireForm) Has(e change.ScreeningEffects, x string) bool {
	switch x {
	case "hazard_review":
		return e.HazardReview
	case "pssr":
		return e.PSSR
	}
	return slices.Contains(e.Disciplines, x) || slices.Contains(e.Actions, x)
}

// Label names a discipline or an action.
func (f *questionnaireForm) Label(x string) string {
	switch x {
	case change.RequiredPSI:
		return "PSI update"
	case change.RequiredProcedure:
		return "Procedure update"
	case change.RequiredTraining:
		return "Training"
	}
	return change.DisciplineLabel(x)
}

func (s *Server) pageEditQuestionnaire(w http.ResponseWriter, r *http.Request) {
	u := auth.UserFrom(r.Context())
	site, ok := s.settingsSite(w, r)
	if !ok {
		return
	}
	q, err := s.Changes.Questionnaire(r.Context(), u, site.ID, 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderQuestionnaire(w, r, http.StatusOK, site, q, q.Questions, nil, r.URL.Query().Get("saved"))
}

func (s *Server) pageSaveQuestionnaire(w http.ResponseWriter, r *http.Request) {
	u := auth.UserFrom(r.Context())
	site, ok := s.settingsSite(w, r)
	if !ok {
		return
	}
	cur, err := s.Changes.Questionnaire(r.Context(), u, site.ID, 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	def, rows := readQuestionnaireForm(r)
	saved, err := s.Changes.SaveQuestionnaire(r.Context(), u, site.ID, def)
	if problem.KindOf(err) == problem.Invalid {
		s.renderQuestionnaire(w, r, http.StatusUnprocessableEntity, site, cur, def.Questions, formErrors(err, "questionnaire-form", questionErrorIDs(err, rows)), "")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.Logger.InfoContext(r.Context(), "screening questionnaire saved", "site_id", site.ID, "version", saved.Version, "by", u.ID)
	http.Redirect(w, r, "/admin/sites/"+strconv.FormatInt(site.ID, 10)+"/screening-questionnaire?saved="+strconv.Itoa(saved.Version), http.StatusSeeOther)
}

// readQuestionnaireForm reads the editor's rows (q-N-...), leaving out
// rows with no text; rows[i] is the form row question i came from.
func readQuestionnaireForm(r *http.Request) (change.QuestionnaireDefinition, []int) {
	v := func(name string) string { return strings.TrimSpace(r.PostFormValue(name)) }
	n, _ := strconv.Atoi(v("rows"))
	n = min(max(n, 0), change.MaxQuestions+3)
	def := change.QuestionnaireDefinition{Questions: []change.Question{}}
	var rows []int
	effects := func(p string) change.ScreeningEffects {
		e := change.ScreeningEffects{Disciplines: []string{}, Actions: []string{}}
		for _, x := range r.PostForm[p] {
			switch {
			case x == "hazard_review":
				e.HazardReview = true
			case x == "pssr":
				e.PSSR = true
			case slices.Contains(change.RequiredActions, x):
				e.Actions = append(e.Actions, x)
			default:
				e.Disciplines = append(e.Disciplines, x)
			}
		}
		return e
	}
	for i := range n {
		p := "q-" + strconv.Itoa(i) + "-"
		if v(p+"text") == "" {
			continue
		}
		def.Questions = append(def.Questions, change.Question{Key: v(p + "key"), Text: v(p + "text"), Help: v(p + "help"),
			Yes: effects(p + "yes"), No: effects(p + "no")})
		rows = append(rows, i)
	}
	return def, rows
}

var questionFieldPattern = regexp.MustCompile(`^questions\[(\d+)\]\.([\w.]+)$`)

// questionErrorIDs maps the domain's fields (questions[2].yes.actions) to
// the editor's ids (q-R-yes), R being the form row.
func questionErrorIDs(err error, rows []int) map[string]string {
	ids := map[string]string{"questions": "questionnaire-form"}
	pe := problem.As(err)
	if pe == nil {
		return ids
	}
	for _, fe := range pe.Fields {
		m := questionFieldPattern.FindStringSubmatch(fe.Field)
		if m == nil {
			continue
		}
		i, _ := strconv.Atoi(m[1])
		if i < len(rows) {
			ids[fe.Field] = "q-" + strconv.Itoa(rows[i]) + "-" + strings.ReplaceAll(m[2], ".", "-")
		}
	}
	return ids
}

func (s *Server) renderQuestionnaire(w http.ResponseWriter, r *http.Request, status int, site *auth.Site, cur *change.Questionnaire,
	questions []change.Question, errs map[string]string, saved string) {
	f := &questionnaireForm{Site: *site, Current: cur, Questions: slices.Clone(questions), Disciplines: change.Disciplines, Actions: change.RequiredActions}
	for range 3 {
		if len(f.Questions) < change.MaxQuestions+3 {
			f.Questions = append(f.Questions, change.Question{})
		}
	}
	p := &Page{Title: "Screening questionnaire of " + site.Code, Data: f, Errors: errs}
	if saved != "" {
		p.Flash = "Saved as version " + saved + ". Changes screened before keep the version they were answered on."
	}
	s.render(w, r, status, "admin_screening.html", p)
}

// apiGetQuestionnaire answers a site's current questionnaire, or ?version=N.
func (s *Server) apiGetQuestionnaire(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, withID, func(ctx context.Context, u *auth.User, id int64, _ noBody) (any, error) {
		v, err := queryVersion(r)
		if err != nil {
			return nil, err
		}
		return s.Changes.Questionnaire(ctx, u, id, v)
	})
}

// apiSaveQuestionnaire saves the body as the site's next version.
func (s *Server) apiSaveQuestionnaire(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, withID, func(ctx context.Context, u *auth.User, id int64, in change.QuestionnaireDefinition) (any, error) {
		return s.Changes.SaveQuestionnaire(ctx, u, id, in)
	})
}
