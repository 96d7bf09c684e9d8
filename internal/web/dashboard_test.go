package web_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

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
		f.Clock.Advance(72 * time.Hour)

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
