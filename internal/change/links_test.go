package change_test

import (
	"context"
	"strings"
	"testing"

	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/change/changetest"
	"github.com/mocpcr/mocpcr/internal/problem"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// auditHas reports whether change id's audit trail has an entry of
// action whose old or new value is value.
func auditHas(t *testing.T, f *changetest.Fixture, id int64, action, value string) bool {
	t.Helper()
	trail := must(f.Service.AuditTrail(context.Background(), f.Coordinator, id))(t)
	for _, e := range trail {
		if e.Action == action && (e.NewValue == value || e.OldValue == value) {
			return true
		}
	}
	return false
}

// "B depends on A" shows on B as Depends on A and on A as Required by B,
// is in both audit trails, and is removed from either side.
func TestLinkedChangesShowOnBothAndAreAudited(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := changetest.Seed(t, db, start)
		ctx := context.Background()
		a := toStage(t, f, change.StageDraft, nil)
		b := toStage(t, f, change.StageDraft, nil)
		c := toStage(t, f, change.StageDraft, nil)

		l := must(f.Service.LinkChange(ctx, f.Initiator, b.ID, change.LinkDependsOn, strings.ToLower(a.Number)))(t)
		if l.Number != a.Number || l.Kind != change.LinkDependsOn {
			t.Errorf("link made: %+v", l)
		}
		must(f.Service.LinkChange(ctx, f.Coordinator, b.ID, change.LinkRelatedTo, c.Number))(t)

		db2 := must(f.Service.Get(ctx, f.Initiator, b.ID))(t)
		if len(db2.Links) != 2 || db2.Links[0].Kind != change.LinkDependsOn || db2.Links[0].Number != a.Number ||
			db2.Links[1].Kind != change.LinkRelatedTo || db2.Links[1].Number != c.Number {
			t.Errorf("links on %s: %+v", b.Number, db2.Links)
		}
		da := must(f.Service.Get(ctx, f.Initiator, a.ID))(t)
		if len(da.Links) != 1 || da.Links[0].Kind != change.LinkRequiredBy || da.Links[0].Number != b.Number || da.Links[0].Kind.Label() != "Required by" {
			t.Errorf("links on %s: %+v", a.Number, da.Links)
		}
		dc := must(f.Service.Get(ctx, f.Initiator, c.ID))(t)
		if len(dc.Links) != 1 || dc.Links[0].Kind != change.LinkRelatedTo || dc.Links[0].Number != b.Number {
			t.Errorf("links on %s: %+v", c.Number, dc.Links)
		}
		if !auditHas(t, f, b.ID, "link_added", "Depends on "+a.Number) || !auditHas(t, f, a.ID, "link_added", "Required by "+b.Number) {
			t.Error("the link is not in both audit trails")
		}

		// Removed from the other side: gone from both, audited on both.
		ok(t, f.Service.UnlinkChange(ctx, f.Initiator, a.ID, l.ID))
		if d := must(f.Service.Get(ctx, f.Initiator, b.ID))(t); len(d.Links) != 1 || d.Links[0].Number != c.Number {
			t.Errorf("after removal, links on %s: %+v", b.Number, d.Links)
		}
		if !auditHas(t, f, b.ID, "link_removed", "Depends on "+a.Number) || !auditHas(t, f, a.ID, "link_removed", "Required by "+b.Number) {
			t.Error("the removal is not in both audit trails")
		}
		if err := f.Service.UnlinkChange(ctx, f.Initiator, a.ID, l.ID); problem.KindOf(err) != problem.NotFound {
			t.Errorf("removing a removed link: %v, want not found", err)
		}
	})
}

// Links cannot reach a change the user cannot see, repeat a pair, point
// at the change itself, or be made by someone who does not own the change.
func TestLinkingIsRefusedWithReasons(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := changetest.Seed(t, db, start)
		ctx := context.Background()
		a := toStage(t, f, change.StageDraft, nil)
		b := toStage(t, f, change.StageDraft, nil)
		other := must(f.Service.Create(ctx, f.Outsider, changetest.Complete(change.KindMOC, f.SCP, 0, "P-9")))(t)
		must(f.Service.LinkChange(ctx, f.Initiator, b.ID, change.LinkDependsOn, a.Number))(t)

		for _, tc := range []struct {
			name       string
			kind       change.LinkKind
			ref        string
			want       problem.Kind
			field, msg string
		}{
			{"other site", change.LinkRelatedTo, other.Number, problem.Invalid, "linked_change", "no change " + other.Number + " that you can see"},
			{"unknown", change.LinkRelatedTo, "MOC-2099-9999", problem.Invalid, "linked_change", "no change MOC-2099-9999"},
			{"itself", change.LinkRelatedTo, b.Number, problem.Invalid, "linked_change", "cannot be linked to itself"},
			{"reverse pair", change.LinkRelatedTo, b.Number, problem.Conflict, "", "already linked"},
			{"bad kind", "blocks", a.Number, problem.Invalid, "kind", "depends_on or related_to"},
			{"empty", change.LinkRelatedTo, " ", problem.Invalid, "linked_change", "by its number"},
			{"too long", change.LinkRelatedTo, strings.Repeat("M", 41), problem.Invalid, "linked_change", "at most 40"},
		} {
			on := b.ID
			if tc.name == "reverse pair" {
				on = a.ID
			}
			_, err := f.Service.LinkChange(ctx, f.Initiator, on, tc.kind, tc.ref)
			pe := problem.As(err)
			if pe == nil || pe.Kind != tc.want || !strings.Contains(pe.Message, tc.msg) {
				t.Errorf("%s: %v, want %v %q", tc.name, err, tc.want, tc.msg)
				continue
			}
			if tc.field != "" && pe.Field != tc.field {
				t.Errorf("%s: field %q, want %q", tc.name, pe.Field, tc.field)
			}
		}
		if _, err := f.Service.LinkChange(ctx, f.Reviewer, a.ID, change.LinkRelatedTo, b.Number); problem.KindOf(err) != problem.Forbidden {
			t.Errorf("a reviewer links someone else's change: %v, want forbidden", err)
		}
		// The outsider's own change never lists NRF links, and an NRF
		// link to it cannot exist; a change at another site linked by an
		// all-sites coordinator is counted, not named, for who cannot see it.
		must(f.Service.LinkChange(ctx, f.Coordinator, a.ID, change.LinkRelatedTo, other.Number))(t)
		d := must(f.Service.Get(ctx, f.Initiator, a.ID))(t)
		for _, l := range d.Links {
			if l.Number == other.Number {
				t.Errorf("the initiator sees a linked change at a site not theirs: %+v", l)
			}
		}
		if d.HiddenLinks != 1 {
			t.Errorf("hidden links %d, want 1", d.HiddenLinks)
		}
	})
}
