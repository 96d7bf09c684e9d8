package web

// changeRoutes registers the routes for changes (MOC and PCR): pages and the JSON API.
func (s *Server) changeRoutes() {}
