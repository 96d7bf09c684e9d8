package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/problem"
)

func (s *Server) pageEditUnit(w http.ResponseWriter, r *http.Request) {
	id, ok := s.pathPlaceID(w, r)
	if !ok {
		return
	}
	un, err := s.Changes.UnitByID(r.Context(), id)
	if err == nil && !auth.UserFrom(r.Context()).ManagesSite(un.SiteID) {
		err = problem.Newf(problem.NotFound, "no unit %d", id)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f := placeForm{ID: id, Code: un.Code, Name: un.Name, Retired: un.Retired(), SiteCode: un.SiteCode}
	s.renderPlace(w, r, http.StatusOK, f, un.SiteCode+" · "+un.Code, nil, r.URL.Query().Get("saved") != "", "unit")
}

func (s *Server) pageSaveUnit(w http.ResponseWriter, r *http.Request) {
	s.savePlace(w, r, "unit", func(ctx context.Context, u *auth.User, id int64, up change.PlaceUpdate) (string, bool, error) {
		un, err := s.Changes.UpdateUnit(ctx, u, id, up)
		if err != nil {
			return "", false, err
		}
		return un.Code, un.Retired(), nil
	})
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
	sites, err := scopedSites(r.Context(), s.DB, u)
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
