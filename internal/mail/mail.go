// Package mail holds what the rest of mocpcr knows about email: a message,
// the Provider that delivers it, and the error shape a provider reports so
// that the queue can decide between retrying and giving up.
package mail

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Address is one mailbox, with an optional display name.
type Address struct {
	Name  string
	Email string
}

// Message is one transactional email. HTMLBody is already-rendered,
// already-escaped HTML; providers send it as is.
type Message struct {
	// From is the sender mailbox when it is not the provider's own
	// (GRAPH_MAIL_SENDER): a site's override in its settings. Empty sends
	// from the provider's sender.
	From     string
	To       []Address
	Cc       []Address
	Subject  string
	HTMLBody string
	// Headers are custom internet message headers. Graph accepts at most
	// five and each name must start with "X-".
	Headers map[string]string
}

// Result is what a provider reports for an accepted message.
type Result struct {
	// RequestID is the provider's id for the request (Graph's request-id),
	// kept so an admin can quote it to Microsoft support.
	RequestID string
	// ClientRequestID is the id this process sent with the request
	// (Graph's client-request-id), useful when RequestID is missing.
	ClientRequestID string
}

// Provider delivers messages. Implementations must be safe for concurrent
// use and must never include credentials in errors.
type Provider interface {
	// Name is a short label for logs and the admin page: "graph" or "dev".
	Name() string
	// Send delivers one message. A non-nil error should be, or wrap, *Error
	// when the provider knows whether a retry can help.
	Send(ctx context.Context, msg Message) (Result, error)
}

// Error is a failed delivery as the provider saw it.
type Error struct {
	// Status is the HTTP status of the failed call; 0 for network errors.
	Status int
	// Code and Message are the provider's own error code and text
	// (Graph: error.code and error.message; Entra ID: error and error_description).
	Code    string
	Message string
	// RequestID is the provider's request id, when it sent one.
	RequestID string
	// ClientRequestID is the id this process sent with the request, if any.
	ClientRequestID string
	// Retryable is true when the same message may succeed later
	// (throttling, server errors, network failures, timeouts).
	Retryable bool
	// RetryAfter is the wait the provider asked for, zero when it did not say.
	RetryAfter time.Duration
	// Misconfigured is true when the failure lies in the provider's setup
	// (credentials, permissions, sender mailbox) rather than in the message:
	// every message will fail the same way until an administrator fixes it.
	// A queue may use it to alert or pause instead of treating the message
	// as bad. It does not change Retryable.
	Misconfigured bool
	// MaybeDelivered is true when the request reached the provider and
	// no answer came (a timeout or cancellation after it was sent): the
	// message may have been accepted, and sending it again may deliver it
	// twice.
	MaybeDelivered bool
	// Text is the complete admin-facing message, in the wording of the
	// setup guide ("Graph email failed: 403 ErrorAccessDenied: ...").
	Text string
	// Err is the underlying cause, if any.
	Err error
}

func (e *Error) Error() string {
	if e.Text != "" {
		return e.Text
	}
	return fmt.Sprintf("email failed: %d %s: %s", e.Status, e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// AsError returns the *Error inside err, if there is one.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// IsRetryable reports whether a failed send may succeed if tried again.
// Errors a provider did not classify are treated as retryable, because
// giving up on an email that could have been delivered is the worse mistake.
func IsRetryable(err error) bool {
	if e, ok := AsError(err); ok {
		return e.Retryable
	}
	return err != nil
}
