package web

// opsRoutes registers the routes for operations: metrics, dashboard and other cross-cutting pages.
func (s *Server) opsRoutes() {}
