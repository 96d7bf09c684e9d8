// Package problem is the one error vocabulary of mocpcr: every domain
// package (change, auth, notify, jobs) says what went wrong as a Kind,
// the field it concerns and a message meant for people, and the web edge
// maps the Kind to a status once. Nobody reads the kind out of error
// text. It imports nothing of mocpcr, so every package may use it.
package problem

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
)

// Kind classifies an error for whoever answers it.
type Kind uint8

// The kinds. The zero Kind is Internal: an error that carries no kind is
// a fault on our side, logged and never shown.
const (
	Internal Kind = iota
	// Invalid: the input is wrong; Field names it.
	Invalid
	// NotFound: no such record, or not one the user may see.
	NotFound
	// Forbidden: the user's role, site or relation to the record does not
	// allow it.
	Forbidden
	// Conflict: the record's state does not allow it now.
	Conflict
	// Reauth: a signed decision needs the user to prove who they are again.
	Reauth
	// Unavailable: what the request needs is not running in this process.
	Unavailable
	// Unauthenticated: the caller must sign in (or send a valid token) first.
	Unauthenticated
	// TooLarge: the request is larger than the route takes.
	TooLarge
)

// codes are the kinds' names in the JSON API's "code" field; clients
// branch on them, so they never change.
var codes = [...]string{
	Internal:        "internal",
	Invalid:         "invalid",
	NotFound:        "not_found",
	Forbidden:       "forbidden",
	Conflict:        "conflict",
	Reauth:          "reauth_required",
	Unavailable:     "unavailable",
	Unauthenticated: "unauthenticated",
	TooLarge:        "too_large",
}

// String is the kind's API code ("not_found").
func (k Kind) String() string {
	if int(k) < len(codes) {
		return codes[k]
	}
	return codes[Internal]
}

// Error is an error with a kind and a message meant for the user.
type Error struct {
	Kind  Kind
	Field string
	// Message is shown as it is; the domain's start with the field name
	// ("title: is required").
	Message string
	// Fields lists every invalid field when a call checked all its input
	// together (see List): the first is Field and Message.
	Fields []FieldError
	// Err is the cause, for the log; it is never shown.
	Err error
}

// FieldError is one invalid field of a request.
type FieldError struct {
	Field   string
	Message string
}

func (e *Error) Error() string { return e.Message }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the kind of the first *Error in err's chain, Internal
// when there is none.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// As returns the first *Error in err's chain, or nil.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// Invalidf is an Invalid error about field, its message starting with
// the field's name: Invalidf("title", "is required") says
// "title: is required".
func Invalidf(field, format string, args ...any) *Error {
	return &Error{Kind: Invalid, Field: field, Message: field + ": " + fmt.Sprintf(format, args...)}
}

// Field is an Invalid error about field whose message is written out
// already ("roles: choose at least one role").
func Field(field, msg string) *Error { return &Error{Kind: Invalid, Field: field, Message: msg} }

// New is an error of kind k with a message for people, about no field in
// particular.
func New(k Kind, msg string) *Error { return &Error{Kind: k, Message: msg} }

// Newf is an error of kind k about no field in particular.
func Newf(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
}

// List collects the invalid fields of one request, so that the user
// learns about all of them at once instead of one per attempt.
type List struct {
	list []FieldError
}

// Add records a problem unless its field has one already: the first
// (often "not a date" from the edge) says more than what follows from it.
func (l *List) Add(e FieldError) {
	if !l.Has(e.Field) {
		l.list = append(l.list, e)
	}
}

// AddErr records err when it is about an invalid field, and returns nil
// then; any other error (the database failing) it returns, for the
// caller to stop on.
func (l *List) AddErr(err error) error {
	if e := As(err); e != nil && e.Kind == Invalid && e.Field != "" {
		l.Add(FieldError{Field: e.Field, Message: e.Message})
		return nil
	}
	return err
}

// Invalid adds a problem written like Invalidf's.
func (l *List) Invalid(field, format string, args ...any) {
	e := Invalidf(field, format, args...)
	l.Add(FieldError{Field: e.Field, Message: e.Message})
}

// Has reports whether field has a problem already; a check that builds on
// the field is skipped then.
func (l *List) Has(field string) bool {
	return slices.ContainsFunc(l.list, func(e FieldError) bool { return e.Field == field })
}

// Err is nil without problems, or an Invalid *Error for the first with
// all of them in Fields. order, if given, sorts them (fields not in it
// last) so the first is the one a form shows first.
func (l *List) Err(order ...string) error {
	if len(l.list) == 0 {
		return nil
	}
	list := slices.Clone(l.list)
	rank := func(f string) int {
		if i := slices.Index(order, f); i >= 0 {
			return i
		}
		return len(order)
	}
	slices.SortStableFunc(list, func(a, b FieldError) int { return cmp.Compare(rank(a.Field), rank(b.Field)) })
	return &Error{Kind: Invalid, Field: list[0].Field, Message: list[0].Message, Fields: list}
}
