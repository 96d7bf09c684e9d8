package graph_test

import (
	"net"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/mail/graph"
)

// A request that reached Graph and got no answer in time may have been
// accepted: the error says so, and Graph did receive it. A request that
// never left (nothing listens) is not marked: sending it again cannot
// duplicate anything.
func TestTimeoutAfterTheRequestWasSentMayHaveBeenDelivered(t *testing.T) {
	f := newFixture(t, func(c *graph.Config) { c.RequestTimeout = 300 * time.Millisecond })
	f.mustSend(t) // the token, so that the timeout falls on sendMail
	f.srv.SetLatency(2 * time.Second)
	e := mustMailError(t, func() error { _, err := f.send(t); return err }())
	if e.Code != "timeout" || !e.MaybeDelivered || !e.Retryable {
		t.Errorf("error = %+v, want a retryable timeout that may have been delivered", e)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	g := newFixture(t, func(c *graph.Config) { c.GraphEndpoint = closed; c.AuthorityHost = f.srv.URL })
	f.srv.AcceptResource(closed) // the token comes from f's Entra ID
	e = mustMailError(t, func() error { _, err := g.send(t); return err }())
	if e.Code != "network_error" || e.MaybeDelivered {
		t.Errorf("a request nobody received is marked maybe delivered: %+v", e)
	}
}
