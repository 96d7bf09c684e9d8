package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// On a site with more people than a list can hold, the change page's
// people fields search instead of listing everyone: the page no longer
// carries the site's people, the search answers with this site's people
// only (bounded), and the forms take what was typed: an email, the
// suggested "Name <email>", or a name that is one person's.
func TestChangePageSearchesPeopleOnALargeSite(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newPageFixture(t, db)
		ctx := context.Background()
		path := "/changes/" + f.review.Number
		screening := "/changes/" + f.screening.Number
		if r := f.coord2.get(screening); !strings.Contains(r.Body, `<select id="reviewer-mechanical"`) || strings.Contains(r.Body, "data-people=") {
			t.Fatalf("a small site's page should list its people in selects")
		}

		// Another site's person of the same name must never be found.
		other, err := auth.CreateSite(ctx, db.SQL, "SRF", "South Refinery")
		if err != nil {
			t.Fatal(err)
		}
		mk := func(email, name string, all bool, sites []int64, roles ...auth.Role) *auth.User {
			t.Helper()
			u, err := auth.CreateUser(ctx, db.SQL, auth.NewUser{Email: email, Name: name, Roles: roles, AllSites: all, SiteIDs: sites})
			if err != nil {
				t.Fatal(err)
			}
			return u
		}
		mk("far@example.com", "Pat Smith", false, []int64{other.ID}, auth.RoleReviewer)
		mk("pat1@example.com", "Pat Smith", true, nil, auth.RoleReviewer)
		pat2 := mk("pat2@example.com", "Pat Smith", true, nil, auth.RoleReviewer)
		var op7 *auth.User
		for i := range 100 {
			u := mk(fmt.Sprintf("op%02d@example.com", i), fmt.Sprintf("Operator %02d", i), true, nil, auth.RoleInitiator)
			if i == 7 {
				op7 = u
			}
		}

		r := f.coord2.get(screening)
		if r.StatusCode != http.StatusOK {
			t.Fatalf("change page: %d", r.StatusCode)
		}
		if strings.Contains(r.Body, `<select id="reviewer-mechanical"`) || strings.Contains(r.Body, "Operator 57") {
			t.Errorf("a large site's page still lists its people")
		}
		if !strings.Contains(r.Body, `id="reviewer-mechanical" name="reviewer-mechanical" value="" list="reviewer-mechanical-people" data-people="/changes/`+f.screening.Number+`/people?role=reviewer"`) {
			t.Errorf("no search field for the reviewer:\n%s", excerpt(r.Body))
		}

		search := func(q, role string) []struct{ ID int64 } {
			t.Helper()
			r := f.coord2.get(path + "/people?q=" + url.QueryEscape(q) + "&role=" + role)
			if r.StatusCode != http.StatusOK {
				t.Fatalf("search %q: %d %s", q, r.StatusCode, r.Body)
			}
			var got []struct{ ID int64 }
			if err := json.Unmarshal([]byte(r.Body), &got); err != nil {
				t.Fatalf("search %q: %v %s", q, err, r.Body)
			}
			return got
		}
		if got := search("pat smith", "reviewer"); len(got) != 2 {
			t.Errorf("search for Pat Smith as reviewer: %d people, want the two of this site", len(got))
		}
		if got := search("operator", ""); len(got) != 20 {
			t.Errorf("search for operator: %d people, want 20 (the bound)", len(got))
		}
		if got := search("operator", "reviewer"); len(got) != 0 {
			t.Errorf("operators are no reviewers, found %d", len(got))
		}
		if got := search("op_7", ""); len(got) != 0 {
			t.Errorf("_ must match itself, not any character: found %d", len(got))
		}
		if r := f.coord2.get(path + "/people?q=" + strings.Repeat("x", 101)); r.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("a 101-character search: %d, want 422", r.StatusCode)
		}
		if r := f.coord2.get(path + "/people?role=admin"); r.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("search for admins: %d, want 422", r.StatusCode)
		}

		tok := f.coord2.csrf()
		post := func(sub string, form url.Values) response {
			form.Set("csrf_token", tok)
			return f.coord2.post(sub, form)
		}
		r = post(screening+"/reviewers", url.Values{"reviewer-mechanical": {"pat smith"}})
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(formError(r.Body, "f-reviewers")+errorBeside(r.Body, "reviewer-mechanical"), "more than one person") {
			t.Errorf("an ambiguous name: %d %q", r.StatusCode, formError(r.Body, "f-reviewers")+errorBeside(r.Body, "reviewer-mechanical"))
		}
		if r = post(screening+"/reviewers", url.Values{"reviewer-mechanical": {"far@example.com"}}); r.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("another site's person as reviewer: %d, want 422", r.StatusCode)
		}
		if r = post(screening+"/reviewers", url.Values{"reviewer-mechanical": {"Pat Smith <pat2@example.com>"}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("the suggested label: %d %s", r.StatusCode, excerpt(r.Body))
		}
		d, err := f.site.web.Changes.Get(ctx, f.coord, f.screening.ID)
		if err != nil {
			t.Fatal(err)
		}
		if d.Reviews[0].ReviewerID != pat2.ID {
			t.Errorf("reviewer after the search field: %d, want %d", d.Reviews[0].ReviewerID, pat2.ID)
		}
		if r := f.coord2.get(screening); !strings.Contains(r.Body, `name="reviewer-mechanical" value="Pat Smith &lt;pat2@example.com&gt;"`) {
			t.Errorf("the reviewer field does not show the assigned reviewer")
		}

		due := f.site.clock.Now().AddDate(0, 0, 5).Format(time.DateOnly)
		r = post(path+"/actions", url.Values{"title": {"Walk the line"}, "owner_id": {"Nobody Here"}, "due_on": {due}})
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(errorBeside(r.Body, "action-owner_id"), "no one at this site") ||
			!strings.Contains(r.Body, `value="Nobody Here"`) {
			t.Errorf("an owner no one is: %d %q", r.StatusCode, errorBeside(r.Body, "action-owner_id"))
		}
		if r = post(path+"/actions", url.Values{"title": {"Walk the line"}, "owner_id": {"OP07@example.com"}, "due_on": {due}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("an owner by email: %d %s", r.StatusCode, excerpt(r.Body))
		}
		d, _ = f.site.web.Changes.Get(ctx, f.coord, f.review.ID)
		if n := len(d.Actions); n == 0 || d.Actions[n-1].OwnerID != op7.ID {
			t.Errorf("the action's owner is not Operator 07: %+v", d.Actions)
		}
		if r := f.coord2.get(path); !strings.Contains(r.Body, `value="Operator 07 &lt;op07@example.com&gt;"`) {
			t.Errorf("the action's edit form does not show its owner")
		}

		// Approvers: the chosen ones ticked, names added in search fields.
		r = post(screening+"/approvers", url.Values{"stage1": {"", "appr@example.com"}, "stage2": {"", ""}})
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("approvers by email: %d %s", r.StatusCode, excerpt(r.Body))
		}
		if r := f.coord2.get(screening); !strings.Contains(r.Body, fmt.Sprintf(`name="stage1" value="%d" checked> User appr@example.com`, f.appr.ID)) {
			t.Errorf("the approvers form does not tick the chosen approver")
		}
		r = post(screening+"/approvers", url.Values{"stage1": {fmt.Sprint(f.appr.ID), "Operator 99"}})
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `value="Operator 99"`) {
			t.Errorf("an approver no one is: %d, want 422 with the input kept", r.StatusCode)
		}

		// The PSSR team: the members listed, more added by name.
		pssr := "/changes/" + f.pssr.Number
		r = post(pssr+"/pssr-team", url.Values{"lead_id": {"Pat Smith <pat1@example.com>"}, "member_ids": {fmt.Sprint(f.rev.ID)},
			"member_add_0": {"Operator 07"}, "member_add_1": {""}, "member_add_2": {""}})
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("the PSSR team by name: %d %s", r.StatusCode, excerpt(r.Body))
		}
		d, _ = f.site.web.Changes.Get(ctx, f.coord, f.pssr.ID)
		var team []string
		for _, m := range d.PSSRTeam {
			team = append(team, fmt.Sprintf("%s lead=%v", m.Name, m.Lead))
		}
		if got := strings.Join(team, ", "); !strings.Contains(got, "Pat Smith lead=true") || !strings.Contains(got, "Operator 07 lead=false") ||
			!strings.Contains(got, "User rev@example.com lead=false") {
			t.Errorf("the team: %s", got)
		}
		if r := f.coord2.get(pssr); !strings.Contains(r.Body, fmt.Sprintf(`name="member_ids" value="%d" checked> Operator 07`, op7.ID)) ||
			!strings.Contains(r.Body, `id="team-lead" name="lead_id" value="Pat Smith &lt;pat1@example.com&gt;"`) {
			t.Errorf("the team form does not list the team and its lead")
		}
	})
}
