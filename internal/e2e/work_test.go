package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// signIn uses the sign-in form as a demo user and waits for the signed-in page.
func signIn(b *browser, srv *server, email string) {
	b.t.Helper()
	b.do(chromedp.Navigate(srv.url("/auth/login")),
		chromedp.SetValue(chromedp.CSS("#email"), email),
		chromedp.SetValue(chromedp.CSS("#password"), "mocpcr-demo"),
		chromedp.Click(chromedp.CSS(`form[action="/auth/login"] button[type=submit]`)),
		// The header's notification badge, not "My open changes": that
		// section is only shown to people who file changes.
		chromedp.WaitVisible(chromedp.CSS("#unread-badge")))
}

// The everyday pages in a real browser: an initiator's My work, the
// change list filtered and sorted, the dashboard; an admin's PSSR
// templates. Screenshots land in test-artifacts/.
func TestWorkPagesInBrowser(t *testing.T) {
	srv := startServer(t, nil)
	b := newBrowser(t)

	signIn(b, srv, "ines@demo.mocpcr.local")
	if h := b.text("h1"); h != "My work" {
		t.Errorf("home heading %q, want My work", h)
	}
	if mine := b.text("section#mine"); !strings.Contains(mine, "Temporary bypass of TK-301") {
		t.Errorf("My open changes lacks the demo's temporary change:\n%s", mine)
	}
	b.screenshot("my-work")

	// Filter by stage with the form, then sort by title with the header.
	b.do(chromedp.Navigate(srv.url("/changes")),
		chromedp.WaitVisible(chromedp.CSS("table.list")))
	all := len(get(b, chromedp.Nodes(chromedp.CSSAll("table.list tbody tr"))))
	if all < 4 {
		t.Errorf("change list shows %d rows, want the 4 demo changes", all)
	}
	b.screenshot("changes")
	b.do(chromedp.SetValue(chromedp.CSS("#stage"), "in_service"),
		chromedp.Click(chromedp.CSS(".filter-actions button[type=submit]")),
		chromedp.WaitReady(chromedp.CSS(`#stage option[value="in_service"][selected]`)))
	rows := len(get(b, chromedp.Nodes(chromedp.CSSAll("table.list tbody tr"))))
	if rows != 1 || !strings.Contains(b.text("table.list tbody"), "TK-301") {
		t.Errorf("stage filter: %d rows (%q), want the one temporary change in service", rows, b.text("table.list tbody"))
	}
	b.do(chromedp.Navigate(srv.url("/changes")),
		chromedp.WaitVisible(chromedp.CSS("table.list")),
		chromedp.Click(chromedp.CSS(`th a.sort[href*="sort=title"]`)),
		chromedp.WaitReady(chromedp.CSS(`th[aria-sort="ascending"]`)))
	first := b.text("table.list tbody tr td.ttl a")
	if !strings.HasPrefix(first, "Add high-temperature trip") {
		t.Errorf("sorted by title, first row %q", first)
	}
	b.screenshot("changes-sorted")
	if here := b.text(`nav a[aria-current="page"]`); here != "Changes" {
		t.Errorf("navigation marks %q as the current page on the change list, want Changes", here)
	}
	b.do(chromedp.EmulateViewport(820, 1180))
	b.screenshot("changes-tablet")
	b.do(chromedp.EmulateViewport(1280, 900))

	b.do(chromedp.Navigate(srv.url("/dashboard")), chromedp.WaitVisible(chromedp.CSS("section.dash")))
	if !strings.Contains(b.text("section.dash"), "Open changes by stage") {
		t.Error("dashboard lacks the stage chart")
	}
	if here := b.text(`nav a[aria-current="page"]`); here != "Dashboard" {
		t.Errorf("navigation marks %q as the current page on the dashboard, want Dashboard", here)
	}
	b.screenshot("dashboard")
	b.noConsoleErrors()

	coord := newBrowser(t)
	signIn(coord, srv, "cora@demo.mocpcr.local")
	if !strings.Contains(coord.text("section#coordinate"), "Add high-temperature trip") {
		t.Error("coordinator's My work lacks the change in screening")
	}
	coord.screenshot("my-work-coordinator")
	coord.noConsoleErrors()

	admin := newBrowser(t)
	signIn(admin, srv, "adam@demo.mocpcr.local")
	admin.do(chromedp.Navigate(srv.url("/admin/pssr-templates")), chromedp.WaitVisible(chromedp.CSS("h1")))
	if h := admin.text("h1"); h != "PSSR templates" {
		t.Errorf("admin PSSR heading %q", h)
	}
	admin.screenshot("admin-pssr-templates")
	admin.do(chromedp.Navigate(srv.url("/admin/pssr-templates/new")), chromedp.WaitVisible(chromedp.CSS("#name")),
		chromedp.Click(chromedp.CSS(`.form-actions button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(".field-error")))
	admin.screenshot("admin-pssr-template-errors")
	admin.do(chromedp.Navigate(srv.url("/admin/reminders")), chromedp.WaitVisible(chromedp.CSS("#pending_after_days")))
	admin.screenshot("admin-reminders")
	admin.noConsoleErrors()
}
