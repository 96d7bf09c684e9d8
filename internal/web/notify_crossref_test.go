package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// The delivery log names statuses in words and links an email sent to the
// dev mailbox to its message; the message names its delivery-log entry,
// though their ids differ.
func TestDeliveryLogLabelsAndMailboxCrossReference(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newSite(t, db, nil)
		admin := site.user("adam@example.com", auth.RoleAdmin)
		now := time.Now().UTC()
		ins := func(status, requestID, subject string) {
			t.Helper()
			if _, err := db.SQL.Exec(`INSERT INTO email_messages (kind, to_email, subject, html_body, status, request_id, created_at, updated_at, queued_at)
				VALUES ('system', 'rita@example.com', $1, '<p>x</p>', $2, $3, $4, $4, $4)`, subject, status, requestID, now); err != nil {
				t.Fatal(err)
			}
		}
		ins("given_up", "", "Gave up")
		ins("waiting_config", "", "Waits")
		ins("sent", "dev-1", "Reached the mailbox") // delivery-log #3 is mailbox #1
		if _, err := db.SQL.Exec(`INSERT INTO dev_mailbox (sender, to_addrs, subject, html_body, created_at) VALUES ('moc@example.com', 'rita@example.com', 'Reached the mailbox', '<p>x</p>', $1)`, now); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SQL.Exec(`INSERT INTO dev_mailbox (sender, to_addrs, subject, html_body, created_at) VALUES ('moc@example.com', 'adam@example.com', 'Test email', '<p>x</p>', $1)`, now); err != nil {
			t.Fatal(err)
		}
		b := site.browser()
		b.login(admin.Email)

		log := b.get("/admin/email/log")
		if log.StatusCode != http.StatusOK {
			t.Fatalf("log: %d", log.StatusCode)
		}
		for _, want := range []string{`<option value="given_up">Given up</option>`, `<option value="waiting_config">Waiting for configuration</option>`,
			`>Given up</span>`, `href="/admin/mailbox/1">Dev mailbox message #1</a>`} {
			if !strings.Contains(log.Body, want) {
				t.Errorf("delivery log: missing %s", want)
			}
		}
		if strings.Contains(log.Body, ">given_up<") || strings.Contains(log.Body, ">waiting_config<") {
			t.Errorf("delivery log shows raw status values")
		}
		if f := b.get("/admin/email/log?status=given_up"); !strings.Contains(f.Body, `<option value="given_up" selected>Given up</option>`) {
			t.Errorf("filter does not keep the chosen status")
		}

		msg := b.get("/admin/mailbox/1")
		if !strings.Contains(msg.Body, `href="/admin/email/log?before=4#email-3">Delivery-log entry #3</a>`) || !strings.Contains(msg.Body, "dev-1") {
			t.Errorf("mailbox message does not name its delivery-log entry:\n%s", msg.Body)
		}
		if m := b.get("/admin/mailbox/2"); !strings.Contains(m.Body, "not in the delivery log") {
			t.Errorf("unlogged mailbox message")
		}
		if list := b.get("/admin/mailbox"); !strings.Contains(list.Body, `href="/admin/email/log?before=4#email-3">#3</a>`) {
			t.Errorf("mailbox list does not link the delivery log")
		}
		// The link lands on a page holding the entry.
		if p := b.get("/admin/email/log?before=4"); !strings.Contains(p.Body, `id="email-3"`) {
			t.Errorf("delivery-log link does not show entry #3")
		}
		// ... and leads back to the newest emails; the first page does not.
		if p := b.get("/admin/email/log?before=4"); !strings.Contains(p.Body, `<a href="/admin/email/log">Newest emails</a>`) {
			t.Errorf("an older page has no way back to the newest emails")
		}
		if p := b.get("/admin/email/log?before=4&status=sent"); !strings.Contains(p.Body, `href="/admin/email/log?status=sent">Newest emails</a>`) {
			t.Errorf("Newest emails should keep the status filter")
		}
		if strings.Contains(log.Body, "Newest emails") {
			t.Errorf("the first page links to itself as Newest emails")
		}
		// A bad filter is explained in the page's words, not the codes.
		bad := b.get("/admin/email/log?status=bogus")
		if bad.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(bad.Body, "Waiting for configuration") || !strings.Contains(bad.Body, "Given up") ||
			strings.Contains(bad.Body, "waiting_config") || strings.Contains(bad.Body, "given_up") {
			t.Errorf("bad status filter: %d\n%s", bad.StatusCode, bad.Body)
		}
	})
}
