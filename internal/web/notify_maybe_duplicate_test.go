package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/jobs"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// An email that may have been sent twice (its sending process crashed
// mid-send and it was sent again) says so in the delivery log page and
// the API; an email sent once does not.
func TestDeliveryLogSaysWhichEmailsMayHaveBeenSentTwice(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEmailAdminEnv(t, db)
		once := e.send(t, "once@example.com", jobs.StatusSent)
		twice := e.send(t, "twice@example.com", jobs.StatusSent)
		// As the take-over of a crashed process's send leaves it.
		if _, err := db.SQL.ExecContext(context.Background(), `UPDATE email_messages SET maybe_duplicate = TRUE WHERE id = $1`, twice); err != nil {
			t.Fatal(err)
		}
		log := e.page(t, "/admin/email/log")
		row := func(id int64) string {
			r := log[strings.Index(log, fmt.Sprintf(`id="email-%d"`, id)):]
			return r[:strings.Index(r, "</tr>")]
		}
		if r := row(twice); !strings.Contains(r, "may have been sent twice") {
			t.Errorf("row of the email sent twice lacks the label:\n%s", r)
		}
		if r := row(once); strings.Contains(r, "may have been sent twice") {
			t.Errorf("row of an email sent once has the label:\n%s", r)
		}
		var list struct{ Emails []map[string]any }
		if s := call(t, e.srv.URL, "GET", "/api/v1/admin/emails", e.admin, "", &list); s != 200 {
			t.Fatalf("list = %d", s)
		}
		for _, em := range list.Emails {
			want := int64(em["id"].(float64)) == twice
			if em["maybe_duplicate"] != want {
				t.Errorf("email %v maybe_duplicate = %v, want %v", em["id"], em["maybe_duplicate"], want)
			}
		}
	})
}

// The admin email page shows how much of the sender's daily recipient
// budget the last 24 hours used, counted from the database.
func TestAdminEmailPageShowsTheDailyBudget(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEmailAdminEnv(t, db)
		// The page's sender: GRAPH_MAIL_SENDER, unset in this test.
		if _, err := db.SQL.ExecContext(context.Background(), `INSERT INTO email_sender_usage (sender, hour, recipients) VALUES ($1, $2, 7300)`,
			"", time.Now().UTC().Truncate(time.Hour)); err != nil {
			t.Fatal(err)
		}
		page := e.page(t, "/admin/email")
		row := page[strings.Index(page, `id="budget"`):]
		row = row[:strings.Index(row, "</tr>")]
		if !strings.Contains(row, "7300 of 9000 recipients in the last 24 hours") || !strings.Contains(row, "(81 %)") || !strings.Contains(row, "near the budget") {
			t.Errorf("budget row:\n%s", row)
		}
	})
}
