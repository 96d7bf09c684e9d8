package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
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
	if change.ErrorCode(err) == change.ENotFound {
		s.pageNotFound(w, r)
		return
	}
	if err != nil {
		s.serverFault(w, r, "load PSSR template", err)
		return
	}
	f := pssrTemplateForm{ID: t.ID, Name: t.Name, IsDefault: t.IsDefault, Action: fmt.Sprintf("/admin/pssr-templates/%d", t.ID)}
	for _, it := range t.Items {
		f.Items = append(f.Items, pssrItemRow{Text: it.Text, EvidenceRequired: it.EvidenceRequired})
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

// adminPSSRTemplateSave creates (POST /admin/pssr-templates) or replaces
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
		if text == "" {
			continue
		}
		f.Items = append(f.Items, pssrItemRow{Text: text, EvidenceRequired: ev})
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
		t.Items = append(t.Items, change.PSSRTemplateItem{Text: it.Text, EvidenceRequired: it.EvidenceRequired})
	}
	_, err := s.Changes.SavePSSRTemplate(r.Context(), u, t)
	if field, msg, ok := invalidField(err); ok {
		if field == "items" {
			msg = "Add at least one checklist item."
		}
		s.renderPSSRTemplate(w, r, http.StatusUnprocessableEntity, f, map[string]string{field: msg})
		return
	}
	if change.ErrorCode(err) == change.ENotFound {
		s.pageNotFound(w, r)
		return
	}
	if err != nil {
		s.serverFault(w, r, "save PSSR template", err)
		return
	}
	http.Redirect(w, r, "/admin/pssr-templates?saved=1", http.StatusSeeOther)
}

// reminderForm holds the form's raw values, so a bad entry is shown back
// as typed.
type reminderForm struct {
	PendingAfterDays, EscalateAfterDays, ActionDueSoonDays, ExpiryWarningDays, RunHourUTC string
	UpdatedAt                                                                             string
}

func (s *Server) pageEditReminders(w http.ResponseWriter, r *http.Request) {
	rs, err := s.Changes.ReminderSettings(r.Context())
	if err != nil {
		s.serverFault(w, r, "reminder settings", err)
		return
	}
	p := &Page{Title: "Reminders", Data: reminderFormOf(rs)}
	if r.URL.Query().Get("saved") != "" {
		p.Flash = "Reminder settings saved."
	}
	s.render(w, r, http.StatusOK, "admin_reminders.html", p)
}

func reminderFormOf(rs *change.ReminderSettings) reminderForm {
	var days []string
	for _, d := range rs.ExpiryWarningDays {
		days = append(days, strconv.Itoa(d))
	}
	f := reminderForm{PendingAfterDays: strconv.Itoa(rs.PendingAfterDays), EscalateAfterDays: strconv.Itoa(rs.EscalateAfterDays),
		ActionDueSoonDays: strconv.Itoa(rs.ActionDueSoonDays), ExpiryWarningDays: strings.Join(days, ", "), RunHourUTC: strconv.Itoa(rs.RunHourUTC)}
	if !rs.UpdatedAt.IsZero() {
		f.UpdatedAt = rs.UpdatedAt.UTC().Format("2006-01-02 15:04 UTC")
	}
	return f
}

func (s *Server) pageSaveReminders(w http.ResponseWriter, r *http.Request) {
	u := auth.UserFrom(r.Context())
	f := reminderForm{PendingAfterDays: r.PostFormValue("pending_after_days"), EscalateAfterDays: r.PostFormValue("escalate_after_days"),
		ActionDueSoonDays: r.PostFormValue("action_due_soon_days"), ExpiryWarningDays: r.PostFormValue("expiry_warning_days"),
		RunHourUTC: r.PostFormValue("run_hour_utc")}
	errs := map[string]string{}
	var rs change.ReminderSettings
	whole := func(field, label, v string, dst *int) {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			errs[field] = label + " must be a whole number."
			return
		}
		*dst = n
	}
	whole("pending_after_days", "Remind after", f.PendingAfterDays, &rs.PendingAfterDays)
	whole("escalate_after_days", "Escalate after", f.EscalateAfterDays, &rs.EscalateAfterDays)
	whole("action_due_soon_days", "Action due soon", f.ActionDueSoonDays, &rs.ActionDueSoonDays)
	whole("run_hour_utc", "Run at hour", f.RunHourUTC, &rs.RunHourUTC)
	rs.ExpiryWarningDays = []int{}
	for _, p := range strings.FieldsFunc(f.ExpiryWarningDays, func(c rune) bool { return c == ',' || c == ' ' || c == ';' }) {
		n, err := strconv.Atoi(p)
		if err != nil {
			errs["expiry_warning_days"] = fmt.Sprintf("Expiry warnings must be whole numbers of days separated by commas, like 30, 14, 7 (%q is not).", p)
			break
		}
		rs.ExpiryWarningDays = append(rs.ExpiryWarningDays, n)
	}
	if len(errs) == 0 {
		_, err := s.Changes.UpdateReminderSettings(r.Context(), u, rs)
		if field, msg, ok := invalidField(err); ok {
			errs[field] = msg
		} else if err != nil {
			s.serverFault(w, r, "save reminder settings", err)
			return
		}
	}
	if len(errs) > 0 {
		s.render(w, r, http.StatusUnprocessableEntity, "admin_reminders.html", &Page{Title: "Reminders", Errors: errs, Data: f})
		return
	}
	http.Redirect(w, r, "/admin/reminders?saved=1", http.StatusSeeOther)
}

type unitsSite struct {
	ID      int64
	Code    string
	Name    string
	Retired bool
	Units   []change.Unit
}

type unitsData struct {
	Sites []unitsSite
	// The form's values.
	SiteID     string
	Code, Name string
	SiteOpts   []option
}

func (s *Server) pageListUnits(w http.ResponseWriter, r *http.Request) {
	flash := ""
	if c := r.URL.Query().Get("created"); c != "" {
		flash = "Unit " + c + " added."
	}
	s.renderUnits(w, r, http.StatusOK, unitsData{SiteID: r.URL.Query().Get("site")}, nil, flash)
}

func (s *Server) renderUnits(w http.ResponseWriter, r *http.Request, status int, d unitsData, errs map[string]string, flash string) {
	u := auth.UserFrom(r.Context())
	sites, err := auth.ListSites(r.Context(), s.DB.SQL)
	if err != nil {
		s.serverFault(w, r, "list sites", err)
		return
	}
	units, err := s.Changes.Units(r.Context(), u, 0)
	if err != nil {
		s.serverFault(w, r, "list units", err)
		return
	}
	d.SiteOpts = []option{{Label: "Choose a site", Selected: d.SiteID == ""}}
	for _, st := range sites {
		if !u.OnSite(st.ID) {
			continue
		}
		us := unitsSite{ID: st.ID, Code: st.Code, Name: st.Name, Retired: st.Retired()}
		for _, un := range units {
			if un.SiteID == st.ID {
				us.Units = append(us.Units, un)
			}
		}
		d.Sites = append(d.Sites, us)
		v := strconv.FormatInt(st.ID, 10)
		if st.Retired() && v != d.SiteID {
			continue // a retired site takes no new units
		}
		d.SiteOpts = append(d.SiteOpts, option{v, st.Code + " – " + st.Name, v == d.SiteID})
	}
	s.render(w, r, status, "admin_units.html", &Page{Title: "Units", Errors: errs, ErrorOrder: unitOrder, Flash: flash, Data: d})
}

// unitLabels are the unit form's words for the domain's field names.
var unitLabels = map[string]string{"site_id": "Site", "code": "Code", "name": "Name"}

// unitOrder is the unit form's fields top to bottom, for the summary.
var unitOrder = []string{"site_id", "code", "name"}

func (s *Server) pageCreateUnit(w http.ResponseWriter, r *http.Request) {
	u := auth.UserFrom(r.Context())
	d := unitsData{SiteID: r.PostFormValue("site_id"), Code: r.PostFormValue("code"), Name: r.PostFormValue("name")}
	// No site chosen reaches the domain as 0, which reports it together
	// with the code and name: every problem at once.
	siteID, _ := strconv.ParseInt(d.SiteID, 10, 64)
	un, err := s.Changes.CreateUnit(r.Context(), u, max(siteID, 0), d.Code, d.Name)
	if errs, ok := invalidFields(err, unitLabels); ok {
		// 400 like the other administration and account forms (sites,
		// users); the API answers 422 for the same input.
		s.renderUnits(w, r, http.StatusBadRequest, d, errs, "")
		return
	}
	if err != nil {
		s.serverFault(w, r, "create unit", err)
		return
	}
	http.Redirect(w, r, "/admin/units?"+url.Values{"site": {d.SiteID}, "created": {un.SiteCode + " " + un.Code}}.Encode(), http.StatusSeeOther)
}
