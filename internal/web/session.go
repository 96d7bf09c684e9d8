package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/config"
	"github.com/mocpcr/mocpcr/internal/requestid"
)

// Cookie names.
const (
	sessionCookie = "mocpcr_session"
	// entraFlowCookie binds an Entra ID sign-in in progress to the browser.
	entraFlowCookie = "mocpcr_signin"
)

func (s *Server) secureCookies() bool { return strings.HasPrefix(s.Config.BaseURL, "https://") }

func (s *Server) setSessionCookie(w http.ResponseWriter, tok string, sess *auth.Session) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: tok, Path: "/",
		Expires:  sess.CreatedAt.Add(s.Sessions.AbsoluteTimeout),
		HttpOnly: true, Secure: s.secureCookies(), SameSite: http.SameSiteLaxMode,
	})
}

func (s *Server) clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.secureCookies(), SameSite: http.SameSiteLaxMode})
}

func (e *ReauthRequired) Error() string {
	return "please confirm your identity: sign in again with Microsoft, then repeat the signature"
}

// fillAuthPage gives every page the CSRF token and demo flag.
func (s *Server) fillAuthPage(r *http.Request, p *Page) {
	if sess := auth.SessionFrom(r.Context()); sess != nil {
		p.CSRFToken = sess.CSRFToken
	}
	p.Demo = p.Demo || s.Demo
	p.DevMail = s.Config.EmailProvider == config.EmailDev
}

// startSession replaces any session the browser had with a new one whose
// credential was entered at authAt (now for a password; the ID token's
// auth_time for Entra ID, the zero time when it did not say).
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, u *auth.User, method string, authAt time.Time) error {
	if c, err := r.Cookie(sessionCookie); err == nil {
		_ = auth.DeleteSession(r.Context(), s.DB.SQL, c.Value)
	}
	tok, sess, err := auth.CreateSessionAuthenticatedAt(r.Context(), s.DB.SQL, u.ID, method, s.Now(), authAt)
	if err != nil {
		return err
	}
	s.setSessionCookie(w, tok, sess)
	s.Logger.InfoContext(r.Context(), "signed in", "user_id", u.ID, "method", method, "request_id", requestid.From(r.Context()))
	return nil
}
