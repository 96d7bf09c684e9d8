package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// EmailSnapshot is the email delivery state read once per scrape.
type EmailSnapshot struct {
	Sent, Failed, Retried, GivenUp int64
	// MaybeDuplicate is emails marked "may have been sent twice".
	MaybeDuplicate int64
	// BudgetUsed and BudgetLimit are the sender's recipients in the last
	// 24 hours (all replicas) and its daily budget.
	BudgetUsed, BudgetLimit int64
	// QueueDepth is emails queued, sending, waiting to retry or waiting
	// for the configuration (cluster-wide).
	QueueDepth int64
	// WaitingConfig is the emails of QueueDepth waiting for the email
	// configuration to be fixed (cluster-wide).
	WaitingConfig int64
	// OldestQueued is the age of the oldest undelivered email.
	OldestQueued time.Duration
	// TokenRequests and TokenFailures are requests to Microsoft Entra ID.
	TokenRequests, TokenFailures int64
}

// Email exports email delivery: the send latency histogram (Observe, from
// the worker) and the counters and queue gauges read from snapshot once
// per scrape, however many series they feed.
type Email struct {
	duration *prometheus.HistogramVec
	snapshot func() (EmailSnapshot, error)
	descs    []emailDesc
}

type emailDesc struct {
	desc  *prometheus.Desc
	kind  prometheus.ValueType
	value func(EmailSnapshot) float64
	// queue marks values read from the database, left out of a scrape
	// when that read fails (the process counters are still exported).
	queue bool
}

// NewEmail registers the email metrics on r. snapshot is called once per
// scrape; when it fails, the queue gauges are left out of that scrape.
func (r *Registry) NewEmail(snapshot func() (EmailSnapshot, error)) *Email {
	e := &Email{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "mocpcr_email_send_duration_seconds",
			Help:    "Duration of each provider send call (Microsoft Graph sendMail, token included), by outcome.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"outcome"}),
		snapshot: snapshot,
	}
	d := func(name, help string, kind prometheus.ValueType, v func(EmailSnapshot) float64) {
		e.descs = append(e.descs, emailDesc{prometheus.NewDesc(name, help, nil, nil), kind, v, kind == prometheus.GaugeValue})
	}
	d("mocpcr_email_sent_total", "Emails the provider accepted (this process).", prometheus.CounterValue,
		func(s EmailSnapshot) float64 { return float64(s.Sent) })
	d("mocpcr_email_failed_total", "Emails that failed permanently (this process).", prometheus.CounterValue,
		func(s EmailSnapshot) float64 { return float64(s.Failed) })
	d("mocpcr_email_retried_total", "Failed email attempts scheduled for retry (this process).", prometheus.CounterValue,
		func(s EmailSnapshot) float64 { return float64(s.Retried) })
	d("mocpcr_email_given_up_total", "Emails given up after the maximum attempts (this process).", prometheus.CounterValue,
		func(s EmailSnapshot) float64 { return float64(s.GivenUp) })
	d("mocpcr_email_maybe_duplicate_total", "Emails marked 'may have been sent twice' (this process): taken over from a process that stopped mid-send, or tried again after a request that reached Graph got no answer.", prometheus.CounterValue,
		func(s EmailSnapshot) float64 { return float64(s.MaybeDuplicate) })
	d("mocpcr_email_queue_depth", "Emails queued, sending, waiting to retry or waiting for the email configuration (all replicas).", prometheus.GaugeValue,
		func(s EmailSnapshot) float64 { return float64(s.QueueDepth) })
	d("mocpcr_email_waiting_config", "Emails waiting for the email configuration to be fixed: a refused token request, Graph 403 or 404 (all replicas). Alert on > 0.", prometheus.GaugeValue,
		func(s EmailSnapshot) float64 { return float64(s.WaitingConfig) })
	d("mocpcr_email_daily_recipients", "Recipients of the emails Graph accepted from the sender mailbox in the last 24 hours (all replicas): Exchange Online blocks a mailbox for a day beyond 10,000. Alert on > 0.8 of mocpcr_email_daily_recipient_budget.", prometheus.GaugeValue,
		func(s EmailSnapshot) float64 { return float64(s.BudgetUsed) })
	d("mocpcr_email_daily_recipient_budget", "The sender mailbox's daily recipient budget (MOCPCR_EMAIL_DAILY_RECIPIENTS).", prometheus.GaugeValue,
		func(s EmailSnapshot) float64 { return float64(s.BudgetLimit) })
	d("mocpcr_email_queue_oldest_seconds", "Age of the oldest email not yet delivered (all replicas); 0 when none.", prometheus.GaugeValue,
		func(s EmailSnapshot) float64 { return s.OldestQueued.Seconds() })
	d("mocpcr_graph_token_requests_total", "Token requests to Microsoft Entra ID (this process).", prometheus.CounterValue,
		func(s EmailSnapshot) float64 { return float64(s.TokenRequests) })
	d("mocpcr_graph_token_failures_total", "Token requests to Microsoft Entra ID that failed (this process).", prometheus.CounterValue,
		func(s EmailSnapshot) float64 { return float64(s.TokenFailures) })
	r.reg.MustRegister(e, e.duration)
	return e
}

// ObserveSend records one provider call.
func (e *Email) ObserveSend(outcome string, d time.Duration) {
	e.duration.WithLabelValues(outcome).Observe(d.Seconds())
}

// Describe implements prometheus.Collector.
func (e *Email) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range e.descs {
		ch <- d.desc
	}
}

// Collect implements prometheus.Collector: one snapshot per scrape.
func (e *Email) Collect(ch chan<- prometheus.Metric) {
	s, err := e.snapshot()
	for _, d := range e.descs {
		if err != nil && d.queue {
			continue
		}
		ch <- prometheus.MustNewConstMetric(d.desc, d.kind, d.value(s))
	}
}
