package web_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// With more people than a drop-down can sensibly hold, the owner filter is
// a text box that takes "me" or an email address.
func TestOwnerFilterBecomesTextBoxOnLargeSites(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := newWorkSite(t, db)
		mine := s.create(s.f.Initiator, "Ines's change", nil)
		theirs := s.create(s.f.Reviewer, "Rita's change", nil)
		for i := range 120 {
			if _, err := auth.CreateUser(context.Background(), db.SQL, auth.NewUser{
				Email: fmt.Sprintf("ini%03d@example.com", i), Name: fmt.Sprintf("Initiator %03d", i), Roles: []auth.Role{auth.RoleInitiator}, AllSites: true,
			}); err != nil {
				t.Fatal(err)
			}
		}
		coord := s.as(s.f.Coordinator)
		body := coord.get("/changes?owner=" + url.QueryEscape(strings.ToUpper(s.f.Reviewer.Email))).Body
		if !strings.Contains(body, `<input id="owner" name="owner" type="text"`) {
			t.Fatal("large site: owner filter is not a text box")
		}
		if got := listed(body); !slices.Equal(got, []string{theirs.Number}) {
			t.Errorf("owner=email lists %v, want only %s", got, theirs.Number)
		}
		if got := listed(coord.get("/changes?owner=me").Body); slices.Contains(got, mine.Number) || slices.Contains(got, theirs.Number) {
			t.Errorf("owner=me for the coordinator lists %v", got)
		}
		r := coord.get("/changes?owner=nobody@example.com")
		if !strings.Contains(r.Body, `No user has the email address &#34;nobody@example.com&#34;.`) || !strings.Contains(r.Body, `id="owner-error"`) {
			t.Errorf("unknown owner email: no error beside the field")
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

		// Next carries a cursor: page 2 of the title sort by it is the
		// rest of the list after page 1, and a broken cursor is a 422
		// naming the parameter.
		r = b.get("/changes?sort=title")
		next := regexp.MustCompile(`href="(/changes\?[^"]*after=[^"]+)" rel="next"`).FindStringSubmatch(r.Body)
		if next == nil {
			t.Fatal("page 1 has no Next link with a cursor")
		}
		all := get("/changes?sort=title&page=1")
		byCursor := get(html.UnescapeString(next[1]))
		if len(byCursor) != 5 || !slices.Equal(append(listed(r.Body), byCursor...), append(all, get("/changes?sort=title&page=2")...)) {
			t.Errorf("page 2 by cursor: %v", byCursor)
		}
		if r := b.get("/changes?sort=title&after=garbage"); r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "is not a cursor of this list") {
			t.Errorf("broken cursor: %d, want 422 saying the cursor is wrong", r.StatusCode)
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
		f.Clock.Advance(48 * time.Hour)
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
