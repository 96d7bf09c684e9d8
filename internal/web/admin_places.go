package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/problem"
)

// Editing and retiring sites and units (admin). The rules (a code that
// changes show cannot change; retired places take no new changes) are
// change.Service's; these pages and API calls only carry them.

// placeForm is the edit form of a site or unit.
type placeForm struct {
	ID               int64
	Code, Name       string
	Retired          bool
	SiteCode         string // a unit's site
	Changes          int
	HeadingCode      string
	Kind, Action, Up string // "site"/"unit", the form's action, the list page
}

// placeFields maps the domain's field names to the form's elements.
var placeFields = map[string]string{"code": "code", "name": "name"}

func readPlaceForm(r *http.Request) (placeForm, change.PlaceUpdate) {
	f := placeForm{Code: strings.TrimSpace(r.PostFormValue("code")), Name: strings.TrimSpace(r.PostFormValue("name")),
		Retired: r.PostFormValue("retired") == "on"}
	return f, change.PlaceUpdate{Code: &f.Code, Name: &f.Name, Retired: &f.Retired}
}

func (s *Server) pathPlaceID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		s.fail(w, r, errNotHere)
		return 0, false
	}
	return id, true
}

// savePlace is the save of a site's or a unit's edit form: kind is "site"
// or "unit", update the domain call, which reports the saved code and
// whether the place is now retired.
func (s *Server) savePlace(w http.ResponseWriter, r *http.Request, kind string,
	update func(context.Context, *auth.User, int64, change.PlaceUpdate) (code string, retired bool, err error)) {
	u := auth.UserFrom(r.Context())
	id, ok := s.pathPlaceID(w, r)
	if !ok {
		return
	}
	f, up := readPlaceForm(r)
	f.ID = id
	code, retired, err := update(r.Context(), u, id, up)
	if s.placeFailed(w, r, err, f, kind) {
		return
	}
	s.Logger.InfoContext(r.Context(), kind+" updated", kind+"_id", id, "code", code, "retired", retired, "by", u.ID)
	http.Redirect(w, r, "/admin/"+kind+"s/"+strconv.FormatInt(id, 10)+"?saved=1", http.StatusSeeOther)
}

// placeFailed answers a failed save: the form again with the error beside
// its field and what was typed, or an error page. It reports whether it
// answered.
func (s *Server) placeFailed(w http.ResponseWriter, r *http.Request, err error, f placeForm, kind string) bool {
	if err == nil {
		return false
	}
	if problem.KindOf(err) != problem.Invalid {
		s.fail(w, r, err)
		return true
	}
	heading := f.Code
	if kind == "unit" {
		if un, lerr := s.Changes.UnitByID(r.Context(), f.ID); lerr == nil {
			f.SiteCode, heading = un.SiteCode, un.SiteCode+" · "+un.Code
		}
	} else if site, lerr := auth.SiteByID(r.Context(), s.DB.SQL, f.ID); lerr == nil {
		heading = site.Code
	}
	s.renderPlace(w, r, http.StatusBadRequest, f, heading, formErrors(err, "place-form", placeFields), false, kind)
	return true
}

func (s *Server) renderPlace(w http.ResponseWriter, r *http.Request, status int, f placeForm, heading string, errs map[string]string, saved bool, kind string) {
	f.HeadingCode, f.Kind = heading, kind
	f.Action = "/admin/" + kind + "s/" + strconv.FormatInt(f.ID, 10)
	f.Up = "/admin/" + kind + "s"
	n, err := s.Changes.CountChangesAt(r.Context(), kind, f.ID)
	if err != nil {
		s.serverFault(w, r, "count changes", err)
		return
	}
	f.Changes = n
	p := &Page{Title: "Edit " + kind + " " + heading, Data: f, Errors: errs}
	if saved {
		p.Flash = "Saved."
	}
	s.render(w, r, status, "admin_place_edit.html", p)
}
