package web_test

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/mocpcr/mocpcr/internal/auth"
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
				Email: fmt.Sprintf("ini%03d@example.com", i), Name: fmt.Sprintf("Initiator %03d", i), Roles: []auth.Role{auth.RoleInitiator},
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
