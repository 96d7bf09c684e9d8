package change

import (
	"errors"
	"fmt"
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

func forbidden(format string, args ...any) *Error {
	return &Error{Code: EForbidden, Message: fmt.Sprintf(format, args...)}
}

func conflict(format string, args ...any) *Error {
	return &Error{Code: EConflict, Message: fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) *Error {
	return &Error{Code: ENotFound, Message: fmt.Sprintf(format, args...)}
}
