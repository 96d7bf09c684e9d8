package e2e

import (
	"context"
	"strings"
	"testing"

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
