package graphtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"
)

// Message is a Graph message resource as sendMail receives it.
type Message struct {
	Subject                string           `json:"subject"`
	Body                   ItemBody         `json:"body"`
	ToRecipients           []Recipient      `json:"toRecipients"`
	CcRecipients           []Recipient      `json:"ccRecipients"`
	BccRecipients          []Recipient      `json:"bccRecipients"`
	InternetMessageHeaders []InternetHeader `json:"internetMessageHeaders"`
}

// ItemBody is a message body.
type ItemBody struct {
	ContentType string `json:"contentType"`
	Content     string `json:"content"`
}

// Recipient is one recipient.
type Recipient struct {
	EmailAddress EmailAddress `json:"emailAddress"`
}

// EmailAddress is an address with an optional name.
type EmailAddress struct {
	Address string `json:"address"`
	Name    string `json:"name"`
}

// InternetHeader is one custom internet message header.
type InternetHeader struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Received is one message the fake accepted.
type Received struct {
	Sender          string // the {sender} path segment, unescaped
	EscapedPath     string // the request path as sent
	Message         Message
	SaveToSentItems bool
	Header          http.Header // request headers (Authorization included)
	RequestID       string      // the request-id the fake answered with
	Body            []byte      // the raw JSON body
}

// Graph's documented fields on the sendMail body and on a message; others
// are answered with 400 as Graph does for an unknown property.
var (
	sendMailFields = map[string]bool{"message": true, "saveToSentItems": true}
	messageFields  = map[string]bool{
		"subject": true, "body": true, "toRecipients": true, "ccRecipients": true, "bccRecipients": true,
		"replyTo": true, "internetMessageHeaders": true, "importance": true, "from": true, "attachments": true,
	}
)

const maxSendMailBytes = 4 << 20

func (s *Server) writeGraphError(w http.ResponseWriter, status int, requestID, code, message string) {
	s.mu.Lock()
	date := s.now().UTC().Format("2006-01-02T15:04:05")
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
		"code":    code,
		"message": message,
		"innerError": map[string]any{
			"date":              date,
			"request-id":        requestID,
			"client-request-id": w.Header().Get("client-request-id"),
		},
	}})
}

// cannedError is an injected failure answer.
type cannedError struct {
	status        int
	code, message string
	retryAfter    string // "" for no Retry-After header
}

func (s *Server) handleSendMail(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	gateway := s.faults.gateway > 0
	if gateway {
		s.faults.gateway--
		s.sendRequests++
	}
	noRequestID := s.faults.noRequestID
	s.mu.Unlock()
	if gateway {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = io.WriteString(w, "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>")
		return
	}
	requestID := newID()
	if !noRequestID {
		w.Header().Set("request-id", requestID)
	}
	if crid := r.Header.Get("client-request-id"); crid != "" {
		w.Header().Set("client-request-id", crid)
	}
	sender := r.PathValue("sender")
	mailbox := strings.ToLower(sender)

	// Count the request in flight for its mailbox until just before the
	// answer is written, so that a client which waits for answers never
	// sees a 429 it did not cause.
	s.mu.Lock()
	s.sendRequests++
	s.inFlight[mailbox]++
	n := s.inFlight[mailbox]
	s.highWater = max(s.highWater, n)
	latency, limit, f := s.sendLatency, s.concLimit, &s.faults
	var fault *cannedError
	if wait := s.mailboxThrottle(mailbox); wait > 0 {
		s.inWindow[mailbox]++
		// Retry-After in whole seconds, rounded up, as Exchange sends it.
		secs := int((wait + time.Second - 1) / time.Second)
		fault = &cannedError{http.StatusTooManyRequests, "ApplicationThrottled", "Application is over its RequestRate limit.", fmt.Sprint(secs)}
		w.Header().Set("RateLimit-Exceeded", "RequestRate")
		w.Header().Set("RateLimit-Scope", "Mailbox")
	}
	switch {
	case fault != nil:
	case f.unavailable != 0:
		if f.unavailable > 0 {
			f.unavailable--
		}
		fault = &cannedError{http.StatusServiceUnavailable, "ServiceUnavailable", "Service is temporarily unavailable. Please try again later.", f.unavailableAfter}
	case f.throttle > 0:
		f.throttle--
		fault = &cannedError{http.StatusTooManyRequests, "ApplicationThrottled", "Application is over its MailboxConcurrency limit.", f.throttleAfter}
	case f.statusCount > 0:
		f.statusCount--
		fault = &cannedError{f.status, f.statusCode, f.statusMessage, ""}
	case limit > 0 && n > limit:
		fault = &cannedError{http.StatusTooManyRequests, "ApplicationThrottled", "Application is over its MailboxConcurrency limit.", "1"}
	}
	s.mu.Unlock()
	done := func() {
		s.mu.Lock()
		s.inFlight[mailbox]--
		s.mu.Unlock()
	}
	if fault != nil {
		done()
		if fault.retryAfter != "" {
			w.Header().Set("Retry-After", fault.retryAfter)
		}
		s.writeGraphError(w, fault.status, requestID, fault.code, fault.message)
		return
	}
	s.wait(r.Context(), latency)
	status, code, message, rec := s.checkSendMail(r, sender)
	done()
	if status != http.StatusAccepted {
		s.writeGraphError(w, status, requestID, code, message)
		return
	}
	rec.RequestID = requestID
	s.mu.Lock()
	s.messages = append(s.messages, rec)
	s.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
}

// checkSendMail applies Graph's checks in Graph's order: token, then
// permission, then mailbox, then body.
func (s *Server) checkSendMail(r *http.Request, sender string) (status int, code, message string, rec Received) {
	token, hasBearer := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	issued, known := s.tokens[token]
	now := s.now()
	forceUnauthorized := s.faults.unauthorized > 0
	if forceUnauthorized {
		s.faults.unauthorized--
	}
	forbidden, notFound := s.faults.forbidden, s.faults.notFound
	kind := s.mailboxes[strings.ToLower(sender)]
	s.mu.Unlock()

	const invalidToken = "InvalidAuthenticationToken"
	switch {
	case !hasBearer || token == "":
		return http.StatusUnauthorized, invalidToken, "Access token is empty.", rec
	case !known:
		return http.StatusUnauthorized, invalidToken, "IDX14100: JWT is not well formed, there are no dots (.).", rec
	case forceUnauthorized || !now.Before(issued.expiry):
		return http.StatusUnauthorized, invalidToken, "Lifetime validation failed, the token is expired.", rec
	case forbidden:
		return http.StatusForbidden, "ErrorAccessDenied", "Access is denied. Check credentials and try again.", rec
	case notFound || kind == 0:
		return http.StatusNotFound, "ErrorInvalidUser", fmt.Sprintf("The requested user '%s' is invalid.", sender), rec
	case kind == unlicensed:
		return http.StatusNotFound, "MailboxNotEnabledForRESTAPI", "The mailbox is either inactive, soft-deleted, or is hosted on-premise.", rec
	case kind == group:
		return http.StatusForbidden, "ErrorSendAsDenied", "The user account which was used to submit this request does not have the right to send mail on behalf of the specified sending account., Cannot submit message.", rec
	}
	s.mu.Lock()
	st := s.state(sender)
	outOfScope, full, blocked := st.outOfScope, st.full, now.Before(st.blockedUntil)
	s.mu.Unlock()
	switch {
	case outOfScope:
		return http.StatusForbidden, "ErrorAccessDenied", "Access to OData is disabled: [RAOP] : Blocked by tenant configured AppOnly AccessPolicy settings.", rec
	case blocked:
		return http.StatusForbidden, "ErrorMessageSubmissionBlocked", submissionBlocked, rec
	case full:
		return http.StatusForbidden, "ErrorQuotaExceeded", "The message could not be saved: the mailbox has exceeded its quota.", rec
	}

	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return http.StatusUnsupportedMediaType, "UnsupportedMediaType", "Content-Type must be application/json.", rec
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxSendMailBytes+1))
	if err != nil {
		return http.StatusBadRequest, "RequestBodyRead", "The request body could not be read.", rec
	}
	if len(body) > maxSendMailBytes {
		return http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "The request body is larger than 4 MB.", rec
	}
	var req struct {
		Message         *Message `json:"message"`
		SaveToSentItems *bool    `json:"saveToSentItems"`
	}
	if code, msg := checkFields(body); code != "" {
		return http.StatusBadRequest, code, msg, rec
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return http.StatusBadRequest, "RequestBodyRead", "Cannot read the request body: " + err.Error(), rec
	}
	if req.Message == nil {
		return http.StatusBadRequest, "ErrorInvalidRequest", "Empty Payload. JSON content expected.", rec
	}
	m := req.Message
	all := append(append(append([]Recipient(nil), m.ToRecipients...), m.CcRecipients...), m.BccRecipients...)
	if len(all) == 0 {
		return http.StatusBadRequest, "ErrorInvalidRecipients", "At least one recipient is required, but none were found.", rec
	}
	if len(all) > 500 {
		return http.StatusBadRequest, "ErrorTooManyRecipients", "The message has too many recipients.", rec
	}
	for _, rcpt := range all {
		if !strings.Contains(rcpt.EmailAddress.Address, "@") {
			return http.StatusBadRequest, "ErrorInvalidRecipients", fmt.Sprintf("At least one recipient isn't valid., Recipient '%s' isn't resolved.", rcpt.EmailAddress.Address), rec
		}
	}
	if ct := strings.ToLower(m.Body.ContentType); ct != "html" && ct != "text" {
		return http.StatusBadRequest, "ErrorInvalidRequest", fmt.Sprintf("Invalid body contentType '%s'; expected 'HTML' or 'Text'.", m.Body.ContentType), rec
	}
	if len(m.InternetMessageHeaders) > 5 {
		return http.StatusBadRequest, "InvalidInternetMessageHeaderCollection", "Maximum number of headers in one message should be less than or equal to 5.", rec
	}
	for _, h := range m.InternetMessageHeaders {
		if !strings.HasPrefix(strings.ToLower(h.Name), "x-") {
			return http.StatusBadRequest, "InvalidInternetMessageHeader", fmt.Sprintf("The internet message header name '%s' should start with 'x-' or 'X-'.", h.Name), rec
		}
	}
	// Exchange's sending limit: recipients per mailbox per rolling day.
	// The message that would go over it is refused, and the mailbox is
	// blocked from sending until the block lifts.
	s.mu.Lock()
	over := s.overRecipientLimit(sender, len(all), now)
	s.mu.Unlock()
	if over {
		return http.StatusForbidden, "ErrorMessageSubmissionBlocked", submissionBlocked, rec
	}
	return http.StatusAccepted, "", "", Received{
		Sender:          sender,
		EscapedPath:     r.URL.EscapedPath(),
		Message:         *m,
		SaveToSentItems: req.SaveToSentItems != nil && *req.SaveToSentItems,
		Header:          r.Header.Clone(),
		Body:            body,
	}
}

// checkFields rejects property names Graph does not know. Graph's JSON is
// case-sensitive, unlike encoding/json, so the names are compared exactly.
func checkFields(body []byte) (code, message string) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return "RequestBodyRead", "Cannot read the request body: " + err.Error()
	}
	for k := range top {
		if !sendMailFields[k] {
			return "RequestBodyRead", fmt.Sprintf("The property '%s' does not exist on type 'microsoft.graph.sendMail'.", k)
		}
	}
	var msg map[string]json.RawMessage
	if raw, ok := top["message"]; ok && !bytes.Equal(raw, []byte("null")) {
		if err := json.Unmarshal(raw, &msg); err != nil {
			return "RequestBodyRead", "Cannot read the message: " + err.Error()
		}
	}
	for k := range msg {
		if !messageFields[k] {
			return "RequestBodyRead", fmt.Sprintf("The property '%s' does not exist on type 'microsoft.graph.message'.", k)
		}
	}
	return "", ""
}

// mailboxThrottle counts a request to mailbox against its rate limit and
// says how long the mailbox is still throttled (0 when it is not). Going
// over the rate opens a window until the oldest counted request leaves
// the period. s.mu must be held.
func (s *Server) mailboxThrottle(mailbox string) time.Duration {
	now := s.now()
	if until := s.throttledUntil[mailbox]; now.Before(until) {
		return until.Sub(now)
	}
	if s.requestLimit <= 0 {
		return 0
	}
	recent := s.recent[mailbox]
	for len(recent) > 0 && !now.Before(recent[0].Add(s.requestPer)) {
		recent = recent[1:]
	}
	if len(recent) >= s.requestLimit {
		until := recent[0].Add(s.requestPer)
		s.throttledUntil[mailbox] = until
		s.recent[mailbox] = recent
		return until.Sub(now)
	}
	s.recent[mailbox] = append(recent, now)
	return 0
}

// submissionBlocked is Exchange's text for a sender on its restricted
// entities list (over its sending limits).
const submissionBlocked = "Cannot submit message. WASCL UserAction verdict is not None. Actual verdict is RefuseQuota, ShowTierUpgrade."

// overRecipientLimit counts n more recipients for mailbox at now, or, when
// they would take it over its daily limit, blocks it and says so. s.mu must
// be held.
func (s *Server) overRecipientLimit(mailbox string, n int, now time.Time) bool {
	st := s.state(mailbox)
	cutoff := now.Add(-RecipientLimitPeriod)
	total := 0
	kept := st.sent[:0]
	for _, b := range st.sent {
		if b.at.After(cutoff) {
			kept = append(kept, b)
			total += b.recipients
		}
	}
	st.sent = kept
	if s.recipientCap > 0 && total+n > s.recipientCap {
		st.blockedUntil = now.Add(RecipientBlockDuration)
		return true
	}
	st.sent = append(st.sent, sentBatch{at: now, recipients: n})
	return false
}
