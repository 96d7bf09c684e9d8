package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"

	"github.com/mocpcr/mocpcr/internal/requestid"
)

// apiError is the body of every JSON error response, whoever refused:
// the router, the auth layer or the domain. Clients branch on Code and
// show Error; Field names the input that was wrong, when one was.
type apiError struct {
	Error string `json:"error"`
	Code  string `json:"code"`
	Field string `json:"field,omitempty"`
	// ReauthURL is where an Entra ID user signs in again before a
	// signature (code reauth_required).
	ReauthURL string `json:"reauth_url,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// statusCode is the Code of an error answered only with a status. The
// words match change.Code's so one client switch covers every refusal.
func statusCode(status int) string {
	switch status {
	case http.StatusBadRequest, http.StatusUnprocessableEntity, http.StatusRequestEntityTooLarge:
		return "invalid"
	case http.StatusUnauthorized:
		return "unauthenticated"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusNotFound:
		return "not_found"
	case http.StatusConflict:
		return "conflict"
	case http.StatusTooManyRequests:
		return "throttled"
	case http.StatusServiceUnavailable:
		return "unavailable"
	}
	return "internal"
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
}

func writeJSONError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	writeAPIError(w, r, status, apiError{Error: msg})
}

// writeAPIError fills in what e leaves out (the code from the status, the
// field from the message, the request id) and writes it.
func writeAPIError(w http.ResponseWriter, r *http.Request, status int, e apiError) {
	if e.Code == "" {
		e.Code = statusCode(status)
	}
	if e.Field == "" && e.Code == "invalid" {
		e.Field = messageField(e.Error)
	}
	e.RequestID = requestid.From(r.Context())
	writeJSON(w, status, e)
}

// messageField reads the field out of a refusal written the house way,
// "site_ids: there is no site with id 9", so every handler's refusals
// carry the field without each one naming it twice.
func messageField(msg string) string {
	f, _, ok := strings.Cut(msg, ": ")
	if !ok || f == "" {
		return ""
	}
	for _, c := range f {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '.') {
			return ""
		}
	}
	return f
}

// decodeBody reads a JSON request body into v strictly: unknown fields
// are refused so a typo is reported instead of silently ignored, and a
// wrong type names the field and the type expected. An empty body leaves
// v as it is (every field optional at this layer; the domain says which
// are required). It answers 422 itself and returns false on failure.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil || errors.Is(err, io.EOF) {
		return true
	}
	e := apiError{Field: "body", Error: "body: expected a JSON object as described in the OpenAPI document (/api/v1/openapi.json): " + err.Error()}
	var te *json.UnmarshalTypeError
	var me *http.MaxBytesError
	switch {
	case errors.As(err, &te) && te.Field != "":
		e.Field = te.Field
		e.Error = fmt.Sprintf("%s: expected %s, got %s", te.Field, jsonKind(te.Type), te.Value)
	case errors.As(err, &me):
		e.Error = fmt.Sprintf("body: must be at most %d bytes", me.Limit)
	default:
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			e.Field = strings.Trim(f, `"`)
			e.Error = e.Field + ": unknown field"
		}
	}
	writeAPIError(w, r, http.StatusUnprocessableEntity, e)
	return false
}

// jsonKind names a Go type the way a JSON client thinks of it: "a whole
// number", not "int64".
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "a different JSON type"
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "an array of " + strings.TrimPrefix(strings.TrimPrefix(jsonKind(t.Elem()), "a "), "an ") + "s"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return t.String()
}
