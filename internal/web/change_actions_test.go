package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/mail/graphtest"
	"github.com/mocpcr/mocpcr/internal/problem"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
	"github.com/mocpcr/mocpcr/internal/web"
)

// pageFixture is a site with four people and changes parked at the
// stages the change page's forms act in.
type pageFixture struct {
	site                    *testSite
	ini, coord, rev, appr   *auth.User
	draft, screening        *change.Change
	review, approval, pssr  *change.Change
	pssrItem                int64
	ini2, coord2, rev2, ap2 *browser
}

func ptr[T any](v T) *T { return &v }

// completeFields is a change with every field submit needs (the
// 1910.119(l)(2) ones), as a test's starting point.
func completeFields(kind change.Kind, title string, siteID int64) change.Fields {
	return change.Fields{Kind: ptr(kind), Title: ptr(title), Description: ptr("d"), SiteID: ptr(siteID), Reason: ptr("r"),
		RiskRanking: ptr("low"), TechnicalBasis: ptr("tb"), SafetyHealthImpact: ptr("sh"), ProcedureChanges: ptr("pc"),
		TimePeriod: ptr("tp"), AuthorizationRequired: ptr("ar")}
}

func newPageFixture(t *testing.T, db *store.DB) *pageFixture {
	t.Helper()
	ctx := context.Background()
	s := newSite(t, db, nil)
	st, err := auth.CreateSite(ctx, db.SQL, "NRF", "North Refinery")
	if err != nil {
		t.Fatal(err)
	}
	f := &pageFixture{site: s}
	f.ini = s.user("ini@example.com", auth.RoleInitiator)
	f.coord = s.user("coord@example.com", auth.RoleCoordinator)
	f.rev = s.user("rev@example.com", auth.RoleReviewer)
	f.appr = s.user("appr@example.com", auth.RoleApprover)
	svc := s.web.Changes
	svc.Now = s.clock.Now
	full := func(title string) *change.Change {
		t.Helper()
		exp := s.clock.Now().AddDate(0, 1, 0)
		fields := completeFields(change.KindMOC, title, st.ID)
		fields.Duration, fields.ExpiresOn, fields.EquipmentTags = ptr(change.DurationTemporary), ptr(&exp), ptr([]string{"P-1"})
		c, err := svc.Create(ctx, f.ini, fields)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	sig := change.Signature{Verified: true, Method: "password"}
	advance := func(c *change.Change, to change.Stage) *change.Change {
		t.Helper()
		_, err := svc.Submit(ctx, f.ini, c.ID, change.Screening{Disciplines: []string{"mechanical"}, PSSRNeeded: true})
		must(err)
		confirmScreening(t, svc, f.coord, c.ID)
		if to == change.StageScreening {
			return c
		}
		must(svc.AssignReviewer(ctx, f.coord, c.ID, "mechanical", f.rev.ID))
		must(svc.SetApprovers(ctx, f.coord, c.ID, [][]int64{{f.appr.ID}}))
		_, err = svc.Transition(ctx, f.coord, c.ID, change.TransitionRequest{Action: change.ActStartReview})
		must(err)
		if to == change.StageReview {
			return c
		}
		must(svc.DecideReview(ctx, f.rev, c.ID, "mechanical", change.DecisionReviewed, ""))
		if to == change.StageApproval {
			return c
		}
		_, err = svc.Decide(ctx, f.appr, c.ID, change.DecisionApproved, "", sig)
		must(err)
		_, err = svc.Transition(ctx, f.ini, c.ID, change.TransitionRequest{Action: change.ActCompleteImplementation})
		must(err)
		return c
	}
	var err2 error
	f.draft, err2 = svc.Create(ctx, f.ini, change.Fields{Kind: ptr(change.KindMOC), Title: ptr("Only a title"), SiteID: ptr(st.ID)})
	must(err2)
	f.screening = advance(full("In screening"), change.StageScreening)
	f.review = advance(full("In review"), change.StageReview)
	f.approval = advance(full("In approval"), change.StageApproval)
	f.pssr = advance(full("In PSSR"), change.StagePSSR)
	d, err := svc.Get(ctx, f.ini, f.pssr.ID)
	must(err)
	if len(d.PSSR) == 0 {
		t.Fatal("no PSSR checklist")
	}
	f.pssrItem = d.PSSR[0].ID
	// The reviewer leads the PSSR team (signOffPSSR).
	_, err = svc.SetPSSRTeam(ctx, f.coord, f.pssr.ID, change.PSSRTeamRequest{LeadID: f.rev.ID})
	must(err)
	for _, p := range []struct {
		b **browser
		u *auth.User
	}{{&f.ini2, f.ini}, {&f.coord2, f.coord}, {&f.rev2, f.rev}, {&f.ap2, f.appr}} {
		*p.b = s.browser()
		(*p.b).login(p.u.Email)
	}
	return f
}

// signOffPSSR has the PSSR team lead sign the PSSR of f.pssr off, which
// startup waits for.
func (f *pageFixture) signOffPSSR(t *testing.T) {
	t.Helper()
	if _, err := f.site.web.Changes.Transition(context.Background(), f.rev, f.pssr.ID, change.TransitionRequest{
		Action: change.ActSignOffPSSR, Signature: change.Signature{Verified: true, Method: "password"}}); err != nil {
		t.Fatalf("sign off the PSSR: %v", err)
	}
}

// errorBeside finds the error shown beside the element id.
func errorBeside(body, id string) string {
	m := regexp.MustCompile(`id="` + regexp.QuoteMeta(id) + `-error">([^<]*)<`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}

// formError finds a form-level error inside the form with the id (or
// the page-level error banner for "page-error").
func formError(body, formID string) string {
	if formID == "page-error" {
		m := regexp.MustCompile(`id="page-error" role="alert"><strong>That did not work.</strong> ([^<]*)<`).FindStringSubmatch(body)
		if m == nil {
			return ""
		}
		return m[1]
	}
	i := strings.Index(body, `id="`+formID+`"`)
	if i < 0 {
		return ""
	}
	m := regexp.MustCompile(`class="form-error" role="alert">([^<]*)<`).FindStringSubmatch(body[i:])
	if m == nil {
		return ""
	}
	return m[1]
}

// Every form of the change pages answers bad input with the page again:
// the error beside the field (or at the form for a refusal about the
// change's state), a summary at the top that links to it, and the input kept.
func TestChangePageFormsShowErrors(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newPageFixture(t, db)
		u := func(c *change.Change, sub string) string { return "/changes/" + c.Number + sub }
		csrf := map[*browser]string{}
		for _, b := range []*browser{f.ini2, f.coord2, f.rev2, f.ap2} {
			csrf[b] = b.csrf()
		}
		due := f.site.clock.Now().Format(time.DateOnly)
		cases := []struct {
			name     string
			who      *browser
			path     string
			form     url.Values
			status   int
			field    string // element id with the error beside it
			form_    string // or: form id with a form-level error
			want     string // part of the message
			keptText string // input that must be shown again
		}{
			{"create without title", f.ini2, "/changes/new", url.Values{"kind": {"MOC"}, "duration": {"permanent"}, "site_id": {"1"}, "description": {"kept words"}},
				422, "title", "", "Title is required", "kept words"},
			{"create temporary without expiry", f.ini2, "/changes/new", url.Values{"kind": {"MOC"}, "duration": {"temporary"}, "site_id": {"1"}, "title": {"T"}},
				422, "expires_on", "", "required for a temporary change", ""},
			{"create with a bad date", f.ini2, "/changes/new", url.Values{"kind": {"MOC"}, "duration": {"emergency"}, "site_id": {"1"}, "title": {"T"}, "expires_on": {"31/12/2030"}, "review_deadline": {"2030-01-01"}},
				422, "expires_on", "", "expected a date", "31/12/2030"},
			{"create with a bad tag (domain rule)", f.ini2, "/changes/new", url.Values{"kind": {"MOC"}, "duration": {"permanent"}, "site_id": {"1"}, "title": {"T"}, "equipment_tags": {"P-1, bad tag!"}},
				422, "equipment_tags", "", "is not a tag like P-101A", "bad tag!"},
			{"create without a site", f.ini2, "/changes/new", url.Values{"kind": {"MOC"}, "duration": {"permanent"}, "title": {"T"}},
				422, "site_id", "", "Site", ""},
			{"edit with empty title", f.ini2, u(f.draft, "/edit"), url.Values{"duration": {"permanent"}, "title": {" "}, "reason": {"typed reason"}},
				422, "title", "", "Title is required", "typed reason"},
			{"edit with a bad risk ranking", f.ini2, u(f.draft, "/edit"), url.Values{"duration": {"permanent"}, "title": {"T"}, "risk_ranking": {"extreme"}},
				422, "risk_ranking", "", "must be one of", ""},
			{"submit with required fields empty", f.ini2, u(f.draft, "/submit"), url.Values{"disciplines": {"mechanical"}},
				422, "", "f-submit", "required before submit", ""},
			{"reviewer that is not a reviewer", f.coord2, u(f.screening, "/reviewers"), url.Values{"reviewer-mechanical": {strconv.FormatInt(f.appr.ID, 10)}},
				422, "reviewer-mechanical", "", "", ""},
			{"no approvers", f.coord2, u(f.screening, "/approvers"), url.Values{},
				422, "approvers-list", "", "at least one approver", ""},
			{"start review without approvers", f.coord2, u(f.screening, "/transition"), url.Values{"action": {"start_review"}},
				422, "", "f-reviewers", "assign a reviewer", ""},
			{"return without a comment", f.coord2, u(f.screening, "/transition"), url.Values{"action": {"return"}, "comment": {" "}},
				422, "t-return-comment", "", "is required", ""},
			{"void without a reason", f.coord2, u(f.screening, "/transition"), url.Values{"action": {"void"}},
				422, "t-void-comment", "", "is required", ""},
			{"reject a review without a comment", f.rev2, u(f.review, "/review"), url.Values{"decision": {"rejected"}, "discipline": {"mechanical"}},
				422, "review-comment", "", "is required when rejecting", ""},
			{"approve with a wrong password", f.ap2, u(f.approval, "/decision"), url.Values{"decision": {"approved"}, "reauth_password": {"wrong"}, "comment": {"my note"}},
				403, "reauth_password", "", "not correct", "my note"},
			{"approve without a password", f.ap2, u(f.approval, "/decision"), url.Values{"decision": {"approved"}},
				403, "reauth_password", "", "enter your password", ""},
			{"reject without a comment", f.ap2, u(f.approval, "/decision"), url.Values{"decision": {"rejected"}, "reauth_password": {testPassword}},
				422, "decision-comment", "", "is required when rejecting", ""},
			{"action without an owner", f.ini2, u(f.pssr, "/actions"), url.Values{"title": {"Do it"}},
				422, "action-owner_id", "", "choose who owns", "Do it"},
			{"action with a bad due date", f.ini2, u(f.pssr, "/actions"), url.Values{"title": {"Do it"}, "owner_id": {strconv.FormatInt(f.ini.ID, 10)}, "due_on": {"tomorrow"}},
				422, "action-due_on", "", "expected a date", "tomorrow"},
			{"action without a title", f.ini2, u(f.pssr, "/actions"), url.Values{"owner_id": {strconv.FormatInt(f.ini.ID, 10)}, "due_on": {due}},
				422, "action-title", "", "", ""},
			{"PSSR No without a comment", f.coord2, u(f.pssr, "/pssr/"+strconv.FormatInt(f.pssrItem, 10)), url.Values{"answer": {"no"}},
				422, "pssr-" + strconv.FormatInt(f.pssrItem, 10) + "-comment", "", "describe the deficiency", ""},
			{"PSSR N/A without a comment", f.coord2, u(f.pssr, "/pssr/"+strconv.FormatInt(f.pssrItem, 10)), url.Values{"answer": {"na"}},
				422, "pssr-" + strconv.FormatInt(f.pssrItem, 10) + "-comment", "", "Comment is required for N/A: say why", ""},
			{"PSSR Yes without the required evidence", f.coord2, u(f.pssr, "/pssr/"+strconv.FormatInt(f.pssrItem, 10)), url.Values{"answer": {"yes"}},
				422, "pssr-" + strconv.FormatInt(f.pssrItem, 10) + "-evidence", "", "requires evidence", ""},
			{"PSSR answer that is not one", f.coord2, u(f.pssr, "/pssr/"+strconv.FormatInt(f.pssrItem, 10)), url.Values{"answer": {"maybe"}},
				422, "", "f-pssr-" + strconv.FormatInt(f.pssrItem, 10), "must be yes, no or na", ""},
			{"startup while PSSR items are open", f.coord2, u(f.pssr, "/transition"), url.Values{"action": {"authorize_startup"}, "reauth_password": {testPassword}},
				409, "", "f-t-authorize_startup", "not answered yet", ""},
			{"roster with nobody", f.ini2, u(f.pssr, "/acknowledgers"), url.Values{},
				422, "roster-users", "", "at least one person", ""},
			{"acknowledge when not on the roster", f.rev2, u(f.pssr, "/acknowledge"), url.Values{},
				403, "", "page-error", "not on the acknowledgement roster", ""},
			{"attachment without a file", f.ini2, u(f.pssr, "/attachments"), url.Values{},
				422, "attach-file", "", "choose a file", ""},
			{"extension with a bad date", f.ini2, u(f.pssr, "/extensions"), url.Values{"expires_on": {"soon"}, "reason": {"more time"}},
				422, "ext-expires_on", "", "expected a date", "more time"},
			{"extension to an earlier date", f.ini2, u(f.pssr, "/extensions"), url.Values{"expires_on": {due}, "reason": {"r"}},
				422, "ext-expires_on", "", "must be after the current expiry date", ""},
		}
		for _, tc := range cases {
			tc.form.Set("csrf_token", csrf[tc.who])
			r := tc.who.post(tc.path, tc.form)
			if r.StatusCode != tc.status {
				t.Errorf("%s: status %d, want %d\n%s", tc.name, r.StatusCode, tc.status, excerpt(r.Body))
				continue
			}
			var got string
			if tc.field != "" {
				got = errorBeside(r.Body, tc.field)
				if got == "" {
					t.Errorf("%s: no error beside #%s\n%s", tc.name, tc.field, excerpt(r.Body))
					continue
				}
				if !strings.Contains(r.Body, `href="#`+tc.field+`"`) {
					t.Errorf("%s: the summary at the top does not link to #%s", tc.name, tc.field)
				}
			} else {
				got = formError(r.Body, tc.form_)
				if got == "" {
					t.Errorf("%s: no error in form #%s\n%s", tc.name, tc.form_, excerpt(r.Body))
					continue
				}
			}
			if !strings.Contains(got, tc.want) {
				t.Errorf("%s: error %q, want it to contain %q", tc.name, got, tc.want)
			}
			if tc.keptText != "" && !strings.Contains(r.Body, tc.keptText) {
				t.Errorf("%s: the input %q was not shown again", tc.name, tc.keptText)
			}
		}

		// The extension decision needs the approver's password too.
		ctx := context.Background()
		if err := f.site.web.Changes.RequestExtension(ctx, f.ini, f.pssr.ID, f.site.clock.Now().AddDate(0, 2, 0), "more time"); err != nil {
			t.Fatal(err)
		}
		r := f.ap2.post(u(f.pssr, "/extensions/decision"), url.Values{"csrf_token": {csrf[f.ap2]}, "decision": {"approved"}, "reauth_password": {"nope"}})
		if r.StatusCode != http.StatusForbidden || !strings.Contains(errorBeside(r.Body, "extd-password"), "not correct") {
			t.Errorf("extension decision with a wrong password: %d %q", r.StatusCode, errorBeside(r.Body, "extd-password"))
		}

		// Completing an action twice: the second time is refused at the form.
		d, _ := f.site.web.Changes.Get(ctx, f.ini, f.pssr.ID)
		var aid int64
		for _, a := range d.Actions {
			aid = a.ID
		}
		if aid == 0 {
			a, err := f.site.web.Changes.AddAction(ctx, f.ini, f.pssr.ID, change.NewAction{Title: "x", Kind: change.ActionGeneral, OwnerID: f.ini.ID})
			if err != nil {
				t.Fatal(err)
			}
			aid = a.ID
		}
		path := u(f.pssr, "/actions/"+strconv.FormatInt(aid, 10)+"/complete")
		if r := f.ini2.post(path, url.Values{"csrf_token": {csrf[f.ini2]}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("complete action: %d", r.StatusCode)
		}
		r = f.ini2.post(path, url.Values{"csrf_token": {csrf[f.ini2]}, "note": {"again"}})
		if r.StatusCode != http.StatusConflict || !strings.Contains(r.Body, "already done") {
			t.Errorf("complete an action twice: %d\n%s", r.StatusCode, excerpt(r.Body))
		}
	})
}

// The happy paths redirect back to the change page with a flash message,
// and the numeric address (used by notification links) redirects to
// the number.
func TestChangePagesRedirectWithFlash(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newPageFixture(t, db)
		tok := f.ini2.csrf()
		r := f.ini2.post("/changes/new", url.Values{"csrf_token": {tok}, "kind": {"PCR"}, "duration": {"permanent"}, "site_id": {"1"},
			"title": {"Revise OP-114"}, "equipment_tags": {"p-1"}})
		if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/changes/PCR-") {
			t.Fatalf("create: %d %q\n%s", r.StatusCode, r.Header.Get("Location"), excerpt(r.Body))
		}
		loc := r.Header.Get("Location")
		page := f.ini2.get(loc)
		if page.StatusCode != http.StatusOK || !strings.Contains(page.Body, "Draft saved") || !strings.Contains(page.Body, "Revise OP-114") {
			t.Errorf("change page after create: %d\n%s", page.StatusCode, excerpt(page.Body))
		}
		// The shared tag shows the other open changes on it.
		if !strings.Contains(page.Body, "Other open changes on the same unit or equipment") {
			t.Error("no conflict warning for a shared equipment tag")
		}
		if r := f.ini2.get("/changes/" + strconv.FormatInt(f.draft.ID, 10)); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/changes/"+f.draft.Number {
			t.Errorf("numeric address: %d %q", r.StatusCode, r.Header.Get("Location"))
		}
		// Only the buttons the user may press: the reviewer sees no approval form.
		p := f.rev2.get("/changes/" + f.approval.Number)
		if strings.Contains(p.Body, `id="f-decision"`) || strings.Contains(p.Body, `id="f-t-void"`) {
			t.Error("the reviewer is offered approval or void forms")
		}
		if p := f.ap2.get("/changes/" + f.approval.Number); !strings.Contains(p.Body, `id="f-decision"`) {
			t.Error("the approver is not offered the approval form")
		}
		// Approve with the right password: redirect, flash, signature shown.
		r = f.ap2.post("/changes/"+f.approval.Number+"/decision", url.Values{"csrf_token": {f.ap2.csrf()}, "decision": {"approved"}, "reauth_password": {testPassword}})
		if r.StatusCode != http.StatusSeeOther || !strings.Contains(r.Header.Get("Location"), "done=approved") {
			t.Fatalf("approve: %d %q\n%s", r.StatusCode, r.Header.Get("Location"), excerpt(r.Body))
		}
		page = f.ap2.get(r.Header.Get("Location"))
		if !strings.Contains(page.Body, "approval is signed") || !strings.Contains(page.Body, `<span class="signature">User appr@example.com</span>`) {
			t.Errorf("page after approval lacks the flash or the signature\n%s", excerpt(page.Body))
		}
		// Upload an attachment through the page and download it again.
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		_ = mw.WriteField("csrf_token", f.ini2.csrf())
		fw, _ := mw.CreateFormFile("file", "note.txt")
		fw.Write([]byte("hello evidence"))
		mw.Close()
		req, _ := http.NewRequest("POST", f.site.URL+"/changes/"+f.pssr.Number+"/attachments", &buf)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Origin", f.site.URL)
		if r := f.ini2.do(req); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("upload: %d\n%s", r.StatusCode, excerpt(r.Body))
		}
		page = f.ini2.get("/changes/" + f.pssr.Number)
		m := regexp.MustCompile(`href="(/changes/[^"]+/attachments/\d+)">note.txt<`).FindStringSubmatch(page.Body)
		if m == nil {
			t.Fatalf("uploaded file not listed\n%s", excerpt(page.Body))
		}
		if dl := f.ini2.get(m[1]); dl.StatusCode != http.StatusOK || dl.Body != "hello evidence" {
			t.Errorf("download: %d %q", dl.StatusCode, dl.Body)
		}
		// The print view has the signature and the audit trail in words.
		pr := f.ap2.get("/changes/" + f.approval.Number + "/print")
		for _, want := range []string{"<h2>Signatures</h2>", "User appr@example.com", "By signing I approve " + f.approval.Number + " as approver, stage 1",
			"signed the approval (stage 1): approved"} {
			if !strings.Contains(pr.Body, want) {
				t.Errorf("print view lacks %q", want)
			}
		}
	})
}

func excerpt(body string) string {
	if i := strings.Index(body, `<main id="main">`); i >= 0 {
		body = body[i:]
	}
	if len(body) > 1500 {
		body = body[:1500]
	}
	return body
}

// An Entra ID approver signs by signing in at Microsoft again: the page
// asks for no password, a stale sign-in is sent to the re-auth URL that
// returns to the change page, and a fresh one signs.
func TestChangePageDecisionEntraReauth(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	site, fake := newEntraSite(t, db)
	fake.SetSignInUser(graphtest.SignInUser{OID: "oid-arno", Name: "Arno Approver", PreferredUsername: "arno@contoso.example", Roles: []string{"approver"}})
	ctx := context.Background()
	st, err := auth.CreateSite(ctx, db.SQL, "NRF", "North Refinery")
	if err != nil {
		t.Fatal(err)
	}
	b := site.browser()
	b.entraLogin("/")
	arno, err := auth.UserByEmail(ctx, db.SQL, "arno@contoso.example")
	if err != nil {
		t.Fatal(err)
	}
	// A first Entra ID sign-in gives no site; an administrator grants it.
	if err := auth.SetSites(ctx, db.SQL, arno.ID, false, []int64{st.ID}); err != nil {
		t.Fatal(err)
	}
	if arno, err = auth.UserByID(ctx, db.SQL, arno.ID); err != nil {
		t.Fatal(err)
	}
	ini := site.user("ini@example.com", auth.RoleInitiator)
	coord := site.user("coord@example.com", auth.RoleCoordinator)
	svc := site.web.Changes
	svc.Now = site.clock.Now
	c, err := svc.Create(ctx, ini, completeFields(change.KindPCR, "Revise OP-114", st.ID))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Submit(ctx, ini, c.ID, change.Screening{}); err != nil {
		t.Fatal(err)
	}
	if err := svc.SetApprovers(ctx, coord, c.ID, [][]int64{{arno.ID}}); err != nil {
		t.Fatal(err)
	}
	confirmScreening(t, svc, coord, c.ID)
	if _, err := svc.Transition(ctx, coord, c.ID, change.TransitionRequest{Action: change.ActStartReview}); err != nil {
		t.Fatal(err)
	}
	page := b.get("/changes/" + c.Number)
	if !strings.Contains(page.Body, `id="f-decision"`) || strings.Contains(page.Body, `id="reauth_password"`) ||
		!strings.Contains(page.Body, "you can sign now without signing in again") {
		t.Fatalf("decision form for an Entra ID user who just entered their password:\n%s", excerpt(page.Body))
	}
	csrf := csrfRE.FindStringSubmatch(page.Body)[1]
	site.clock.Advance(web.SignatureWindow + time.Second)
	if page := b.get("/changes/" + c.Number); !strings.Contains(page.Body, "you will be asked to sign in with Microsoft again") {
		t.Fatalf("decision form once the signature window has closed:\n%s", excerpt(page.Body))
	}
	r := b.post("/changes/"+c.Number+"/decision", url.Values{"csrf_token": {csrf}, "decision": {"approved"}})
	want := "/auth/login?prompt=login&return=" + url.QueryEscape("/changes/"+c.Number)
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != want {
		t.Fatalf("stale sign-in: %d %q, want a redirect to %q", r.StatusCode, r.Header.Get("Location"), want)
	}
	b.follow = true
	end := b.get(r.Header.Get("Location"))
	b.follow = false
	if end.Request.URL.Path != "/changes/"+c.Number {
		t.Fatalf("after signing in again the browser is at %s", end.Request.URL)
	}
	r = b.post("/changes/"+c.Number+"/decision", url.Values{"csrf_token": {csrf}, "decision": {"approved"}})
	if r.StatusCode != http.StatusSeeOther || !strings.Contains(r.Header.Get("Location"), "done=approved") {
		t.Fatalf("fresh sign-in: %d %q\n%s", r.StatusCode, r.Header.Get("Location"), excerpt(r.Body))
	}
	d, err := svc.Get(ctx, arno, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Approvals) != 1 || d.Approvals[0].SignatureMethod != "entra" || d.Approvals[0].SignedName != "Arno Approver" {
		t.Errorf("approval = %+v", d.Approvals)
	}
}

// The change page offers "Authorise startup" only once startup is
// possible; before, someone who could authorise it sees what is open.
func TestChangePageListsWhatBlocksStartup(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newPageFixture(t, db)
		page := f.coord2.get("/changes/" + f.pssr.Number)
		if page.StatusCode != 200 {
			t.Fatalf("status %d", page.StatusCode)
		}
		if strings.Contains(page.Body, `name="action" value="authorize_startup"`) {
			t.Error("the startup signing form is offered while PSSR items are unanswered")
		}
		i := strings.Index(page.Body, "Startup can be authorised once:")
		if i < 0 || !strings.Contains(page.Body[i:], "PSSR items are not answered yet: item 1 “") {
			t.Errorf("no list of what blocks startup:\n%s", excerpt(page.Body))
		}
		if p := f.ini2.get("/changes/" + f.pssr.Number); strings.Contains(p.Body, "Startup can be authorised once:") {
			t.Error("the initiator, who may not authorise startup, is shown what blocks it")
		}
	})
}

// A delegate's approval form says whose approval it is, and the signature
// names the approver once, on the change page and in the print view.
func TestDelegatedApprovalSaysOnBehalfOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newPageFixture(t, db)
		ctx := context.Background()
		del := f.site.user("del@example.com", auth.RoleApprover)
		now := f.site.clock.Now()
		if _, err := f.site.web.Changes.CreateDelegation(ctx, f.appr, del.ID, now, now.AddDate(0, 0, 7), "holiday"); err != nil {
			t.Fatal(err)
		}
		b := f.site.browser()
		b.login(del.Email)
		path := "/changes/" + f.approval.Number
		if page := b.get(path); !strings.Contains(page.Body, "<h3>Your approval, on behalf of "+f.appr.Name+"</h3>") {
			t.Errorf("the delegate's approval form does not say on whose behalf:\n%s", excerpt(page.Body))
		}
		if page := f.ap2.get(path); !strings.Contains(page.Body, "<h3>Your approval</h3>") {
			t.Errorf("the approver's own form is not just \"Your approval\":\n%s", excerpt(page.Body))
		}
		r := b.post(path+"/decision", url.Values{"csrf_token": {b.csrf()}, "decision": {"approved"}, "reauth_password": {testPassword}})
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("delegate's approval: status %d\n%s", r.StatusCode, excerpt(r.Body))
		}
		behalf := "on behalf of " + f.appr.Name
		page := b.get(path).Body
		sec := page[strings.Index(page, `id="approvals"`):]
		sec = sec[:strings.Index(sec, "</section>")]
		if n := strings.Count(sec, behalf); n != 1 || !strings.Contains(sec, `<span class="signature">`+del.Name+`</span>`) ||
			!strings.Contains(sec, "(for "+f.appr.Name+")") {
			t.Errorf("approvals section says %q %d times, want once in the signature's meaning, and the delegate signing for the approver:\n%s", behalf, n, sec)
		}
		p := b.get(path + "/print").Body
		p = p[strings.Index(p, "<h2>Signatures</h2>"):]
		p = p[:strings.Index(p, "</section>")]
		if strings.Count(p, behalf) != 1 {
			t.Errorf("print view's signatures say %q %d times, want once:\n%s", behalf, strings.Count(p, behalf), p)
		}
		// The timeline's signature line names the approver once too.
		tl := page[strings.Index(page, `class="timeline"`):]
		for _, line := range strings.Split(tl[:strings.Index(tl, "</ol>")], "</li>") {
			if strings.Contains(line, "signed the approval") && strings.Count(line, behalf) != 1 {
				t.Errorf("timeline line says %q %d times: %s", behalf, strings.Count(line, behalf), line)
			}
		}
	})
}

// An extension decision's signature says how the signer confirmed who
// they were, like an approval's.
func TestExtensionSignatureShowsMethod(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newPageFixture(t, db)
		path := "/changes/" + f.pssr.Number
		later := f.site.clock.Now().AddDate(0, 3, 0).Format(time.DateOnly)
		if r := f.ini2.post(path+"/extensions", url.Values{"csrf_token": {f.ini2.csrf()}, "expires_on": {later}, "reason": {"spare part late"}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("request: status %d\n%s", r.StatusCode, excerpt(r.Body))
		}
		if r := f.ap2.post(path+"/extensions/decision", url.Values{"csrf_token": {f.ap2.csrf()}, "decision": {"approved"}, "reauth_password": {testPassword}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("decision: status %d\n%s", r.StatusCode, excerpt(r.Body))
		}
		page := f.ap2.get(path).Body
		sec := page[strings.Index(page, `id="extensions"`):]
		sec = sec[:strings.Index(sec, "</section>")]
		if !strings.Contains(sec, `<span class="signature">`+f.appr.Name+`</span>`) || !strings.Contains(sec, "· password re-entered</small>") {
			t.Errorf("extension signature without its method:\n%s", sec)
		}
	})
}

// Messages on the change page use the words of the form, never the API's
// field names, and the approvers form refuses what it could not show
// again (found walking through the demo as a newcomer).
func TestChangePageSpeaksTheFormsWords(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newPageFixture(t, db)
		ctx := context.Background()
		svc := f.site.web.Changes
		full, err := svc.Create(ctx, f.ini, completeFields(change.KindMOC, "Full draft", f.screening.SiteID))
		if err != nil {
			t.Fatal(err)
		}
		csrfIni, csrfCoord := f.ini2.csrf(), f.coord2.csrf()

		// Submit with every question answered no: nothing to review.
		form := url.Values{"csrf_token": {csrfIni}, "questionnaire": {"1"}}
		for _, k := range []string{"process", "mechanical", "electrical", "instrumentation", "operations", "ehs", "civil", "maintenance",
			"psi", "procedures", "hazard_review", "pssr"} {
			form.Set("sq-"+k, "no")
		}
		r := f.ini2.post("/changes/"+full.Number+"/submit", form)
		msg := errorBeside(r.Body, "sc-answers")
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(msg, "replacement in kind") || strings.Contains(r.Body, "replacement_in_kind)") {
			t.Errorf("submit without disciplines: %d %q, want words people read (replacement in kind), not replacement_in_kind", r.StatusCode, msg)
		}

		// Start review while the hazard review has no reviewer.
		hz, err := svc.Create(ctx, f.ini, completeFields(change.KindMOC, "Hazard", f.screening.SiteID))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Submit(ctx, f.ini, hz.ID, change.Screening{Disciplines: []string{"mechanical"}, HazardReviewNeeded: true}); err != nil {
			t.Fatal(err)
		}
		if err := svc.AssignReviewer(ctx, f.coord, hz.ID, "mechanical", f.rev.ID); err != nil {
			t.Fatal(err)
		}
		if err := svc.SetApprovers(ctx, f.coord, hz.ID, [][]int64{{f.appr.ID}}); err != nil {
			t.Fatal(err)
		}
		confirmScreening(t, svc, f.coord, hz.ID)
		r = f.coord2.post("/changes/"+hz.Number+"/transition", url.Values{"csrf_token": {csrfCoord}, "action": {"start_review"}})
		if r.StatusCode != http.StatusUnprocessableEntity || strings.Contains(r.Body, "the hazard_review") || !strings.Contains(r.Body, "a reviewer for the hazard review first") {
			t.Errorf("start review without a hazard reviewer: %d, want “hazard review”, not hazard_review\n%s", r.StatusCode, excerpt(r.Body))
		}

		// The approvers form: stage 2 alone, or one person in both stages.
		appr := strconv.FormatInt(f.appr.ID, 10)
		for _, tc := range []struct {
			name string
			form url.Values
			want string
		}{
			{"stage 2 only", url.Values{"stage2": {appr}}, "at least one approver for stage 1"},
			{"one person in both stages", url.Values{"stage1": {appr}, "stage2": {appr}}, "one stage only"},
		} {
			tc.form.Set("csrf_token", csrfCoord)
			r := f.coord2.post("/changes/"+f.screening.Number+"/approvers", tc.form)
			if got := errorBeside(r.Body, "approvers-list"); r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(got, tc.want) {
				t.Errorf("approvers, %s: %d %q, want 422 with %q", tc.name, r.StatusCode, got, tc.want)
			}
		}
		d, err := svc.Get(ctx, f.coord, f.screening.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Approvals) != 0 {
			t.Errorf("refused approver forms still named %d approvers", len(d.Approvals))
		}
		r = f.coord2.post("/changes/"+f.screening.Number+"/approvers", url.Values{"csrf_token": {csrfCoord}, "stage1": {appr}})
		if r.StatusCode != http.StatusSeeOther {
			t.Errorf("approvers in stage 1: %d, want 303", r.StatusCode)
		}

		// PSSR Yes without evidence: the page has a file field and a list
		// of attached files, not the API's "name it here".
		item := strconv.FormatInt(f.pssrItem, 10)
		r = f.coord2.post("/changes/"+f.pssr.Number+"/pssr/"+item, url.Values{"csrf_token": {csrfCoord}, "answer": {"yes"}})
		if got := errorBeside(r.Body, "pssr-"+item+"-evidence"); !strings.Contains(got, "choose a file, or one already attached") || strings.Contains(got, "name it here") {
			t.Errorf("PSSR yes without evidence: %d %q", r.StatusCode, got)
		}

		// The initiator, with nothing to do during screening, is told what
		// happens next.
		r = f.ini2.get("/changes/" + f.screening.Number)
		if !strings.Contains(r.Body, "Nothing is waiting for you on this change right now. Next, an MOC coordinator assigns") {
			t.Errorf("screening page for the initiator does not say what happens next\n%s", excerpt(r.Body))
		}
	})
}

// nextCard is the "What you can do now" card of a change page.
func nextCard(body string) string {
	i := strings.Index(body, `id="next"`)
	if i < 0 {
		return ""
	}
	j := strings.Index(body[i:], "</section>")
	if j < 0 {
		return body[i:]
	}
	return body[i : i+j]
}

// An extension request asks the approvers to act: it shows on their My
// work (page and API) and in "What you can do now" on the change page.
func TestExtensionRequestWaitsForTheApprover(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newPageFixture(t, db)
		ctx := context.Background()
		svc := f.site.web.Changes
		if err := svc.RequestExtension(ctx, f.ini, f.pssr.ID, f.site.clock.Now().AddDate(0, 2, 0), "spares arrive late"); err != nil {
			t.Fatal(err)
		}
		home := f.ap2.get("/")
		if !strings.Contains(home.Body, f.pssr.Number) || !strings.Contains(home.Body, "Decide the expiry extension to") {
			t.Errorf("approver's My work does not list the extension request of %s\n%s", f.pssr.Number, excerpt(home.Body))
		}
		api := f.ap2.get("/api/v1/my-work")
		var w struct {
			Extensions []change.WorkItem `json:"extensions"`
		}
		if err := json.Unmarshal([]byte(api.Body), &w); err != nil || api.StatusCode != http.StatusOK {
			t.Fatalf("my-work API: %d %v", api.StatusCode, err)
		}
		if len(w.Extensions) != 1 || w.Extensions[0].ChangeNumber != f.pssr.Number {
			t.Errorf("my-work API extensions = %+v, want the request on %s", w.Extensions, f.pssr.Number)
		}
		next := nextCard(f.ap2.get("/changes/" + f.pssr.Number).Body)
		if !strings.Contains(next, `id="f-extdecision"`) || !strings.Contains(next, "spares arrive late") || strings.Contains(next, "Nothing is waiting for you") {
			t.Errorf("the approver's “What you can do now” does not offer the extension decision\n%s", next)
		}
		// The initiator who asked is not asked to decide.
		if home := f.ini2.get("/"); strings.Contains(home.Body, "Decide the expiry extension") {
			t.Errorf("the initiator is asked to decide their own extension")
		}
	})
}

// The add-action form shows every field error of one submit, and
// refuses a due date in the past.
func TestAddActionShowsAllErrorsAndRefusesPastDueDate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newPageFixture(t, db)
		csrf := f.ini2.csrf()
		path := "/changes/" + f.pssr.Number + "/actions"
		r := f.ini2.post(path, url.Values{"csrf_token": {csrf}, "title": {" "}, "owner_id": {""}, "due_on": {"soon"}})
		if r.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("empty add-action: %d", r.StatusCode)
		}
		for id, want := range map[string]string{"action-title": "is required", "action-owner_id": "choose who owns", "action-due_on": "expected a date"} {
			if got := errorBeside(r.Body, id); !strings.Contains(got, want) {
				t.Errorf("empty add-action: error beside #%s = %q, want %q", id, got, want)
			}
		}
		yesterday := f.site.clock.Now().AddDate(0, 0, -1).Format(time.DateOnly)
		r = f.ini2.post(path, url.Values{"csrf_token": {csrf}, "title": {"Check the trip"}, "owner_id": {strconv.FormatInt(f.ini.ID, 10)}, "due_on": {yesterday}})
		if got := errorBeside(r.Body, "action-due_on"); r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(got, "today or later") ||
			!strings.Contains(r.Body, `value="Check the trip"`) {
			t.Errorf("action due yesterday: %d %q, want a due date error and the title kept", r.StatusCode, got)
		}
		// The domain refuses it too (the API goes straight there).
		past := f.site.clock.Now().AddDate(0, 0, -1)
		_, err := f.site.web.Changes.AddAction(context.Background(), f.ini, f.pssr.ID, change.NewAction{Title: "x", OwnerID: f.ini.ID, DueOn: &past})
		if problem.KindOf(err) != problem.Invalid || !strings.HasPrefix(err.Error(), "due_on: must be today or later") {
			t.Errorf("AddAction due yesterday: %v", err)
		}
		today := f.site.clock.Now()
		if _, err := f.site.web.Changes.AddAction(context.Background(), f.ini, f.pssr.ID, change.NewAction{Title: "x", OwnerID: f.ini.ID, DueOn: &today}); err != nil {
			t.Errorf("AddAction due today: %v", err)
		}
	})
}

// A refused approvers form shows its error under the two stage boxes:
// the stylesheet gives the error a line of its own instead of a third
// column (the browser test measures the layout).
func TestApproversErrorSitsUnderTheStages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newPageFixture(t, db)
		id := strconv.FormatInt(f.appr.ID, 10)
		r := f.coord2.post("/changes/"+f.screening.Number+"/approvers", url.Values{"csrf_token": {f.coord2.csrf()}, "stage1": {id}, "stage2": {id}})
		if got := errorBeside(r.Body, "approvers-list"); r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(got, "one stage only") {
			t.Fatalf("same approver in both stages: %d %q", r.StatusCode, got)
		}
		i := strings.Index(r.Body, `id="approvers-list"`)
		if j := strings.Index(r.Body[i:], `id="approvers-list-error"`); j < 0 || strings.Count(r.Body[i:i+j], "</fieldset>") != 2 {
			t.Errorf("the error is not after both stage boxes")
		}
		css := f.coord2.get("/static/app.css").Body
		if !strings.Contains(css, ".approver-stages>.field-error{flex:1 0 100%") {
			t.Errorf("app.css does not make the approvers error span the stage grid")
		}
	})
}
