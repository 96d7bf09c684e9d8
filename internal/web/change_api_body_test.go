package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// raw sends body exactly as given (call marshals a Go value, which
// cannot send broken JSON) and decodes the JSON answer.
func (c *apiClient) raw(who, method, path, body string) (int, map[string]any) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+c.tokens[who])
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := map[string]any{}
	if err := json.Unmarshal(b, &out); err != nil && len(b) > 0 {
		c.t.Fatalf("%s %s: %d %q: %v", method, path, resp.StatusCode, b, err)
	}
	return resp.StatusCode, out
}

// The QA tester's bodies: each was accepted or answered in Go words.
func TestChangeAPIRefusesMalformedBodies(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f, c := newChangeAPI(t, db)
		before := c.call("initiator", "GET", "/api/v1/changes", nil, 200)["total"]
		for _, tc := range []struct{ body, field, error string }{
			{`{"kind":"MOC","title":"x","site_id":1}{"a":1}`, "body", "body: unexpected data after the JSON object; send exactly one object"},
			{`[1,2]`, "body", "body: expected a JSON object, got an array"},
			{`null`, "body", "body: expected a JSON object, got null"},
		} {
			status, e := c.raw("initiator", "POST", "/api/v1/changes", tc.body)
			if status != 422 || e["field"] != tc.field || e["error"] != tc.error || e["code"] != "invalid" {
				t.Errorf("%s: got %d %v, want 422 field %q error %q", tc.body, status, e, tc.field, tc.error)
			}
		}
		if after := c.call("initiator", "GET", "/api/v1/changes", nil, 200)["total"]; after != before {
			t.Fatalf("a refused body created a change: total %v, was %v", after, before)
		}
		ch := c.call("initiator", "POST", "/api/v1/changes", newChangeBody("MOC", f.NRF, f.CDU), 201)["change"].(map[string]any)
		status, e := c.raw("initiator", "POST", "/api/v1/changes/"+jsonNum(ch["id"])+"/submit", `{"screening":{"pssr":true}}`)
		if status != 422 || e["field"] != "screening.pssr" || e["error"] != "screening.pssr: unknown field" {
			t.Fatalf("nested unknown field: %d %v", status, e)
		}
	})
}

func jsonNum(v any) string { b, _ := json.Marshal(v); return string(b) }

// Create and update answer every invalid field at once in "errors"; the
// first stays in "error" and "field".
func TestChangeAPIReportsEveryInvalidField(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f, c := newChangeAPI(t, db)
		fieldsOf := func(e map[string]any) []string {
			var out []string
			list, _ := e["errors"].([]any)
			for _, x := range list {
				m := x.(map[string]any)
				if msg, _ := m["error"].(string); !strings.HasPrefix(msg, m["field"].(string)+": ") {
					t.Errorf("error %q does not start with its field %q", msg, m["field"])
				}
				out = append(out, m["field"].(string))
			}
			return out
		}
		status, e := c.raw("initiator", "POST", "/api/v1/changes", `{}`)
		if got := fieldsOf(e); status != 422 || e["field"] != "kind" || e["error"] != "kind: is required: MOC or PCR" ||
			strings.Join(got, ",") != "kind,title,site_id" {
			t.Fatalf("empty create: %d %v", status, e)
		}
		status, e = c.raw("initiator", "POST", "/api/v1/changes",
			`{"kind":"MOC","duration":"temporary","site_id":`+jsonNum(f.NRF)+`,"risk_ranking":"extreme","expires_on":"31/12/2030"}`)
		if got := fieldsOf(e); status != 422 || e["field"] != "title" || strings.Join(got, ",") != "title,risk_ranking,expires_on" {
			t.Fatalf("create with a bad date: %d %v", status, e)
		}
		ch := c.call("initiator", "POST", "/api/v1/changes", newChangeBody("MOC", f.NRF, f.CDU), 201)["change"].(map[string]any)
		status, e = c.raw("initiator", "PATCH", "/api/v1/changes/"+jsonNum(ch["id"]), `{"title":"","duration":"forever"}`)
		if got := fieldsOf(e); status != 422 || e["field"] != "duration" || strings.Join(got, ",") != "duration,title" {
			t.Fatalf("update: %d %v", status, e)
		}
	})
}
