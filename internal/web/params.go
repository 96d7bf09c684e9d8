package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mocpcr/mocpcr/internal/problem"
)

// pathID reads the path value name of an API route as a record id,
// answering 404 when it is not one.
func pathID(w http.ResponseWriter, r *http.Request, name string) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		writeProblem(w, r, problem.Newf(problem.NotFound, "%s: %q is not an id", name, r.PathValue(name)))
		return 0, false
	}
	return id, true
}

// parseDate parses YYYY-MM-DD; empty gives nil.
func parseDate(field, s string) (*time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return nil, &problem.Error{Kind: problem.Invalid, Field: field, Message: fmt.Sprintf("%s: expected a date YYYY-MM-DD, got %q", field, s)}
	}
	return &t, nil
}

// requiredDate is parseDate for a date that must be given.
func requiredDate(field, v string) (time.Time, error) {
	t, err := parseDate(field, v)
	if err == nil && t == nil {
		err = &problem.Error{Kind: problem.Invalid, Field: field, Message: field + ": required (YYYY-MM-DD)"}
	}
	if err != nil {
		return time.Time{}, err
	}
	return *t, nil
}

// idParam reads the {id} path value; ok is false when it is not a positive
// integer (answered as not found: there is no such notification).
func idParam(r *http.Request) (int64, bool) { return pathInt(r, "id") }

// pathInt reads path value name as an id; ok is false when it is not a
// positive 64-bit integer, which callers answer as not found: no object
// has that id.
func pathInt(r *http.Request, name string) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	return id, err == nil && id > 0
}

// queryInt reads the query parameter name as a whole number of at least
// 0; def when absent.
func queryInt(r *http.Request, name string, def int64) (int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, &problem.Error{Kind: problem.Invalid, Field: name, Message: fmt.Sprintf("%s: expected a whole number, 0 or more, got %q", name, v)}
	}
	return n, nil
}
