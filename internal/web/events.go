package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/notify"
)

// liveEvent is the data of one server-sent "notification" event.
type liveEvent struct {
	Unread       int                  `json:"unread"`
	Notification *notify.Notification `json:"notification,omitempty"`
}

// serveEvents streams the user's new notifications and unread count as
// server-sent events. The browser's EventSource reconnects on its own and
// sends Last-Event-ID, so nothing committed meanwhile is missed.
func (s *Server) serveEvents(w http.ResponseWriter, r *http.Request) {
	u := auth.UserFrom(r.Context())
	rc := http.NewResponseController(w)
	ctx := r.Context()
	// Subscribe before reading the starting point, so nothing committed
	// in between is missed.
	var sub *notify.Subscription
	if s.notify.Hub != nil {
		sub = s.notify.Hub.Subscribe(u.ID)
		defer sub.Close()
	}
	last, err := strconv.ParseInt(r.Header.Get("Last-Event-ID"), 10, 64)
	if err != nil || last < 0 {
		if last, err = notify.LatestID(ctx, s.DB.SQL, u.ID); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	// The stream lives longer than the server's read and write timeouts:
	// no read deadline (a request body is not expected), and a write
	// deadline renewed before each write, so a client that stops reading
	// is dropped after one missed heartbeat instead of holding a
	// goroutine forever.
	_ = rc.SetReadDeadline(time.Time{})
	heartbeatEvery := s.streamHeartbeat()
	renew := func() { _ = rc.SetWriteDeadline(time.Now().Add(2 * heartbeatEvery)) }
	renew()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 3000\n\n")

	send := func() error {
		renew()
		items, err := notify.Since(ctx, s.DB.SQL, u.ID, last)
		if err != nil {
			return err
		}
		unread, err := notify.UnreadCount(ctx, s.DB.SQL, u.ID)
		if err != nil {
			return err
		}
		if len(items) == 0 {
			b, _ := json.Marshal(liveEvent{Unread: unread})
			fmt.Fprintf(w, "event: unread\ndata: %s\n\n", b)
		}
		for i := range items {
			last = items[i].ID
			b, _ := json.Marshal(liveEvent{Unread: unread, Notification: &items[i]})
			fmt.Fprintf(w, "id: %d\nevent: notification\ndata: %s\n\n", last, b)
		}
		return rc.Flush()
	}
	if err := send(); err != nil {
		return
	}
	heartbeat := time.NewTicker(heartbeatEvery)
	defer heartbeat.Stop()
	var signals <-chan struct{}
	if sub != nil {
		signals = sub.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.streamsClosed:
			// The server is shutting down; the browser's EventSource
			// reconnects on its own, to this process when it is back or to
			// another replica.
			return
		case <-heartbeat.C:
			renew()
			fmt.Fprint(w, ": keep-alive\n\n")
			if rc.Flush() != nil {
				return
			}
		case <-signals:
			if err := send(); err != nil {
				return
			}
		}
	}
}

// sseHeartbeat keeps proxies from closing an idle stream.
const sseHeartbeat = 25 * time.Second

func (s *Server) streamHeartbeat() time.Duration {
	if s.StreamHeartbeat > 0 {
		return s.StreamHeartbeat
	}
	return sseHeartbeat
}
