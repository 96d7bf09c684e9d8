package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// Auditors verify a change's hash chain from its page, and see the first
// broken entry once a row is edited behind the application's back.
func TestChangeAuditPage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newPageFixture(t, db)
		f.site.user("aud@example.com", auth.RoleAuditor)
		aud := f.site.browser()
		aud.login("aud@example.com")
		c := f.approval
		var n int
		if err := db.SQL.QueryRow(`SELECT COUNT(*) FROM change_audit WHERE change_id = $1`, c.ID).Scan(&n); err != nil || n < 3 {
			t.Fatalf("audit entries: %d %v", n, err)
		}

		if p := aud.get("/changes/" + c.Number); !strings.Contains(p.Body, `href="/changes/`+c.Number+`/audit"`) {
			t.Errorf("auditor's change page has no Verify audit trail link")
		}
		if p := f.ini2.get("/changes/" + c.Number); strings.Contains(p.Body, "Verify audit trail") {
			t.Errorf("initiator may not read audits but sees the link")
		}
		if p := f.ini2.get("/changes/" + c.Number + "/audit"); p.StatusCode != http.StatusForbidden {
			t.Errorf("initiator on audit page: %d, want 403", p.StatusCode)
		}
		if p := aud.get("/changes/" + c.Number + "/print"); !strings.Contains(p.Body, "/changes/"+c.Number+"/audit") ||
			strings.Contains(p.Body, "mocpcr audit verify") {
			t.Errorf("print footer should point at the audit page")
		}

		p := aud.get("/changes/" + c.Number + "/audit")
		want := "Verified: " + itoa(int64(n)) + " entries, chain intact."
		if p.StatusCode != http.StatusOK || !strings.Contains(p.Body, want) {
			t.Fatalf("audit page: %d, want %q\n%s", p.StatusCode, want, p.Body)
		}
		if p := aud.get("/audit/verify"); !strings.Contains(p.Body, "every chain intact") {
			t.Errorf("verify-all page: %s", p.Body)
		}

		if _, err := db.SQL.Exec(`UPDATE change_audit SET new_value = 'tampered' WHERE change_id = $1 AND seq = 2`, c.ID); err != nil {
			t.Fatal(err)
		}
		p = aud.get("/changes/" + c.Number + "/audit")
		if !strings.Contains(p.Body, "Chain broken at entry 2") || strings.Contains(p.Body, "chain intact") {
			t.Errorf("tampered chain not reported:\n%s", p.Body)
		}
		if p := aud.get("/audit/verify"); !strings.Contains(p.Body, "1 of ") || !strings.Contains(p.Body, `href="/changes/`+c.Number+`/audit"`) {
			t.Errorf("verify-all does not name the broken change:\n%s", p.Body)
		}
		// Other changes' chains are still intact on their own pages.
		if p := aud.get("/changes/" + f.draft.Number + "/audit"); !strings.Contains(p.Body, "chain intact") {
			t.Errorf("one broken chain spoils another change's page")
		}
	})
}

// An auditor limited to one site verifies only that site's chains: the
// other sites' changes are neither counted nor named, even when broken.
// The raw trail follows the audit page's rule: auditors yes, initiators no.
func TestAuditVerifyKeepsToTheUsersSites(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f, c := newChangeAPI(t, db)
		ctx := context.Background()
		nrfAud, err := auth.CreateUser(ctx, db.SQL, auth.NewUser{Email: "nrf-aud@plant.test", Name: "Nora", Roles: []auth.Role{auth.RoleAuditor}, SiteIDs: []int64{f.NRF}})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := auth.CreateAPIToken(ctx, db.SQL, nrfAud.ID, "test")
		if err != nil {
			t.Fatal(err)
		}
		c.tokens["nrf-auditor"] = tok
		var scpUnit int64
		if err := db.SQL.QueryRow(`INSERT INTO units (site_id, code, name) VALUES ($1, 'AMM-2', 'Ammonia 2') RETURNING id`, f.SCP).Scan(&scpUnit); err != nil {
			t.Fatal(err)
		}
		nrf := c.call("initiator", "POST", "/api/v1/changes", newChangeBody("MOC", f.NRF, f.CDU), 201)["change"].(map[string]any)
		scp := c.call("outsider", "POST", "/api/v1/changes", newChangeBody("MOC", f.SCP, scpUnit), 201)["change"].(map[string]any)
		if _, err := db.SQL.Exec(`UPDATE change_audit SET new_value = 'tampered' WHERE change_id = $1 AND seq = 1`, jsonNum(scp["id"])); err != nil {
			t.Fatal(err)
		}

		v := c.call("nrf-auditor", "GET", "/api/v1/audit/verify", nil, 200)
		rep := v["report"].(map[string]any)
		if v["ok"] != true || rep["broken"] != nil || num(rep["changes"]) != 1 {
			t.Errorf("NRF auditor's verify: %v, want ok over the 1 NRF change and nothing about SCP", v)
		}
		v = c.call("auditor", "GET", "/api/v1/audit/verify", nil, 200) // no site rows: every site
		rep = v["report"].(map[string]any)
		broken, _ := rep["broken"].([]any)
		if v["ok"] != false || num(rep["changes"]) != 2 || len(broken) != 1 || broken[0].(map[string]any)["number"] != scp["number"] {
			t.Errorf("all-sites auditor's verify: %v, want 2 changes and %v broken", v, scp["number"])
		}

		// One rule for the raw trail, page and API alike.
		c.call("initiator", "GET", "/api/v1/changes/"+nrf["number"].(string)+"/audit", nil, 403)
		c.call("nrf-auditor", "GET", "/api/v1/changes/"+nrf["number"].(string)+"/audit", nil, 200)
		c.call("nrf-auditor", "GET", "/api/v1/changes/"+scp["number"].(string)+"/audit", nil, 404)
	})
}

// A long audit trail is read a page at a time, in the API and on the
// audit page, each entry exactly once; the chain check still covers the
// whole trail.
func TestAuditTrailPagesByEntryNumber(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newPageFixture(t, db)
		_, tok := f.site.apiUser("api@example.com", auth.RoleAuditor)
		f.site.user("aud@example.com", auth.RoleAuditor)
		aud := f.site.browser()
		aud.login("aud@example.com")
		c := f.draft
		// A long trail, as a change worked on for years would have: each
		// edit is an entry of the same chain.
		for i := range 230 {
			if _, err := f.site.web.Changes.Update(context.Background(), f.ini, c.ID, change.Fields{Title: ptr("Title " + itoa(int64(i)))}); err != nil {
				t.Fatal(err)
			}
		}
		var n int64
		if err := db.SQL.QueryRow(`SELECT COUNT(*) FROM change_audit WHERE change_id = $1`, c.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		var seen []int64
		after := int64(0)
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatal("the API never reached the end of the trail")
			}
			r := bearer(t, f.site.URL, "GET", "/api/v1/changes/"+itoa(c.ID)+"/audit?limit=100&after="+itoa(after), tok, nil)
			var out struct {
				Entries []struct {
					Seq int64 `json:"seq"`
				} `json:"entries"`
				Next int64 `json:"next"`
			}
			if r.StatusCode != http.StatusOK || json.Unmarshal([]byte(r.Body), &out) != nil {
				t.Fatalf("audit API: %d %s", r.StatusCode, r.Body)
			}
			if len(out.Entries) > 100 {
				t.Fatalf("page of %d entries, limit 100", len(out.Entries))
			}
			for _, e := range out.Entries {
				seen = append(seen, e.Seq)
			}
			if out.Next == 0 {
				break
			}
			after = out.Next
		}
		if int64(len(seen)) != n {
			t.Errorf("pages gave %d entries, the trail has %d", len(seen), n)
		}
		for i, s := range seen {
			if s != int64(i+1) {
				t.Fatalf("entry %d of the pages is seq %d", i+1, s)
			}
		}
		for _, q := range []string{"limit=0", "limit=1001", "after=-1", "after=x"} {
			if r := bearer(t, f.site.URL, "GET", "/api/v1/changes/"+itoa(c.ID)+"/audit?"+q, tok, nil); r.StatusCode != http.StatusUnprocessableEntity && r.StatusCode != http.StatusBadRequest {
				t.Errorf("audit API ?%s: %d, want a refusal naming the parameter", q, r.StatusCode)
			} else if name, _, _ := strings.Cut(q, "="); !strings.Contains(r.Body, `"`+name+`"`) {
				t.Errorf("audit API ?%s does not name %s: %s", q, name, r.Body)
			}
		}

		p := aud.get("/changes/" + c.Number + "/audit")
		if !strings.Contains(p.Body, "Verified: "+itoa(n)+" entries, chain intact.") || !strings.Contains(p.Body, `href="/changes/`+c.Number+`/audit?after=200"`) {
			t.Fatalf("first audit page: no full check or no link to the later entries:\n%s", p.Body)
		}
		if strings.Count(p.Body, `class="hash"`) != 200 {
			t.Errorf("first audit page shows %d entries, want 200", strings.Count(p.Body, `class="hash"`))
		}
		p = aud.get("/changes/" + c.Number + "/audit?after=200")
		if got := strings.Count(p.Body, `class="hash"`); int64(got) != n-200 || strings.Contains(p.Body, "Later entries") || !strings.Contains(p.Body, "First entries") {
			t.Errorf("second audit page shows %d entries (want %d) or wrong links:\n%s", got, n-200, p.Body)
		}
	})
}
