package web

// authRoutes registers the routes for sign-in, sessions, accounts, API tokens and user/site administration.
func (s *Server) authRoutes() {}
