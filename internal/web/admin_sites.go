package web

import (
	"context"
	"net/http"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/problem"
)

type adminSitesData struct {
	Sites      []auth.Site
	Code, Name string
}

func (s *Server) pageListSites(w http.ResponseWriter, r *http.Request) {
	s.renderSites(w, r, http.StatusOK, adminSitesData{}, nil, r.URL.Query().Get("created") != "")
}

func (s *Server) renderSites(w http.ResponseWriter, r *http.Request, status int, d adminSitesData, errs map[string]string, created bool) {
	var err error
	if d.Sites, err = scopedSites(r.Context(), s.DB, auth.UserFrom(r.Context())); err != nil {
		s.serverFault(w, r, "list sites", err)
		return
	}
	p := &Page{Title: "Sites", Data: d, Errors: errs, ErrorOrder: []string{"code", "name"}}
	if created {
		p.Flash = "Site created."
	}
	s.render(w, r, status, "admin_sites.html", p)
}

func (s *Server) pageCreateSite(w http.ResponseWriter, r *http.Request) {
	if !auth.UserFrom(r.Context()).ManagesAllSites() {
		s.fail(w, r, errOnlyAllSitesAdmins)
		return
	}
	d := adminSitesData{Code: r.PostFormValue("code"), Name: r.PostFormValue("name")}
	// Every problem at once, before CreateSite stops at the first.
	if p := auth.SiteProblems(d.Code, d.Name); len(p) > 0 {
		errs := map[string]string{}
		for field, msg := range p {
			errs[field] = sentence(msg)
		}
		s.renderSites(w, r, http.StatusBadRequest, d, errs, false)
		return
	}
	_, err := auth.AddSite(r.Context(), s.DB, d.Code, d.Name)
	if field, msg, ok := invalidField(err); ok {
		s.renderSites(w, r, http.StatusBadRequest, d, map[string]string{field: msg}, false)
		return
	}
	if err != nil {
		s.serverFault(w, r, "create site", err)
		return
	}
	http.Redirect(w, r, "/admin/sites?created=1", http.StatusSeeOther)
}

func (s *Server) pageEditSite(w http.ResponseWriter, r *http.Request) {
	id, ok := s.pathPlaceID(w, r)
	if !ok {
		return
	}
	site, err := auth.SiteByID(r.Context(), s.DB.SQL, id)
	if err != nil || !auth.UserFrom(r.Context()).ManagesSite(id) {
		s.fail(w, r, errNotHere)
		return
	}
	f := placeForm{ID: id, Code: site.Code, Name: site.Name, Retired: site.Retired()}
	s.renderPlace(w, r, http.StatusOK, f, site.Code, nil, r.URL.Query().Get("saved") != "", "site")
}

func (s *Server) pageSaveSite(w http.ResponseWriter, r *http.Request) {
	s.savePlace(w, r, "site", func(ctx context.Context, u *auth.User, id int64, up change.PlaceUpdate) (string, bool, error) {
		site, err := s.Changes.UpdateSite(ctx, u, id, up)
		if err != nil {
			return "", false, err
		}
		return site.Code, site.Retired(), nil
	})
}

// errOnlyAllSitesAdmins refuses a site admin what reaches every site.
var errOnlyAllSitesAdmins = problem.New(problem.Forbidden, "Only an administrator of all sites can add sites.")
