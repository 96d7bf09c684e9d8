package graphtest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"
)

// entraError is the body the Microsoft identity platform sends on failure.
type entraError struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	ErrorCodes       []int  `json:"error_codes"`
	Timestamp        string `json:"timestamp"`
	TraceID          string `json:"trace_id"`
	CorrelationID    string `json:"correlation_id"`
	ErrorURI         string `json:"error_uri"`
}

// writeEntraError answers like Entra ID: the AADSTS code leads the
// description, which ends with trace and correlation ids and a timestamp.
func (s *Server) writeEntraError(w http.ResponseWriter, status int, errCode string, aadsts int, text string) {
	s.mu.Lock()
	now := s.now().UTC()
	s.mu.Unlock()
	traceID, correlationID := newID(), newID()
	ts := now.Format("2006-01-02 15:04:05Z")
	body := entraError{
		Error: errCode,
		ErrorDescription: fmt.Sprintf("AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s",
			aadsts, text, traceID, correlationID, ts),
		ErrorCodes:    []int{aadsts},
		Timestamp:     ts,
		TraceID:       traceID,
		CorrelationID: correlationID,
		ErrorURI:      fmt.Sprintf("%s/error?code=%d", s.URL, aadsts),
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("x-ms-request-id", traceID)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.tokenRequests++
	latency, hold, mode := s.tokenLatency, s.tokenHold, s.tokenMode
	s.mu.Unlock()

	s.wait(r.Context(), latency)
	if hold != nil {
		select {
		case <-hold:
		case <-r.Context().Done():
		case <-s.closed:
		}
	}
	switch mode {
	case TokenDown:
		s.writeEntraError(w, http.StatusInternalServerError, "temporarily_unavailable", 90033, "A transient error has occurred. Please try again.")
		return
	case TokenDrop:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	}

	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/x-www-form-urlencoded" || r.ParseForm() != nil {
		s.writeEntraError(w, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
		return
	}
	s.mu.Lock()
	s.tokenForms = append(s.tokenForms, r.PostForm)
	knownTenant := strings.EqualFold(r.PathValue("tenant"), s.tenantID)
	s.mu.Unlock()

	tenant := r.PathValue("tenant")
	if !knownTenant {
		s.writeEntraError(w, http.StatusBadRequest, "invalid_request", 90002, fmt.Sprintf(
			"Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.", tenant))
		return
	}
	grant := r.PostForm.Get("grant_type")
	if grant == "" {
		s.writeEntraError(w, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
		return
	}
	handle, ok := s.grants[grant]
	if !ok {
		s.writeEntraError(w, http.StatusBadRequest, "unsupported_grant_type", 70003, fmt.Sprintf("The app requested an unsupported grant type '%s'.", grant))
		return
	}
	handle(w, r, tenant)
}

// clientCredentials serves grant_type=client_credentials.
func (s *Server) clientCredentials(w http.ResponseWriter, r *http.Request, tenant string) {
	f := r.PostForm
	for _, p := range []string{"client_id", "scope"} {
		if f.Get(p) == "" {
			s.writeEntraError(w, http.StatusBadRequest, "invalid_request", 900144, fmt.Sprintf("The request body must contain the following parameter: '%s'.", p))
			return
		}
	}
	s.mu.Lock()
	clientID, secret, expired, lifetime, now := s.clientID, s.clientSecret, s.secretExpired, s.tokenLifetime, s.now()
	audiences := append([]string{s.URL, s.graphResource}, s.resources...)
	s.mu.Unlock()

	id := f.Get("client_id")
	if !strings.EqualFold(id, clientID) {
		s.writeEntraError(w, http.StatusBadRequest, "unauthorized_client", 700016, fmt.Sprintf(
			"Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", id, tenant))
		return
	}
	if f.Get("client_secret") == "" && f.Get("client_assertion") != "" {
		if status, code, aadsts, text := s.checkAssertion(r, tenant, id); status != 0 {
			s.writeEntraError(w, status, code, aadsts, text)
			return
		}
	} else {
		switch got := f.Get("client_secret"); {
		case got == "":
			s.writeEntraError(w, http.StatusUnauthorized, "invalid_client", 7000216, "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.")
			return
		case got != secret:
			s.writeEntraError(w, http.StatusUnauthorized, "invalid_client", 7000215, fmt.Sprintf(
				"Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", id))
			return
		case expired:
			s.writeEntraError(w, http.StatusUnauthorized, "invalid_client", 7000222, fmt.Sprintf(
				"The provided client secret keys for app '%s' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.", id))
			return
		}
	}
	scope := f.Get("scope")
	resource, ok := strings.CutSuffix(scope, "/.default")
	if !ok || strings.Contains(scope, " ") {
		s.writeEntraError(w, http.StatusBadRequest, "invalid_scope", 1002012, fmt.Sprintf(
			"The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", scope))
		return
	}
	if !slices.Contains(audiences, resource) {
		s.writeEntraError(w, http.StatusBadRequest, "invalid_resource", 500011, fmt.Sprintf(
			"The resource principal named %s was not found in the tenant named %s. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.", resource, tenant))
		return
	}

	token := newToken()
	s.mu.Lock()
	s.tokens[token] = issuedToken{expiry: now.Add(lifetime), clientID: id}
	s.mu.Unlock()
	secs := int(lifetime / time.Second)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store, no-cache")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"token_type":     "Bearer",
		"expires_in":     secs,
		"ext_expires_in": secs,
		"access_token":   token,
	})
}

// newToken returns an opaque token. Real Graph tokens are JWTs, but a
// client must treat them as opaque, and so this one is.
func newToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return "fake." + base64.RawURLEncoding.EncodeToString(b[:])
}
