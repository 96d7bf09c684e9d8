package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// The id of another site's object (an action item, a PSSR item, an
// attachment, an email) is answered exactly as an id that does not exist:
// same status, same words, nothing that confirms the object or names its
// change.
func TestOtherSitesIDsAnswerLikeMissingOnes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f, c := newChangeAPI(t, db)
		ch := c.call("initiator", "POST", "/api/v1/changes", newChangeBody("MOC", f.NRF, f.CDU), 201)["change"].(map[string]any)
		id := jsonNum(ch["id"])
		number := ch["number"].(string)
		att := c.upload("initiator", "/api/v1/changes/"+id+"/attachments", "notes.txt", []byte("hello"))
		// An action item and a PSSR item of the change, as later stages make them.
		var actionID, itemID int64
		if err := db.SQL.QueryRow(`INSERT INTO change_actions (change_id, title, owner_id, before_startup, created_at) VALUES ($1, 'Update P&ID', $2, FALSE, $3) RETURNING id`,
			int64(ch["id"].(float64)), f.Initiator.ID, f.Clock.Now()).Scan(&actionID); err != nil {
			t.Fatal(err)
		}
		if err := db.SQL.QueryRow(`INSERT INTO pssr_items (change_id, position, text) VALUES ($1, 1, 'Update P&ID drawings') RETURNING id`,
			int64(ch["id"].(float64))).Scan(&itemID); err != nil {
			t.Fatal(err)
		}
		// The outsider's own change, to put another change's attachment id under.
		own := c.call("outsider", "POST", "/api/v1/changes", newChangeBody("MOC", f.SCP, 0), 201)["change"].(map[string]any)

		// Answers may echo the id asked for; that is all that may differ.
		requestID := regexp.MustCompile(`[0-9a-f]{16}`)
		digits := regexp.MustCompile(`[0-9]+`)
		norm := func(r response) string {
			body := r.Body
			var m map[string]any
			if json.Unmarshal([]byte(r.Body), &m) == nil {
				delete(m, "request_id")
				b, _ := json.Marshal(m)
				body = string(b)
			}
			return digits.ReplaceAllString(requestID.ReplaceAllString(body, "RID"), "N")
		}
		type probe struct{ method, real, missing, body string }
		probes := []probe{
			{"POST", "/api/v1/actions/" + strconv.FormatInt(actionID, 10) + "/complete", "/api/v1/actions/99999999/complete", `{}`},
			{"GET", "/api/v1/changes/" + jsonNum(own["id"]) + "/attachments/" + jsonNum(att["id"]), "/api/v1/changes/" + jsonNum(own["id"]) + "/attachments/99999999", ""},
			{"GET", "/changes/" + own["number"].(string) + "/attachments/" + jsonNum(att["id"]), "/changes/" + own["number"].(string) + "/attachments/99999999", ""},
			{"GET", "/api/v1/changes/" + id + "/attachments/" + jsonNum(att["id"]), "/api/v1/changes/99999999/attachments/" + jsonNum(att["id"]), ""},
			{"POST", "/api/v1/pssr-items/" + strconv.FormatInt(itemID, 10) + "/answer", "/api/v1/pssr-items/99999999/answer", `{"answer":"yes"}`},
		}
		for _, p := range probes {
			var rb, mb io.Reader
			if p.body != "" {
				rb, mb = strings.NewReader(p.body), strings.NewReader(p.body)
			}
			real := bearer(t, c.srv.URL, p.method, p.real, c.tokens["outsider"], rb)
			missing := bearer(t, c.srv.URL, p.method, p.missing, c.tokens["outsider"], mb)
			if real.StatusCode != missing.StatusCode || norm(real) != norm(missing) {
				t.Errorf("%s %s answers %d %.200s\nbut a missing id answers %d %.200s", p.method, p.real, real.StatusCode, norm(real), missing.StatusCode, norm(missing))
			}
			if real.StatusCode != http.StatusNotFound {
				t.Errorf("%s %s: %d, want 404", p.method, p.real, real.StatusCode)
			}
			if strings.Contains(real.Body, number) || strings.Contains(real.Body, "Update P&") {
				t.Errorf("%s %s names the other site's change: %.200s", p.method, p.real, real.Body)
			}
		}
	})
}
