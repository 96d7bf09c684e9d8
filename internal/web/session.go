package web

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/config"
)

// Cookie names.
const (
	sessionCookie = "mocpcr_session"
	// entraFlowCookie binds an Entra ID sign-in in progress to the browser.
	entraFlowCookie = "mocpcr_signin"
)

// SignatureWindow is how long after signing in (or re-authenticating) a
// user may sign an approval without proving who they are again.
const SignatureWindow = 5 * time.Minute

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

func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }

// refuse answers an error in the caller's language: JSON for the API, a
// page otherwise.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, status int, msg string) {
	if isAPI(r) {
		writeJSONError(w, r, status, msg)
		return
	}
	s.render(w, r, status, "message.html", &Page{Title: http.StatusText(status), Data: msg})
}

// safeReturn keeps a post-sign-in destination only if it is a path on
// this site ("/changes?x=1"), never another origin ("//evil", "https://").
func safeReturn(ret string) string {
	if ret == "" || !strings.HasPrefix(ret, "/") || strings.HasPrefix(ret, "//") || strings.HasPrefix(ret, "/\\") {
		return "/"
	}
	u, err := url.Parse(ret)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	if strings.ContainsAny(ret, "\r\n\t") {
		return "/"
	}
	return ret
}

func sameOriginReferer(r *http.Request) string {
	u, err := url.Parse(r.Referer())
	if err != nil || u.Host != r.Host {
		return ""
	}
	return safeReturn(u.RequestURI())
}

// clientIP is the connection's address. X-Forwarded-For is not trusted:
// any client can send it, which would let an attacker dodge the per-IP
// sign-in limit.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// ReauthRequired is returned by verifyReauth when an Entra ID user must
// sign in again at Microsoft; send the browser to URL.
type ReauthRequired struct{ URL string }

func (e *ReauthRequired) Error() string {
	return "please confirm your identity: sign in again with Microsoft, then repeat the signature"
}

// errReauthNeedsBrowser: an Entra ID user signing through the API cannot
// re-authenticate there.
var errReauthNeedsBrowser = errors.New("signatures by Entra ID users need a fresh sign-in in the browser")

// verifyReauth decides whether the signed-in user may sign now (approve,
// sign off): they have just proved who they are.
//
//   - Local accounts: password (the form's "reauth_password" field, or
//     the JSON body's field the caller passes in) must be the user's
//     password. Wrong passwords count towards the sign-in throttle.
//   - Entra ID users: the session's last sign-in at Microsoft must be
//     within SignatureWindow. Otherwise the error is *ReauthRequired
//     whose URL (/auth/login?prompt=login&return=returnTo) makes Entra ID
//     ask for the password again and records the fresh time.
//
// A nil error means go ahead. Other errors are messages for the user
// (show them beside the password field).
func (s *Server) verifyReauth(r *http.Request, password, returnTo string) error {
	u := auth.UserFrom(r.Context())
	if u == nil {
		return errors.New("sign in first")
	}
	hasPassword, err := auth.HasPassword(r.Context(), s.DB.SQL, u.ID)
	if err != nil {
		return err
	}
	sess := auth.SessionFrom(r.Context())
	if s.Entra != nil && u.EntraOID != "" && (sess == nil || sess.Method == auth.MethodEntra || !hasPassword) {
		if sess == nil {
			return errReauthNeedsBrowser
		}
		if s.Now().Sub(sess.AuthAt) <= SignatureWindow {
			return nil
		}
		return &ReauthRequired{URL: "/auth/login?prompt=login&return=" + url.QueryEscape(safeReturn(returnTo))}
	}
	if !hasPassword {
		return errors.New("this account has no password to confirm the signature with; ask an administrator")
	}
	if password == "" {
		return errors.New("enter your password to sign")
	}
	if err := auth.CheckUserPassword(r.Context(), s.DB, u.ID, password, s.Now(), s.Throttle); err != nil {
		if errors.Is(err, auth.ErrBadCredentials) {
			return errors.New("password is not correct")
		}
		return err
	}
	if sess != nil {
		return auth.MarkAuthenticated(r.Context(), s.DB.SQL, sess.ID, s.Now())
	}
	return nil
}

// fillAuthPage gives every page the CSRF token and demo flag.
func (s *Server) fillAuthPage(r *http.Request, p *Page) {
	if sess := auth.SessionFrom(r.Context()); sess != nil {
		p.CSRFToken = sess.CSRFToken
	}
	p.Demo = p.Demo || s.Demo
	p.DevMail = s.Config.EmailProvider == config.EmailDev
}
