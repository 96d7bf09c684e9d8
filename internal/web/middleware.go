package web

import (
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/problem"
	"github.com/mocpcr/mocpcr/internal/requestid"
	"github.com/mocpcr/mocpcr/internal/store"
)

// withRequestID gives every request an id, taken from X-Request-ID when a
// proxy sent a sane one, and echoes it back.
func (s *Server) withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-ID")
		if len(id) == 0 || len(id) > 64 || strings.ContainsAny(id, " \t\r\n\"") {
			id = requestid.New()
		}
		w.Header().Set("X-Request-ID", id)
		next.ServeHTTP(w, r.WithContext(requestid.With(r.Context(), id)))
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach Flush for server-sent events.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (s *Server) withLogging(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		level := slog.LevelInfo
		if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" {
			level = slog.LevelDebug // probes every few seconds would drown the log
		}
		s.Logger.Log(r.Context(), level, "http request",
			"request_id", requestid.From(r.Context()),
			"method", r.Method,
			"path", r.URL.Path,
			"status", rec.status,
			"bytes", rec.bytes,
			"duration_ms", float64(time.Since(start).Microseconds())/1000)
	})
}

func (s *Server) withRecover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.Logger.ErrorContext(r.Context(), "handler panic", "request_id", requestid.From(r.Context()), "panic", p)
				http.Error(w, "internal error (request id "+requestid.From(r.Context())+")", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// withUser sets the security headers, resolves the caller (API token or
// session cookie) and refuses cross-site or token-less state changes made
// with a session cookie. Requests with an Authorization header are exempt
// from CSRF checks: a browser never adds that header on its own. Only
// programs send that header, so its refusals are JSON on every path.
func (s *Server) withUser(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	if origin := originOf(s.Config.BaseURL); origin != "" {
		// Behind a reverse proxy the Host header may not be the public name.
		_ = cop.AddTrustedOrigin(origin)
	}
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, problem.New(problem.Forbidden, "Cross-origin request refused: this form must be sent from a mocpcr page."))
	}))
	hsts := strings.HasPrefix(s.Config.BaseURL, "https://")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setSecurityHeaders(w)
		if hsts {
			// Served over https (behind the TLS proxy MOCPCR_BASE_URL names):
			// browsers keep to https for a year. Not includeSubDomains: the
			// customer's other hosts are not ours to decide for.
			w.Header().Set("Strict-Transport-Security", "max-age=31536000")
		}
		if h := r.Header.Get("Authorization"); h != "" {
			tok, ok := strings.CutPrefix(h, "Bearer ")
			if !ok {
				writeProblem(w, r, problem.New(problem.Unauthenticated, "Authorization header must be \"Bearer <API token>\""))
				return
			}
			u, err := s.users.UserByAPIToken(r.Context(), s.DB.Prepared(), strings.TrimSpace(tok), s.Now())
			if errors.Is(err, store.ErrNotFound) {
				writeProblem(w, r, problem.New(problem.Unauthenticated, "API token is not valid or was revoked"))
				return
			}
			if err != nil {
				s.Logger.ErrorContext(r.Context(), "check API token", "err", err)
				writeAPIError(w, r, http.StatusInternalServerError, apiError{Error: "could not check the API token", Code: problem.Internal.String()})
				return
			}
			privateAnswer(w, r)
			next.ServeHTTP(w, r.WithContext(auth.WithUser(r.Context(), u)))
			return
		}
		sess, u, err := s.sessionUser(r)
		if err != nil {
			s.Logger.ErrorContext(r.Context(), "check session", "err", err, "request_id", requestid.From(r.Context()))
			http.Error(w, "could not check the session (request id "+requestid.From(r.Context())+")", http.StatusInternalServerError)
			return
		}
		if sess != nil {
			privateAnswer(w, r)
			r = r.WithContext(auth.WithSession(auth.WithUser(r.Context(), u), sess))
		} else if _, err := r.Cookie(sessionCookie); err == nil {
			s.clearSessionCookie(w) // expired or signed out elsewhere
		}
		if !safeMethod(r.Method) {
			if err := cop.Check(r); err != nil {
				cop.Handler(next).ServeHTTP(w, r) // answers through the deny handler
				return
			}
			if sess != nil && !validCSRFToken(r, sess) {
				s.fail(w, r, problem.New(problem.Forbidden, "The form's security token is missing or out of date. Go back, reload the page and try again."))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// sessionUser returns the live session and its user, or nils.
func (s *Server) sessionUser(r *http.Request) (*auth.Session, *auth.User, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, nil, nil
	}
	sess, err := auth.SessionByTokenBatched(r.Context(), s.DB.Prepared(), c.Value, s.Now(), s.Sessions, s.touches)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	u, err := s.users.UserByID(r.Context(), s.DB.Prepared(), sess.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	return sess, u, nil
}

// privateAnswer keeps what a signed-in caller is answered out of every
// cache, the browser's included: a change page left in the history of a
// shared control-room PC must not come back after sign-out. Static files
// are the same for everyone and stay cacheable.
func privateAnswer(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, "/static/") {
		w.Header().Set("Cache-Control", "no-store")
	}
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// validCSRFToken checks the synchronizer token: the form field csrf_token
// or, for scripts, the X-CSRF-Token header.
func validCSRFToken(r *http.Request, sess *auth.Session) bool {
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		got = r.PostFormValue("csrf_token")
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(sess.CSRFToken)) == 1
}

// contentSecurityPolicy allows only our own files: no inline scripts or
// styles, no framing.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'"

func setSecurityHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
}

func originOf(baseURL string) string {
	u, err := url.Parse(baseURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
