package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/problem"
)

// changeFormFields are the form's field names, which are also the
// domain's field names and the elements' ids.
var changeFormFields = []string{"kind", "duration", "title", "description", "site_id", "unit_id", "equipment_tags",
	"reason", "risk_ranking", "technical_basis", "safety_health_impact", "procedure_changes", "time_period",
	"authorization_required", "expires_on", "review_deadline"}

// changeForm is what change_form.html shows.
type changeForm struct {
	Editing bool
	C       *change.Change
	// V holds the field values: what the user typed, or the saved change.
	V            map[string]string
	Sites        []auth.Site
	Units        []change.Unit
	RiskRankings []string
	Conflicts    []change.Change
	// Matrix is the risk matrix the assessment is made on: the current
	// one of the change's (or the chosen) site.
	Matrix *change.RiskMatrix
	// Reassessed: the change was assessed on an older matrix version, and
	// saving assesses it on this one.
	Reassessed bool
}

// RiskRows are the assessment grid's rows.
func (f *changeForm) RiskRows() []riskFormRow { return riskFormRows(f.Matrix, f.V) }

// Grid draws the matrix for reference.
func (f *changeForm) Grid() []matrixRow { return riskGrid(f.Matrix, nil) }

// Val returns a field's value (for the templates).
func (f *changeForm) Val(name string) string { return f.V[name] }

func (s *Server) changeFormData(r *http.Request, u *auth.User, editing *change.Change, values map[string]string) (*changeForm, error) {
	ctx := r.Context()
	f := &changeForm{Editing: editing != nil, C: editing, V: values, RiskRankings: change.RiskRankings}
	sites, err := auth.ListSites(ctx, s.DB.SQL)
	if err != nil {
		return nil, err
	}
	// Retired sites and units are not offered, except the one the change
	// already has (or the user just chose, to show it with its error).
	for _, st := range sites {
		if u.OnSite(st.ID) && (!st.Retired() || strconv.FormatInt(st.ID, 10) == values["site_id"]) {
			f.Sites = append(f.Sites, st)
		}
	}
	units, err := s.Changes.Units(ctx, u, 0)
	if err != nil {
		return nil, err
	}
	for _, un := range units {
		if un.InUse() || strconv.FormatInt(un.ID, 10) == values["unit_id"] {
			f.Units = append(f.Units, un)
		}
	}
	if f.Matrix, err = s.formMatrix(r, u, editing, values); err != nil {
		return nil, err
	}
	f.Reassessed = editing != nil && editing.Risk != nil && f.Matrix != nil && editing.Risk.MatrixID != f.Matrix.ID
	// Conflicts for what the form holds now: server-rendered, so they show
	// without JavaScript after a save attempt or on the edit page.
	site, _ := strconv.ParseInt(values["site_id"], 10, 64)
	unit, _ := strconv.ParseInt(values["unit_id"], 10, 64)
	tags := splitTagInput(values["equipment_tags"])
	if site != 0 && (unit != 0 || len(tags) > 0) {
		var exclude int64
		if editing != nil {
			exclude = editing.ID
		}
		if f.Conflicts, err = s.Changes.Conflicts(ctx, u, site, unit, tags, exclude); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// splitTagInput reads "P-101A, P-101B" or one tag per line.
func splitTagInput(s string) []string {
	out := []string{}
	for _, t := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' || r == ';' || r == '\r' }) {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

func changeValues(c *change.Change) map[string]string {
	v := map[string]string{
		"kind": string(c.Kind), "duration": string(c.Duration), "title": c.Title, "description": c.Description,
		"site_id": strconv.FormatInt(c.SiteID, 10), "equipment_tags": strings.Join(c.EquipmentTags, ", "),
		"reason": c.Reason, "risk_ranking": c.RiskRanking, "technical_basis": c.TechnicalBasis,
		"safety_health_impact": c.SafetyHealthImpact, "procedure_changes": c.ProcedureChanges, "time_period": c.TimePeriod,
		"authorization_required": c.AuthorizationRequired, "expires_on": dateValue(c.ExpiresOn),
		"review_deadline": dateValue(c.ReviewDeadline),
	}
	if c.UnitID != 0 {
		v["unit_id"] = strconv.FormatInt(c.UnitID, 10)
	}
	riskValues(c.Risk, v)
	return v
}

// formMatrix is the current risk matrix of the site the form is for:
// the change's, the one chosen, or the user's first; nil before a site
// is known.
func (s *Server) formMatrix(r *http.Request, u *auth.User, editing *change.Change, values map[string]string) (*change.RiskMatrix, error) {
	site, _ := strconv.ParseInt(values["site_id"], 10, 64)
	if editing != nil {
		site = editing.SiteID
	}
	if site == 0 {
		// Not chosen yet: the first site offered, which the form's site
		// list shows selected. Saving with another site assesses on that
		// one's matrix (a refusal shows it).
		sites, err := auth.ListSites(r.Context(), s.DB.SQL)
		if err != nil {
			return nil, err
		}
		for _, st := range sites {
			if u.OnSite(st.ID) && !st.Retired() {
				site = st.ID
				break
			}
		}
	}
	if site == 0 || !u.OnSite(site) {
		return nil, nil
	}
	m, err := s.Changes.RiskMatrix(r.Context(), u, site, 0)
	if problem.KindOf(err) == problem.NotFound {
		return nil, nil
	}
	return m, err
}

// readRisk adds the assessment grid to the fields read from the form.
// The grid sets the ranking; a risk_ranking field (API-style clients of
// the form) is passed on only when posted.
func (s *Server) readRisk(r *http.Request, u *auth.User, editing *change.Change, values map[string]string, f *change.Fields) (map[string]string, error) {
	ids := map[string]string{}
	for k, v := range changeFormIDs {
		ids[k] = v
	}
	if _, posted := r.PostForm["risk_ranking"]; !posted {
		f.RiskRanking = nil
	}
	m, err := s.formMatrix(r, u, editing, values)
	if err != nil {
		return nil, err
	}
	riskErrorIDs(m, ids)
	in, probs := readRiskForm(r, m, values)
	for _, p := range probs {
		ids[p.Field] = strings.TrimSuffix(strings.TrimSuffix(p.Field, "-severity"), "-likelihood")
	}
	f.Problems = append(f.Problems, probs...)
	if in != nil {
		f.Risk, f.RiskRanking = in, nil
	}
	return ids, nil
}

func (s *Server) renderChangeForm(w http.ResponseWriter, r *http.Request, status int, u *auth.User, editing *change.Change, values, errs map[string]string) {
	f, err := s.changeFormData(r, u, editing, values)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	title := "New change"
	if editing != nil {
		title = "Edit " + editing.Number
	}
	s.render(w, r, status, "change_form.html", &Page{Title: title, Errors: errs, Data: f})
}

// pageNewChange shows the empty guided form.
func (s *Server) pageNewChange(w http.ResponseWriter, r *http.Request) {
	u := auth.UserFrom(r.Context())
	values := map[string]string{"kind": "MOC", "duration": "permanent"}
	if k := strings.ToUpper(r.URL.Query().Get("kind")); k == "PCR" {
		values["kind"] = k
	}
	if len(u.SiteIDs) == 1 {
		values["site_id"] = strconv.FormatInt(u.SiteIDs[0], 10)
	}
	s.renderChangeForm(w, r, http.StatusOK, u, nil, values, nil)
}

// readChangeForm reads the posted form: the values as typed (to show
// again on error) and the fields for the domain, with the problems found
// reading them (dates and numbers that do not parse, dates a temporary
// change cannot do without) in f.Problems. The domain reports those with
// its own findings, so the form, like the API, shows every invalid field
// at once.
func readChangeForm(r *http.Request, creating bool) (map[string]string, change.Fields) {
	values := map[string]string{}
	for _, n := range changeFormFields {
		values[n] = r.PostFormValue(n)
	}
	errs := map[string]string{}
	var f change.Fields
	str := func(n string) *string { v := values[n]; return &v }
	f.Title, f.Description, f.Reason = str("title"), str("description"), str("reason")
	f.RiskRanking, f.TechnicalBasis, f.SafetyHealthImpact = str("risk_ranking"), str("technical_basis"), str("safety_health_impact")
	f.ProcedureChanges, f.TimePeriod, f.AuthorizationRequired = str("procedure_changes"), str("time_period"), str("authorization_required")
	dur := change.Duration(strings.ToLower(strings.TrimSpace(values["duration"])))
	if dur == "" {
		errs["duration"] = "Duration: choose permanent, temporary or emergency"
	}
	f.Duration = &dur
	if creating {
		k := change.Kind(strings.ToUpper(strings.TrimSpace(values["kind"])))
		if k == "" {
			errs["kind"] = "Kind: choose MOC (equipment, process or technology) or PCR (procedures and documents only)"
		}
		f.Kind = &k
		site, err := strconv.ParseInt(strings.TrimSpace(values["site_id"]), 10, 64)
		if err != nil || site <= 0 {
			errs["site_id"] = "Site: choose the site of the change"
		}
		f.SiteID = &site
	}
	var unit int64
	if v := strings.TrimSpace(values["unit_id"]); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			errs["unit_id"] = "Unit: choose a unit from the list"
		}
		unit = n
	}
	f.UnitID = &unit
	tags := splitTagInput(values["equipment_tags"])
	f.EquipmentTags = &tags
	for _, p := range []struct {
		name string
		dst  ***time.Time
		need bool
	}{
		{"expires_on", &f.ExpiresOn, dur.IsTemporary()},
		// Optional: the emergency authorisation sets the site's deadline.
		{"review_deadline", &f.ReviewDeadline, false},
	} {
		t, err := parseDate(p.name, values[p.name])
		switch {
		case err != nil:
			errs[p.name] = fieldLabel(p.name) + ": expected a date like 2026-12-31"
		case t == nil && p.need:
			errs[p.name] = fieldLabel(p.name) + " is required for a " + string(dur) + " change"
		case !p.need:
			t = nil // ignored for this duration
		}
		*p.dst = &t
	}
	if strings.TrimSpace(values["title"]) == "" {
		errs["title"] = "Title is required: say in a few words what changes"
	}
	for field, msg := range errs {
		f.Problems = append(f.Problems, problem.FieldError{Field: field, Message: msg})
	}
	return values, f
}

var changeFormIDs = func() map[string]string {
	m := map[string]string{}
	for _, n := range changeFormFields {
		m[n] = n
	}
	return m
}()

// pageCreateChange saves a new draft, or shows the form again with the
// user's input and what is wrong.
func (s *Server) pageCreateChange(w http.ResponseWriter, r *http.Request) {
	u := auth.UserFrom(r.Context())
	values, f := readChangeForm(r, true)
	ids, err := s.readRisk(r, u, nil, values, &f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	c, err := s.Changes.Create(r.Context(), u, f)
	if err != nil {
		if problem.KindOf(err) == problem.Internal {
			s.fail(w, r, err)
			return
		}
		s.renderChangeForm(w, r, statusOf(err), u, nil, values, formErrors(err, "change-form", ids))
		return
	}
	redirectChange(w, r, c.Number, "created", "")
}

// pageEditChange shows the form filled with the saved change.
func (s *Server) pageEditChange(w http.ResponseWriter, r *http.Request) {
	u, d := s.loadChangePage(w, r)
	if d == nil {
		return
	}
	if !slices.Contains(d.AllowedActions, change.ActEdit) {
		s.fail(w, r, problem.New(problem.Forbidden, d.Change.Number+" cannot be edited now: only its initiator or an MOC coordinator may edit it, in Draft or when returned for revision."))
		return
	}
	s.renderChangeForm(w, r, http.StatusOK, u, d.Change, changeValues(d.Change), nil)
}

// pageUpdateChange saves an edited draft.
func (s *Server) pageUpdateChange(w http.ResponseWriter, r *http.Request) {
	u, d := s.loadChangePage(w, r)
	if d == nil {
		return
	}
	values, f := readChangeForm(r, false)
	values["kind"], values["site_id"] = string(d.Change.Kind), strconv.FormatInt(d.Change.SiteID, 10)
	ids, err := s.readRisk(r, u, d.Change, values, &f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	c, err := s.Changes.Update(r.Context(), u, d.Change.ID, f)
	if err != nil {
		if problem.KindOf(err) == problem.Internal {
			s.fail(w, r, err)
			return
		}
		s.renderChangeForm(w, r, statusOf(err), u, d.Change, values, formErrors(err, "change-form", ids))
		return
	}
	redirectChange(w, r, c.Number, "saved", "")
}
