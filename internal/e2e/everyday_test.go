package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
)

// fileChange files and submits a small change as email (a demo user),
// which notifies the site's coordinators.
func fileChange(t *testing.T, srv *server, email, title string) *change.Change {
	t.Helper()
	ctx := context.Background()
	u, err := auth.UserByEmail(ctx, srv.App.DB.SQL, email)
	if err != nil {
		t.Fatal(err)
	}
	var nrf int64
	if err := srv.App.DB.SQL.QueryRow(`SELECT id FROM sites WHERE code = 'NRF'`).Scan(&nrf); err != nil {
		t.Fatal(err)
	}
	str := func(s string) *string { return &s }
	kind := change.KindMOC
	c, err := srv.App.Changes.Create(ctx, u, change.Fields{Kind: &kind, SiteID: &nrf, Title: str(title),
		Description: str("Replace the relief valve spring"), Reason: str("Spring fatigued"), RiskRanking: str("low"),
		TechnicalBasis: str("Vendor datasheet"), SafetyHealthImpact: str("None"), ProcedureChanges: str("None"),
		TimePeriod: str("Permanent"), AuthorizationRequired: str("Superintendent")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.App.Changes.Submit(ctx, u, c.ID, change.Screening{Disciplines: []string{"mechanical"}}); err != nil {
		t.Fatal(err)
	}
	return c
}

// A notification that arrives while the list is open gets the same Open
// and Mark read buttons as the ones rendered with the page, and they work.
func TestLiveNotificationHasOpenAndMarkRead(t *testing.T) {
	srv := startServer(t, nil)
	cora := newBrowser(t)
	cora.signIn(srv, "cora@demo.mocpcr.local")
	cora.open(srv.url("/notifications"), "#notification-list")
	cora.waitJS(`document.getElementById("unread-badge").dataset.live === "on"`)
	before := cora.badge()

	c := fileChange(t, srv, "ines@demo.mocpcr.local", "Live spring swap on PSV-12")
	cora.waitJS(`[...document.querySelectorAll("#notification-list .n-title")].some(e => e.textContent.includes("` + c.Number + `"))`)
	live := `#notification-list li.notification:first-child`
	if got := cora.text(live + " .n-title"); !strings.Contains(got, c.Number) {
		t.Fatalf("first item %q, want the live notification about %s", got, c.Number)
	}
	for form, label := range map[string]string{"form.n-open": "Open", "form.n-read": "Mark read"} {
		if !cora.has(live + " " + form + " button") {
			t.Fatalf("live notification lacks its %s button", label)
		}
	}
	if n := cora.badge(); n != before+1 {
		t.Errorf("badge %d after the live notification, want %d", n, before+1)
	}
	id := js[string](cora, `document.querySelector("`+live+`").id`)

	// Mark read: the page comes back with the item read (Mark unread).
	cora.submit(live+" form.n-read button", "#"+id)
	if cls := js[string](cora, `document.getElementById("`+id+`").className`); strings.Contains(cls, "unread") {
		t.Errorf("after Mark read the item is still unread (%q)", cls)
	}
	if !strings.Contains(cora.text("#"+id+" .n-actions"), "Mark unread") {
		t.Errorf("after Mark read the item offers %q, want Mark unread", cora.text("#"+id+" .n-actions"))
	}
	cora.noConsoleErrors()

	// Open on a second live item goes to the change.
	cora.waitJS(`document.getElementById("unread-badge").dataset.live === "on"`)
	c2 := fileChange(t, srv, "ines@demo.mocpcr.local", "Live gasket change on E-104")
	cora.waitJS(`[...document.querySelectorAll("#notification-list .n-title")].some(e => e.textContent.includes("` + c2.Number + `"))`)
	cora.submit(live+" form.n-open button", "#change-title")
	if got := cora.text("#change-title"); !strings.Contains(got, "Live gasket change") {
		t.Errorf("Open on the live notification went to %q, want change %s", got, c2.Number)
	}
	cora.noConsoleErrors()
}

// The dev mailbox shows an email the way its recipient sees it: the
// email's inline styles apply inside the sandboxed frame, and a script
// in it does not run.
func TestDevMailboxRendersEmailWithItsStyles(t *testing.T) {
	srv := startServer(t, nil)
	fileChange(t, srv, "ines@demo.mocpcr.local", "Mailbox check on PSV-7")
	adam := newBrowser(t)
	adam.signIn(srv, "adam@demo.mocpcr.local")
	// The email is queued with the change and delivered by the worker:
	// reload the mailbox until it is there.
	var id int64
	for range 100 {
		adam.open(srv.url("/admin/mailbox"), "h1")
		if id = js[int64](adam, `(function(){var a=[...document.querySelectorAll('a[href^="/admin/mailbox/"]')].find(e=>e.closest("tr")&&e.closest("tr").textContent.includes("Mailbox check on PSV-7"));return a?Number(a.getAttribute("href").split("/").pop()):0})()`); id != 0 {
			break
		}
		adam.do(chromedp.Sleep(100 * time.Millisecond))
	}
	if id == 0 {
		t.Fatal("the email about the new change never reached the dev mailbox")
	}
	adam.open(srv.url(fmt.Sprintf("/admin/mailbox/%d", id)), "iframe.mail-body")
	if sb := js[string](adam, `document.querySelector("iframe.mail-body").getAttribute("sandbox")`); sb != "" {
		t.Errorf("the email frame's sandbox allows %q, want nothing", sb)
	}
	adam.snap("dev-mailbox-message")

	// Inside the frame, as the frame itself loaded the email: the
	// email's inline styles apply (its body's grey background, its
	// heading's 20 px), which an srcdoc frame under the page's policy
	// would have dropped.
	got := adam.inFrame(fmt.Sprintf("/admin/mailbox/%d/body", id),
		`getComputedStyle(document.body).backgroundColor`, `getComputedStyle(document.querySelector("h1")).fontSize`)
	if got[0] != "rgb(243, 244, 246)" {
		t.Errorf("email body background in the frame %q, want the email's own rgb(243, 244, 246)", got[0])
	}
	if got[1] != "20px" {
		t.Errorf("email heading in the frame is %q, want the email's own 20px", got[1])
	}
	adam.noConsoleErrors()
}

// inFrame evaluates JavaScript expressions in the iframe whose address
// ends in suffix (waiting up to 30 s for it to load). A sandboxed frame
// has an opaque origin, so the page's own scripts cannot look inside;
// Chrome runs it as a target of its own, which the test attaches to.
// Leaving that target closes the frame: ask everything in one call.
func (b *browser) inFrame(suffix string, exprs ...string) []string {
	b.t.Helper()
	for range 300 {
		infos, err := chromedp.Targets(b.ctx)
		if err != nil {
			b.t.Fatal(err)
		}
		for _, info := range infos {
			if info.Type != "iframe" || !strings.HasSuffix(info.URL, suffix) {
				continue
			}
			fctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithTargetID(info.TargetID))
			defer cancel()
			var out []string
			for _, e := range exprs {
				v, err := chromedp.Run(fctx, chromedp.Evaluate[string](e))
				if err != nil {
					b.t.Fatalf("in frame %s: %s: %v", suffix, e, err)
				}
				out = append(out, v)
			}
			return out
		}
		b.do(chromedp.Sleep(100 * time.Millisecond))
	}
	b.t.Fatalf("no frame loaded %s", suffix)
	return nil
}
