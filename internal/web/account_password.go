package web

import (
	"errors"
	"net/http"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/problem"
)

// pageChangePassword lets a local user change their own password. The
// current password is checked through the sign-in throttle, and every
// other browser is signed out so a stolen session ends with the old
// password. The API tokens made under the old password are revoked too
// unless the user unticks "revoke_tokens" (a script they trust keeps
// working).
func (s *Server) pageChangePassword(w http.ResponseWriter, r *http.Request) {
	u := auth.UserFrom(r.Context())
	has, err := auth.HasPassword(r.Context(), s.DB.SQL, u.ID)
	if err != nil {
		s.serverFault(w, r, "load user", err)
		return
	}
	if !has {
		s.fail(w, r, problem.New(problem.Invalid, "Your account signs in with Microsoft; its password is managed there."))
		return
	}
	current, next, confirm := r.PostFormValue("current_password"), r.PostFormValue("new_password"), r.PostFormValue("confirm_password")
	revokeTokens := r.PostFormValue("revoke_tokens") == "on"
	errs := map[string]string{}
	hash, err := auth.HashPassword(next)
	switch {
	case err != nil:
		errs["new_password"] = newPasswordText(err)
	case next != confirm:
		errs["confirm_password"] = "Repeat the new password exactly"
	case next == current:
		errs["new_password"] = "New password must differ from the current one"
	}
	if len(errs) == 0 {
		err := auth.CheckUserPassword(r.Context(), s.DB, u.ID, current, s.Now(), s.Throttle)
		var throttled *auth.ThrottledError
		switch {
		case errors.As(err, &throttled):
			errs["current_password"] = throttled.Error()
		case errors.Is(err, auth.ErrBadCredentials):
			errs["current_password"] = "Current password is not correct"
		case err != nil:
			s.serverFault(w, r, "check password", err)
			return
		}
	}
	if len(errs) > 0 {
		s.renderAccount(w, r, u, http.StatusBadRequest, accountData{PasswordKeepsTokens: !revokeTokens}, &Page{Errors: errs})
		return
	}
	var keep int64
	if sess := auth.SessionFrom(r.Context()); sess != nil {
		keep = sess.ID
	}
	_, tokens, err := auth.ChangeOwnPassword(r.Context(), s.DB, u.ID, keep, hash, revokeTokens, s.Now())
	if err != nil {
		s.serverFault(w, r, "change password", err)
		return
	}
	s.Logger.InfoContext(r.Context(), "password changed", "user_id", u.ID, "api_tokens_revoked", tokens)
	flash := "Password changed. Other browsers were signed out."
	if revokeTokens {
		flash = "Password changed. Other browsers were signed out and your API tokens were revoked."
	}
	s.renderAccount(w, r, u, http.StatusOK, accountData{PasswordKeepsTokens: !revokeTokens}, &Page{Flash: flash})
}

// newPasswordText says why a new password was refused, naming the field
// once: "New password must be at least 10 characters".
func newPasswordText(err error) string {
	pe := problem.As(err)
	if pe == nil {
		return "New password: " + err.Error()
	}
	return fieldError(pe.Field, pe.Message, map[string]string{pe.Field: "New password"})
}
