package web

import (
	"net/http"
	"strings"
)

// isAPI reports whether r is a JSON API call, answered in JSON.
func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }

// refuse answers an error in the caller's language: JSON for the API, a
// page otherwise.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, status int, msg string) {
	if isAPI(r) {
		writeJSONError(w, r, status, msg)
		return
	}
	s.render(w, r, status, "message.html", &Page{Title: http.StatusText(status), Data: msg})
}
