package web

import "net/http"

// HandleForTest registers an extra route, for tests that need a handler
// calling unexported helpers.
func (s *Server) HandleForTest(pattern string, h http.HandlerFunc) { s.mux.HandleFunc(pattern, h) }

// VerifyReauth exposes verifyReauth to the external tests.
func (s *Server) VerifyReauth(r *http.Request, password, returnTo string) error {
	return s.verifyReauth(r, password, returnTo)
}

// ReauthURL returns the redirect of a *ReauthRequired error, or "".
func ReauthURL(err error) string {
	if rr, ok := err.(*ReauthRequired); ok {
		return rr.URL
	}
	return ""
}
