package web

import (
	"context"
	"net/http"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
)

func (s *Server) apiUpdateSite(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, withID, func(ctx context.Context, u *auth.User, id int64, in change.PlaceUpdate) (any, error) {
		return s.Changes.UpdateSite(ctx, u, id, in)
	})
}

// apiGetSiteSettings answers a site's change-control settings (time
// zone, temporary-change limits) to anyone who works on the site.
func (s *Server) apiGetSiteSettings(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, withID, func(ctx context.Context, u *auth.User, id int64, _ noBody) (any, error) {
		return s.Changes.SiteSettings(ctx, u, id)
	})
}

// apiUpdateSiteSettings changes the fields given; absent ones stay.
func (s *Server) apiUpdateSiteSettings(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, withID, func(ctx context.Context, u *auth.User, id int64, in change.SiteSettingsUpdate) (any, error) {
		return s.Changes.UpdateSiteSettings(ctx, u, id, in)
	})
}

func (s *Server) apiListSites(w http.ResponseWriter, r *http.Request) {
	sites, err := auth.ListSites(r.Context(), s.DB.SQL)
	if err != nil {
		s.serverFault(w, r, "list sites", err)
		return
	}
	if sites == nil {
		sites = []auth.Site{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"sites": sites})
}

func (s *Server) apiCreateSite(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Code string `json:"code"`
		Name string `json:"name"`
	}
	if !auth.UserFrom(r.Context()).ManagesAllSites() {
		s.fail(w, r, errOnlyAllSitesAdmins)
		return
	}
	if !decodeBody(w, r, &in) {
		return
	}
	site, err := auth.AddSite(r.Context(), s.DB, in.Code, in.Name)
	if err != nil {
		s.serverFault(w, r, "create site", err)
		return
	}
	writeJSON(w, http.StatusCreated, site)
}
