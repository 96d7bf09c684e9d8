package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/sitetime"
)

// reminderForm holds the form's raw values, so a bad entry is shown back
// as typed.
type reminderForm struct {
	PendingAfterDays, EscalateAfterDays, ActionDueSoonDays, ExpiryWarningDays, RunHour string
	UpdatedAt                                                                          string
}

func (s *Server) pageEditReminders(w http.ResponseWriter, r *http.Request) {
	rs, err := s.Changes.ReminderSettings(r.Context())
	if err != nil {
		s.serverFault(w, r, "reminder settings", err)
		return
	}
	p := &Page{Title: "Reminders", Data: reminderFormOf(rs)}
	if r.URL.Query().Get("saved") != "" {
		p.Flash = "Reminder settings saved."
	}
	s.render(w, r, http.StatusOK, "admin_reminders.html", p)
}

func reminderFormOf(rs *change.ReminderSettings) reminderForm {
	var days []string
	for _, d := range rs.ExpiryWarningDays {
		days = append(days, strconv.Itoa(d))
	}
	f := reminderForm{PendingAfterDays: strconv.Itoa(rs.PendingAfterDays), EscalateAfterDays: strconv.Itoa(rs.EscalateAfterDays),
		ActionDueSoonDays: strconv.Itoa(rs.ActionDueSoonDays), ExpiryWarningDays: strings.Join(days, ", "), RunHour: strconv.Itoa(rs.RunHour)}
	if !rs.UpdatedAt.IsZero() {
		f.UpdatedAt = sitetime.Format(rs.UpdatedAt, time.UTC)
	}
	return f
}

func (s *Server) pageSaveReminders(w http.ResponseWriter, r *http.Request) {
	u := auth.UserFrom(r.Context())
	f := reminderForm{PendingAfterDays: r.PostFormValue("pending_after_days"), EscalateAfterDays: r.PostFormValue("escalate_after_days"),
		ActionDueSoonDays: r.PostFormValue("action_due_soon_days"), ExpiryWarningDays: r.PostFormValue("expiry_warning_days"),
		RunHour: r.PostFormValue("run_hour")}
	errs := map[string]string{}
	var rs change.ReminderSettings
	whole := func(field, label, v string, dst *int) {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			errs[field] = label + " must be a whole number."
			return
		}
		*dst = n
	}
	whole("pending_after_days", "Remind after", f.PendingAfterDays, &rs.PendingAfterDays)
	whole("escalate_after_days", "Escalate after", f.EscalateAfterDays, &rs.EscalateAfterDays)
	whole("action_due_soon_days", "Action due soon", f.ActionDueSoonDays, &rs.ActionDueSoonDays)
	whole("run_hour", "Run at hour", f.RunHour, &rs.RunHour)
	rs.ExpiryWarningDays = []int{}
	for _, p := range strings.FieldsFunc(f.ExpiryWarningDays, func(c rune) bool { return c == ',' || c == ' ' || c == ';' }) {
		n, err := strconv.Atoi(p)
		if err != nil {
			errs["expiry_warning_days"] = fmt.Sprintf("Expiry warnings must be whole numbers of days separated by commas, like 30, 14, 7 (%q is not).", p)
			break
		}
		rs.ExpiryWarningDays = append(rs.ExpiryWarningDays, n)
	}
	if len(errs) == 0 {
		_, err := s.Changes.UpdateReminderSettings(r.Context(), u, rs)
		if field, msg, ok := invalidField(err); ok {
			errs[field] = msg
		} else if err != nil {
			s.serverFault(w, r, "save reminder settings", err)
			return
		}
	}
	if len(errs) > 0 {
		s.render(w, r, http.StatusUnprocessableEntity, "admin_reminders.html", &Page{Title: "Reminders", Errors: errs, Data: f})
		return
	}
	http.Redirect(w, r, "/admin/reminders?saved=1", http.StatusSeeOther)
}
