package web_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// Every API refusal has one shape, {error, code, field, request_id},
// whichever layer refused: the auth API's own checks here, the change
// API's domain errors in change_api_call_test.go.
func TestUsersAPIRefusalsNameTheField(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	site := newSite(t, db, nil)
	admin := site.user("adam@example.com", auth.RoleAdmin)
	tok, err := auth.CreateAPIToken(t.Context(), db.SQL, admin.ID, "test")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, body string
		status     int
		code       string
		field      string
	}{
		{"unknown role", `{"email":"a@example.com","name":"A","password":"long enough pw","roles":["wizard"]}`, 422, "invalid", "roles"},
		{"no password", `{"email":"a@example.com","name":"A","roles":["reviewer"],"all_sites":true}`, 422, "invalid", "password"},
		{"no such site", `{"email":"a@example.com","name":"A","password":"long enough pw","roles":["reviewer"],"site_ids":[999]}`, 422, "invalid", "site_ids"},
		{"no role", `{"email":"a@example.com","name":"A","password":"long enough pw","all_sites":true}`, 422, "invalid", "roles"},
		{"no site choice", `{"email":"a@example.com","name":"A","password":"long enough pw","roles":["reviewer"]}`, 422, "invalid", "site_ids"},
		{"both site choices", `{"email":"a@example.com","name":"A","password":"long enough pw","roles":["reviewer"],"site_ids":[1],"all_sites":true}`, 422, "invalid", "site_ids"},
		{"wrong type", `{"email":"a@example.com","name":7}`, 422, "invalid", "name"},
		{"typo", `{"emial":"a@example.com"}`, 422, "invalid", "emial"},
		{"not JSON", `email=a@example.com`, 422, "invalid", "body"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := bearer(t, site.URL, "POST", "/api/v1/users", tok, strings.NewReader(c.body))
			var e map[string]string
			if err := json.Unmarshal([]byte(r.Body), &e); err != nil {
				t.Fatalf("%d %q: %v", r.StatusCode, r.Body, err)
			}
			if r.StatusCode != c.status || e["code"] != c.code || e["field"] != c.field || e["request_id"] == "" ||
				!strings.HasPrefix(e["error"], c.field+": ") {
				t.Fatalf("got %d %v, want %d code %q field %q", r.StatusCode, e, c.status, c.code, c.field)
			}
		})
	}
	r := bearer(t, site.URL, "GET", "/api/v1/users", "", nil)
	if r.StatusCode != 401 || !strings.Contains(r.Body, `"code":"unauthenticated"`) {
		t.Fatalf("anonymous: %d %s", r.StatusCode, r.Body)
	}
}
