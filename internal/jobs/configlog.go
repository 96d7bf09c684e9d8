package jobs

import (
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/mocpcr/mocpcr/internal/mail"
)

// configLog turns the emails that one configuration problem holds into
// one ERROR line ("1,000 emails waiting: Graph token request failed:
// ..."), instead of one line per email: a refused token fails every email
// in flight within milliseconds, and an administrator needs the problem
// once, with its size. Each email's failure is still logged, at Debug,
// with its ids.
type configLog struct {
	mu      sync.Mutex
	reasons map[string]*configReason
}

// configReason is one problem: the same status and code.
type configReason struct {
	text      string // the newest email's error, in the guide's words
	status    int
	emails    map[int64]bool // the emails held since the last line
	retryIn   time.Duration
	first     time.Time // when the first email since the last line failed
	last      time.Time // when the newest of them failed
	loggedAt  time.Time // when the last line was written
	requestID string
}

// configLogQuiet is how long no further email must fail for a reason
// before its line is written, so that the line counts the whole batch, but
// a line waits no longer than configLogMaxWait (emails that keep failing
// without a pause); configLogEvery is the least time between two lines of
// one reason.
const (
	configLogQuiet   = time.Second
	configLogMaxWait = 5 * time.Second
	configLogEvery   = time.Minute
)

// note counts email id as held by me.
func (l *configLog) note(id int64, me *mail.Error, retryIn time.Duration, now time.Time) {
	key := strconv.Itoa(me.Status) + " " + me.Code
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.reasons == nil {
		l.reasons = map[string]*configReason{}
	}
	r := l.reasons[key]
	if r == nil {
		r = &configReason{}
		l.reasons[key] = r
	}
	r.text, r.status, r.retryIn, r.last, r.requestID = me.Error(), me.Status, retryIn, now, me.RequestID
	if len(r.emails) == 0 {
		r.first = now
		r.emails = map[int64]bool{}
	}
	r.emails[id] = true
}

// configLine is one line to write: a reason and how many emails it holds.
type configLine struct {
	configReason
	count int
}

// due returns the lines to write at now and resets their counts; with
// force (the queue is stopping) every reason that holds emails is due.
func (l *configLog) due(now time.Time, force bool) []configLine {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []configLine
	for _, r := range l.reasons {
		settled := now.Sub(r.last) >= configLogQuiet || now.Sub(r.first) >= configLogMaxWait
		spaced := r.loggedAt.IsZero() || now.Sub(r.loggedAt) >= configLogEvery
		if len(r.emails) == 0 || (!force && (!settled || !spaced)) {
			continue
		}
		out = append(out, configLine{*r, len(r.emails)})
		r.emails, r.loggedAt = nil, now
	}
	return out
}

// flushConfigLog writes the lines that are due; the heartbeat calls it.
func (q *Queue) flushConfigLog(now time.Time, force bool) {
	for _, r := range q.configLog.due(now, force) {
		// Error, not Warn: nothing gets better until someone acts on it.
		q.log.Error(emailsText(r.count)+" waiting: "+r.text, "emails", r.count, "http_status", r.status,
			"graph_request_id", r.requestID, "outcome", StatusWaitingConfig, "retry_in", r.retryIn.Round(time.Second).String())
	}
}

// emailsText is "1 email" or "1,000 emails".
func emailsText(n int) string {
	if n == 1 {
		return "1 email"
	}
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return fmt.Sprintf("%s emails", s)
}
