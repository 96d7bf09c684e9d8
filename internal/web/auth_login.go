package web

import (
	"errors"
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

// loginPage shows the sign-in form (local accounts) or the "Sign in with
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

// loginPassword signs a local account in.
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

// startSession replaces any session the browser had with a new one.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, u *auth.User, method string) error {
	if c, err := r.Cookie(sessionCookie); err == nil {
		_ = auth.DeleteSession(r.Context(), s.DB.SQL, c.Value)
	}
	tok, sess, err := auth.CreateSession(r.Context(), s.DB.SQL, u.ID, method, s.Now())
	if err != nil {
		return err
	}
	s.setSessionCookie(w, tok, sess)
	s.Logger.InfoContext(r.Context(), "signed in", "user_id", u.ID, "method", method, "request_id", requestid.From(r.Context()))
	return nil
}

// entraStart begins the authorization-code flow: a server-side record of
// state, nonce and PKCE verifier, bound to this browser by a cookie.
func (s *Server) pageStartEntraSignIn(w http.ResponseWriter, r *http.Request) {
	if s.Entra == nil {
		s.pageNotFound(w, r)
		return
	}
	ret := safeReturn(r.URL.Query().Get("return"))
	reauth := r.URL.Query().Get("prompt") == "login"
	cookie, flow, err := auth.StartEntraFlow(r.Context(), s.DB.SQL, ret, reauth, s.Now())
	if err != nil {
		s.serverFault(w, r, "start Entra ID sign-in", err)
		return
	}
	target, err := s.Entra.AuthCodeURL(r.Context(), flow)
	if err != nil {
		s.Logger.ErrorContext(r.Context(), "Entra ID sign-in unavailable", "err", err, "request_id", requestid.From(r.Context()))
		s.renderLogin(w, r, http.StatusBadGateway, loginData{Return: ret, Error: "Microsoft sign-in is not reachable right now. Try again in a minute; if it persists, tell your administrator (request id " + requestid.From(r.Context()) + ")."}, nil)
		return
	}
	// SameSite=Lax: the cookie must come back on Microsoft's top-level
	// redirect to /auth/callback.
	http.SetCookie(w, &http.Cookie{Name: entraFlowCookie, Value: cookie, Path: "/auth/", MaxAge: int(auth.EntraFlowLifetime.Seconds()),
		HttpOnly: true, Secure: s.secureCookies(), SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, target, http.StatusFound)
}

// entraCallback finishes the flow: state, code exchange with the PKCE
// verifier, ID token verification (signature, issuer, audience, expiry,
// nonce), then the user and the session.
func (s *Server) pageFinishEntraSignIn(w http.ResponseWriter, r *http.Request) {
	if s.Entra == nil {
		s.pageNotFound(w, r)
		return
	}
	q := r.URL.Query()
	http.SetCookie(w, &http.Cookie{Name: entraFlowCookie, Value: "", Path: "/auth/", MaxAge: -1, HttpOnly: true, Secure: s.secureCookies(), SameSite: http.SameSiteLaxMode})
	fail := func(status int, msg string, err error) {
		s.Logger.WarnContext(r.Context(), "Entra ID sign-in refused", "reason", msg, "err", err, "request_id", requestid.From(r.Context()))
		s.renderLogin(w, r, status, loginData{Return: "/", Error: msg}, nil)
	}
	if e := q.Get("error"); e != "" {
		// The description is Microsoft's, meant for users (e.g. AADSTS codes).
		fail(http.StatusUnauthorized, "Microsoft sign-in did not complete: "+e+": "+q.Get("error_description"), nil)
		return
	}
	c, _ := r.Cookie(entraFlowCookie)
	var cookie string
	if c != nil {
		cookie = c.Value
	}
	flow, err := auth.TakeEntraFlow(r.Context(), s.DB.SQL, cookie, q.Get("state"), s.Now())
	if errors.Is(err, auth.ErrFlowInvalid) {
		fail(http.StatusBadRequest, "Sign-in refused: "+err.Error()+".", err)
		return
	}
	if err != nil {
		s.serverFault(w, r, "finish Entra ID sign-in", err)
		return
	}
	claims, err := s.Entra.Exchange(r.Context(), flow, q.Get("code"))
	if err != nil {
		fail(http.StatusUnauthorized, "Sign-in with Microsoft failed: the identity token could not be verified. Try again; if it persists, tell your administrator (request id "+requestid.From(r.Context())+").", err)
		return
	}
	if cur := auth.UserFrom(r.Context()); flow.Reauth && cur != nil {
		sess := auth.SessionFrom(r.Context())
		if cur.EntraOID != claims.OID || sess == nil {
			fail(http.StatusForbidden, "You confirmed with a different Microsoft account than the one signed in here. Sign in again with your own account.", nil)
			return
		}
		if err := auth.MarkAuthenticated(r.Context(), s.DB.SQL, sess.ID, s.Now()); err != nil {
			s.serverFault(w, r, "record re-authentication", err)
			return
		}
		http.Redirect(w, r, safeReturn(flow.ReturnTo), http.StatusSeeOther)
		return
	}
	u, ignored, err := auth.UpsertEntraUser(r.Context(), s.DB, claims, s.Now())
	if err != nil {
		if errors.Is(err, auth.ErrDisabled) {
			fail(http.StatusForbidden, "This account is disabled in mocpcr; ask an administrator.", err)
			return
		}
		fail(http.StatusForbidden, "Sign-in refused: "+err.Error(), err)
		return
	}
	if len(ignored) > 0 {
		s.Logger.WarnContext(r.Context(), "ID token has roles mocpcr does not know; ignored", "roles", ignored, "user_id", u.ID)
	}
	if err := s.startSession(w, r, u, auth.MethodEntra); err != nil {
		s.serverFault(w, r, "start session", err)
		return
	}
	http.Redirect(w, r, safeReturn(flow.ReturnTo), http.StatusSeeOther)
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

// logoutEverywhere ends every session of the user, on every device.
func (s *Server) pageSignOutEverywhere(w http.ResponseWriter, r *http.Request) {
	u := auth.UserFrom(r.Context())
	n, err := auth.DeleteUserSessions(r.Context(), s.DB.SQL, u.ID)
	if err != nil {
		s.serverFault(w, r, "sign out everywhere", err)
		return
	}
	s.Logger.InfoContext(r.Context(), "signed out everywhere", "user_id", u.ID, "sessions", n)
	s.clearSessionCookie(w)
	http.Redirect(w, r, "/auth/login", http.StatusSeeOther)
}

// serverFault logs err and answers 500 without internal detail.
func (s *Server) serverFault(w http.ResponseWriter, r *http.Request, what string, err error) {
	id := requestid.From(r.Context())
	s.Logger.ErrorContext(r.Context(), what, "err", err, "request_id", id)
	s.refuse(w, r, http.StatusInternalServerError, "Something went wrong on our side (request id "+id+").")
}
