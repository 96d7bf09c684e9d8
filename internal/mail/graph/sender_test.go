package graph_test

import (
	"context"
	"strings"
	"testing"

	"github.com/mocpcr/mocpcr/internal/mail/graphtest"
)

const siteSender = "moc-plant2@contoso.com"

// A message with From goes out from that mailbox (a site's sender), with
// the same token; one without it from GRAPH_MAIL_SENDER.
func TestMessageFromIsSentFromThatMailbox(t *testing.T) {
	f := newFixture(t)
	f.srv.AddMailbox(siteSender)
	msg := testMessage()
	msg.From = siteSender
	if _, err := f.client.Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	f.mustSend(t)
	got := f.srv.Messages()
	if len(got) != 2 || got[0].Sender != siteSender || got[1].Sender != graphtest.Sender {
		t.Fatalf("senders = %v, want %s then %s", senders(got), siteSender, graphtest.Sender)
	}
	if n := f.srv.TokenRequests(); n != 1 {
		t.Errorf("%d token requests for two senders, want 1: the token is the application's", n)
	}
}

// A site sender's failure names the site's setting, not GRAPH_MAIL_SENDER.
func TestSiteSenderFailureNamesTheSiteSetting(t *testing.T) {
	f := newFixture(t)
	msg := testMessage()
	msg.From = siteSender // not a mailbox of the tenant
	_, err := f.client.Send(context.Background(), msg)
	e := mustMailError(t, err)
	if e.Status != 404 || !strings.Contains(e.Text, "the site sender mailbox "+siteSender+" (Sender mailbox in the site's change-control settings)") || strings.Contains(e.Text, "GRAPH_MAIL_SENDER") {
		t.Errorf("error = %q", e.Text)
	}
}

// CheckSender proves the permission and the mailbox of each sender without
// sending anything, and says what is wrong with one that cannot send.
func TestCheckSenderProvesEachMailboxWithoutSending(t *testing.T) {
	f := newFixture(t)
	f.srv.AddMailbox(siteSender)
	const outside = "moc-plant3@contoso.com"
	f.srv.AddMailbox(outside)
	f.srv.SetOutOfScope(outside, true)
	const unlicensed = "old-moc@contoso.com"
	f.srv.AddUnlicensedUser(unlicensed)
	ctx := context.Background()
	for _, tc := range []struct {
		sender, want string
	}{
		{graphtest.Sender, ""},
		{siteSender, ""},
		{outside, "Graph email failed: 403 ErrorAccessDenied: Access to OData is disabled"},
		{unlicensed, "Graph email failed: 404 MailboxNotEnabledForRESTAPI"},
		{"nobody@contoso.com", "Graph email failed: 404 ErrorInvalidUser"},
	} {
		err := f.client.CheckSender(ctx, tc.sender)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("CheckSender(%s) = %v, want nil", tc.sender, err)
		case tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want)):
			t.Errorf("CheckSender(%s) = %v, want %q...", tc.sender, err, tc.want)
		}
	}
	if n := len(f.srv.Messages()); n != 0 {
		t.Errorf("the check sent %d messages, want none", n)
	}
	f.srv.SetAccessDenied(true)
	if err := f.client.CheckSender(ctx, graphtest.Sender); err == nil || !strings.Contains(err.Error(), "Mail.Send permission not granted") {
		t.Errorf("without Mail.Send: %v", err)
	}
}

func senders(list []graphtest.Received) []string {
	var out []string
	for _, r := range list {
		out = append(out, r.Sender)
	}
	return out
}
