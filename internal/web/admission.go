package web

import (
	"net/http"
	"runtime"
	"strings"
	"sync"
)

// readGateSize is how many page and API reads run at once; the rest wait
// in arrival order. Past a few per core, more concurrent reads only add
// contention (SQLite's page-cache mutex, database/sql's pool, which wakes
// waiters in random order, and garbage held by half-done requests): with 50
// clients on 2 cores the slowest 1% waited five times the median.
func readGateSize() int {
	return max(8, 4*runtime.GOMAXPROCS(0))
}

// withReadGate admits GET and HEAD requests through a FIFO gate (blocked
// channel senders are served in order). Writes are not gated (a slow
// upload must not hold a read's place), nor are the live event stream,
// health probes and static files. A request leaves the gate when it
// starts sending its body: the gate bounds the work of answering, not the
// time a client takes to read the answer, so clients that read slowly or
// not at all (a stalled download) cannot hold every place.
func (s *Server) withReadGate(next http.Handler) http.Handler {
	gate := make(chan struct{}, readGateSize())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if (r.Method != http.MethodGet && r.Method != http.MethodHead) || ungated(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		select {
		case gate <- struct{}{}:
		case <-r.Context().Done():
			return // the client left while waiting
		}
		gw := &gatedWriter{ResponseWriter: w, leave: func() { <-gate }}
		defer gw.release()
		next.ServeHTTP(gw, r)
	})
}

// gatedWriter gives up its request's place in the read gate at the first
// write of the body, which may block on the client.
type gatedWriter struct {
	http.ResponseWriter
	leave func()
	once  sync.Once
}

func (g *gatedWriter) release() { g.once.Do(g.leave) }

func (g *gatedWriter) Write(b []byte) (int, error) {
	g.release()
	return g.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (deadlines,
// flushing) through the gate.
func (g *gatedWriter) Unwrap() http.ResponseWriter { return g.ResponseWriter }

func ungated(path string) bool {
	return path == "/events" || path == "/healthz" || path == "/readyz" || strings.HasPrefix(path, "/static/")
}
