package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/change/changetest"
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
	return &workSite{testSite: startSite(t, db, siteOptions{deps: web.Deps{Changes: f.Service}, now: f.Clock.Now}), f: f}
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
		func() error { confirmScreening(s.t, sv, f.Coordinator, c.ID); return nil },
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
		f.Clock.Advance(time.Duration(rs.PendingAfterDays) * 24 * time.Hour)
		home = s.as(f.Reviewer).get("/")
		if rev := section(t, home.Body, "reviews"); !strings.Contains(rev, "is-overdue") || !strings.Contains(home.Body, "1 overdue") {
			t.Errorf("review waiting %d days is not shown overdue:\n%s", rs.PendingAfterDays, rev)
		}
		// The API answers by the same rule.
		api := bearer(t, s.URL, "GET", "/api/v1/my-work", s.token(f.Reviewer), nil)
		var work change.Work
		if err := json.Unmarshal([]byte(api.Body), &work); err != nil || len(work.Reviews) != 1 {
			t.Fatalf("my-work: %d %s", api.StatusCode, api.Body)
		}
		if it := work.Reviews[0]; !it.Overdue || it.DaysWaiting != rs.PendingAfterDays {
			t.Errorf("API review after %d days: overdue %v, days waiting %d", rs.PendingAfterDays, it.Overdue, it.DaysWaiting)
		}
	})
}

func dayStart(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
