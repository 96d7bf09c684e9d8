package web

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/problem"
	"github.com/mocpcr/mocpcr/internal/store"
)

// newTokenCookie carries a just-created API token from the POST to the
// one GET that shows it, so reloading the account page neither mints a
// second token nor shows the first again. A cookie rather than server
// memory so the GET may land on another replica; it lives minutes, is
// scoped to /account and never reaches a script.
const newTokenCookie = "mocpcr_new_token"

func (s *Server) giveNewToken(w http.ResponseWriter, name, tok string) {
	http.SetCookie(w, &http.Cookie{
		Name: newTokenCookie, Value: base64.RawURLEncoding.EncodeToString([]byte(name + "\x00" + tok)),
		Path: "/account", MaxAge: 300, HttpOnly: true, Secure: s.secureCookies(), SameSite: http.SameSiteStrictMode,
	})
}

// takeNewToken returns the token giveNewToken left, once.
func (s *Server) takeNewToken(w http.ResponseWriter, r *http.Request) (name, tok string) {
	c, err := r.Cookie(newTokenCookie)
	if err != nil {
		return "", ""
	}
	http.SetCookie(w, &http.Cookie{Name: newTokenCookie, Path: "/account", MaxAge: -1, HttpOnly: true,
		Secure: s.secureCookies(), SameSite: http.SameSiteStrictMode})
	b, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil {
		return "", ""
	}
	name, tok, ok := strings.Cut(string(b), "\x00")
	if !ok || !strings.HasPrefix(tok, auth.APITokenPrefix) {
		return "", ""
	}
	return name, tok
}

// pageCreateToken mints a personal API token and shows it once, on
// the page it redirects to; it is never stored or shown again. An
// optional last day (token_expires_on) ends it on its own.
func (s *Server) pageCreateToken(w http.ResponseWriter, r *http.Request) {
	u := auth.UserFrom(r.Context())
	name := strings.TrimSpace(r.PostFormValue("token_name"))
	expiresOn := strings.TrimSpace(r.PostFormValue("token_expires_on"))
	errs := map[string]string{}
	if len(name) > 100 {
		errs["token_name"] = "Token name must be at most 100 characters"
	}
	expiresAt, msg := tokenExpiry(expiresOn, s.Now())
	if msg != "" {
		errs["token_expires_on"] = msg
	}
	if len(errs) > 0 {
		s.renderAccount(w, r, u, http.StatusBadRequest, accountData{TokenName: name, TokenExpiresOn: expiresOn}, &Page{Errors: errs})
		return
	}
	if name == "" {
		name = "API token"
	}
	tok, err := auth.CreateAPITokenUntil(r.Context(), s.DB.SQL, u.ID, name, expiresAt)
	if err != nil {
		s.serverFault(w, r, "create API token", err)
		return
	}
	s.giveNewToken(w, name, tok)
	http.Redirect(w, r, "/account#new-token", http.StatusSeeOther)
}

func (s *Server) pageRevokeToken(w http.ResponseWriter, r *http.Request) {
	u := auth.UserFrom(r.Context())
	err := store.ErrNotFound
	if id, ok := pathInt(r, "id"); ok {
		err = auth.RevokeAPIToken(r.Context(), s.DB, u.ID, id, s.Now())
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.serverFault(w, r, "revoke API token", err)
		return
	}
	if err != nil {
		s.fail(w, r, problem.New(problem.NotFound, "You have no such API token; it may already be revoked."))
		return
	}
	http.Redirect(w, r, "/account?done=Token+revoked.", http.StatusSeeOther)
}

// tokenExpiry reads the optional last day of a new token (YYYY-MM-DD,
// UTC like every date here): the token works through that day and stops
// at the midnight after it. Empty: no end. The message names the field.
func tokenExpiry(v string, now time.Time) (time.Time, string) {
	if v == "" {
		return time.Time{}, ""
	}
	day, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return time.Time{}, "Expires on must be a date like 2026-12-31, got " + strconv.Quote(v)
	}
	if day.Before(dayOf(now)) {
		return time.Time{}, "Expires on must be today or later"
	}
	return day.AddDate(0, 0, 1), ""
}
