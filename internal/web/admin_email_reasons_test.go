package web_test

import (
	"strings"
	"testing"

	"github.com/mocpcr/mocpcr/internal/jobs"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// The waiting banner counts the emails per cause, not the newest one's
// message: two refused by Graph's 403 (each with its own request-id) are
// one cause, one for a missing mailbox another.
func TestWaitingBannerGroupsEmailsByCause(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEmailAdminEnv(t, db)
		e.fake.SetAccessDenied(true)
		e.send(t, "a@example.com", jobs.StatusWaitingConfig)
		e.send(t, "b@example.com", jobs.StatusWaitingConfig)
		e.fake.SetAccessDenied(false)
		e.fake.SetNotFound(true)
		e.send(t, "c@example.com", jobs.StatusWaitingConfig)

		log := e.page(t, "/admin/email/log")
		banner := log[strings.Index(log, `id="waiting-config"`):]
		banner = banner[:strings.Index(banner, "</div>")]
		if !strings.Contains(banner, "3 emails are waiting for the email configuration to be fixed, not failed, for 2 causes") {
			t.Errorf("banner does not count the causes:\n%s", banner)
		}
		i403 := strings.Index(banner, "<b>2 emails</b>: <code>Graph email failed: 403 ErrorAccessDenied")
		i404 := strings.Index(banner, "<b>1 email</b>: <code>Graph email failed: 404 ErrorInvalidUser")
		if i403 < 0 || i404 < 0 || i404 < i403 {
			t.Errorf("banner lacks the per-cause counts, most common first:\n%s", banner)
		}
		page := e.page(t, "/admin/email")
		if !strings.Contains(page, "3 emails are waiting for the email configuration to be fixed: 2 causes. 2 emails: Graph email failed: 403 ErrorAccessDenied") ||
			!strings.Contains(page, "; 1 email: Graph email failed: 404 ErrorInvalidUser") {
			t.Errorf("/admin/email warning does not group by cause")
		}
	})
}
