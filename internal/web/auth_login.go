package web

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/demo"
	"github.com/mocpcr/mocpcr/internal/requestid"
)

type loginData struct {
	Entra  bool
	Return string
	// Retry, after a refused re-authentication, asks Microsoft for the
	// password again and comes back to Return.
	Retry        string
	Email        string
	Error        string
	DemoAccounts []demo.Account
	DemoPassword string
}

func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, status int, d loginData, fieldErrs map[string]string) {
	d.Entra = s.Entra != nil
	if s.Demo && !d.Entra {
		d.DemoAccounts, d.DemoPassword = demo.Accounts, demo.Password
	}
	s.render(w, r, status, "login.html", &Page{Title: "Sign in", Data: d, Errors: fieldErrs})
}

// pageShowSignIn shows the sign-in form (local accounts) or the "Sign in with
// Microsoft" button. prompt=login asks Entra ID for a fresh sign-in
// (re-authentication before a signature).
func (s *Server) pageShowSignIn(w http.ResponseWriter, r *http.Request) {
	ret := safeReturn(r.URL.Query().Get("return"))
	if s.Entra != nil && r.URL.Query().Get("prompt") == "login" {
		http.Redirect(w, r, "/auth/entra?prompt=login&return="+url.QueryEscape(ret), http.StatusSeeOther)
		return
	}
	if auth.UserFrom(r.Context()) != nil {
		http.Redirect(w, r, ret, http.StatusSeeOther)
		return
	}
	s.renderLogin(w, r, http.StatusOK, loginData{Return: ret}, nil)
}

// pageSignIn signs a local account in.
func (s *Server) pageSignIn(w http.ResponseWriter, r *http.Request) {
	if s.Entra != nil {
		s.renderLogin(w, r, http.StatusBadRequest, loginData{Error: "Sign in with Microsoft: local passwords are not used on this site."}, nil)
		return
	}
	email := strings.TrimSpace(r.PostFormValue("email"))
	password := r.PostFormValue("password")
	d := loginData{Return: safeReturn(r.PostFormValue("return")), Email: email}
	errs := map[string]string{}
	if email == "" {
		errs["email"] = "Email is required"
	}
	if password == "" {
		errs["password"] = "Password is required"
	}
	if len(errs) > 0 {
		s.renderLogin(w, r, http.StatusBadRequest, d, errs)
		return
	}
	u, err := auth.PasswordLogin(r.Context(), s.DB, email, password, clientIP(r), s.Now(), s.Throttle)
	var throttled *auth.ThrottledError
	switch {
	case errors.As(err, &throttled):
		s.Logger.WarnContext(r.Context(), "sign-in throttled", "email", email, "ip", clientIP(r), "request_id", requestid.From(r.Context()))
		w.Header().Set("Retry-After", strconv.Itoa(int(throttled.RetryAfter.Seconds())+1))
		d.Error = throttled.Error() + "."
		s.renderLogin(w, r, http.StatusTooManyRequests, d, nil)
		return
	case errors.Is(err, auth.ErrBadCredentials):
		s.renderLogin(w, r, http.StatusUnauthorized, d, map[string]string{"password": "Email or password is not correct"})
		return
	case err != nil:
		s.serverFault(w, r, "password sign-in", err)
		return
	}
	if err := s.startSession(w, r, u, auth.MethodPassword, s.Now()); err != nil {
		s.serverFault(w, r, "start session", err)
		return
	}
	http.Redirect(w, r, d.Return, http.StatusSeeOther)
}

func (s *Server) pageSignOut(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if err := auth.DeleteSession(r.Context(), s.DB.SQL, c.Value); err != nil {
			s.serverFault(w, r, "sign out", err)
			return
		}
	}
	s.clearSessionCookie(w)
	s.afterSignOut(w, r)
}

// afterSignOut sends a browser whose session came from Entra ID through
// Microsoft's end-session endpoint, so that the next person at a shared
// PC is asked for their own credentials instead of being signed in
// silently as the last one; Microsoft sends it back to the sign-in page.
// Without that endpoint (or Entra ID), straight to the sign-in page.
func (s *Server) afterSignOut(w http.ResponseWriter, r *http.Request) {
	if sess := auth.SessionFrom(r.Context()); s.Entra != nil && sess != nil && sess.Method == auth.MethodEntra {
		if end, ok := s.Entra.EndSessionURL(r.Context(), s.Config.BaseURL+"/auth/login"); ok {
			http.Redirect(w, r, end, http.StatusSeeOther)
			return
		}
	}
	http.Redirect(w, r, "/auth/login", http.StatusSeeOther)
}

// pageSignOutEverywhere ends every session of the user, on every device,
// and revokes their API tokens: whoever the user wants shut out may hold
// either.
func (s *Server) pageSignOutEverywhere(w http.ResponseWriter, r *http.Request) {
	u := auth.UserFrom(r.Context())
	n, tokens, err := auth.SignOutEverywhere(r.Context(), s.DB, u.ID, s.Now())
	if err != nil {
		s.serverFault(w, r, "sign out everywhere", err)
		return
	}
	s.Logger.InfoContext(r.Context(), "signed out everywhere", "user_id", u.ID, "sessions", n, "api_tokens_revoked", tokens)
	s.clearSessionCookie(w)
	s.afterSignOut(w, r)
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
