package web

import (
	"encoding/json"
	"net/http"

	"github.com/mocpcr/mocpcr/internal/requestid"
)

// apiError is the body of every JSON error response.
type apiError struct {
	Error     string `json:"error"`
	RequestID string `json:"request_id,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
}

func writeJSONError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	writeJSON(w, status, apiError{Error: msg, RequestID: requestid.From(r.Context())})
}
