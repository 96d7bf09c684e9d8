package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
)

// SignatureWindow is how long after signing in (or re-authenticating) a
// user may sign an approval without proving who they are again.
const SignatureWindow = 5 * time.Minute

// ReauthRequired is returned by verifyReauth when an Entra ID user must
// sign in again at Microsoft; send the browser to URL.
type ReauthRequired struct{ URL string }

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

// signature asks the auth layer (verifyReauth) whether the caller just
// proved who they are: their password for local accounts, a fresh
// Entra ID sign-in otherwise. The returned error is what to tell the
// user when the domain insists on a signature.
func (s *Server) signature(r *http.Request, password string) (change.Signature, error) {
	if err := s.verifyReauth(r, password, r.URL.Path); err != nil {
		return change.Signature{}, err
	}
	method := "password"
	if password == "" {
		method = "entra"
	}
	return change.Signature{Verified: true, Method: method}, nil
}

// signedError answers a domain refusal; when the domain wanted a
// signature, the auth layer's reason (wrong password, fresh sign-in
// needed and where) is more useful than the domain's.
func (s *Server) signedError(w http.ResponseWriter, r *http.Request, err, reauthErr error) {
	if change.ErrorCode(err) == change.EReauth && reauthErr != nil {
		e := apiError{Error: "password: " + reauthErr.Error(), Code: string(change.EReauth), Field: "password"}
		var rr *ReauthRequired
		if errors.As(reauthErr, &rr) {
			e.ReauthURL = rr.URL
		}
		writeAPIError(w, r, http.StatusForbidden, e)
		return
	}
	s.changeError(w, r, err)
}

// pageSignature checks the re-authentication of a signed decision. For
// Entra ID users who must sign in again it answers with a redirect to
// Microsoft (back to the change page afterwards) and returns ok=false.
func (s *Server) pageSignature(w http.ResponseWriter, r *http.Request, number, password string) (change.Signature, error, bool) {
	err := s.verifyReauth(r, password, changeURL(number))
	var rr *ReauthRequired
	if errors.As(err, &rr) {
		http.Redirect(w, r, rr.URL, http.StatusSeeOther)
		return change.Signature{}, err, false
	}
	if err != nil {
		return change.Signature{}, err, true
	}
	method := "password"
	if password == "" {
		method = "entra"
	}
	return change.Signature{Verified: true, Method: method}, nil, true
}

// signatureError prefers the auth layer's reason (wrong password) when
// the domain refused for want of a signature.
func signatureError(err, reauthErr error) error {
	if change.ErrorCode(err) == change.EReauth && reauthErr != nil {
		// "password is not correct" reads as "Password is not correct".
		msg := strings.TrimPrefix(reauthErr.Error(), "password ")
		return &change.Error{Code: change.EReauth, Field: "password", Message: "password: " + msg}
	}
	return err
}
