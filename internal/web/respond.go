package web

import (
	"net/http"
	"strings"
)

// isAPI reports whether r is a JSON API call, answered in JSON.
func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }

// renderMessage answers with a page that says msg (fail's pages).
func (s *Server) renderMessage(w http.ResponseWriter, r *http.Request, status int, msg string) {
	s.render(w, r, status, "message.html", &Page{Title: http.StatusText(status), Data: msg})
}
