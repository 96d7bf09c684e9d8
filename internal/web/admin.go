package web

import "net/http"

// pageShowAdmin links to every administration page; other areas own the
// pages behind the email, mailbox, template and reminder links.
func (s *Server) pageShowAdmin(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "admin.html", &Page{Title: "Administration"})
}
