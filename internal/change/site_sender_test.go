package change_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/change/changetest"
	"github.com/mocpcr/mocpcr/internal/problem"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// A site's sender mailbox: an administrator of all sites sets it, the
// emails about that site's changes carry it, another site's keep the
// default, and clearing it returns the site to the default.
func TestSiteSenderMailboxIsUsedForThatSitesEmails(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := changetest.Seed(t, db, start)
		ctx := context.Background()
		s := f.Service
		ss := must(s.UpdateSiteSettings(ctx, f.Admin, f.NRF, change.SiteSettingsUpdate{MailSender: ptr(" moc-nrf@plant.test ")}))(t)
		if ss.MailSender != "moc-nrf@plant.test" {
			t.Fatalf("saved sender %q", ss.MailSender)
		}
		f.Emails.Take()
		toStage(t, f, change.StageScreening, nil)
		emails := f.Emails.Take()
		if len(emails) == 0 {
			t.Fatal("no email queued for a submitted change")
		}
		for _, e := range emails {
			if e.Sender != "moc-nrf@plant.test" {
				t.Errorf("email %q to %s from %q, want the site's sender", e.Subject, e.ToEmail, e.Sender)
			}
		}
		if got := must(change.SiteSenders(ctx, db.SQL))(t); len(got) != 1 || got[0] != "moc-nrf@plant.test" {
			t.Errorf("SiteSenders = %v", got)
		}
		// Settings saved without the field keep the sender.
		must(s.UpdateSiteSettings(ctx, f.Admin, f.NRF, change.SiteSettingsUpdate{MaxExtensions: ptr(3)}))(t)
		if ss := must(s.SiteSettings(ctx, f.Admin, f.NRF))(t); ss.MailSender != "moc-nrf@plant.test" {
			t.Errorf("sender after another change = %q", ss.MailSender)
		}
		must(s.UpdateSiteSettings(ctx, f.Admin, f.NRF, change.SiteSettingsUpdate{MailSender: ptr("")}))(t)
		toStage(t, f, change.StageScreening, nil)
		for _, e := range f.Emails.Take() {
			if e.Sender != "" {
				t.Errorf("after clearing, email from %q, want the default", e.Sender)
			}
		}
	})
}

// The sender must be a plain mailbox address of bounded length, and only
// an administrator of all sites may change it: the application can send
// as any mailbox its Mail.Send reaches.
func TestSiteSenderMailboxIsValidatedAndReservedToAllSitesAdmins(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := changetest.Seed(t, db, start)
		ctx := context.Background()
		s := f.Service
		for _, bad := range []string{"not-an-address", "Plant Two <moc@plant.test>", "a@b@c", strings.Repeat("a", 250) + "@plant.test"} {
			_, err := s.UpdateSiteSettings(ctx, f.Admin, f.NRF, change.SiteSettingsUpdate{MailSender: ptr(bad)})
			var pe *problem.Error
			if !errors.As(err, &pe) || pe.Kind != problem.Invalid || pe.Field != "mail_sender" {
				t.Errorf("sender %q: %v, want Invalid naming mail_sender", bad, err)
			}
		}
		siteAdmin, err := auth.CreateUser(ctx, db.SQL, auth.NewUser{Email: "sita@plant.test", Name: "Sita", Roles: []auth.Role{auth.RoleAdmin}, SiteIDs: []int64{f.NRF}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpdateSiteSettings(ctx, siteAdmin, f.NRF, change.SiteSettingsUpdate{MailSender: ptr("ceo@plant.test")}); problem.KindOf(err) != problem.Forbidden {
			t.Errorf("a site admin set the sender: %v, want Forbidden", err)
		}
		// The site admin may still save the rest, the sender unchanged.
		must(s.UpdateSiteSettings(ctx, f.Admin, f.NRF, change.SiteSettingsUpdate{MailSender: ptr("moc-nrf@plant.test")}))(t)
		ss := must(s.UpdateSiteSettings(ctx, siteAdmin, f.NRF, change.SiteSettingsUpdate{MaxExtensions: ptr(4), MailSender: ptr("moc-nrf@plant.test")}))(t)
		if ss.MaxExtensions != 4 || ss.MailSender != "moc-nrf@plant.test" {
			t.Errorf("site admin's save = %+v", ss)
		}
	})
}
