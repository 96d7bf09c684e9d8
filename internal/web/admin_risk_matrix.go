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

// A site's risk matrix, edited by an admin of the site: each save is a
// new version (change.Service.SaveRiskMatrix), so the form always starts
// from the current one. The size is chosen first (?severities=&likelihoods=),
// then every heading, level and cell.

// riskMatrixForm is what admin_risk_matrix.html shows.
type riskMatrixForm struct {
	Site    auth.Site
	Current *change.RiskMatrix
	// Def is the definition as typed (or the current one).
	Def change.RiskMatrixDefinition
	// Categories and Stages have spare blank rows to add one.
	Categories []change.RiskCategory
	Stages     []change.ApprovalStageDef
	Approvers  []*auth.User
	Levels     []string
}

// HasStage says whether level i requires stage name (for the checkboxes).
func (f *riskMatrixForm) HasStage(i int, name string) bool {
	return i < len(f.Def.Levels) && name != "" && slices.Contains(f.Def.Levels[i].RequiredStages, name)
}

// StageHas says whether stage i names approver id.
func (f *riskMatrixForm) StageHas(i int, id int64) bool {
	return i < len(f.Stages) && slices.Contains(f.Stages[i].ApproverIDs, id)
}

// Cell is the level key of cell s, l.
func (f *riskMatrixForm) Cell(s, l int) string {
	if s < len(f.Def.Cells) && l < len(f.Def.Cells[s]) {
		return f.Def.Cells[s][l]
	}
	return ""
}

// Rows counts the severity rows, most severe first, for the cell grid.
func (f *riskMatrixForm) Rows() []int {
	out := make([]int, len(f.Def.Severities))
	for i := range out {
		out[i] = len(out) - 1 - i
	}
	return out
}

// Grid is the matrix as saved, drawn.
func (f *riskMatrixForm) Grid() []matrixRow { return riskGrid(f.Current, nil) }

func (s *Server) pageEditRiskMatrix(w http.ResponseWriter, r *http.Request) {
	u := auth.UserFrom(r.Context())
	site, ok := s.settingsSite(w, r)
	if !ok {
		return
	}
	m, err := s.Changes.RiskMatrix(r.Context(), u, site.ID, 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	def := m.RiskMatrixDefinition
	resize(&def, r.URL.Query().Get("severities"), r.URL.Query().Get("likelihoods"))
	s.renderRiskMatrix(w, r, http.StatusOK, site, m, def, nil, r.URL.Query().Get("saved") != "")
}

// resize gives def the size asked for (2 to 7 each), keeping what fits
// and filling new cells with the level of the nearest old one.
func resize(def *change.RiskMatrixDefinition, sev, lik string) {
	ns, err1 := strconv.Atoi(sev)
	nl, err2 := strconv.Atoi(lik)
	if err1 != nil && err2 != nil {
		return
	}
	if err1 != nil {
		ns = len(def.Severities)
	}
	if err2 != nil {
		nl = len(def.Likelihoods)
	}
	ns = min(max(ns, change.MinMatrixSize), change.MaxMatrixSize)
	nl = min(max(nl, change.MinMatrixSize), change.MaxMatrixSize)
	scale := func(in []change.RiskScale, n int) []change.RiskScale {
		out := slices.Clone(in)
		for len(out) < n {
			out = append(out, change.RiskScale{Label: strconv.Itoa(len(out) + 1)})
		}
		return out[:n]
	}
	cells := make([][]string, ns)
	for i := range cells {
		cells[i] = make([]string, nl)
		for j := range cells[i] {
			oi, oj := min(i, len(def.Cells)-1), 0
			if oi >= 0 {
				oj = min(j, len(def.Cells[oi])-1)
			}
			cells[i][j] = "low"
			if oi >= 0 && oj >= 0 {
				cells[i][j] = def.Cells[oi][oj]
			}
		}
	}
	def.Severities, def.Likelihoods, def.Cells = scale(def.Severities, ns), scale(def.Likelihoods, nl), cells
}

func (s *Server) pageSaveRiskMatrix(w http.ResponseWriter, r *http.Request) {
	u := auth.UserFrom(r.Context())
	site, ok := s.settingsSite(w, r)
	if !ok {
		return
	}
	cur, err := s.Changes.RiskMatrix(r.Context(), u, site.ID, 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	def := readRiskMatrixForm(r)
	saved, err := s.Changes.SaveRiskMatrix(r.Context(), u, site.ID, def)
	if problem.KindOf(err) == problem.Invalid {
		s.renderRiskMatrix(w, r, http.StatusUnprocessableEntity, site, cur, def, formErrors(err, "matrix-form", matrixErrorIDs(err)), false)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.Logger.InfoContext(r.Context(), "risk matrix saved", "site_id", site.ID, "version", saved.Version, "by", u.ID)
	http.Redirect(w, r, "/admin/sites/"+strconv.FormatInt(site.ID, 10)+"/risk-matrix?saved="+strconv.Itoa(saved.Version), http.StatusSeeOther)
}

// readRiskMatrixForm reads the editor; blank category and stage rows are
// left out.
func readRiskMatrixForm(r *http.Request) change.RiskMatrixDefinition {
	v := func(name string) string { return strings.TrimSpace(r.PostFormValue(name)) }
	n := func(name string) int { i, _ := strconv.Atoi(v(name)); return min(max(i, 0), change.MaxMatrixSize) }
	var def change.RiskMatrixDefinition
	ns, nl := n("severities"), n("likelihoods")
	for i := range ns {
		def.Severities = append(def.Severities, change.RiskScale{Label: v("sev-" + strconv.Itoa(i) + "-label"), Help: v("sev-" + strconv.Itoa(i) + "-help")})
	}
	for j := range nl {
		def.Likelihoods = append(def.Likelihoods, change.RiskScale{Label: v("lik-" + strconv.Itoa(j) + "-label"), Help: v("lik-" + strconv.Itoa(j) + "-help")})
	}
	for i := range change.MaxRiskCategories {
		p := "cat-" + strconv.Itoa(i) + "-"
		if v(p+"label") != "" {
			def.Categories = append(def.Categories, change.RiskCategory{Key: v(p + "key"), Label: v(p + "label")})
		}
	}
	def.Stages = []change.ApprovalStageDef{}
	for i := range change.MaxApprovalStageDefs {
		p := "stage-" + strconv.Itoa(i) + "-"
		if v(p+"name") == "" {
			continue
		}
		st := change.ApprovalStageDef{Name: v(p + "name"), ApproverIDs: []int64{}}
		for _, id := range r.PostForm[p+"approvers"] {
			if n, err := strconv.ParseInt(id, 10, 64); err == nil {
				st.ApproverIDs = append(st.ApproverIDs, n)
			}
		}
		def.Stages = append(def.Stages, st)
	}
	for i, key := range change.RiskRankings {
		p := "lvl-" + strconv.Itoa(i) + "-"
		lv := change.RiskLevel{Key: key, Label: v(p + "label"), Colour: v(p + "colour"), RequiredStages: []string{}}
		for _, name := range r.PostForm[p+"stages"] {
			if slices.ContainsFunc(def.Stages, func(st change.ApprovalStageDef) bool { return st.Name == name }) {
				lv.RequiredStages = append(lv.RequiredStages, name)
			}
		}
		def.Levels = append(def.Levels, lv)
	}
	for i := range ns {
		row := make([]string, nl)
		for j := range nl {
			row[j] = v("cell-" + strconv.Itoa(i) + "-" + strconv.Itoa(j))
		}
		def.Cells = append(def.Cells, row)
	}
	return def
}

// matrixFieldPattern reads the domain's field names (severities[2].label,
// cells[1][3], stages[0].approver_ids) to map them to the form's ids.
var matrixFieldPattern = regexp.MustCompile(`^(severities|likelihoods|categories|levels|stages|cells)\[(\d+)\](?:\[(\d+)\]|\.(\w+))?$`)

// matrixErrorIDs maps each invalid field of err to its element id.
func matrixErrorIDs(err error) map[string]string {
	ids := map[string]string{}
	pe := problem.As(err)
	if pe == nil {
		return ids
	}
	prefix := map[string]string{"severities": "sev", "likelihoods": "lik", "categories": "cat", "levels": "lvl", "stages": "stage", "cells": "cell"}
	for _, fe := range append([]problem.FieldError{{Field: pe.Field}}, pe.Fields...) {
		m := matrixFieldPattern.FindStringSubmatch(fe.Field)
		if m == nil {
			continue
		}
		id := prefix[m[1]] + "-" + m[2]
		switch {
		case m[3] != "":
			id += "-" + m[3]
		case m[4] == "approver_ids":
			id += "-approvers"
		case m[4] == "required_stages":
			id += "-stages"
		case m[4] != "":
			id += "-" + m[4]
		}
		ids[fe.Field] = id
	}
	return ids
}

func (s *Server) renderRiskMatrix(w http.ResponseWriter, r *http.Request, status int, site *auth.Site, cur *change.RiskMatrix,
	def change.RiskMatrixDefinition, errs map[string]string, saved bool) {
	approvers, err := s.siteApprovers(r.Context(), site.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f := &riskMatrixForm{Site: *site, Current: cur, Def: def, Approvers: approvers, Levels: change.RiskRankings,
		Categories: slices.Clone(def.Categories), Stages: slices.Clone(def.Stages)}
	for len(f.Categories) < min(len(def.Categories)+2, change.MaxRiskCategories) {
		f.Categories = append(f.Categories, change.RiskCategory{})
	}
	for len(f.Stages) < min(len(def.Stages)+1, change.MaxApprovalStageDefs) {
		f.Stages = append(f.Stages, change.ApprovalStageDef{})
	}
	p := &Page{Title: "Risk matrix of " + site.Code, Data: f, Errors: errs}
	if saved {
		p.Flash = "Saved as version " + r.URL.Query().Get("saved") + ". Changes assessed before keep the version they were assessed on."
	}
	s.render(w, r, status, "admin_risk_matrix.html", p)
}

// siteApprovers are the enabled approvers of a site, by name.
func (s *Server) siteApprovers(ctx context.Context, siteID int64) ([]*auth.User, error) {
	all, err := auth.SiteUsers(ctx, s.DB.SQL, siteID)
	if err != nil {
		return nil, err
	}
	var out []*auth.User
	for _, u := range all {
		if u.Has(auth.RoleApprover) {
			out = append(out, u)
		}
	}
	slices.SortFunc(out, func(a, b *auth.User) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// apiGetRiskMatrix answers a site's current risk matrix, or ?version=N.
func (s *Server) apiGetRiskMatrix(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, withID, func(ctx context.Context, u *auth.User, id int64, _ noBody) (any, error) {
		v, err := queryVersion(r)
		if err != nil {
			return nil, err
		}
		return s.Changes.RiskMatrix(ctx, u, id, v)
	})
}

// apiSaveRiskMatrix saves the body as the site's next matrix version.
func (s *Server) apiSaveRiskMatrix(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, withID, func(ctx context.Context, u *auth.User, id int64, in change.RiskMatrixDefinition) (any, error) {
		return s.Changes.SaveRiskMatrix(ctx, u, id, in)
	})
}

// queryVersion reads ?version= (0 when absent: the current one).
func queryVersion(r *http.Request) (int, error) {
	q := r.URL.Query().Get("version")
	if q == "" {
		return 0, nil
	}
	v, err := strconv.Atoi(q)
	if err != nil || v < 1 {
		return 0, problem.Invalidf("version", "must be a version number (1, 2, ...), got %q", q)
	}
	return v, nil
}
