package web

import (
	"embed"
	"net/http"
)

//go:embed static
var staticFiles embed.FS

// serveStatic serves the embedded CSS, JavaScript and images.
func (s *Server) serveStatic(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=3600")
	s.static.ServeHTTP(w, r)
}
