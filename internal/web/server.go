// Package web serves mocpcr over HTTP: the HTML pages, the JSON API under
// /api/v1 and the health endpoints. Handlers parse, ask auth what the
// user may do, call the domain packages and render; no domain rule lives
// here.
package web

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/mocpcr/mocpcr/internal/config"
	"github.com/mocpcr/mocpcr/internal/store"
)

// Server holds the handlers' dependencies.
type Server struct {
	Config *config.Config
	DB     *store.DB
	Logger *slog.Logger
	// Now is the clock; tests replace it.
	Now func() time.Time

	mux *http.ServeMux
}

// New builds the server and registers every route.
func New(cfg *config.Config, db *store.DB, logger *slog.Logger) *Server {
	s := &Server{Config: cfg, DB: db, Logger: logger, Now: time.Now, mux: http.NewServeMux()}
	s.routes()
	return s
}

// Handler is the complete HTTP handler with middleware applied.
func (s *Server) Handler() http.Handler {
	return s.withRequestID(s.withLogging(s.withRecover(s.withUser(s.mux))))
}

// routes registers every route. Each area registers its own in its own
// file so that the route table stays readable.
func (s *Server) routes() {
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /readyz", s.readyz)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

// readyz is 200 only when the database answers and every migration is
// applied, so a load balancer never routes to a replica that cannot work.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
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
