package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// Every page of the main navigation renders in a real browser with its
// heading and without script errors: a coordinator's everyday pages,
// one change, and an administrator's pages; an unknown address shows the
// not-found page.
func TestPagesRenderWithoutScriptErrors(t *testing.T) {
	srv := startServer(t, nil)
	check := func(b *browser, path, heading string) {
		t.Helper()
		b.do(chromedp.Navigate(srv.url(path)), chromedp.WaitVisible(chromedp.CSS("h1")))
		if h := strings.TrimSpace(b.text("h1")); h != heading {
			t.Errorf("%s: heading %q, want %q", path, h, heading)
		}
		if title := get(b, chromedp.Title()); !strings.Contains(title, "mocpcr") {
			t.Errorf("%s: title %q", path, title)
		}
	}

	cora := newBrowser(t)
	signIn(cora, srv, "cora@demo.mocpcr.local")
	for _, p := range []struct{ path, heading string }{
		{"/", "My work"}, {"/changes", "Changes"}, {"/dashboard", "Dashboard"},
		{"/notifications", "Notifications"}, {"/account", "Your account"}, {"/audit/verify", "Verify the audit trail"},
	} {
		check(cora, p.path, p.heading)
	}
	// The first change of the list, through its link.
	cora.do(chromedp.Navigate(srv.url("/changes")), chromedp.WaitVisible(chromedp.CSS("table.list")))
	title := cora.text("table.list tbody tr td.ttl a")
	cora.do(chromedp.Click(chromedp.CSS("table.list tbody tr td.ttl a")), chromedp.WaitVisible(chromedp.CSS("#change-title")))
	if h := cora.text("#change-title"); h != title {
		t.Errorf("change page heading %q, want the listed title %q", h, title)
	}
	cora.screenshot("change")
	cora.noConsoleErrors()

	adam := newBrowser(t)
	signIn(adam, srv, "adam@demo.mocpcr.local")
	for _, p := range []struct{ path, heading string }{
		{"/admin", "Administration"}, {"/admin/users", "Users"}, {"/admin/email/log", "Email delivery log"},
		{"/no-such-page", "Not found"},
	} {
		check(adam, p.path, p.heading)
	}
	adam.screenshot("not-found")
	adam.noConsoleErrors()
}
