package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/change/changetest"
	"github.com/mocpcr/mocpcr/internal/notify"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
	"github.com/mocpcr/mocpcr/internal/web"
)

type apiClient struct {
	t      *testing.T
	srv    *httptest.Server
	web    *web.Server
	tokens map[string]string
}

// call sends a JSON request as the named user and decodes the answer.
func (c *apiClient) call(who, method, path string, body any, wantStatus int) map[string]any {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.srv.URL+path, rd)
	req.Header.Set("Authorization", "Bearer "+c.tokens[who])
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantStatus {
		c.t.Fatalf("%s %s as %s: status %d, want %d: %s", method, path, who, resp.StatusCode, wantStatus, raw)
	}
	out := map[string]any{}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		_ = json.Unmarshal(raw, &out)
	} else {
		out["raw"] = string(raw)
	}
	return out
}

func (c *apiClient) upload(who, path, name string, data []byte) map[string]any {
	c.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(data)
	mw.Close()
	req, _ := http.NewRequest("POST", c.srv.URL+path, &buf)
	req.Header.Set("Authorization", "Bearer "+c.tokens[who])
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]any{}
	json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != http.StatusCreated {
		c.t.Fatalf("upload: status %d: %v", resp.StatusCode, out)
	}
	return out
}

func newChangeAPI(t *testing.T, db *store.DB) (*changetest.Fixture, *apiClient) {
	t.Helper()
	f := changetest.Seed(t, db, time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC))
	site := startSite(t, db, siteOptions{deps: web.Deps{Changes: f.Service}, now: time.Now})
	c := &apiClient{t: t, srv: site.srv, web: site.web, tokens: map[string]string{}}
	for name, u := range f.Users() {
		c.tokens[name] = site.token(u)
	}
	return f, c
}

func num(v any) int64 { return int64(v.(float64)) }

// expectNotified checks who got notifications of typ since mark, and that
// each got an email with a link to the change.
func expectNotified(t *testing.T, f *changetest.Fixture, typ notify.Type, mark int64, changeID int64, want ...int64) {
	t.Helper()
	got := changetest.Notified(t, f.DB, typ, mark)
	slices.Sort(want)
	want = slices.Compact(want)
	if !slices.Equal(got, want) {
		t.Fatalf("%s notified %v, want %v", typ, got, want)
	}
	emails := f.Emails.Take()
	for _, uid := range want {
		found := false
		for _, e := range emails {
			if e.UserID == uid && e.Type == typ && e.Link == fmt.Sprintf("https://moc.test/changes/%d", changeID) {
				found = true
			}
		}
		if !found {
			t.Fatalf("no %s email to user %d among %d queued", typ, uid, len(emails))
		}
	}
}

func newChangeBody(kind string, site, unit int64) map[string]any {
	return map[string]any{"kind": kind, "title": "Replace P-101 seals", "description": "Dual mechanical seals", "site_id": site,
		"unit_id": unit, "equipment_tags": []string{"P-101A"}, "reason": "Repeated leaks", "risk_ranking": "high",
		"technical_basis": "Vendor data sheet", "safety_health_impact": "Reduces hydrocarbon release risk",
		"procedure_changes": "OP-12 start-up step", "time_period": "Permanent", "authorization_required": "Area superintendent"}
}

// A full MOC (with PSSR, a deficiency, training roster and two approval
// stages) from draft to closed through the API, as different users.
func TestFullMOCThroughAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f, c := newChangeAPI(t, db)
		// Auditors read but never create.
		c.call("auditor", "POST", "/api/v1/changes", newChangeBody("MOC", f.NRF, f.CDU), 403)
		bad := newChangeBody("MOC", f.NRF, f.CDU)
		bad["risk_ranking"] = "extreme"
		if e := c.call("initiator", "POST", "/api/v1/changes", bad, 422); !strings.Contains(e["error"].(string), "risk_ranking") {
			t.Fatalf("error does not name the field: %v", e)
		}
		created := c.call("initiator", "POST", "/api/v1/changes", newChangeBody("MOC", f.NRF, f.CDU), 201)
		ch := created["change"].(map[string]any)
		id := num(ch["id"])
		if ch["number"] != "MOC-2026-0001" || ch["stage"] != "draft" {
			t.Fatalf("created %v", ch)
		}
		base := fmt.Sprintf("/api/v1/changes/%d", id)
		// A second change on the same equipment shows the first as a conflict.
		second := c.call("reviewer", "POST", "/api/v1/changes", newChangeBody("PCR", f.NRF, f.FCC), 201)
		if cs := second["conflicts"].([]any); len(cs) != 1 || cs[0].(map[string]any)["number"] != "MOC-2026-0001" {
			t.Fatalf("conflicts on create = %v", cs)
		}
		if cs := c.call("initiator", "GET", fmt.Sprintf("/api/v1/changes/conflicts?site_id=%d&tags=P-101A", f.NRF), nil, 200)["conflicts"].([]any); len(cs) != 2 {
			t.Fatalf("conflict query = %d changes", len(cs))
		}
		c.call("initiator", "PATCH", base, map[string]any{"title": "Replace P-101A/B seals"}, 200)
		// The kind is checked as a value first, then as a change of kind.
		if e := c.call("initiator", "PATCH", base, map[string]any{"kind": "X"}, 422); e["field"] != "kind" || !strings.HasPrefix(fmt.Sprint(e["error"]), `kind: must be MOC or PCR, got "X"`) {
			t.Errorf("unknown kind: %v", e)
		}
		if e := c.call("initiator", "PATCH", base, map[string]any{"kind": "PCR"}, 422); e["field"] != "kind" ||
			!strings.HasPrefix(fmt.Sprint(e["error"]), "kind: cannot change the kind of a filed change (MOC-") || !strings.HasSuffix(fmt.Sprint(e["error"]), "is a MOC); file a new PCR instead") {
			t.Errorf("kind changed: %v", e)
		}
		c.call("initiator", "PATCH", base, map[string]any{"kind": "moc"}, 200)
		c.call("outsider", "GET", base, nil, 404)

		mark := changetest.LastNotification(t, db)
		c.call("initiator", "POST", base+"/submit", map[string]any{"screening": map[string]any{
			"disciplines": []string{"mechanical"}, "psi_changes": true, "hazard_review_needed": true, "pssr_needed": true}}, 200)
		expectNotified(t, f, notify.TypeSubmitted, mark, id, f.Coordinator.ID)

		c.call("initiator", "POST", base+"/reviewers", map[string]any{"discipline": "mechanical", "reviewer_id": f.Reviewer.ID}, 403)
		c.call("coordinator", "POST", base+"/reviewers", map[string]any{"discipline": "mechanical", "reviewer_id": f.Reviewer.ID}, 200)
		c.call("coordinator", "POST", base+"/transitions", map[string]any{"action": "start_review"}, 409) // screening not confirmed
		c.call("initiator", "POST", base+"/screening-confirmation", map[string]any{"password": changetest.Password}, 403)
		c.call("coordinator", "POST", base+"/screening-confirmation", map[string]any{"password": changetest.Password}, 200)
		if e := c.call("coordinator", "POST", base+"/transitions", map[string]any{"action": "start_review"}, 422); e["field"] != "reviewer_id" ||
			!strings.Contains(e["error"].(string), "hazard review") {
			t.Errorf("start review with the hazard review unassigned: %v", e)
		}
		c.call("coordinator", "POST", base+"/reviewers", map[string]any{"discipline": "hazard_review", "reviewer_id": f.Reviewer2.ID}, 200)
		c.call("coordinator", "PUT", base+"/approvers", map[string]any{"stages": [][]int64{{f.Approver.ID}, {f.Approver2.ID}}}, 200)
		mark = changetest.LastNotification(t, db)
		c.call("coordinator", "POST", base+"/transitions", map[string]any{"action": "start_review"}, 200)
		expectNotified(t, f, notify.TypeReviewRequested, mark, id, f.Reviewer.ID, f.Reviewer2.ID)

		c.call("reviewer", "POST", base+"/reviews", map[string]any{"decision": "reviewed"}, 200)
		// The hazard review is marked done on its record, not ticked.
		c.call("reviewer2", "POST", base+"/reviews", map[string]any{"decision": "reviewed", "comment": "HAZOP node 4 done"}, 409)
		c.call("reviewer2", "POST", base+"/hazard-reviews", map[string]any{"method": "hazop", "held_on": "2026-03-02",
			"team":    []map[string]any{{"user_id": f.Reviewer2.ID}, {"name": "Hans Vogt", "organisation": "Vendor AG"}},
			"summary": "Node 4: no new hazards"}, 201)
		mark = changetest.LastNotification(t, db)
		c.call("reviewer2", "POST", base+"/reviews", map[string]any{"decision": "reviewed", "comment": "HAZOP node 4 done"}, 200)
		expectNotified(t, f, notify.TypeApprovalRequested, mark, id, f.Approver.ID)

		c.call("initiator", "POST", base+"/approvals", map[string]any{"decision": "approved", "password": changetest.Password}, 403)
		if e := c.call("approver", "POST", base+"/approvals", map[string]any{"decision": "approved", "password": "wrong-password"}, 403); e["code"] != "reauth_required" {
			t.Fatalf("wrong password: %v", e)
		}
		mark = changetest.LastNotification(t, db)
		ap := c.call("approver", "POST", base+"/approvals", map[string]any{"decision": "approved", "password": changetest.Password}, 200)
		if ap["signed_name"] != "Arno" || ap["signature_method"] != "password" || ap["decision"] != "approved" || ap["decided_at"] == nil {
			t.Fatalf("signed record = %v", ap)
		}
		expectNotified(t, f, notify.TypeApprovalRequested, mark, id, f.Approver2.ID)
		mark = changetest.LastNotification(t, db)
		c.call("approver2", "POST", base+"/approvals", map[string]any{"decision": "approved", "password": changetest.Password}, 200)
		expectNotified(t, f, notify.TypeApproved, mark, id, f.Initiator.ID, f.Coordinator.ID)

		// Implementation: the PSI update action from screening blocks PSSR.
		acts := c.call("initiator", "GET", base+"/actions", nil, 200)["actions"].([]any)
		if len(acts) != 1 || acts[0].(map[string]any)["kind"] != "psi" {
			t.Fatalf("auto actions = %v", acts)
		}
		psi := num(acts[0].(map[string]any)["id"])
		c.call("initiator", "POST", base+"/transitions", map[string]any{"action": "complete_implementation"}, 409)
		mark = changetest.LastNotification(t, db)
		c.call("coordinator", "POST", base+"/actions", map[string]any{"title": "Update spare parts list", "owner_id": f.Reviewer.ID,
			"due_on": "2026-05-01", "before_startup": false}, 201)
		expectNotified(t, f, notify.TypeActionAssigned, mark, id, f.Reviewer.ID)
		c.call("reviewer", "POST", fmt.Sprintf("/api/v1/actions/%d/complete", psi), map[string]any{}, 403)
		c.call("initiator", "POST", fmt.Sprintf("/api/v1/actions/%d/complete", psi), map[string]any{"note": "P&ID rev 7"}, 200)
		mark = changetest.LastNotification(t, db)
		c.call("initiator", "POST", base+"/acknowledgers", map[string]any{"user_ids": []int64{f.Reviewer2.ID}}, 200)
		expectNotified(t, f, notify.TypeAcknowledgement, mark, id, f.Reviewer2.ID)
		mark = changetest.LastNotification(t, db)
		c.call("initiator", "POST", base+"/transitions", map[string]any{"action": "complete_implementation"}, 200)
		expectNotified(t, f, notify.TypePSSRReady, mark, id, f.Coordinator.ID, f.Approver.ID, f.Approver2.ID)

		// PSSR: evidence, a deficiency, N/A for the rest.
		items := c.call("coordinator", "GET", base+"/pssr", nil, 200)["items"].([]any)
		if len(items) != 8 {
			t.Fatalf("PSSR has %d items, want the default template's 8", len(items))
		}
		first := items[0].(map[string]any)
		if first["evidence_required"] != true {
			t.Fatal("item 1 should require evidence")
		}
		c.call("coordinator", "POST", fmt.Sprintf("/api/v1/pssr-items/%d/answer", num(first["id"])), map[string]any{"answer": "yes"}, 422)
		att := c.upload("coordinator", base+"/attachments", "walkdown.pdf", []byte("%PDF-1.4\nwalkdown report\n"))
		c.call("coordinator", "POST", fmt.Sprintf("/api/v1/pssr-items/%d/answer", num(first["id"])), map[string]any{"answer": "yes", "attachment_id": num(att["id"])}, 200)
		mark = changetest.LastNotification(t, db)
		c.call("approver", "POST", fmt.Sprintf("/api/v1/pssr-items/%d/answer", num(items[1].(map[string]any)["id"])),
			map[string]any{"answer": "no", "comment": "Procedure OP-12 not yet issued"}, 200)
		expectNotified(t, f, notify.TypeActionAssigned, mark, id, f.Initiator.ID)
		// An N/A needs its justification.
		if e := c.call("coordinator", "POST", fmt.Sprintf("/api/v1/pssr-items/%d/answer", num(items[2].(map[string]any)["id"])),
			map[string]any{"answer": "na"}, 422); e["field"] != "comment" || !strings.Contains(fmt.Sprint(e["error"]), "required for N/A") {
			t.Errorf("N/A without a comment: %v, want a comment field error", e)
		}
		for _, it := range items[2:] {
			c.call("coordinator", "POST", fmt.Sprintf("/api/v1/pssr-items/%d/answer", num(it.(map[string]any)["id"])), map[string]any{"answer": "na", "comment": "not part of this change"}, 200)
		}
		// An answer given against the version a device loaded (0) is
		// refused once the item has been answered since.
		if e := c.call("approver", "POST", fmt.Sprintf("/api/v1/pssr-items/%d/answer", num(items[2].(map[string]any)["id"])),
			map[string]any{"answer": "yes", "version": 0}, 409); e["field"] != "version" || !strings.Contains(fmt.Sprint(e["error"]), "now answered N/A") {
			t.Errorf("outdated answer: %v, want a version conflict naming the recorded answer", e)
		}
		// Startup is not offered while the deficiency is open; what blocks it is listed.
		if got := c.call("coordinator", "GET", base, nil, 200); slices.Contains(got["allowed_actions"].([]any), any("authorize_startup")) ||
			!strings.Contains(fmt.Sprint(got["blocked_actions"].(map[string]any)["authorize_startup"]), "1 PSSR deficiency is still open") {
			t.Errorf("open deficiency: allowed %v, blocked %v", got["allowed_actions"], got["blocked_actions"])
		}
		if e := c.call("coordinator", "POST", base+"/transitions", map[string]any{"action": "authorize_startup", "password": changetest.Password}, 409); !strings.Contains(e["error"].(string), "deficiency") {
			t.Fatalf("startup with open deficiency: %v", e)
		}
		for _, a := range c.call("initiator", "GET", base+"/actions", nil, 200)["actions"].([]any) {
			am := a.(map[string]any)
			if am["kind"] == "deficiency" {
				c.call("initiator", "POST", fmt.Sprintf("/api/v1/actions/%d/complete", num(am["id"])), map[string]any{"note": "OP-12 issued"}, 200)
			}
		}
		if e := c.call("coordinator", "POST", base+"/transitions", map[string]any{"action": "authorize_startup", "password": changetest.Password}, 409); !strings.Contains(e["error"].(string), "acknowledged") {
			t.Fatalf("startup before roster sign-off: %v", e)
		}
		// The PSSR team: named by the coordinator; its lead (not the
		// initiator) signs the PSSR off, and startup waits for that.
		if e := c.call("coordinator", "PUT", base+"/pssr-team", map[string]any{"lead_id": f.Initiator.ID}, 422); e["field"] != "lead_id" {
			t.Errorf("the initiator as PSSR lead: %v", e)
		}
		c.call("coordinator", "PUT", base+"/pssr-team", map[string]any{"lead_id": f.Reviewer.ID,
			"members": []any{map[string]any{"user_id": f.Approver.ID, "scope": "mechanical"}}}, 200)
		if team := c.call("initiator", "GET", base+"/pssr-team", nil, 200)["pssr_team"].([]any); len(team) != 2 || team[0].(map[string]any)["lead"] != true {
			t.Errorf("PSSR team %v", team)
		}
		c.call("approver", "POST", base+"/transitions", map[string]any{"action": "signoff_pssr", "password": changetest.Password}, 403)
		c.call("reviewer", "POST", base+"/transitions", map[string]any{"action": "signoff_pssr", "password": changetest.Password}, 200)
		c.call("reviewer2", "POST", base+"/acknowledge", nil, 200)
		c.call("initiator", "POST", base+"/transitions", map[string]any{"action": "authorize_startup", "password": changetest.Password}, 403)
		mark = changetest.LastNotification(t, db)
		c.call("coordinator", "POST", base+"/transitions", map[string]any{"action": "authorize_startup", "password": changetest.Password}, 200)
		expectNotified(t, f, notify.TypeStartupAuthorized, mark, id, f.Initiator.ID, f.Coordinator.ID)

		// Close-out: the post-startup action must be done first.
		c.call("coordinator", "POST", base+"/transitions", map[string]any{"action": "close", "password": changetest.Password}, 409)
		for _, a := range c.call("reviewer", "GET", base+"/actions", nil, 200)["actions"].([]any) {
			if am := a.(map[string]any); am["status"] == "open" {
				c.call("reviewer", "POST", fmt.Sprintf("/api/v1/actions/%d/complete", num(am["id"])), map[string]any{}, 200)
			}
		}
		mark = changetest.LastNotification(t, db)
		c.call("coordinator", "POST", base+"/transitions", map[string]any{"action": "close"}, 403)
		closed := c.call("coordinator", "POST", base+"/transitions", map[string]any{"action": "close", "password": changetest.Password}, 200)
		if closed["stage"] != "closed" {
			t.Fatalf("stage %v", closed["stage"])
		}
		expectNotified(t, f, notify.TypeClosed, mark, id, f.Initiator.ID, f.Coordinator.ID)

		trail := c.call("auditor", "GET", base+"/audit", nil, 200)["entries"].([]any)
		if len(trail) < 25 {
			t.Errorf("audit trail has %d entries", len(trail))
		}
		if v := c.call("auditor", "GET", "/api/v1/audit/verify", nil, 200); v["ok"] != true {
			t.Errorf("audit verify: %v", v)
		}
		c.call("initiator", "GET", "/api/v1/audit/verify", nil, 403)
		csv := c.call("auditor", "GET", "/api/v1/changes.csv?kind=MOC", nil, 200)["raw"].(string)
		if !strings.Contains(csv, "MOC-2026-0001") || strings.Contains(csv, "PCR-2026-0001") || !strings.HasPrefix(csv, "number,kind") {
			t.Errorf("CSV export: %q", csv)
		}
		dash := c.call("coordinator", "GET", "/api/v1/change-dashboard", nil, 200)["sites"].([]any)
		if len(dash) != 2 || num(dash[0].(map[string]any)["closed_count"]) != 1 {
			t.Errorf("dashboard: %v", dash)
		}
	})
}

// A full PCR (returned once for revision) from draft to closed.
func TestFullPCRThroughAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f, c := newChangeAPI(t, db)
		ch := c.call("initiator", "POST", "/api/v1/changes", newChangeBody("PCR", f.NRF, f.CDU), 201)["change"].(map[string]any)
		id := num(ch["id"])
		if ch["number"] != "PCR-2026-0001" {
			t.Fatalf("number %v", ch["number"])
		}
		base := fmt.Sprintf("/api/v1/changes/%d", id)
		if e := c.call("initiator", "POST", base+"/submit", map[string]any{"screening": map[string]any{"pssr_needed": true}}, 422); !strings.Contains(e["error"].(string), "pssr_needed") {
			t.Fatalf("PCR with PSSR: %v", e)
		}
		c.call("initiator", "POST", base+"/submit", map[string]any{"screening": map[string]any{"procedures_change": true}}, 200)
		c.call("coordinator", "POST", base+"/transitions", map[string]any{"action": "return"}, 422) // comment required
		mark := changetest.LastNotification(t, db)
		c.call("coordinator", "POST", base+"/transitions", map[string]any{"action": "return", "comment": "Attach the redlined procedure"}, 200)
		expectNotified(t, f, notify.TypeReturned, mark, id, f.Initiator.ID)
		c.upload("initiator", base+"/attachments", "OP-12-redline.csv", []byte("step,text\n1,Open valve\n"))
		c.call("initiator", "PATCH", base, map[string]any{"description": "Redline attached"}, 200)
		c.call("initiator", "POST", base+"/submit", map[string]any{"screening": map[string]any{"procedures_change": true}}, 200)
		c.call("coordinator", "POST", base+"/screening-confirmation", map[string]any{"password": changetest.Password}, 200)
		c.call("coordinator", "PUT", base+"/approvers", map[string]any{"stages": [][]int64{{f.Approver.ID, f.Coordinator.ID}}}, 200)
		mark = changetest.LastNotification(t, db)
		got := c.call("coordinator", "POST", base+"/transitions", map[string]any{"action": "start_review"}, 200)
		if got["stage"] != "approval" {
			t.Fatalf("PCR with no discipline should go straight to approval, is %v", got["stage"])
		}
		expectNotified(t, f, notify.TypeApprovalRequested, mark, id, f.Approver.ID, f.Coordinator.ID)
		// Parallel approvers in one stage: both must approve.
		c.call("coordinator", "POST", base+"/approvals", map[string]any{"decision": "approved", "password": changetest.Password}, 200)
		d := c.call("initiator", "GET", base, nil, 200)
		if d["change"].(map[string]any)["stage"] != "approval" {
			t.Fatal("one of two parallel approvals moved the change")
		}
		c.call("approver", "POST", base+"/approvals", map[string]any{"decision": "approved", "password": changetest.Password}, 200)
		acts := c.call("initiator", "GET", base+"/actions", nil, 200)["actions"].([]any)
		if len(acts) != 1 || acts[0].(map[string]any)["kind"] != "procedure" {
			t.Fatalf("actions %v", acts)
		}
		c.call("initiator", "POST", fmt.Sprintf("/api/v1/actions/%d/complete", num(acts[0].(map[string]any)["id"])), map[string]any{}, 200)
		// Procedures change: 1910.119(l)(3) wants operators trained
		// before startup, so an empty roster holds it.
		if e := c.call("initiator", "POST", base+"/transitions", map[string]any{"action": "complete_implementation"}, 409); e["field"] != "acknowledgers" ||
			!strings.Contains(e["error"].(string), "roster is empty") {
			t.Fatalf("startup with an empty roster: %v", e)
		}
		c.call("initiator", "POST", base+"/acknowledgers", map[string]any{"user_ids": []int64{f.Reviewer2.ID}}, 200)
		c.call("reviewer2", "POST", base+"/acknowledge", nil, 200)
		got = c.call("initiator", "POST", base+"/transitions", map[string]any{"action": "complete_implementation"}, 200)
		if got["stage"] != "closeout" {
			t.Fatalf("PCR after implementation: %v (PCRs have no PSSR)", got["stage"])
		}
		mark = changetest.LastNotification(t, db)
		c.call("coordinator", "POST", base+"/transitions", map[string]any{"action": "close", "password": changetest.Password}, 200)
		expectNotified(t, f, notify.TypeClosed, mark, id, f.Initiator.ID, f.Coordinator.ID)
		allowed := c.call("coordinator", "GET", base, nil, 200)["allowed_actions"]
		if allowed != nil && len(allowed.([]any)) != 0 {
			t.Errorf("closed change still allows %v", allowed)
		}
	})
}

func TestChangeAdminAPIs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f, c := newChangeAPI(t, db)
		c.call("coordinator", "PUT", "/api/v1/reminder-settings", map[string]any{"pending_after_days": 2, "escalate_after_days": 1,
			"action_due_soon_days": 3, "expiry_warning_days": []int{30, 7}, "run_hour_utc": 5}, 403)
		c.call("admin", "PUT", "/api/v1/reminder-settings", map[string]any{"pending_after_days": 0, "escalate_after_days": 1,
			"action_due_soon_days": 3, "expiry_warning_days": []int{30, 7}, "run_hour_utc": 5}, 422)
		rs := c.call("admin", "PUT", "/api/v1/reminder-settings", map[string]any{"pending_after_days": 2, "escalate_after_days": 1,
			"action_due_soon_days": 3, "expiry_warning_days": []int{30, 7}, "run_hour": 5}, 200)
		if num(rs["pending_after_days"]) != 2 || len(rs["expiry_warning_days"].([]any)) != 2 || num(rs["run_hour"]) != 5 {
			t.Fatalf("settings %v", rs)
		}
		// The name the hour had when it was UTC is still understood.
		old := map[string]any{"pending_after_days": 2, "escalate_after_days": 1, "action_due_soon_days": 3, "expiry_warning_days": []int{30, 7}, "run_hour_utc": 6}
		if rs := c.call("admin", "PUT", "/api/v1/reminder-settings", old, 200); num(rs["run_hour"]) != 6 {
			t.Errorf("run_hour_utc not taken as run_hour: %v", rs)
		}
		old["run_hour"] = 7
		if e := c.call("admin", "PUT", "/api/v1/reminder-settings", old, 422); e["field"] != "run_hour_utc" {
			t.Errorf("both names with different hours: %v", e)
		}
		delete(old, "run_hour_utc")
		delete(old, "run_hour")
		if e := c.call("admin", "PUT", "/api/v1/reminder-settings", old, 422); e["field"] != "run_hour" {
			t.Errorf("no hour: %v", e)
		}
		tpl := c.call("admin", "POST", "/api/v1/pssr-templates", map[string]any{"name": "Short", "is_default": true,
			"items": []map[string]any{{"text": "Walkdown done", "evidence_required": true}}}, 201)
		c.call("initiator", "POST", "/api/v1/pssr-templates", map[string]any{"name": "X", "items": []map[string]any{{"text": "a"}}}, 403)
		ts := c.call("auditor", "GET", "/api/v1/pssr-templates", nil, 200)["templates"].([]any)
		defaults := 0
		for _, x := range ts {
			if x.(map[string]any)["is_default"] == true {
				defaults++
			}
		}
		if len(ts) != 2 || defaults != 1 {
			t.Fatalf("templates %v", ts)
		}
		c.call("admin", "PUT", fmt.Sprintf("/api/v1/pssr-templates/%d", num(tpl["id"])), map[string]any{"name": "Short", "is_default": true, "items": []any{}}, 422)
		c.call("admin", "POST", "/api/v1/units", map[string]any{"site_id": f.NRF, "code": "alky", "name": "Alkylation"}, 201)
		c.call("admin", "POST", "/api/v1/units", map[string]any{"site_id": f.NRF, "code": "ALKY", "name": "Again"}, 422)
		if us := c.call("initiator", "GET", "/api/v1/units", nil, 200)["units"].([]any); len(us) != 3 {
			t.Fatalf("units %v", us)
		}
		c.call("approver", "POST", "/api/v1/delegations", map[string]any{"delegate_id": f.Approver2.ID, "starts_on": "2026-04-01", "ends_on": "2026-03-01"}, 422)
		d := c.call("approver", "POST", "/api/v1/delegations", map[string]any{"delegate_id": f.Approver2.ID, "starts_on": "2026-04-01", "ends_on": "2026-04-10"}, 201)
		if ds := c.call("approver2", "GET", "/api/v1/delegations", nil, 200)["delegations"].([]any); len(ds) != 1 {
			t.Fatalf("delegate sees %v", ds)
		}
		c.call("approver2", "DELETE", fmt.Sprintf("/api/v1/delegations/%d", num(d["id"])), nil, 404)
		c.call("approver", "DELETE", fmt.Sprintf("/api/v1/delegations/%d", num(d["id"])), nil, 204)
		if e := c.call("initiator", "POST", "/api/v1/changes", map[string]any{"kind": "MOC", "titel": "typo"}, 422); !strings.Contains(e["error"].(string), "titel") {
			t.Errorf("unknown field not named: %v", e)
		}
		w := c.call("initiator", "GET", "/api/v1/my-work", nil, 200)
		if _, ok := w["actions"]; !ok {
			t.Errorf("my-work: %v", w)
		}
	})
}

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

// The API takes a change's number wherever it takes its id, as the
// pages' addresses do (/changes/MOC-2026-0001).
func TestChangeAPIAcceptsChangeNumbers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f, c := newChangeAPI(t, db)
		ch := c.call("initiator", "POST", "/api/v1/changes", newChangeBody("MOC", f.NRF, f.CDU), 201)["change"].(map[string]any)
		id, number := jsonNum(ch["id"]), ch["number"].(string)
		for _, ref := range []string{id, number, strings.ToLower(number)} {
			got := c.call("initiator", "GET", "/api/v1/changes/"+ref, nil, 200)["change"].(map[string]any)
			if got["number"] != number {
				t.Fatalf("GET /changes/%s: %v", ref, got["number"])
			}
		}
		c.call("initiator", "PATCH", "/api/v1/changes/"+number, map[string]any{"title": "Renamed by number"}, 200)
		if got := c.call("initiator", "GET", "/api/v1/changes/"+id, nil, 200)["change"].(map[string]any); got["title"] != "Renamed by number" {
			t.Fatalf("PATCH by number did not apply: %v", got["title"])
		}
		c.call("auditor", "GET", "/api/v1/changes/"+number+"/audit", nil, 200)
		c.call("initiator", "GET", "/api/v1/changes/"+number+"/attachments", nil, 200)
		c.upload("initiator", "/api/v1/changes/"+number+"/attachments", "notes.txt", []byte("hello"))
		c.call("initiator", "POST", "/api/v1/changes/"+number+"/submit",
			map[string]any{"screening": map[string]any{"disciplines": []string{"mechanical"}}}, 200)

		for _, tc := range []struct{ who, ref, want string }{
			{"initiator", "MOC-2026-9999", "change MOC-2026-9999 not found"},
			{"outsider", number, "change " + number + " not found"}, // another site's change stays hidden
			{"outsider", id, "change " + id + " not found"},
			{"initiator", "nonsense", "neither a change id"},
			{"initiator", "0", "neither a change id"},
		} {
			e := c.call(tc.who, "GET", "/api/v1/changes/"+tc.ref, nil, 404)
			if e["code"] != "not_found" || !strings.Contains(e["error"].(string), tc.want) {
				t.Errorf("%s GET %s: %v, want %q", tc.who, tc.ref, e, tc.want)
			}
		}
	})
}
