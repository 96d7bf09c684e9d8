package web

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/mocpcr/mocpcr/internal/problem"
	"github.com/mocpcr/mocpcr/internal/requestid"
)

// statusOf is the one status table: the HTTP status of an error's kind
// (package problem). An error without a kind is ours: 500.
func statusOf(err error) int {
	switch problem.KindOf(err) {
	case problem.Invalid:
		return http.StatusUnprocessableEntity
	case problem.NotFound:
		return http.StatusNotFound
	case problem.Forbidden, problem.Reauth:
		return http.StatusForbidden
	case problem.Conflict:
		return http.StatusConflict
	case problem.Unavailable:
		return http.StatusServiceUnavailable
	case problem.Unauthenticated:
		return http.StatusUnauthorized
	case problem.TooLarge:
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusInternalServerError
}

// fail answers any error, in the caller's language: JSON under /api/, a
// page otherwise, with the status of its kind. The message of a kinded
// error is meant for people and shown; anything else is logged with the
// request id and never shown.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	pe := problem.As(err)
	if pe == nil || status == http.StatusInternalServerError {
		id := requestid.From(r.Context())
		s.Logger.ErrorContext(r.Context(), "request failed", "path", r.URL.Path, "err", err, "request_id", id)
		if isAPI(r) {
			writeAPIError(w, r, http.StatusInternalServerError, apiError{Error: "internal error", Code: problem.Internal.String()})
			return
		}
		s.renderMessage(w, r, http.StatusInternalServerError, "Something went wrong on our side (request id "+id+").")
		return
	}
	if isAPI(r) {
		writeProblem(w, r, err)
		return
	}
	if status == http.StatusNotFound {
		s.render(w, r, status, "notfound.html", &Page{Title: "Not found", Data: pe.Message})
		return
	}
	s.renderMessage(w, r, status, pe.Message)
}

// writeProblem writes a kinded error as the API's JSON error body.
func writeProblem(w http.ResponseWriter, r *http.Request, err error) {
	pe := problem.As(err)
	e := apiError{Error: pe.Message, Code: pe.Kind.String(), Field: pe.Field}
	for _, fe := range pe.Fields {
		e.Errors = append(e.Errors, apiFieldError{Field: fe.Field, Error: fe.Message})
	}
	var rr *ReauthRequired
	if errors.As(err, &rr) {
		e.ReauthURL = rr.URL
	}
	writeAPIError(w, r, statusOf(err), e)
}

// serverFault answers err as fail does, naming what failed in the log.
func (s *Server) serverFault(w http.ResponseWriter, r *http.Request, what string, err error) {
	s.fail(w, r, fmt.Errorf("%s: %w", what, err))
}

// errNotHere is a page's 404 with nothing more to say: the not-found page
// tells people there is nothing at this address, or nothing they may see.
var errNotHere = problem.New(problem.NotFound, "")

// pageNotFound answers a path no route matches.
func (s *Server) pageNotFound(w http.ResponseWriter, r *http.Request) {
	if isAPI(r) {
		s.fail(w, r, problem.Newf(problem.NotFound, "no such API route: %s %s", r.Method, r.URL.Path))
		return
	}
	s.fail(w, r, errNotHere)
}
