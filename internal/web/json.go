package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"

	"github.com/mocpcr/mocpcr/internal/problem"
	"github.com/mocpcr/mocpcr/internal/requestid"
)

// apiError is the body of every JSON error response, whoever refused:
// the router, the auth layer or the domain. Clients branch on Code (a
// problem.Kind's name) and show Error; Field names the input that was
// wrong, when one was.
type apiError struct {
	Error string `json:"error"`
	Code  string `json:"code"`
	Field string `json:"field,omitempty"`
	// Errors lists every invalid field when the request's fields were
	// checked together (creating or editing a change); the first is Error
	// and Field, kept for clients that read only those.
	Errors []apiFieldError `json:"errors,omitempty"`
	// ReauthURL is where an Entra ID user signs in again before a
	// signature (code reauth_required).
	ReauthURL string `json:"reauth_url,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// apiFieldError is one invalid field in apiError.Errors.
type apiFieldError struct {
	Field string `json:"field"`
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
}

// writeAPIError writes e with the request id.
func writeAPIError(w http.ResponseWriter, r *http.Request, status int, e apiError) {
	e.RequestID = requestid.From(r.Context())
	writeJSON(w, status, e)
}

// decodeBody reads a JSON request body into v strictly: the body is one
// JSON object and nothing after it (a second object is a client bug, not
// something to ignore); unknown fields are refused so a typo is reported
// instead of silently ignored, with its full path ("screening.pssr"); and
// a wrong type names the field and the type expected. No message names a
// Go type: clients know JSON, not our structs. An empty body leaves v as
// it is (every field optional at this layer; the domain says which are
// required). It answers 422 itself and returns false on failure.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := decodeJSON(r.Body, w, v); err != nil {
		writeProblem(w, r, err)
		return false
	}
	return true
}

// maxBody is the largest JSON request body decodeBody reads.
const maxBody = 1 << 20

// decodeJSON is decodeBody without the answer: an Invalid error naming
// the field, or nil.
func decodeJSON(body io.ReadCloser, w http.ResponseWriter, v any) error {
	refuse := func(field, msg string) error {
		return &problem.Error{Kind: problem.Invalid, Field: field, Message: msg}
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, body, maxBody))
	var me *http.MaxBytesError
	switch {
	case errors.As(err, &me):
		return &problem.Error{Kind: problem.TooLarge, Field: "body", Message: fmt.Sprintf("body: must be at most %d bytes", me.Limit)}
	case err != nil:
		return refuse("body", "body: could not be read: "+err.Error())
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	if got := topLevelKind(data); got != "" {
		return refuse("body", "body: expected a JSON object, got "+got)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	if err == nil {
		// Decode stops after the first value; anything but white space
		// after it would otherwise be dropped without a word.
		if _, err := dec.Token(); err != io.EOF {
			return refuse("body", "body: unexpected data after the JSON object; send exactly one object")
		}
		return nil
	}
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se) || errors.Is(err, io.ErrUnexpectedEOF):
	case errors.As(err, &te) && te.Field != "":
		return refuse(te.Field, fmt.Sprintf("%s: expected %s, got %s", te.Field, jsonKind(te.Type), te.Value))
	default:
		// encoding/json names an unknown field only in its error's text,
		// and without its path; the walk finds the same key, with the path,
		// by reading the body as Decode did.
		if path := unknownFieldPath(data, reflect.TypeOf(v)); path != "" {
			return refuse(path, path+": unknown field")
		}
	}
	return refuse("body", "body: expected a JSON object as described in the OpenAPI document (/api/v1/openapi.json): "+err.Error())
}

// topLevelKind names the JSON value data starts with when it is not an
// object ("an array", "null"), or "" for an object or for data that is
// not JSON at all (Decode's syntax error says more about that).
func topLevelKind(data []byte) string {
	tok, err := json.NewDecoder(bytes.NewReader(data)).Token()
	if err != nil {
		return ""
	}
	switch tok := tok.(type) {
	case json.Delim:
		if tok == '[' {
			return "an array"
		}
	case string:
		return "a string"
	case float64:
		return "a number"
	case bool:
		return "true or false"
	case nil:
		return "null"
	}
	return ""
}

// unknownFieldPath returns the path of the first object key in data
// that names no field of t, the key encoding/json refuses first (its
// error names only the key). The path is written the way
// UnmarshalTypeError.Field writes one: field names joined by dots, array
// indices and map keys left out. It returns "" if every key is known.
func unknownFieldPath(data []byte, t reflect.Type) string {
	path, _ := walkUnknown(json.NewDecoder(bytes.NewReader(data)), t, "")
	return path
}

var jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()

// walkUnknown reads one value from dec as decoding it into t would,
// and returns the path of the first unknown key in it; stop is true once
// the walk should end (found, or the JSON is broken).
func walkUnknown(dec *json.Decoder, t reflect.Type, path string) (found string, stop bool) {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || reflect.PointerTo(t).Implements(jsonUnmarshaler) ||
		(t.Kind() != reflect.Struct && t.Kind() != reflect.Map && t.Kind() != reflect.Slice && t.Kind() != reflect.Array) {
		// Nothing in this value can be an unknown field: skip it whole.
		var skip json.RawMessage
		return "", dec.Decode(&skip) != nil
	}
	tok, err := dec.Token()
	if err != nil {
		return "", true
	}
	switch tok {
	case json.Delim('{'):
		for dec.More() {
			kt, err := dec.Token()
			key, ok := kt.(string)
			if err != nil || !ok {
				return "", true
			}
			var vt reflect.Type // nil: a value the type does not expect, skipped
			sub := path
			switch t.Kind() {
			case reflect.Struct:
				name, ft, ok := jsonField(t, key)
				if !ok {
					return joinPath(path, key), true
				}
				vt, sub = ft, joinPath(path, name)
			case reflect.Map:
				vt = t.Elem()
			}
			if found, stop := walkUnknown(dec, vt, sub); stop {
				return found, true
			}
		}
	case json.Delim('['):
		var et reflect.Type
		if t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
			et = t.Elem()
		}
		for dec.More() {
			if found, stop := walkUnknown(dec, et, path); stop {
				return found, true
			}
		}
	default:
		return "", false // a scalar where t expects more: a type error, not ours
	}
	_, err = dec.Token() // the closing } or ]
	return "", err != nil
}

func isStruct(t reflect.Type) bool {
	return t.Kind() == reflect.Struct || t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// jsonField finds the field of struct t that encoding/json would fill
// from key: by its json tag name or Go name, an exact match before a
// case-insensitive one, looking into embedded structs as it does.
func jsonField(t reflect.Type, key string) (name string, typ reflect.Type, ok bool) {
	var fold struct {
		name string
		typ  reflect.Type
	}
	for _, f := range reflect.VisibleFields(t) {
		if !f.IsExported() || f.Anonymous && f.Tag.Get("json") == "" && isStruct(f.Type) {
			continue // an embedded struct: VisibleFields lists its fields too
		}
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if tag == "-" {
			continue
		}
		if tag == "" {
			tag = f.Name
		}
		if tag == key {
			return tag, f.Type, true
		}
		if fold.typ == nil && strings.EqualFold(tag, key) {
			fold.name, fold.typ = tag, f.Type
		}
	}
	return fold.name, fold.typ, fold.typ != nil
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
