package web

import (
	"net/http"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/notify"
	"github.com/mocpcr/mocpcr/internal/problem"
)

func (s *Server) pageShowNotificationPrefs(w http.ResponseWriter, r *http.Request) {
	u := auth.UserFrom(r.Context())
	s.renderPrefs(w, r, u, http.StatusOK, nil, "")
}

func (s *Server) renderPrefs(w http.ResponseWriter, r *http.Request, u *auth.User, status int, errs map[string]string, flash string) {
	prefs, err := notify.Prefs(r.Context(), s.DB.SQL, u.ID)
	if err != nil {
		s.serverFault(w, r, "preferences page", err)
		return
	}
	digest, err := notify.DailyDigest(r.Context(), s.DB.SQL, u.ID)
	if err != nil {
		s.serverFault(w, r, "preferences page", err)
		return
	}
	s.render(w, r, status, "notification_prefs.html", &Page{Title: "Notification settings", Errors: errs, Flash: flash,
		Data: prefsData{Prefs: prefs, DailyDigest: digest}})
}

// prefsData is the notification settings page's content.
type prefsData struct {
	Prefs       []notify.Pref
	DailyDigest bool
}

// pageSaveNotificationPrefs saves the checkboxes: a checked box is email on. Every type
// is on the form, so an unchecked box means off.
func (s *Server) pageSaveNotificationPrefs(w http.ResponseWriter, r *http.Request) {
	u := auth.UserFrom(r.Context())
	if err := r.ParseForm(); err != nil {
		s.renderPrefs(w, r, u, http.StatusBadRequest, map[string]string{"email": "the form could not be read"}, "")
		return
	}
	email := map[notify.Type]bool{}
	for _, t := range notify.Types() {
		if notify.IsActionRequired(t) {
			continue
		}
		email[t] = r.PostForm.Get("email."+string(t)) != ""
	}
	digest := r.PostForm.Get("daily_digest") != ""
	err := notify.SaveSettings(r.Context(), s.DB, u.ID, email, &digest, s.Now())
	if pe := problem.As(err); pe != nil && pe.Kind == problem.Invalid {
		s.renderPrefs(w, r, u, http.StatusBadRequest, map[string]string{"email": pe.Message}, "")
		return
	}
	if err != nil {
		s.serverFault(w, r, "save preferences", err)
		return
	}
	redirectWithFlash(w, r, "/account/notifications", "Your email settings are saved.")
}
