package web_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/demo"
	"github.com/mocpcr/mocpcr/internal/notify"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
	"github.com/mocpcr/mocpcr/internal/web"
)

// benchChanges is how many changes are generated on top of the demo data.
const benchChanges = 400

// BenchmarkPages is the time to render each everyday page, through the
// whole handler stack (session lookup, unread badge, queries, template),
// on the demo data plus a few hundred generated changes. Target: under
// 200 ms per page on a plant's modest server.
func BenchmarkPages(b *testing.B) {
	for _, d := range storetest.Dialects() {
		b.Run(string(d), func(b *testing.B) {
			h, cookie, number := benchSite(b, storetest.Open(b, d))
			pages := []struct{ name, path string }{
				{"MyWork", "/"},
				{"Changes", "/changes"},
				{"ChangesFilteredSorted", "/changes?kind=MOC&open=1&sort=title&page=3"},
				{"ChangesSearch", "/changes?q=p-1"},
				{"Dashboard", "/dashboard"},
				{"Notifications", "/notifications"},
				{"ChangePage", "/changes/" + number},
			}
			for _, p := range pages {
				b.Run(p.name, func(b *testing.B) {
					req := httptest.NewRequest("GET", p.path, nil)
					req.AddCookie(cookie)
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					if rec.Code == http.StatusNotFound && p.name == "ChangePage" {
						b.Skip("no change page on this branch yet")
					}
					if rec.Code != http.StatusOK {
						b.Fatalf("%s: status %d", p.path, rec.Code)
					}
					b.SetBytes(int64(rec.Body.Len()))
					b.ResetTimer()
					for b.Loop() {
						rec := httptest.NewRecorder()
						h.ServeHTTP(rec, req)
						if rec.Code != http.StatusOK {
							b.Fatalf("%s: status %d", p.path, rec.Code)
						}
					}
				})
			}
		})
	}
}

// benchSite seeds the demo plant, adds benchChanges changes (a share of
// them submitted, with actions and notifications for the coordinator),
// and signs the coordinator in. It returns the handler, the session
// cookie and one change number.
func benchSite(b *testing.B, db *store.DB) (http.Handler, *http.Cookie, string) {
	b.Helper()
	ctx := context.Background()
	if err := demo.Seed(ctx, db, change.SeedDemo); err != nil {
		b.Fatal(err)
	}
	const base = "http://moc.test"
	n := &notify.Notifier{BaseURL: base, Dialect: db.Dialect}
	svc := change.New(db, n)
	// Requests go to the handler in-process: no network in the numbers.
	h := startSite(b, db, siteOptions{env: map[string]string{"MOCPCR_BASE_URL": base}, deps: web.Deps{Changes: svc}, now: time.Now}).web.Handler()
	user := func(prefix string) *auth.User {
		u, err := auth.UserByEmail(ctx, db.SQL, prefix+"@demo.mocpcr.local")
		if err != nil {
			b.Fatal(err)
		}
		return u
	}
	ines, cora, rita := user("ines"), user("cora"), user("rita")
	units, err := svc.Units(ctx, cora, 0)
	if err != nil || len(units) == 0 {
		b.Fatalf("units: %v %v", units, err)
	}
	kinds := []change.Kind{change.KindMOC, change.KindMOC, change.KindPCR}
	var number string
	for i := range benchChanges {
		un := units[i%len(units)]
		k := kinds[i%len(kinds)]
		title := fmt.Sprintf("Generated change %03d on %s", i, un.Code)
		tags := []string{fmt.Sprintf("P-%d", 100+i%50)}
		site, unit := un.SiteID, un.ID
		desc, reason := "Generated for the render benchmark.", "Benchmark"
		f := change.Fields{Kind: &k, Title: &title, SiteID: &site, UnitID: &unit, EquipmentTags: &tags, Description: &desc, Reason: &reason}
		c, err := svc.Create(ctx, ines, f)
		if err != nil {
			b.Fatal(err)
		}
		number = c.Number
		if i%4 != 0 {
			continue
		}
		// A quarter get an action for the coordinator, some overdue.
		due := time.Now().UTC().AddDate(0, 0, i%20-10)
		if _, err := db.SQL.ExecContext(ctx, `INSERT INTO change_actions (change_id, title, kind, owner_id, due_on, before_startup, created_by, created_at)
			VALUES ($1, $2, 'general', $3, $4, FALSE, $5, $6)`, c.ID, "Check "+title, cora.ID, time.Date(due.Year(), due.Month(), due.Day(), 0, 0, 0, 0, time.UTC),
			rita.ID, time.Now().UTC()); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 60 {
		err := db.Tx(ctx, func(tx *sql.Tx) error {
			return n.Notify(ctx, tx, notify.Event{Type: notify.TypeSubmitted, Title: fmt.Sprintf("Notification %d", i), Body: "Body", Link: "/changes/" + number, Recipients: []int64{cora.ID}})
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	// Sign in through the form and keep the session cookie.
	form := url.Values{"email": {cora.Email}, "password": {demo.Password}}
	req := httptest.NewRequest("POST", "/auth/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusSeeOther {
		b.Fatalf("sign in: %d %s", rec.Code, rec.Body)
	}
	for _, c := range rec.Result().Cookies() {
		if c.Value != "" {
			return h, c, number
		}
	}
	b.Fatal("no session cookie after sign-in")
	return nil, nil, ""
}
