package web

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/problem"
)

// SignatureWindow is how long after entering their credential (password
// here, or at Microsoft: the ID token's auth_time) a user may sign an
// approval without proving who they are again.
const SignatureWindow = auth.SignatureWindow

// ReauthRequired is returned by verifyReauth when an Entra ID user must
// sign in again at Microsoft; send the browser to URL.
type ReauthRequired struct{ URL string }

// errReauthNeedsBrowser: an Entra ID user signing through the API cannot
// re-authenticate there.
var errReauthNeedsBrowser = problem.Invalidf("password", "signatures by Entra ID users need a fresh sign-in in the browser")

// verifyReauth decides whether the signed-in user may sign now (approve,
// sign off): they have just proved who they are.
//
//   - Local accounts: password (the form's "reauth_password" field, or
//     the JSON body's field the caller passes in) must be the user's
//     password. Wrong passwords count towards the sign-in throttle.
//   - Entra ID users: the session's authentication time (the ID token's
//     auth_time: when the password was last entered at Microsoft, not
//     when mocpcr's session began) must be within SignatureWindow.
//     Otherwise the error is *ReauthRequired whose URL
//     (/auth/login?prompt=login&return=returnTo) makes Entra ID ask for
//     the password again and records the new auth_time.
//
// A nil error means go ahead. Refusals are problem errors about the
// field "password" (show them beside it); anything else is a fault.
func (s *Server) verifyReauth(r *http.Request, password, returnTo string) error {
	u := auth.UserFrom(r.Context())
	if u == nil {
		return problem.New(problem.Unauthenticated, "sign in first")
	}
	hasPassword, err := auth.HasPassword(r.Context(), s.DB.SQL, u.ID)
	if err != nil {
		return err
	}
	sess := auth.SessionFrom(r.Context())
	if s.signsAtMicrosoft(u, sess, hasPassword) {
		if sess == nil {
			return errReauthNeedsBrowser
		}
		if _, fresh := s.signatureWindowEnd(sess); fresh {
			return nil
		}
		return &ReauthRequired{URL: "/auth/login?prompt=login&return=" + url.QueryEscape(safeReturn(returnTo))}
	}
	if !hasPassword {
		return problem.Invalidf("password", "this account has no password to confirm the signature with; ask an administrator")
	}
	if password == "" {
		return problem.Invalidf("password", "enter your password to sign")
	}
	if err := auth.CheckUserPassword(r.Context(), s.DB, u.ID, password, s.Now(), s.Throttle); err != nil {
		var throttled *auth.ThrottledError
		switch {
		case errors.Is(err, auth.ErrBadCredentials):
			return problem.Invalidf("password", "is not correct")
		case errors.As(err, &throttled):
			return problem.Invalidf("password", "%v", throttled)
		}
		return err
	}
	if sess != nil {
		return auth.MarkAuthenticated(r.Context(), s.DB.SQL, sess.ID, s.Now())
	}
	return nil
}

// signsAtMicrosoft reports whether u confirms signatures by entering
// their password at Microsoft (Entra ID users, unless signed in here
// with a local password they have).
func (s *Server) signsAtMicrosoft(u *auth.User, sess *auth.Session, hasPassword bool) bool {
	return s.Entra != nil && u.EntraOID != "" && (sess == nil || sess.Method == auth.MethodEntra || !hasPassword)
}

// signatureWindowEnd is when the session's signature window closes, and
// whether it is still open now.
func (s *Server) signatureWindowEnd(sess *auth.Session) (time.Time, bool) {
	end := sess.AuthAt.Add(SignatureWindow)
	return end, !s.Now().After(end)
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

// signatureError prefers the auth layer's reason (wrong password, a
// fresh sign-in needed and where) when the domain refused for want of a
// signature. A fault checking the signature is answered as the fault.
func signatureError(err, reauthErr error) error {
	if problem.KindOf(err) != problem.Reauth || reauthErr == nil {
		return err
	}
	var rr *ReauthRequired
	switch pe := problem.As(reauthErr); {
	case errors.As(reauthErr, &rr):
		return &problem.Error{Kind: problem.Reauth, Field: "password", Message: "password: " + rr.Error(), Err: rr}
	case pe != nil:
		return &problem.Error{Kind: problem.Reauth, Field: "password", Message: pe.Message, Err: pe}
	}
	return reauthErr
}
