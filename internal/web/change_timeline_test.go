package web

import (
	"testing"

	"github.com/mocpcr/mocpcr/internal/change"
)

// The trail records action items by id; people read them by title.
func TestTimelineNamesActionsByTitle(t *testing.T) {
	actions := []change.ActionItem{{ID: 12, Title: "Update P&ID 104-B"}, {ID: 13, Title: "Train operators"}}
	trail := []change.AuditEntry{
		{ActorName: "Ines", Action: "action_added", Field: "action 12", NewValue: "Update P&ID 104-B (psi, owner Ines, before startup)"},
		{ActorName: "Ines", Action: "action_done", Field: "action 12", OldValue: change.ActionOpen, NewValue: change.ActionDone + " redlines filed"},
		{ActorName: "Ines", Action: "action_done", Field: "action 99", OldValue: change.ActionOpen, NewValue: change.ActionDone},
	}
	got := timeline(trail, actions)
	want := []string{
		"added an action: Update P&ID 104-B (psi, owner Ines, before startup)",
		"completed the action “Update P&ID 104-B”: redlines filed",
		// An action the reader cannot see stays as recorded.
		"completed action 99",
	}
	for i, w := range want {
		if got[i].Text != w {
			t.Errorf("entry %d = %q, want %q", i, got[i].Text, w)
		}
	}
}
