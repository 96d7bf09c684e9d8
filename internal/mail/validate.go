package mail

import (
	"fmt"
	"net/mail"
	"sort"
	"strings"
)

// Limits Microsoft Graph puts on one sendMail request. Checking them before
// the call turns an opaque Graph 400 or 413 into an error that says what is
// wrong with the message.
const (
	// MaxRecipients is the most To+Cc recipients one message may have.
	MaxRecipients = 500
	// MaxHeaders is the most custom internet message headers one message may have.
	MaxHeaders = 5
)

// Validate reports the first reason msg cannot be sent, as a permanent
// *Error with Code "InvalidMessage", or nil when msg looks sendable.
// Resending the same message cannot help, so the error is never retryable.
func (m Message) Validate() error {
	n := len(m.To) + len(m.Cc)
	switch {
	case n == 0:
		return InvalidMessage("the message has no recipients; add at least one To or Cc address")
	case n > MaxRecipients:
		return InvalidMessage(fmt.Sprintf("the message has %d recipients; Microsoft Graph accepts at most %d (To and Cc together)", n, MaxRecipients))
	}
	for _, list := range [][]Address{m.To, m.Cc} {
		for _, a := range list {
			if _, err := mail.ParseAddress(a.Email); err != nil || strings.TrimSpace(a.Email) != a.Email {
				return InvalidMessage(fmt.Sprintf("recipient address %q is not a valid email address", a.Email))
			}
		}
	}
	if m.From != "" {
		if a, err := mail.ParseAddress(m.From); err != nil || a.Address != m.From {
			return InvalidMessage(fmt.Sprintf("sender mailbox %q is not a valid email address", m.From))
		}
	}
	if len(m.Headers) > MaxHeaders {
		return InvalidMessage(fmt.Sprintf("the message has %d custom headers; Microsoft Graph accepts at most %d", len(m.Headers), MaxHeaders))
	}
	for _, name := range m.HeaderNames() {
		if len(name) < 3 || !strings.EqualFold(name[:2], "X-") {
			return InvalidMessage(fmt.Sprintf("custom header %q must start with \"X-\"", name))
		}
		if strings.ContainsAny(name, " :\r\n") {
			return InvalidMessage(fmt.Sprintf("custom header name %q contains a space, colon or line break", name))
		}
		if strings.ContainsAny(m.Headers[name], "\r\n") {
			return InvalidMessage(fmt.Sprintf("custom header %q has a line break in its value", name))
		}
	}
	return nil
}

// HeaderNames returns the names of m.Headers in sorted order, so that
// providers build the same request for the same message.
func (m Message) HeaderNames() []string {
	names := make([]string, 0, len(m.Headers))
	for name := range m.Headers {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// InvalidMessage builds the permanent error for a message that cannot be
// sent as it is; reason says what is wrong and what to do.
func InvalidMessage(reason string) *Error {
	return &Error{
		Code:    "InvalidMessage",
		Message: reason,
		Text:    "email not sent: " + reason,
	}
}
