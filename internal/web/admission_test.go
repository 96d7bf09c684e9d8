package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
)

func TestReadGateBoundsConcurrentReadsOnly(t *testing.T) {
	n := readGateSize()
	var running, peak atomic.Int32
	release := make(chan struct{})
	entered := make(chan string, 4*n)
	h := (&Server{}).withReadGate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur := running.Add(1)
		for {
			p := peak.Load()
			if cur <= p || peak.CompareAndSwap(p, cur) {
				break
			}
		}
		entered <- r.Method + " " + r.URL.Path
		<-release
		running.Add(-1)
	}))
	var wg sync.WaitGroup
	serve := func(method, path string) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(method, path, nil))
		}()
	}
	for range 2 * n {
		serve("GET", "/changes")
	}
	for range n {
		<-entered // the first n reads get in
	}
	// Writes, the event stream and probes are not held behind the reads.
	serve("POST", "/changes/new")
	serve("GET", "/events")
	serve("GET", "/healthz")
	got := map[string]bool{}
	for range 3 {
		got[<-entered] = true
	}
	for _, want := range []string{"POST /changes/new", "GET /events", "GET /healthz"} {
		if !got[want] {
			t.Errorf("%s did not pass the full gate (got %v)", want, got)
		}
	}
	if r := running.Load(); r != int32(n)+3 {
		t.Errorf("%d handlers running, want %d reads + 3 ungated", r, n)
	}
	close(release)
	wg.Wait()
	if p := peak.Load(); p != int32(n)+3 {
		t.Errorf("peak concurrency %d, want %d", p, n+3)
	}
}

func TestReadGateLetsAWaitingClientLeave(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{})
	var canceledRan atomic.Bool
	h := (&Server{}).withReadGate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Context().Err() != nil {
			canceledRan.Store(true) // got past a full gate
			return
		}
		entered <- struct{}{}
		<-release
	}))
	var wg sync.WaitGroup
	for range readGateSize() {
		wg.Add(1)
		go func() { defer wg.Done(); h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil)) }()
	}
	for range readGateSize() {
		<-entered // the gate is full
	}
	req := httptest.NewRequest("GET", "/", nil)
	ctx, cancel := contextWithCancel(req)
	cancel()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req.WithContext(ctx)) // must return although the gate is full
	if canceledRan.Load() {
		t.Error("a request ran although the gate was full")
	}
	close(release)
	wg.Wait()
}

func contextWithCancel(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithCancel(r.Context())
}
