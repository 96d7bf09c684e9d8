package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/problem"
)

// blankItemRows are the empty checklist rows offered under a template's
// items, so items can be added without JavaScript.
const blankItemRows = 3

// maxItemRows bounds a posted checklist.
const maxItemRows = 200

type pssrItemRow struct {
	// Index numbers the form fields; N is the row number people read.
	Index, N         int
	Text             string
	EvidenceRequired bool
	// Section groups the item on a walkdown (empty: the one section).
	Section string
}

type pssrTemplateForm struct {
	ID        int64
	Name      string
	IsDefault bool
	Items     []pssrItemRow
	// Action is where the form posts.
	Action string
}

type pssrTemplateRow struct {
	change.PSSRTemplate
	// NeedEvidence counts the items that require evidence.
	NeedEvidence int
}

type pssrTemplatesData struct {
	Templates []pssrTemplateRow
}

func (s *Server) pageListPSSRTemplates(w http.ResponseWriter, r *http.Request) {
	ts, err := s.Changes.PSSRTemplates(r.Context())
	if err != nil {
		s.serverFault(w, r, "list PSSR templates", err)
		return
	}
	var d pssrTemplatesData
	for _, t := range ts {
		row := pssrTemplateRow{PSSRTemplate: t}
		for _, it := range t.Items {
			if it.EvidenceRequired {
				row.NeedEvidence++
			}
		}
		d.Templates = append(d.Templates, row)
	}
	p := &Page{Title: "PSSR templates", Data: d}
	if r.URL.Query().Get("saved") != "" {
		p.Flash = "Template saved."
	}
	s.render(w, r, http.StatusOK, "admin_pssr.html", p)
}

func (s *Server) pageNewPSSRTemplate(w http.ResponseWriter, r *http.Request) {
	s.renderPSSRTemplate(w, r, http.StatusOK, pssrTemplateForm{Action: "/admin/pssr-templates"}, nil)
}

func (s *Server) pageEditPSSRTemplate(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.pageNotFound(w, r)
		return
	}
	t, err := s.Changes.PSSRTemplate(r.Context(), id)
	if problem.KindOf(err) == problem.NotFound {
		s.pageNotFound(w, r)
		return
	}
	if err != nil {
		s.serverFault(w, r, "load PSSR template", err)
		return
	}
	f := pssrTemplateForm{ID: t.ID, Name: t.Name, IsDefault: t.IsDefault, Action: fmt.Sprintf("/admin/pssr-templates/%d", t.ID)}
	for _, it := range t.Items {
		f.Items = append(f.Items, pssrItemRow{Text: it.Text, EvidenceRequired: it.EvidenceRequired, Section: it.Section})
	}
	s.renderPSSRTemplate(w, r, http.StatusOK, f, nil)
}

// renderPSSRTemplate shows the edit form with blank rows appended.
func (s *Server) renderPSSRTemplate(w http.ResponseWriter, r *http.Request, status int, f pssrTemplateForm, errs map[string]string) {
	for range blankItemRows {
		f.Items = append(f.Items, pssrItemRow{})
	}
	for i := range f.Items {
		f.Items[i].Index, f.Items[i].N = i, i+1
	}
	t := "New PSSR template"
	if f.ID != 0 {
		t = "Edit PSSR template"
	}
	s.render(w, r, status, "admin_pssr_edit.html", &Page{Title: t, Errors: errs, Data: f})
}

// pageSavePSSRTemplate creates (POST /admin/pssr-templates) or replaces
// (POST /admin/pssr-templates/{id}) a template. Rows left blank are
// dropped; "more" asks for more blank rows without saving.
func (s *Server) pageSavePSSRTemplate(w http.ResponseWriter, r *http.Request) {
	u := auth.UserFrom(r.Context())
	f := pssrTemplateForm{Name: r.PostFormValue("name"), IsDefault: r.PostFormValue("is_default") != "", Action: "/admin/pssr-templates"}
	if v := r.PathValue("id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			s.pageNotFound(w, r)
			return
		}
		f.ID, f.Action = id, "/admin/pssr-templates/"+v
	}
	rows, _ := strconv.Atoi(r.PostFormValue("rows"))
	rows = min(max(rows, 0), maxItemRows)
	for i := range rows {
		text := strings.TrimSpace(r.PostFormValue(fmt.Sprintf("item_%d_text", i)))
		ev := r.PostFormValue(fmt.Sprintf("item_%d_evidence", i)) != ""
		sec := strings.TrimSpace(r.PostFormValue(fmt.Sprintf("item_%d_section", i)))
		if text == "" {
			continue
		}
		f.Items = append(f.Items, pssrItemRow{Text: text, EvidenceRequired: ev, Section: sec})
	}
	if r.PostFormValue("more") != "" {
		for range 5 {
			f.Items = append(f.Items, pssrItemRow{})
		}
		s.renderPSSRTemplate(w, r, http.StatusOK, f, nil)
		return
	}
	t := change.PSSRTemplate{ID: f.ID, Name: f.Name, IsDefault: f.IsDefault}
	for _, it := range f.Items {
		t.Items = append(t.Items, change.PSSRTemplateItem{Text: it.Text, EvidenceRequired: it.EvidenceRequired, Section: it.Section})
	}
	_, err := s.Changes.SavePSSRTemplate(r.Context(), u, t)
	if field, msg, ok := invalidField(err); ok {
		if field == "items" {
			msg = "Add at least one checklist item."
		}
		s.renderPSSRTemplate(w, r, http.StatusUnprocessableEntity, f, map[string]string{field: msg})
		return
	}
	if problem.KindOf(err) == problem.NotFound {
		s.pageNotFound(w, r)
		return
	}
	if err != nil {
		s.serverFault(w, r, "save PSSR template", err)
		return
	}
	http.Redirect(w, r, "/admin/pssr-templates?saved=1", http.StatusSeeOther)
}
