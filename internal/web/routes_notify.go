package web

// notifyRoutes registers the routes for the notification inbox, live updates, email preferences, the delivery log and email administration.
func (s *Server) notifyRoutes() {}
