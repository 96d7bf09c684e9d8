package web_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/change/changetest"
	"github.com/mocpcr/mocpcr/internal/config"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
	"github.com/mocpcr/mocpcr/internal/web"
)

// workSite is a web server over the change fixture's plant, sharing the
// fixture's clock and change service.
type workSite struct {
	*testSite
	f *changetest.Fixture
}

func newWorkSite(t *testing.T, db *store.DB) *workSite {
	t.Helper()
	// The clock starts at the real time: the cookie jar checks cookie
	// expiry against the wall clock.
	f := changetest.Seed(t, db, time.Now().UTC().Truncate(time.Second))
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	cfg, err := config.Load(config.MapEnv(map[string]string{"MOCPCR_BASE_URL": srv.URL}))
	if err != nil {
		t.Fatal(err)
	}
	ws, err := web.New(cfg, db, slog.New(slog.NewTextHandler(io.Discard, nil)), web.Deps{Changes: f.Service})
	if err != nil {
		t.Fatal(err)
	}
	ws.Now = f.Clock.Now
	h = ws.Handler()
	return &workSite{testSite: &testSite{t: t, db: db, web: ws, srv: srv, URL: srv.URL}, f: f}
}

// as returns a browser signed in as the fixture user u.
func (s *workSite) as(u *auth.User) *browser {
	s.t.Helper()
	b := s.browser()
	r := b.post("/auth/login", url.Values{"email": {u.Email}, "password": {changetest.Password}})
	if r.StatusCode != http.StatusSeeOther {
		s.t.Fatalf("login %s: status %d", u.Email, r.StatusCode)
	}
	return b
}

// create files a draft MOC at NRF with the given title and tags; mod may
// change the fields.
func (s *workSite) create(by *auth.User, title string, mod func(*change.Fields), tags ...string) *change.Change {
	s.t.Helper()
	fl := changetest.Complete(change.KindMOC, s.f.NRF, s.f.CDU, tags...)
	fl.Title = &title
	if mod != nil {
		mod(&fl)
	}
	c, err := s.f.Service.Create(context.Background(), by, fl)
	if err != nil {
		s.t.Fatal(err)
	}
	return c
}

// toReview submits c and takes it to Review with the fixture reviewer
// on the mechanical review.
func (s *workSite) toReview(c *change.Change) {
	s.t.Helper()
	ctx, sv, f := context.Background(), s.f.Service, s.f
	steps := []func() error{
		func() error {
			_, err := sv.Submit(ctx, f.Initiator, c.ID, change.Screening{Disciplines: []string{"mechanical"}})
			return err
		},
		func() error { return sv.AssignReviewer(ctx, f.Coordinator, c.ID, "mechanical", f.Reviewer.ID) },
		func() error { return sv.SetApprovers(ctx, f.Coordinator, c.ID, [][]int64{{f.Approver.ID}}) },
		func() error {
			_, err := sv.Transition(ctx, f.Coordinator, c.ID, change.TransitionRequest{Action: change.ActStartReview})
			return err
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			s.t.Fatal(err)
		}
	}
}

// section returns the HTML of the element with the given id, up to the
// next section.
func section(t *testing.T, body, id string) string {
	t.Helper()
	i := strings.Index(body, `id="`+id+`"`)
	if i < 0 {
		t.Fatalf("no section %q on the page", id)
	}
	rest := body[i:]
	if j := strings.Index(rest[1:], "<section"); j >= 0 {
		rest = rest[:j+1]
	}
	return rest
}

var listRowRE = regexp.MustCompile(`<td class="num" data-label="Number"><a href="/changes/([A-Z]+-\d+-\d+)">`)

// listed returns the change numbers in the list's rows, in order.
func listed(body string) []string {
	var out []string
	for _, m := range listRowRE.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestMyWorkPerRole(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := newWorkSite(t, db)
		f := s.f
		inReview := s.create(f.Initiator, "Replace pump seals on P-101", nil, "P-101A")
		s.toReview(inReview)
		draft := s.create(f.Initiator, "Draft bypass", nil)
		screening := s.create(f.Initiator, "Add trip on regenerator", nil)
		if _, err := f.Service.Submit(context.Background(), f.Initiator, screening.ID, change.Screening{Disciplines: []string{"process"}}); err != nil {
			t.Fatal(err)
		}

		// Anonymous: sent to sign in, coming back to My work.
		r := s.browser().get("/")
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/auth/login?return=%2F" {
			t.Errorf("anonymous /: %d %q, want redirect to sign-in", r.StatusCode, r.Header.Get("Location"))
		}

		// Reviewer: the review is waiting, with a link to the change page.
		home := s.as(f.Reviewer).get("/")
		if home.StatusCode != http.StatusOK {
			t.Fatalf("reviewer home: %d", home.StatusCode)
		}
		rev := section(t, home.Body, "reviews")
		if !strings.Contains(rev, `href="/changes/`+inReview.Number+`"`) || !strings.Contains(rev, "Mechanical review") {
			t.Errorf("reviewer's reviews section lacks %s:\n%s", inReview.Number, rev)
		}
		if strings.Contains(rev, "is-overdue") {
			t.Error("a review requested today is shown overdue")
		}
		if strings.Contains(home.Body, `id="approvals"`) {
			t.Error("a reviewer without the approver role sees an approvals section")
		}

		// Initiator: the draft to finish, the change in review among "my
		// open changes", and no first-change prompt.
		home = s.as(f.Initiator).get("/")
		if d := section(t, home.Body, "drafts"); !strings.Contains(d, draft.Number) || strings.Contains(d, inReview.Number) {
			t.Errorf("initiator's drafts section:\n%s", d)
		}
		if m := section(t, home.Body, "mine"); !strings.Contains(m, inReview.Number) || !strings.Contains(m, screening.Number) || strings.Contains(m, draft.Number) {
			t.Errorf("initiator's open changes:\n%s", m)
		}
		if strings.Contains(home.Body, "Create your first change") || !strings.Contains(home.Body, `href="/changes/new"`) {
			t.Error("initiator with changes: want a New change button and no first-change prompt")
		}

		// Coordinator: the change in screening is to coordinate.
		home = s.as(f.Coordinator).get("/")
		if c := section(t, home.Body, "coordinate"); !strings.Contains(c, screening.Number) || !strings.Contains(c, "Screen, assign") {
			t.Errorf("coordinator's section:\n%s", c)
		}

		// Auditor: nothing waiting, no create button.
		home = s.as(f.Auditor).get("/")
		if !strings.Contains(home.Body, "Nothing is waiting for you") || strings.Contains(home.Body, `href="/changes/new"`) {
			t.Errorf("auditor home: want the empty state without a create button")
		}

		// An initiator who never filed anything is shown how to start.
		home = s.as(f.Outsider).get("/")
		if !strings.Contains(home.Body, "Create your first change") {
			t.Error("new initiator: no first-change prompt")
		}

		// A user with no role is told to ask for one.
		noRole := s.user("nobody@plant.test")
		b := s.browser()
		b.post("/auth/login", url.Values{"email": {noRole.Email}, "password": {testPassword}})
		if home = b.get("/"); !strings.Contains(home.Body, "You have no role yet") {
			t.Errorf("no-role home: %d, want the no-role explanation", home.StatusCode)
		}

		// After the reminder threshold the review is overdue.
		rs, err := f.Service.ReminderSettings(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		f.Clock.Add(time.Duration(rs.PendingAfterDays) * 24 * time.Hour)
		home = s.as(f.Reviewer).get("/")
		if rev := section(t, home.Body, "reviews"); !strings.Contains(rev, "is-overdue") || !strings.Contains(home.Body, "1 overdue") {
			t.Errorf("review waiting %d days is not shown overdue:\n%s", rs.PendingAfterDays, rev)
		}
	})
}

func TestChangeListFiltersSortSearchAndPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := newWorkSite(t, db)
		f := s.f
		var numbers []string
		for i := range 30 {
			by := f.Initiator
			if i%3 == 0 {
				by = f.Reviewer
			}
			c := s.create(by, fmt.Sprintf("Change %02d", i), func(fl *change.Fields) {
				if i%5 == 0 {
					k := change.KindPCR
					fl.Kind = &k
				}
				if i%2 == 0 {
					fl.UnitID = &f.FCC
				}
			}, fmt.Sprintf("TAG-%02d", i))
			numbers = append(numbers, c.Number)
		}
		other := s.create(f.Outsider, "At the other site", func(fl *change.Fields) { fl.SiteID, fl.UnitID = &f.SCP, new(int64) })
		b := s.as(f.Initiator)
		get := func(path string) []string {
			t.Helper()
			r := b.get(path)
			if r.StatusCode != http.StatusOK {
				t.Fatalf("%s: %d", path, r.StatusCode)
			}
			return listed(r.Body)
		}

		// Default: newest first, 25 per page, only the user's site.
		page1 := get("/changes")
		if len(page1) != 25 || page1[0] != numbers[29] || slices.Contains(page1, other.Number) {
			t.Errorf("page 1: %d rows starting %v", len(page1), page1[:min(3, len(page1))])
		}
		if page2 := get("/changes?page=2"); len(page2) != 5 || page2[4] != numbers[0] {
			t.Errorf("page 2: %v, want the 5 oldest", page2)
		}

		// Kind: every fifth is a PCR.
		if got := get("/changes?kind=PCR"); len(got) != 6 || !strings.HasPrefix(got[0], "PCR-") {
			t.Errorf("kind=PCR: %v", got)
		}
		// Unit: the even ones are at FCC.
		if got := get(fmt.Sprintf("/changes?unit=%d", f.FCC)); len(got) != 15 {
			t.Errorf("unit=FCC: %d rows, want 15", len(got))
		}
		// Owner: the reviewer filed every third.
		if got := get(fmt.Sprintf("/changes?owner=%d", f.Reviewer.ID)); len(got) != 10 {
			t.Errorf("owner=reviewer: %d rows, want 10", len(got))
		}
		if got := get("/changes?owner=me&kind=MOC"); len(got) != 16 {
			t.Errorf("owner=me&kind=MOC: %d rows, want 16", len(got))
		}
		// Search by equipment tag, by title, by number.
		if got := get("/changes?q=tag-07"); !slices.Equal(got, []string{numbers[7]}) {
			t.Errorf("q=tag-07: %v, want %s", got, numbers[7])
		}
		if got := get("/changes?q=" + url.QueryEscape("change 1")); len(got) != 10 {
			t.Errorf("q=change 1: %d rows, want 10", len(got))
		}
		if got := get("/changes?q=" + numbers[3]); !slices.Equal(got, []string{numbers[3]}) {
			t.Errorf("q=number: %v", got)
		}
		// Stage.
		if got := get("/changes?stage=review"); len(got) != 0 {
			t.Errorf("stage=review: %v, want none", got)
		}

		// Sorting by title, both ways, and the header links toggle.
		r := b.get("/changes?sort=title&kind=MOC")
		asc := listed(r.Body)
		if len(asc) != 24 || asc[0] != numbers[1] {
			t.Errorf("sort=title: first %v, want %s (Change 01)", asc[:min(2, len(asc))], numbers[1])
		}
		if !strings.Contains(r.Body, `aria-sort="ascending"`) || !strings.Contains(r.Body, `href="/changes?kind=MOC&amp;sort=-title"`) {
			t.Error("sorted column: want aria-sort and a link to the descending sort keeping the filters")
		}
		desc := get("/changes?sort=-title&kind=MOC")
		if desc[0] != numbers[29] {
			t.Errorf("sort=-title: first %s, want %s (Change 29)", desc[0], numbers[29])
		}
		// Paging keeps the filters.
		if !strings.Contains(b.get("/changes?sort=title").Body, `href="/changes?page=2&amp;sort=title"`) {
			t.Error("next-page link lost the sort")
		}

		// Bad filters are reported beside the field; the list still shows.
		r = b.get("/changes?stage=nonsense&sort=password")
		if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, `Unknown stage &#34;nonsense&#34;`) || !strings.Contains(r.Body, `class="field-error" id="stage-error"`) {
			t.Errorf("bad stage: %d, want 400 with the stage error beside the field", r.StatusCode)
		}
		if len(listed(r.Body)) != 25 {
			t.Error("bad filter hid the list")
		}

		// Overdue and expiring temporary changes.
		due := dayStart(f.Clock.Now()).AddDate(0, 0, 1)
		actionOn := s.create(f.Initiator, "Late action", nil)
		s.toReview(actionOn)
		if _, err := f.Service.AddAction(context.Background(), f.Coordinator, actionOn.ID, change.NewAction{Title: "Update P&ID", OwnerID: f.Reviewer.ID, DueOn: &due}); err != nil {
			t.Fatal(err)
		}
		if got := get("/changes?overdue=1"); len(got) != 0 {
			t.Errorf("overdue before the due date: %v", got)
		}
		f.Clock.Add(48 * time.Hour)
		b = s.as(f.Initiator) // the session idled out
		if got := get("/changes?overdue=1"); !slices.Equal(got, []string{actionOn.Number}) {
			t.Errorf("overdue after the due date: %v, want %s", got, actionOn.Number)
		}
		temp := s.create(f.Initiator, "Temporary bypass", func(fl *change.Fields) {
			d := change.DurationTemporary
			exp := dayStart(f.Clock.Now()).AddDate(0, 0, 10)
			e := &exp
			fl.Duration, fl.ExpiresOn = &d, &e
		})
		s.toReview(temp)
		if got := get("/changes?expiring=7"); len(got) != 0 {
			t.Errorf("expiring=7: %v, want none", got)
		}
		r = b.get("/changes?expiring=14")
		if got := listed(r.Body); !slices.Equal(got, []string{temp.Number}) || !strings.Contains(r.Body, "pill-warn") {
			t.Errorf("expiring=14: %v, want %s marked soon", got, temp.Number)
		}

		// Someone at the other site sees only that site's change.
		if got := listed(s.as(f.Outsider).get("/changes").Body); !slices.Equal(got, []string{other.Number}) {
			t.Errorf("other site's list: %v", got)
		}
	})
}

func dayStart(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func TestChangesCSVExport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := newWorkSite(t, db)
		f := s.f
		a := s.create(f.Initiator, "Alpha seals", nil, "P-101A")
		bb := s.create(f.Initiator, "=HYPERLINK(\"x\") bravo", nil)
		s.create(f.Initiator, "Charlie", func(fl *change.Fields) { k := change.KindPCR; fl.Kind = &k })
		b := s.as(f.Auditor)

		r := b.get("/changes.csv?kind=MOC&sort=title")
		if r.StatusCode != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") ||
			!strings.Contains(r.Header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("CSV: %d %q %q", r.StatusCode, r.Header.Get("Content-Type"), r.Header.Get("Content-Disposition"))
		}
		recs, err := csv.NewReader(strings.NewReader(r.Body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 3 || recs[0][0] != "number" || recs[0][4] != "title" {
			t.Fatalf("CSV rows: %v", recs)
		}
		// Sorted by title: the formula-looking title sorts first and is defused.
		if recs[1][0] != bb.Number || !strings.HasPrefix(recs[1][4], "'=") || recs[2][0] != a.Number || recs[2][7] != "P-101A" {
			t.Errorf("CSV content: %v", recs[1:])
		}
		// The page's export link carries its filters.
		if !strings.Contains(b.get("/changes?kind=MOC&sort=title").Body, `href="/changes.csv?kind=MOC&amp;sort=title"`) {
			t.Error("list page's CSV link does not carry the filters")
		}
		if r := b.get("/changes.csv?stage=bogus"); r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "Unknown stage") {
			t.Errorf("CSV with a bad filter: %d", r.StatusCode)
		}
		if r := s.browser().get("/changes.csv"); r.StatusCode != http.StatusSeeOther {
			t.Errorf("anonymous CSV: %d, want redirect to sign-in", r.StatusCode)
		}
	})
}

func TestDashboardPage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := newWorkSite(t, db)
		f := s.f
		for i := range 3 {
			s.create(f.Initiator, fmt.Sprintf("Draft %d", i), nil)
		}
		c := s.create(f.Initiator, "In review", nil)
		s.toReview(c)
		due := dayStart(f.Clock.Now()).AddDate(0, 0, 1)
		if _, err := f.Service.AddAction(context.Background(), f.Coordinator, c.ID, change.NewAction{Title: "Late", OwnerID: f.Reviewer.ID, DueOn: &due}); err != nil {
			t.Fatal(err)
		}
		f.Clock.Add(72 * time.Hour)

		r := s.as(f.Approver).get("/dashboard")
		if r.StatusCode != http.StatusOK {
			t.Fatalf("dashboard: %d", r.StatusCode)
		}
		flat := regexp.MustCompile(`\s+`).ReplaceAllString(r.Body, " ")
		site := fmt.Sprintf("site=%d&amp;", f.NRF)
		for _, want := range []string{
			`<a href="/changes?` + site + `stage=draft">Draft</a></th> <td class="bar-n">3</td>`,
			`<a href="/changes?` + site + `stage=review">Review</a></th> <td class="bar-n">1</td>`,
			`<rect class="bar-fill" width="75" height="10"/>`, // 3 of 4 open changes
			fmt.Sprintf(`class="kpi kpi-bad" href="/changes?overdue=1&amp;site=%d"><span class="kpi-n">1</span><span class="kpi-l">Overdue actions`, f.NRF),
			`NRF <span class="muted">· <a href="/changes?open=1&amp;site=`,
			`4 open</a>`,
		} {
			if !strings.Contains(flat, want) {
				t.Errorf("dashboard lacks %s", want)
			}
		}
		if r := s.browser().get("/dashboard"); r.StatusCode != http.StatusSeeOther {
			t.Errorf("anonymous dashboard: %d", r.StatusCode)
		}
	})
}

func TestAdminPSSRTemplatesRemindersAndUnits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := newWorkSite(t, db)
		f := s.f
		ctx := context.Background()
		admin := s.as(f.Admin)
		tok := admin.csrf()

		// Non-admins are refused.
		for _, p := range []string{"/admin/pssr-templates", "/admin/reminders", "/admin/units"} {
			if r := s.as(f.Coordinator).get(p); r.StatusCode != http.StatusForbidden {
				t.Errorf("coordinator %s: %d, want 403", p, r.StatusCode)
			}
		}

		// PSSR template: bad input is shown beside the fields.
		r := admin.post("/admin/pssr-templates", url.Values{"csrf_token": {tok}, "name": {" "}, "rows": {"3"}, "item_0_text": {"Valves lined up"}})
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `<p class="field-error" id="name-error">Name is required.</p>`) {
			t.Errorf("template without a name: %d\n%s", r.StatusCode, r.Body)
		}
		if !strings.Contains(r.Body, `value="Valves lined up"`) {
			t.Error("the typed item was lost on the error page")
		}
		r = admin.post("/admin/pssr-templates", url.Values{"csrf_token": {tok}, "name": {"Electrical PSSR"}, "rows": {"3"}})
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `id="items-error">Add at least one checklist item.`) {
			t.Errorf("template without items: %d", r.StatusCode)
		}
		// "Add more rows" re-renders without saving.
		r = admin.post("/admin/pssr-templates", url.Values{"csrf_token": {tok}, "name": {"Electrical PSSR"}, "rows": {"1"}, "item_0_text": {"A"}, "more": {"1"}})
		if r.StatusCode != http.StatusOK || strings.Count(r.Body, `class="item-row"`) != 1+5+3 {
			t.Errorf("add rows: %d, %d rows", r.StatusCode, strings.Count(r.Body, `class="item-row"`))
		}
		// Good input saves; blank rows are dropped.
		r = admin.post("/admin/pssr-templates", url.Values{"csrf_token": {tok}, "name": {"Electrical PSSR"}, "rows": {"4"},
			"item_0_text": {"Breakers labelled"}, "item_1_text": {""}, "item_2_text": {"Loop checks done"}, "item_2_evidence": {"1"}})
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/admin/pssr-templates?saved=1" {
			t.Fatalf("save template: %d %q", r.StatusCode, r.Header.Get("Location"))
		}
		ts, err := f.Service.PSSRTemplates(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var saved *change.PSSRTemplate
		for i := range ts {
			if ts[i].Name == "Electrical PSSR" {
				saved = &ts[i]
			}
		}
		want := []change.PSSRTemplateItem{{Text: "Breakers labelled"}, {Text: "Loop checks done", EvidenceRequired: true}}
		if saved == nil || !slices.Equal(saved.Items, want) {
			t.Fatalf("saved template: %+v", saved)
		}
		list := admin.get("/admin/pssr-templates?saved=1")
		if !strings.Contains(list.Body, "Template saved.") || !strings.Contains(list.Body, fmt.Sprintf(`href="/admin/pssr-templates/%d">Electrical PSSR</a>`, saved.ID)) {
			t.Error("template list lacks the saved template")
		}
		// Edit: the form shows the items; saving replaces them.
		edit := admin.get(fmt.Sprintf("/admin/pssr-templates/%d", saved.ID))
		if !strings.Contains(edit.Body, `value="Loop checks done"`) || !strings.Contains(edit.Body, `name="item_1_evidence" value="1" checked`) {
			t.Error("edit form does not show the items")
		}
		r = admin.post(fmt.Sprintf("/admin/pssr-templates/%d", saved.ID), url.Values{"csrf_token": {tok}, "name": {"Electrical PSSR v2"}, "is_default": {"1"},
			"rows": {"2"}, "item_0_text": {"Breakers labelled"}, "item_1_text": {"Arc-flash labels posted"}, "item_1_evidence": {"1"}})
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("edit template: %d", r.StatusCode)
		}
		got, err := f.Service.PSSRTemplate(ctx, saved.ID)
		if err != nil || got.Name != "Electrical PSSR v2" || !got.IsDefault || len(got.Items) != 2 || got.Items[1].Text != "Arc-flash labels posted" {
			t.Errorf("edited template: %+v %v", got, err)
		}
		if r := admin.get("/admin/pssr-templates/999999"); r.StatusCode != http.StatusNotFound {
			t.Errorf("missing template: %d", r.StatusCode)
		}

		// Reminders: non-numbers and out-of-range values beside the fields.
		good := url.Values{"csrf_token": {tok}, "pending_after_days": {"4"}, "escalate_after_days": {"6"}, "action_due_soon_days": {"2"},
			"expiry_warning_days": {"30, 7"}, "run_hour_utc": {"5"}}
		bad := func(k, v string) url.Values {
			out := url.Values{}
			for kk, vv := range good {
				out[kk] = vv
			}
			out.Set(k, v)
			return out
		}
		for _, c := range []struct{ field, value, msg string }{
			{"pending_after_days", "soon", "Remind after must be a whole number."},
			{"pending_after_days", "0", "Pending after days must be between 1 and 90."},
			{"run_hour_utc", "24", "Run hour utc must be an hour between 0 and 23."},
			{"expiry_warning_days", "30, x", `Expiry warnings must be whole numbers`},
			{"expiry_warning_days", "400", "Expiry warning days each must be between 1 and 365 days, got 400."},
		} {
			r := admin.post("/admin/reminders", bad(c.field, c.value))
			errHTML := fmt.Sprintf(`<p class="field-error" id="%s-error">`, c.field)
			if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, errHTML+c.msg) &&
				!strings.Contains(r.Body, errHTML+strings.ReplaceAll(c.msg, `"`, "&#34;")) {
				t.Errorf("reminders %s=%q: %d, want %q beside the field", c.field, c.value, r.StatusCode, c.msg)
			}
			if !strings.Contains(r.Body, fmt.Sprintf(`value="%s"`, c.value)) {
				t.Errorf("reminders %s=%q: the typed value is not shown back", c.field, c.value)
			}
		}
		if r := admin.post("/admin/reminders", good); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("save reminders: %d", r.StatusCode)
		}
		rs, err := f.Service.ReminderSettings(ctx)
		if err != nil || rs.PendingAfterDays != 4 || rs.EscalateAfterDays != 6 || rs.ActionDueSoonDays != 2 || rs.RunHourUTC != 5 || !slices.Equal(rs.ExpiryWarningDays, []int{30, 7}) {
			t.Errorf("saved settings: %+v %v", rs, err)
		}
		if page := admin.get("/admin/reminders?saved=1"); !strings.Contains(page.Body, `value="30, 7"`) || !strings.Contains(page.Body, "Reminder settings saved.") {
			t.Error("reminder page does not show the saved values")
		}

		// Units: site missing, code taken, then a good one.
		nrf := fmt.Sprint(f.NRF)
		if r := admin.post("/admin/units", url.Values{"csrf_token": {tok}, "code": {"ALK"}, "name": {"Alkylation"}}); r.StatusCode != http.StatusBadRequest ||
			!strings.Contains(r.Body, `id="site_id-error">Site is required`) {
			t.Errorf("unit without a site: %d", r.StatusCode)
		}
		if r := admin.post("/admin/units", url.Values{"csrf_token": {tok}, "site_id": {nrf}, "code": {"cdu-1"}, "name": {"Again"}}); r.StatusCode != http.StatusBadRequest ||
			!strings.Contains(r.Body, `id="code-error">Code: site NRF already has a unit CDU-1`) {
			t.Errorf("duplicate unit: %d", r.StatusCode)
		}
		if r := admin.post("/admin/units", url.Values{"csrf_token": {tok}, "site_id": {nrf}, "code": {"ALK"}, "name": {""}}); r.StatusCode != http.StatusBadRequest ||
			!strings.Contains(r.Body, `id="name-error">Name is required.`) {
			t.Errorf("unit without a name: %d", r.StatusCode)
		}
		r = admin.post("/admin/units", url.Values{"csrf_token": {tok}, "site_id": {nrf}, "code": {"alk"}, "name": {"Alkylation"}})
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("add unit: %d", r.StatusCode)
		}
		page := admin.get(r.Header.Get("Location"))
		if !strings.Contains(page.Body, "Unit NRF ALK added.") || !strings.Contains(page.Body, "<td><strong>ALK</strong></td><td>Alkylation</td>") {
			t.Error("units page lacks the new unit")
		}
	})
}
