package app_test

import (
	"context"
	"strings"
	"testing"

	"github.com/mocpcr/mocpcr/internal/app"
	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/mail/graphtest"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// The admin page's Check configuration proves the token and then every
// sender mailbox, GRAPH_MAIL_SENDER and each site's own, without sending:
// a site whose mailbox cannot send fails the check, naming it.
func TestEmailCheckProvesEverySenderMailbox(t *testing.T) {
	fake := graphtest.New()
	t.Cleanup(fake.Close)
	o := storetest.Options(t, storetest.Dialects()[0])
	if o.DataDir == "" {
		o.DataDir = t.TempDir()
	}
	a, _ := graphApp(t, fake, o, nil)
	ctx := context.Background()
	st, err := auth.CreateSite(ctx, a.DB.SQL, "P2", "Plant 2")
	if err != nil {
		t.Fatal(err)
	}
	const plant2 = "moc-plant2@contoso.com"
	if _, err := a.DB.SQL.ExecContext(ctx, `INSERT INTO change_site_settings (site_id, mail_sender) VALUES ($1, $2)`, st.ID, plant2); err != nil {
		t.Fatal(err)
	}
	check := app.CheckMail(a.Mail, a.DB, graphtest.Sender)
	if check == nil {
		t.Fatal("no check for the Graph provider")
	}
	_, err = check(ctx)
	if err == nil {
		t.Fatal("the check passed although the site's sender mailbox does not exist")
	}
	lines := strings.Split(err.Error(), "\n")
	if !strings.HasPrefix(lines[0], "Token acquired from Microsoft Entra ID") ||
		!strings.Contains(err.Error(), "GRAPH_MAIL_SENDER "+graphtest.Sender+": Mail.Send is granted") ||
		!strings.Contains(err.Error(), "a site's sender mailbox "+plant2+": Graph email failed: 404 ErrorInvalidUser") {
		t.Fatalf("check said:\n%s", err)
	}
	fake.AddMailbox(plant2)
	msg, err := check(ctx)
	if err != nil || !strings.Contains(msg, "a site's sender mailbox "+plant2+": Mail.Send is granted") {
		t.Fatalf("check after the mailbox exists = %q, %v", msg, err)
	}
	if n := len(fake.Messages()); n != 0 {
		t.Errorf("the check sent %d messages, want none", n)
	}
}
