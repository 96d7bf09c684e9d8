package change

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
)

// Code classifies a domain error; the web edge maps it to a status once.
type Code string

// The error codes.
const (
	// EInvalid: input is wrong; Field names it (422).
	EInvalid Code = "invalid"
	// EForbidden: the user's role, site or relation to the change does not allow it (403).
	EForbidden Code = "forbidden"
	// EConflict: the change's state does not allow it now (409).
	EConflict Code = "conflict"
	// ENotFound: no such record, or not visible to the user (404).
	ENotFound Code = "not_found"
	// EReauth: a signed decision needs the user to confirm their identity again (403).
	EReauth Code = "reauth_required"
)

// Error is a domain error with a code and a message meant for the user.
type Error struct {
	Code    Code
	Field   string
	Message string
	// Fields lists every invalid field when a call checked all its input
	// together (create and edit of a change do, see Problems): the first
	// is Field and Message. Empty for a refusal about one thing.
	Fields []FieldError
}

// FieldError is one invalid field of a request.
type FieldError struct {
	Field   string
	Message string // meant for the user; the domain's start with the field name
}

// Problems collects the invalid fields of one request, so that the user
// learns about all of them at once instead of one per attempt. The web
// edge adds what it could not even parse (Fields.Problems); the domain
// adds what it checks; Err answers with the lot.
type Problems struct {
	list []FieldError
}

// Add records a problem unless its field has one already: the first
// (often "not a date" from the edge) says more than what follows from
// it ("an expiry date is required").
func (p *Problems) Add(e FieldError) {
	if !p.Has(e.Field) {
		p.list = append(p.list, e)
	}
}

// Invalid adds a problem written like invalid's.
func (p *Problems) Invalid(field, format string, args ...any) {
	e := invalid(field, format, args...)
	p.Add(FieldError{Field: e.Field, Message: e.Message})
}

// Has reports whether field has a problem already; a check that builds on
// the field (a unit of the site) is skipped then.
func (p *Problems) Has(field string) bool {
	return slices.ContainsFunc(p.list, func(e FieldError) bool { return e.Field == field })
}

// Err is nil without problems, or an EInvalid *Error for the first with
// all of them in Fields. order, if given, sorts them (fields not in it
// last) so the first is the one a form shows first.
func (p *Problems) Err(order ...string) error {
	if len(p.list) == 0 {
		return nil
	}
	list := slices.Clone(p.list)
	rank := func(f string) int {
		if i := slices.Index(order, f); i >= 0 {
			return i
		}
		return len(order)
	}
	slices.SortStableFunc(list, func(a, b FieldError) int { return cmp.Compare(rank(a.Field), rank(b.Field)) })
	return &Error{Code: EInvalid, Field: list[0].Field, Message: list[0].Message, Fields: list}
}

func (e *Error) Error() string { return e.Message }

// ErrorCode returns err's code, or "" for an internal error.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

func invalid(field, format string, args ...any) *Error {
	return &Error{Code: EInvalid, Field: field, Message: field + ": " + fmt.Sprintf(format, args...)}
}

// asMissing answers for an object reached by its own id (an action item,
// a PSSR item) when the actor cannot see its change: as an object that
// does not exist, so the answer neither confirms it nor names its change.
func asMissing(err error, format string, args ...any) error {
	var e *Error
	if errors.As(err, &e) && e.Code == ENotFound {
		return notFound(format, args...)
	}
	return err
}

func forbidden(format string, args ...any) *Error {
	return &Error{Code: EForbidden, Message: fmt.Sprintf(format, args...)}
}

func conflict(format string, args ...any) *Error {
	return &Error{Code: EConflict, Message: fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) *Error {
	return &Error{Code: ENotFound, Message: fmt.Sprintf(format, args...)}
}
