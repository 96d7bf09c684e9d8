package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// The owner or a coordinator edits and reassigns an action through the
// API: each field changed is in the audit trail, the new owner hears of
// it, bad input names the field, and others are refused.
func TestActionEditAndReassignThroughTheAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newPageFixture(t, db)
		ctx := context.Background()
		svc := f.site.web.Changes
		due := f.site.clock.Now().AddDate(0, 0, 3)
		a, err := svc.AddAction(ctx, f.ini, f.pssr.ID, change.NewAction{Title: "Update P&ID", OwnerID: f.ini.ID, DueOn: &due, BeforeStartup: true})
		if err != nil {
			t.Fatal(err)
		}
		path := "/api/v1/actions/" + strconv.FormatInt(a.ID, 10)
		coordTok, revTok, iniTok := f.site.token(f.coord), f.site.token(f.rev), f.site.token(f.ini)
		newDue := f.site.clock.Now().AddDate(0, 0, 10).Format(time.DateOnly)
		body := `{"title":"Update P&ID 12-A","owner_id":` + strconv.FormatInt(f.rev.ID, 10) + `,"due_on":"` + newDue + `","before_startup":false}`
		r := bearer(t, f.site.URL, "PATCH", path, coordTok, strings.NewReader(body))
		if r.StatusCode != http.StatusOK {
			t.Fatalf("coordinator edits: %d %s", r.StatusCode, r.Body)
		}
		var got change.ActionItem
		if err := json.Unmarshal([]byte(r.Body), &got); err != nil {
			t.Fatal(err)
		}
		if got.Title != "Update P&ID 12-A" || got.OwnerID != f.rev.ID || got.BeforeStartup || got.DueOn == nil || got.DueOn.Format(time.DateOnly) != newDue {
			t.Errorf("action after edit: %+v", got)
		}
		trail, err := svc.AuditTrail(ctx, f.coord, f.pssr.ID)
		if err != nil {
			t.Fatal(err)
		}
		var seen []string
		for _, e := range trail {
			if e.Action == "action_changed" || e.Action == "action_reassigned" {
				seen = append(seen, e.Action+" "+e.Field+" "+e.OldValue+" → "+e.NewValue)
			}
		}
		if len(seen) != 4 || !strings.Contains(strings.Join(seen, "\n"), "action_reassigned action "+strconv.FormatInt(a.ID, 10)) {
			t.Errorf("audit of the edit: %q", seen)
		}
		if n := bearer(t, f.site.URL, "GET", "/api/v1/notifications", revTok, nil); !strings.Contains(n.Body, "Action assigned on "+f.pssr.Number+": Update P&amp;ID 12-A") &&
			!strings.Contains(n.Body, "Action assigned on "+f.pssr.Number+": Update P\\u0026ID 12-A") {
			t.Errorf("the new owner was not notified: %s", n.Body)
		}
		// The old owner no longer owns it: they may not change it.
		if r := bearer(t, f.site.URL, "PATCH", path, iniTok, strings.NewReader(`{"title":"mine"}`)); r.StatusCode != http.StatusForbidden {
			t.Errorf("former owner edits: %d %s", r.StatusCode, r.Body)
		}
		// The new owner may.
		if r := bearer(t, f.site.URL, "PATCH", path, revTok, strings.NewReader(`{"before_startup":true}`)); r.StatusCode != http.StatusOK {
			t.Errorf("new owner edits: %d %s", r.StatusCode, r.Body)
		}
		for _, tc := range []struct{ body, field string }{
			{`{"title":"  "}`, "title"},
			{`{"due_on":"next week"}`, "due_on"},
			{`{"due_on":"2001-01-01"}`, "due_on"},
			{`{"owner_id":999999}`, "owner_id"},
		} {
			r := bearer(t, f.site.URL, "PATCH", path, coordTok, strings.NewReader(tc.body))
			if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, tc.field) {
				t.Errorf("%s: %d %s, want 422 naming %s", tc.body, r.StatusCode, r.Body, tc.field)
			}
		}
		if _, err := svc.CompleteAction(ctx, f.rev, a.ID, ""); err != nil {
			t.Fatal(err)
		}
		if r := bearer(t, f.site.URL, "PATCH", path, coordTok, strings.NewReader(`{"title":"late"}`)); r.StatusCode != http.StatusConflict {
			t.Errorf("edit a done action: %d %s", r.StatusCode, r.Body)
		}
	})
}

// The change page offers the edit form to the action's owner, saves it
// with a flash, and shows a bad date beside its field with the input kept.
func TestActionEditFormOnTheChangePage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newPageFixture(t, db)
		ctx := context.Background()
		a, err := f.site.web.Changes.AddAction(ctx, f.coord, f.pssr.ID, change.NewAction{Title: "Train operators", OwnerID: f.rev.ID, BeforeStartup: true})
		if err != nil {
			t.Fatal(err)
		}
		id := strconv.FormatInt(a.ID, 10)
		page := f.rev2.get("/changes/" + f.pssr.Number)
		if !strings.Contains(page.Body, `id="f-action-`+id+`-edit"`) {
			t.Fatalf("the owner is not offered the edit form\n%s", excerpt(page.Body))
		}
		if p := f.ap2.get("/changes/" + f.pssr.Number); strings.Contains(p.Body, `id="f-action-`+id+`-edit"`) {
			t.Error("someone who neither owns nor coordinates is offered the edit form")
		}
		path := "/changes/" + f.pssr.Number + "/actions/" + id + "/edit"
		tok := f.rev2.csrf()
		r := f.rev2.post(path, url.Values{"csrf_token": {tok}, "title": {"Train shift C"}, "owner_id": {strconv.FormatInt(f.rev.ID, 10)}, "due_on": {"soon"}})
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(errorBeside(r.Body, "action-"+id+"-due_on"), "expected a date") ||
			!strings.Contains(r.Body, "Train shift C") {
			t.Errorf("bad due date: %d %q\n%s", r.StatusCode, errorBeside(r.Body, "action-"+id+"-due_on"), excerpt(r.Body))
		}
		due := f.site.clock.Now().AddDate(0, 0, 7).Format(time.DateOnly)
		r = f.rev2.post(path, url.Values{"csrf_token": {tok}, "title": {"Train shift C"}, "owner_id": {strconv.FormatInt(f.ini.ID, 10)}, "due_on": {due}, "before_startup": {"yes"}})
		if r.StatusCode != http.StatusSeeOther || !strings.Contains(r.Header.Get("Location"), "done=action-edited") {
			t.Fatalf("save: %d %q\n%s", r.StatusCode, r.Header.Get("Location"), excerpt(r.Body))
		}
		got, err := f.site.web.Changes.Get(ctx, f.ini, f.pssr.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range got.Actions {
			if x.ID == a.ID && (x.Title != "Train shift C" || x.OwnerID != f.ini.ID || x.DueOn == nil || x.DueOn.Format(time.DateOnly) != due) {
				t.Errorf("action after the form: %+v", x)
			}
		}
	})
}
