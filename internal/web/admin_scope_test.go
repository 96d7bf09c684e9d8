package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// An admin of some sites manages only those sites: their users, units,
// settings and emails. They cannot reach an account that goes further
// than their own (so cannot take it over), nor give access they do not
// hold.
func TestSiteAdminsAreScopedToTheirSites(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f, c := newChangeAPI(t, db)
		ctx := context.Background()
		siteAdmin, err := auth.CreateUser(ctx, db.SQL, auth.NewUser{Email: "sam@plant.test", Name: "Sam", Roles: []auth.Role{auth.RoleAdmin}, SiteIDs: []int64{f.NRF}})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := auth.CreateAPIToken(ctx, db.SQL, siteAdmin.ID, "test")
		if err != nil {
			t.Fatal(err)
		}
		c.tokens["siteadmin"] = tok
		do := func(method, path, body string) response {
			t.Helper()
			var r *strings.Reader
			if body != "" {
				r = strings.NewReader(body)
				return bearer(t, c.srv.URL, method, path, tok, r)
			}
			return bearer(t, c.srv.URL, method, path, tok, nil)
		}
		itoa := func(id int64) string { return jsonNum(float64(id)) }

		// The user list holds only users within the admin's sites.
		var list struct{ Users []struct{ Email string } }
		_ = json.Unmarshal([]byte(do("GET", "/api/v1/users", "").Body), &list)
		var emails []string
		for _, u := range list.Users {
			emails = append(emails, u.Email)
		}
		joined := strings.Join(emails, " ")
		if !strings.Contains(joined, f.Initiator.Email) || strings.Contains(joined, f.Admin.Email) || strings.Contains(joined, f.Outsider.Email) {
			t.Errorf("site admin's user list: %v; want NRF users only, not the all-sites admin or SCP's user", emails)
		}
		// Accounts that reach further: answered as missing, for every verb.
		for _, target := range []*auth.User{f.Admin, f.Outsider} {
			for _, r := range []response{
				do("GET", "/api/v1/users/"+itoa(target.ID), ""),
				do("PATCH", "/api/v1/users/"+itoa(target.ID), `{"disabled":true}`),
				do("POST", "/admin/users/"+itoa(target.ID)+"/password", ""),
			} {
				if r.StatusCode != http.StatusNotFound {
					t.Errorf("site admin acting on %s: %d %.200s, want 404", target.Email, r.StatusCode, r.Body)
				}
			}
		}
		if got, _ := auth.UserByID(ctx, db.SQL, f.Admin.ID); got.Disabled {
			t.Fatal("the site admin disabled the all-sites admin")
		}
		// No access beyond their own can be given, to themselves or others.
		for _, body := range []string{`{"all_sites":true}`, `{"site_ids":[` + itoa(f.NRF) + `,` + itoa(f.SCP) + `]}`} {
			if r := do("PATCH", "/api/v1/users/"+itoa(siteAdmin.ID), body); r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "site_ids") {
				t.Errorf("site admin widening their own access with %s: %d %.200s", body, r.StatusCode, r.Body)
			}
		}
		for _, body := range []string{
			`{"email":"wide@plant.test","name":"Wide","password":"a long secret pw","roles":["initiator"],"all_sites":true}`,
			`{"email":"scp@plant.test","name":"Scp","password":"a long secret pw","roles":["initiator"],"site_ids":[` + itoa(f.SCP) + `]}`,
		} {
			if r := do("POST", "/api/v1/users", body); r.StatusCode != http.StatusUnprocessableEntity {
				t.Errorf("site admin creating %s: %d %.200s, want 422", body, r.StatusCode, r.Body)
			}
		}
		if r := do("POST", "/api/v1/users", `{"email":"nrf@plant.test","name":"Nrf","password":"a long secret pw","roles":["initiator"],"site_ids":[`+itoa(f.NRF)+`]}`); r.StatusCode != http.StatusCreated {
			t.Errorf("site admin creating a user of their own site: %d %.200s", r.StatusCode, r.Body)
		}
		// Sites: none created, only their own edited.
		if r := do("POST", "/api/v1/sites", `{"code":"NEW","name":"New"}`); r.StatusCode != http.StatusForbidden {
			t.Errorf("site admin creating a site: %d", r.StatusCode)
		}
		if r := do("PATCH", "/api/v1/sites/"+itoa(f.SCP), `{"name":"Mine now"}`); r.StatusCode != http.StatusNotFound {
			t.Errorf("site admin renaming another site: %d %.200s", r.StatusCode, r.Body)
		}
		if r := do("PATCH", "/api/v1/sites/"+itoa(f.NRF), `{"name":"North Refinery"}`); r.StatusCode != http.StatusOK {
			t.Errorf("site admin renaming their own site: %d %.200s", r.StatusCode, r.Body)
		}
		// The delivery log: only emails of the users they manage.
		now := time.Now()
		for _, u := range []*auth.User{f.Initiator, f.Outsider, f.Admin} {
			if _, err := db.SQL.Exec(`INSERT INTO email_messages (user_id, kind, to_email, to_name, subject, html_body, status, created_at, updated_at, queued_at)
				VALUES ($1, 'notification', $2, $3, $4, '<p>x</p>', 'failed', $5, $5, $5)`, u.ID, u.Email, u.Name, "For "+u.Name, now); err != nil {
				t.Fatal(err)
			}
		}
		log := do("GET", "/api/v1/admin/emails", "").Body
		if !strings.Contains(log, "For "+f.Initiator.Name) || strings.Contains(log, "For "+f.Outsider.Name) || strings.Contains(log, "For "+f.Admin.Name) {
			t.Errorf("site admin's delivery log: %.400s", log)
		}
		if r := do("POST", "/api/v1/admin/emails/retry-failed", ""); r.StatusCode != http.StatusForbidden {
			t.Errorf("site admin retrying every site's emails: %d", r.StatusCode)
		}
		all := bearer(t, c.srv.URL, "GET", "/api/v1/admin/emails", c.tokens["admin"], nil).Body
		if !strings.Contains(all, "For "+f.Outsider.Name) || !strings.Contains(all, "For "+f.Admin.Name) {
			t.Errorf("all-sites admin's delivery log misses emails: %.400s", all)
		}
	})
}
