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
		if r.StatusCode != http.StatusUnprocessableEntity {
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
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "ends_on-error") {
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
