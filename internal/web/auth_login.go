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
	Entra        bool
	Return       string
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
	if err := s.startSession(w, r, u, auth.MethodPassword); err != nil {
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
	http.Redirect(w, r, "/auth/login", http.StatusSeeOther)
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
