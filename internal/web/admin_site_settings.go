package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/problem"
)

// A site's change-control settings: the time zone its signatures are
// recorded in and the limits on temporary changes. The rules are
// change.Service's; this page only carries them.

// siteSettingsForm is the settings form as typed.
type siteSettingsForm struct {
	Site                                                 auth.Site
	TimeZone                                             string
	MaxExtensions, MaxTemporaryDays, EmergencyReviewDays string
	ActionDueDays                                        string
	// MailSender is the site's own sender mailbox, "" for the default;
	// DefaultSender is GRAPH_MAIL_SENDER, and CanSetSender whether the
	// viewer (an administrator of all sites) may change it.
	MailSender, DefaultSender string
	CanSetSender              bool
}

// siteSettingsFields are the form's fields, by the domain's names.
var siteSettingsFields = []string{"time_zone", "max_extensions", "max_temporary_days", "emergency_review_days", "action_due_days", "mail_sender"}

func (s *Server) pageEditSiteSettings(w http.ResponseWriter, r *http.Request) {
	u := auth.UserFrom(r.Context())
	site, ok := s.settingsSite(w, r)
	if !ok {
		return
	}
	ss, err := s.Changes.SiteSettings(r.Context(), u, site.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f := siteSettingsForm{Site: *site, TimeZone: ss.TimeZone, MaxExtensions: strconv.Itoa(ss.MaxExtensions),
		MaxTemporaryDays: strconv.Itoa(ss.MaxTemporaryDays), EmergencyReviewDays: strconv.Itoa(ss.EmergencyReviewDays),
		ActionDueDays: strconv.Itoa(ss.ActionDueDays), MailSender: ss.MailSender}
	s.renderSiteSettings(w, r, http.StatusOK, f, nil, r.URL.Query().Get("saved") != "")
}

func (s *Server) pageSaveSiteSettings(w http.ResponseWriter, r *http.Request) {
	u := auth.UserFrom(r.Context())
	site, ok := s.settingsSite(w, r)
	if !ok {
		return
	}
	f := siteSettingsForm{Site: *site, TimeZone: strings.TrimSpace(r.PostFormValue("time_zone")),
		MaxExtensions: strings.TrimSpace(r.PostFormValue("max_extensions")), MaxTemporaryDays: strings.TrimSpace(r.PostFormValue("max_temporary_days")),
		EmergencyReviewDays: strings.TrimSpace(r.PostFormValue("emergency_review_days")),
		ActionDueDays:       strings.TrimSpace(r.PostFormValue("action_due_days")),
		MailSender:          strings.TrimSpace(r.PostFormValue("mail_sender"))}
	errs := map[string]string{}
	number := func(field, label, v string) *int {
		n, err := strconv.Atoi(v)
		if err != nil {
			errs[field] = fmt.Sprintf("%s must be a whole number, got %q", label, v)
			return nil
		}
		return &n
	}
	up := change.SiteSettingsUpdate{TimeZone: &f.TimeZone,
		MaxExtensions:       number("max_extensions", "Maximum number of extensions", f.MaxExtensions),
		MaxTemporaryDays:    number("max_temporary_days", "Maximum total duration", f.MaxTemporaryDays),
		EmergencyReviewDays: number("emergency_review_days", "Emergency review deadline", f.EmergencyReviewDays)}
	// A form from before the setting existed leaves it as it is.
	if f.ActionDueDays != "" {
		up.ActionDueDays = number("action_due_days", "Default action due date", f.ActionDueDays)
	}
	// Only the form of an administrator of all sites carries the sender;
	// the others leave it as it is.
	if _, ok := r.PostForm["mail_sender"]; ok {
		up.MailSender = &f.MailSender
	}
	if len(errs) == 0 {
		_, err := s.Changes.UpdateSiteSettings(r.Context(), u, site.ID, up)
		if err != nil && problem.KindOf(err) != problem.Invalid {
			s.fail(w, r, err)
			return
		}
		if err != nil {
			ids := map[string]string{}
			for _, n := range siteSettingsFields {
				ids[n] = n
			}
			errs = formErrors(err, "settings-form", ids)
		}
	}
	if len(errs) > 0 {
		s.renderSiteSettings(w, r, http.StatusUnprocessableEntity, f, errs, false)
		return
	}
	s.Logger.InfoContext(r.Context(), "site settings updated", "site_id", site.ID, "by", u.ID)
	http.Redirect(w, r, "/admin/sites/"+strconv.FormatInt(site.ID, 10)+"/settings?saved=1", http.StatusSeeOther)
}

// settingsSite is the site in the path, or a 404 page.
func (s *Server) settingsSite(w http.ResponseWriter, r *http.Request) (*auth.Site, bool) {
	id, ok := s.pathPlaceID(w, r)
	if !ok {
		return nil, false
	}
	site, err := auth.SiteByID(r.Context(), s.DB.SQL, id)
	if err != nil || !auth.UserFrom(r.Context()).ManagesSite(id) {
		s.render(w, r, http.StatusNotFound, "notfound.html", &Page{Title: "Not found"})
		return nil, false
	}
	return site, true
}

func (s *Server) renderSiteSettings(w http.ResponseWriter, r *http.Request, status int, f siteSettingsForm, errs map[string]string, saved bool) {
	f.DefaultSender, f.CanSetSender = s.Config.MailSender, auth.UserFrom(r.Context()).ManagesAllSites()
	if f.MailSender == "" && !f.CanSetSender && status == http.StatusUnprocessableEntity {
		// A form posted without the field keeps the stored sender.
		if ss, err := s.Changes.SiteSettings(r.Context(), auth.UserFrom(r.Context()), f.Site.ID); err == nil {
			f.MailSender = ss.MailSender
		}
	}
	p := &Page{Title: "Change-control settings of " + f.Site.Code, Data: f, Errors: errs, ErrorOrder: siteSettingsFields}
	if saved {
		p.Flash = "Saved."
	}
	s.render(w, r, status, "admin_site_settings.html", p)
}
