package web

import (
	"context"
	"net/http"
	"time"
)

func (s *Server) serveHealthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

// serveReadyz is 200 only when the database answers and every migration is
// applied, so a load balancer never routes to a replica that cannot work.
func (s *Server) serveReadyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := s.DB.SQL.PingContext(ctx); err != nil {
		s.Logger.WarnContext(ctx, "readiness: database unreachable", "err", err)
		http.Error(w, "database unreachable", http.StatusServiceUnavailable)
		return
	}
	pending, err := s.DB.Pending(ctx)
	if err != nil || pending > 0 {
		http.Error(w, "database migrations not applied", http.StatusServiceUnavailable)
		return
	}
	w.Write([]byte("ready\n"))
}
