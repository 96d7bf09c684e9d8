package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/problem"
)

// pageLinkChange links a related change (form f-link: kind, linked_change).
func (s *Server) pageLinkChange(w http.ResponseWriter, r *http.Request) {
	u, d := s.loadChangePage(w, r)
	if d == nil {
		return
	}
	kind := change.LinkKind(r.PostFormValue("kind"))
	other := r.PostFormValue("linked_change")
	if _, err := s.Changes.LinkChange(r.Context(), u, d.Change.ID, kind, other); err != nil {
		s.failChange(w, r, u, d, err, "f-link", map[string]string{"linked_change": "link-change", "kind": "link-kind"},
			map[string]string{"link-change": strings.TrimSpace(other), "link-kind": string(kind)})
		return
	}
	redirectChange(w, r, d.Change.Number, "linked", "links")
}

// pageUnlinkChange removes one link of the change.
func (s *Server) pageUnlinkChange(w http.ResponseWriter, r *http.Request) {
	u, d := s.loadChangePage(w, r)
	if d == nil {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("lid"), 10, 64)
	if err != nil || id <= 0 {
		s.fail(w, r, problem.Newf(problem.NotFound, "%s has no link %q", d.Change.Number, r.PathValue("lid")))
		return
	}
	if err := s.Changes.UnlinkChange(r.Context(), u, d.Change.ID, id); err != nil {
		s.failChange(w, r, u, d, err, "f-link", nil, nil)
		return
	}
	redirectChange(w, r, d.Change.Number, "unlinked", "links")
}
