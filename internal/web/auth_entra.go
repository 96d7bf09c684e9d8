package web

import (
	"errors"
	"net/http"
	"net/url"

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

// pageFinishEntraSignIn finishes the flow: state, code exchange with the
// PKCE verifier, ID token verification (signature, issuer, audience,
// expiry, nonce, tenant, auth_time), then the user and the session. A
// re-authentication applies the fresh token (same account, its roles)
// and opens the signature window at its auth_time.
func (s *Server) pageFinishEntraSignIn(w http.ResponseWriter, r *http.Request) {
	if s.Entra == nil {
		s.pageNotFound(w, r)
		return
	}
	ctx := r.Context()
	q := r.URL.Query()
	http.SetCookie(w, &http.Cookie{Name: entraFlowCookie, Value: "", Path: "/auth/", MaxAge: -1, HttpOnly: true, Secure: s.secureCookies(), SameSite: http.SameSiteLaxMode})
	var flow *auth.EntraFlow
	fail := func(status int, msg string, err error) {
		s.Logger.WarnContext(ctx, "Entra ID sign-in refused", "reason", msg, "err", err, "request_id", requestid.From(ctx))
		d := loginData{Return: "/", Error: msg}
		if flow != nil && flow.Reauth {
			// Back to where the signature was asked, to try again.
			d.Return, d.Retry = safeReturn(flow.ReturnTo), "/auth/entra?prompt=login&return="+url.QueryEscape(safeReturn(flow.ReturnTo))
		}
		s.renderLogin(w, r, status, d, nil)
	}
	if e := q.Get("error"); e != "" {
		s.Logger.WarnContext(ctx, "Entra ID sign-in did not complete", "error", logValue(e),
			"error_description", logValue(q.Get("error_description")), "request_id", requestid.From(ctx))
		s.renderLogin(w, r, http.StatusUnauthorized, loginData{Return: "/", Error: callbackErrorText(e, q.Get("error_description"), requestid.From(ctx))}, nil)
		return
	}
	c, _ := r.Cookie(entraFlowCookie)
	var cookie string
	if c != nil {
		cookie = c.Value
	}
	flow, err := auth.TakeEntraFlow(ctx, s.DB.SQL, cookie, q.Get("state"), s.Now())
	if errors.Is(err, auth.ErrFlowInvalid) {
		fail(http.StatusBadRequest, "Sign-in refused: "+err.Error()+".", err)
		return
	}
	if err != nil {
		s.serverFault(w, r, "finish Entra ID sign-in", err)
		return
	}
	claims, err := s.Entra.Exchange(ctx, flow, q.Get("code"))
	switch {
	case errors.Is(err, auth.ErrOtherTenant):
		fail(http.StatusForbidden, "Sign-in refused: "+auth.ErrOtherTenant.Error()+".", err)
		return
	case errors.Is(err, auth.ErrNoAuthTime), errors.Is(err, auth.ErrNotFresh):
		fail(http.StatusForbidden, "Your identity was not confirmed for signing: "+rootText(err)+".", err)
		return
	case err != nil:
		fail(http.StatusUnauthorized, "Sign-in with Microsoft failed: the identity token could not be verified. Try again; if it persists, tell your administrator (request id "+requestid.From(ctx)+").", err)
		return
	}
	if cur := auth.UserFrom(ctx); flow.Reauth && cur != nil {
		sess := auth.SessionFrom(ctx)
		if sess == nil {
			fail(http.StatusForbidden, "Your identity was not confirmed for signing: this browser is not signed in to mocpcr any more. Sign in again.", nil)
			return
		}
		ignored, err := auth.ConfirmEntraReauth(ctx, s.DB, cur.ID, claims, s.Now())
		switch {
		case errors.Is(err, auth.ErrOtherAccount):
			fail(http.StatusForbidden, "Your identity was not confirmed for signing: "+auth.ErrOtherAccount.Error()+".", err)
			return
		case errors.Is(err, auth.ErrDisabled):
			fail(http.StatusForbidden, "This account is disabled in mocpcr; ask an administrator.", err)
			return
		case err != nil:
			s.serverFault(w, r, "record re-authentication", err)
			return
		}
		if len(ignored) > 0 {
			s.Logger.WarnContext(ctx, "ID token has roles mocpcr does not know; ignored", "roles", ignored, "user_id", cur.ID)
		}
		if err := auth.MarkAuthenticated(ctx, s.DB.SQL, sess.ID, claims.AuthenticatedAt()); err != nil {
			s.serverFault(w, r, "record re-authentication", err)
			return
		}
		http.Redirect(w, r, safeReturn(flow.ReturnTo), http.StatusSeeOther)
		return
	}
	u, ignored, err := auth.UpsertEntraUser(ctx, s.DB, claims, s.Now())
	if err != nil {
		if errors.Is(err, auth.ErrDisabled) {
			fail(http.StatusForbidden, "This account is disabled in mocpcr; ask an administrator.", err)
			return
		}
		fail(http.StatusForbidden, "Sign-in refused: "+err.Error(), err)
		return
	}
	if len(ignored) > 0 {
		s.Logger.WarnContext(ctx, "ID token has roles mocpcr does not know; ignored", "roles", ignored, "user_id", u.ID)
	}
	if claims.AuthTime == 0 {
		s.Logger.WarnContext(ctx, "ID token has no auth_time: this session cannot sign until a re-authentication carries it; add the auth_time optional claim (README: Sign-in)", "user_id", u.ID)
	}
	if err := s.startSession(w, r, u, auth.MethodEntra, claims.AuthenticatedAt()); err != nil {
		s.serverFault(w, r, "start session", err)
		return
	}
	http.Redirect(w, r, safeReturn(flow.ReturnTo), http.StatusSeeOther)
}

// rootText is the words of the sentinel an error wraps, without the
// detail added for the log.
func rootText(err error) string {
	for _, e := range []error{auth.ErrNoAuthTime, auth.ErrNotFresh} {
		if errors.Is(err, e) {
			return e.Error()
		}
	}
	return err.Error()
}
