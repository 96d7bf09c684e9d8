package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// The account page lets an approver delegate, shows both sides, and
// revokes; a bad form shows every field error at once and keeps input.
func TestAccountDelegations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newSite(t, db, nil)
		boss := site.user("boss@example.com", auth.RoleApprover)
		deputy := site.user("deputy@example.com", auth.RoleApprover)
		site.user("initiator@example.com", auth.RoleInitiator)

		b := site.browser()
		b.login(boss.Email)
		page := b.get("/account")
		if !strings.Contains(page.Body, `<option value="`+itoa(deputy.ID)+`"`) || strings.Contains(page.Body, "initiator@example.com") {
			t.Fatalf("delegate select should offer approvers only:\n%s", page.Body)
		}
		tok := b.csrf()

		r := b.post("/account/delegations", url.Values{"csrf_token": {tok}, "delegation_reason": {"leave"}, "ends_on": {"31/12"}})
		if r.StatusCode != http.StatusBadRequest {
			t.Fatalf("empty form: %d", r.StatusCode)
		}
		for _, want := range []string{"delegate_id-error", "starts_on-error", "ends_on-error", `value="leave"`, `value="31/12"`} {
			if !strings.Contains(r.Body, want) {
				t.Errorf("empty form: missing %q", want)
			}
		}

		today := site.clock.Now().Format("2006-01-02")
		later := site.clock.Now().AddDate(0, 0, 7).Format("2006-01-02")
		r = b.post("/account/delegations", url.Values{"csrf_token": {tok}, "delegate_id": {itoa(deputy.ID)},
			"starts_on": {later}, "ends_on": {today}})
		if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, "ends_on-error") {
			t.Fatalf("end before start: %d\n%s", r.StatusCode, r.Body)
		}

		r = b.post("/account/delegations", url.Values{"csrf_token": {tok}, "delegate_id": {itoa(deputy.ID)},
			"starts_on": {today}, "ends_on": {later}, "delegation_reason": {"annual leave"}})
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("create: %d\n%s", r.StatusCode, r.Body)
		}
		var id int64
		if err := db.SQL.QueryRow(`SELECT id FROM delegations WHERE delegator_id = $1 AND delegate_id = $2`, boss.ID, deputy.ID).Scan(&id); err != nil {
			t.Fatal(err)
		}
		page = b.get("/account")
		if !strings.Contains(page.Body, "User deputy@example.com") || !strings.Contains(page.Body, ">active<") ||
			!strings.Contains(page.Body, "annual leave") {
			t.Errorf("own delegation not listed as active:\n%s", page.Body)
		}

		d := site.browser()
		d.login(deputy.Email)
		if p := d.get("/account"); !strings.Contains(p.Body, "Delegated to you") || !strings.Contains(p.Body, "User boss@example.com") {
			t.Errorf("delegate does not see the delegation made to them:\n%s", p.Body)
		}
		// Only the delegator revokes.
		if r := d.post("/account/delegations/"+itoa(id)+"/revoke", url.Values{"csrf_token": {d.csrf()}}); r.StatusCode != http.StatusNotFound {
			t.Errorf("delegate revoking: %d, want 404", r.StatusCode)
		}
		if r := b.post("/account/delegations/"+itoa(id)+"/revoke", url.Values{}); r.StatusCode != http.StatusForbidden {
			t.Errorf("revoke without CSRF token: %d, want 403", r.StatusCode)
		}
		if r := b.post("/account/delegations/"+itoa(id)+"/revoke", url.Values{"csrf_token": {tok}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("revoke: %d\n%s", r.StatusCode, r.Body)
		}
		var revoked int
		if err := db.SQL.QueryRow(`SELECT COUNT(*) FROM delegations WHERE id = $1 AND revoked_at IS NOT NULL`, id).Scan(&revoked); err != nil || revoked != 1 {
			t.Errorf("not revoked: %d %v", revoked, err)
		}
		if p := b.get("/account"); !strings.Contains(p.Body, ">revoked<") {
			t.Errorf("revoked delegation not shown as revoked")
		}
	})
}

// A range wholly in the past is refused; the page names fields by the
// form's labels and lists errors in form order; people who cannot
// approve do not get the delegate part at all.
func TestAccountDelegationWordsAndPast(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newSite(t, db, nil)
		boss := site.user("boss@example.com", auth.RoleApprover)
		deputy := site.user("deputy@example.com", auth.RoleApprover)
		site.user("ini@example.com", auth.RoleInitiator)
		b := site.browser()
		b.login(boss.Email)
		tok := b.csrf()
		day := func(d int) string { return site.clock.Now().AddDate(0, 0, d).Format("2006-01-02") }

		r := b.post("/account/delegations", url.Values{"csrf_token": {tok}, "delegate_id": {itoa(deputy.ID)},
			"starts_on": {day(-10)}, "ends_on": {day(-3)}})
		if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, "To must be today or later.") {
			t.Errorf("past range: %d, want 400 and “To must be today or later.”\n%s", r.StatusCode, r.Body)
		}
		var n int
		if err := db.SQL.QueryRow(`SELECT COUNT(*) FROM delegations`).Scan(&n); err != nil || n != 0 {
			t.Errorf("past range saved: %d rows %v", n, err)
		}
		r = b.post("/account/delegations", url.Values{"csrf_token": {tok}, "delegate_id": {itoa(deputy.ID)},
			"starts_on": {day(7)}, "ends_on": {day(1)}})
		if !strings.Contains(r.Body, "To must not be before From.") || strings.Contains(r.Body, "starts_on</") || strings.Contains(r.Body, "ends on") {
			t.Errorf("end before start should use the labels:\n%s", r.Body)
		}
		r = b.post("/account/delegations", url.Values{"csrf_token": {tok}, "delegate_id": {itoa(boss.ID)},
			"starts_on": {day(0)}, "ends_on": {day(1)}})
		if !strings.Contains(r.Body, "Delegate: you cannot delegate to yourself") || strings.Contains(r.Body, "delegate id") {
			t.Errorf("self-delegation should say Delegate:\n%s", r.Body)
		}
		r = b.post("/account/delegations", url.Values{"csrf_token": {tok}})
		sum := r.Body[strings.Index(r.Body, "error-summary"):]
		d, f, to := strings.Index(sum, "Delegate:"), strings.Index(sum, "From:"), strings.Index(sum, "To:")
		if d < 0 || f < 0 || to < 0 || !(d < f && f < to) {
			t.Errorf("summary should follow the form (Delegate, From, To): %d %d %d\n%s", d, f, to, sum)
		}

		ini := site.browser()
		ini.login("ini@example.com")
		if p := ini.get("/account"); strings.Contains(p.Body, "Delegated by you") || strings.Contains(p.Body, "Delegations</h2>") {
			t.Errorf("initiator sees the delegations section:\n%s", p.Body)
		}
	})
}
