package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/jobs"
	"github.com/mocpcr/mocpcr/internal/mail/graph"
	"github.com/mocpcr/mocpcr/internal/mail/graphtest"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// benchDelivery queues b.N emails and measures until all are sent; the
// reported emails/s is the throughput of the whole pipeline (queue, claim,
// send under the mailbox limit, record).
func benchDelivery(b *testing.B, d store.Dialect, provider func(b *testing.B) any) {
	db := storetest.Open(b, d)
	var q *jobs.Queue
	opt := jobs.Options{Sender: "bench@example.com", PollInterval: 50 * time.Millisecond}
	var gf *graphFake
	switch p := provider(b).(type) {
	case *fakeProvider:
		opt.Provider = p
	case *graphFake:
		opt.Provider, gf = p.client, p
	}
	q, err := jobs.New(context.Background(), db, opt)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { q.Stop(context.Background()); q.Close() })
	for range b.N {
		if _, err := q.EnqueueEmail(context.Background(), jobs.OutgoingEmail{To: addr("x@example.com"), Subject: "s", HTMLBody: "<p>x</p>"}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	start := time.Now()
	q.Start(context.Background())
	for {
		var n int
		db.SQL.QueryRow(`SELECT count(*) FROM email_messages WHERE status = 'sent'`).Scan(&n)
		if n == b.N {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "emails/s")
	if gf != nil {
		// The figures: token requests for the whole run (one per
		// process is the rule) and the most sendMail requests Graph saw
		// at once (the mailbox allows 4).
		b.ReportMetric(float64(gf.srv.TokenRequests()), "token-requests")
		b.ReportMetric(float64(gf.srv.MaxInFlight()), "max-in-flight")
	}
}

// graphFake is the real Graph client and the fake it talks to.
type graphFake struct {
	client *graph.Client
	srv    *graphtest.Server
}

func fake50ms(b *testing.B) any {
	f := newFake()
	f.latency = 50 * time.Millisecond
	return f
}

func graphFake50ms(b *testing.B) any {
	srv := graphtest.New()
	b.Cleanup(srv.Close)
	srv.SetLatency(50 * time.Millisecond)
	c, err := graph.New(graph.Config{TenantID: graphtest.TenantID, ClientID: graphtest.ClientID, ClientSecret: graphtest.ClientSecret,
		Sender: graphtest.Sender, AuthorityHost: srv.URL, GraphEndpoint: srv.URL})
	if err != nil {
		b.Fatal(err)
	}
	return &graphFake{client: c, srv: srv}
}

func BenchmarkDeliveryProvider50ms(b *testing.B) {
	for _, d := range storetest.Dialects() {
		b.Run(string(d), func(b *testing.B) { benchDelivery(b, d, fake50ms) })
	}
}

func BenchmarkDeliveryGraphFake50ms(b *testing.B) {
	for _, d := range storetest.Dialects() {
		b.Run(string(d), func(b *testing.B) { benchDelivery(b, d, graphFake50ms) })
	}
}
