package web

import (
	"errors"
	"net/http"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/requestid"
)

// pageStartEntraSignIn begins the authorization-code flow: a server-side record of
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

// pageFinishEntraSignIn finishes the flow: state, code exchange with the PKCE
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
