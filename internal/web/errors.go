package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/requestid"
)

// serverFault logs err and answers 500 without internal detail.
func (s *Server) serverFault(w http.ResponseWriter, r *http.Request, what string, err error) {
	id := requestid.From(r.Context())
	s.Logger.ErrorContext(r.Context(), what, "err", err, "request_id", id)
	s.refuse(w, r, http.StatusInternalServerError, "Something went wrong on our side (request id "+id+").")
}

// changeError maps a domain error to a status, once, here at the edge.
// Internal errors are logged and never shown.
func (s *Server) changeError(w http.ResponseWriter, r *http.Request, err error) {
	var de *change.Error
	if errors.As(err, &de) {
		status := http.StatusInternalServerError
		switch de.Code {
		case change.EInvalid:
			status = http.StatusUnprocessableEntity
		case change.EForbidden, change.EReauth:
			status = http.StatusForbidden
		case change.EConflict:
			status = http.StatusConflict
		case change.ENotFound:
			status = http.StatusNotFound
		}
		e := apiError{Error: de.Message, Code: string(de.Code), Field: de.Field}
		for _, fe := range de.Fields {
			e.Errors = append(e.Errors, apiFieldError{Field: fe.Field, Error: fe.Message})
		}
		writeAPIError(w, r, status, e)
		return
	}
	s.Logger.ErrorContext(r.Context(), "change API", "path", r.URL.Path, "err", err)
	writeJSONError(w, r, http.StatusInternalServerError, "internal error")
}

// changePageError answers a domain error that is not about a form field:
// a page saying what happened, with the status the API would use.
func (s *Server) changePageError(w http.ResponseWriter, r *http.Request, err error) {
	var de *change.Error
	if !errors.As(err, &de) {
		s.Logger.ErrorContext(r.Context(), "change page", "path", r.URL.Path, "err", err)
		s.refuse(w, r, http.StatusInternalServerError, "Something went wrong on our side. Try again; if it keeps happening, tell an administrator.")
		return
	}
	switch de.Code {
	case change.ENotFound:
		s.render(w, r, http.StatusNotFound, "notfound.html", &Page{Title: "Not found"})
	case change.EForbidden, change.EReauth:
		s.refuse(w, r, http.StatusForbidden, de.Message)
	case change.EConflict:
		s.refuse(w, r, http.StatusConflict, de.Message)
	default:
		s.refuse(w, r, http.StatusUnprocessableEntity, de.Message)
	}
}

// statusOf is the HTTP status of a domain error, for a re-rendered form.
func statusOf(err error) int {
	switch change.ErrorCode(err) {
	case change.EInvalid:
		return http.StatusUnprocessableEntity
	case change.EForbidden, change.EReauth:
		return http.StatusForbidden
	case change.EConflict:
		return http.StatusConflict
	case change.ENotFound:
		return http.StatusNotFound
	}
	return http.StatusInternalServerError
}

func (s *Server) apiInternal(w http.ResponseWriter, r *http.Request, err error) {
	s.Logger.ErrorContext(r.Context(), "request failed", "path", r.URL.Path, "err", err)
	writeJSONError(w, r, http.StatusInternalServerError, "internal error")
}

func (s *Server) pageNotFound(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/api/") {
		writeJSONError(w, r, http.StatusNotFound, "no such API route: "+r.Method+" "+r.URL.Path)
		return
	}
	s.render(w, r, http.StatusNotFound, "notfound.html", &Page{Title: "Not found"})
}
