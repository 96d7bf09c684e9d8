package web

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/notify"
	"github.com/mocpcr/mocpcr/internal/problem"
	"github.com/mocpcr/mocpcr/internal/store"
)

func (s *Server) apiListNotifications(w http.ResponseWriter, r *http.Request) {
	u := auth.UserFrom(r.Context())
	opt, err := listOptions(r)
	var p notify.Page
	if err == nil {
		p, err = notify.List(r.Context(), s.DB.SQL, u.ID, opt)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (s *Server) apiGetUnreadCount(w http.ResponseWriter, r *http.Request) {
	u := auth.UserFrom(r.Context())
	n, err := notify.UnreadCount(r.Context(), s.DB.SQL, u.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"unread": n})
}

func (s *Server) apiMarkNotificationRead(w http.ResponseWriter, r *http.Request) {
	s.apiSetNotificationRead(w, r, true)
}

func (s *Server) apiMarkNotificationUnread(w http.ResponseWriter, r *http.Request) {
	s.apiSetNotificationRead(w, r, false)
}

func (s *Server) apiSetNotificationRead(w http.ResponseWriter, r *http.Request, read bool) {
	u := auth.UserFrom(r.Context())
	id, ok := idParam(r)
	if !ok {
		s.fail(w, r, errNoNotification)
		return
	}
	n, err := notify.SetRead(r.Context(), s.DB, u.ID, id, read, s.Now())
	if errors.Is(err, store.ErrNotFound) {
		err = errNoNotification
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.publish(u.ID)
	writeJSON(w, http.StatusOK, n)
}

func (s *Server) apiMarkAllNotificationsRead(w http.ResponseWriter, r *http.Request) {
	u := auth.UserFrom(r.Context())
	n, err := notify.MarkAllRead(r.Context(), s.DB, u.ID, s.Now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.publish(u.ID)
	writeJSON(w, http.StatusOK, map[string]int64{"marked": n})
}

func (s *Server) apiGetNotificationPrefs(w http.ResponseWriter, r *http.Request) {
	u := auth.UserFrom(r.Context())
	prefs, err := notify.Prefs(r.Context(), s.DB.SQL, u.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	digest, err := notify.DailyDigest(r.Context(), s.DB.SQL, u.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"preferences": prefs, "daily_digest": digest})
}

func (s *Server) apiSetNotificationPrefs(w http.ResponseWriter, r *http.Request) {
	u := auth.UserFrom(r.Context())
	var body struct {
		Email       map[notify.Type]bool `json:"email"`
		DailyDigest *bool                `json:"daily_digest"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil || (body.Email == nil && body.DailyDigest == nil) {
		s.fail(w, r, problem.Invalidf("body", `must be JSON like {"email": {"change.approved": false}, "daily_digest": true}: email maps a notification type to true or false, daily_digest is true or false; give at least one`))
		return
	}
	if err := notify.SaveSettings(r.Context(), s.DB, u.ID, body.Email, body.DailyDigest, s.Now()); err != nil {
		s.fail(w, r, err)
		return
	}
	s.apiGetNotificationPrefs(w, r)
}
