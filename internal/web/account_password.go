package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/mocpcr/mocpcr/internal/auth"
)

// pageChangePassword lets a local user change their own password. The
// current password is checked through the sign-in throttle, and every
// other browser is signed out so a stolen session ends with the old
// password.
func (s *Server) pageChangePassword(w http.ResponseWriter, r *http.Request) {
	u := auth.UserFrom(r.Context())
	has, err := auth.HasPassword(r.Context(), s.DB.SQL, u.ID)
	if err != nil {
		s.serverFault(w, r, "load user", err)
		return
	}
	if !has {
		s.refuse(w, r, http.StatusBadRequest, "Your account signs in with Microsoft; its password is managed there.")
		return
	}
	current, next, confirm := r.PostFormValue("current_password"), r.PostFormValue("new_password"), r.PostFormValue("confirm_password")
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
		s.renderAccount(w, r, u, http.StatusBadRequest, accountData{}, &Page{Errors: errs})
		return
	}
	if err := auth.SetPassword(r.Context(), s.DB.SQL, u.ID, hash); err != nil {
		s.serverFault(w, r, "set password", err)
		return
	}
	var keep int64
	if sess := auth.SessionFrom(r.Context()); sess != nil {
		keep = sess.ID
	}
	if _, err := auth.DeleteOtherSessions(r.Context(), s.DB.SQL, u.ID, keep); err != nil {
		s.serverFault(w, r, "end other sessions", err)
		return
	}
	s.Logger.InfoContext(r.Context(), "password changed", "user_id", u.ID)
	s.renderAccount(w, r, u, http.StatusOK, accountData{}, &Page{Flash: "Password changed. Other browsers were signed out."})
}

// newPasswordText says why a new password was refused, naming the field
// once: "New password must be at least 10 characters".
func newPasswordText(err error) string {
	msg := invalidText(err)
	if rest, ok := strings.CutPrefix(msg, "Password "); ok {
		return "New password " + rest
	}
	return "New password: " + msg
}
