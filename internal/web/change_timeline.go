package web

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/mocpcr/mocpcr/internal/change"
)

// timelineEntry is one audit trail line in plain words.
type timelineEntry struct {
	At   time.Time
	Who  string
	Text string
	// Kind styles the entry: "stage", "sign", "warn" or "".
	Kind string
}

// timeline turns the audit trail into sentences people read, newest last:
// "Rita Reviewer recorded the mechanical review: reviewed". The trail
// names action items by id ("action 12", as recorded and hash-chained);
// the sentence names them by their title, from the change's actions.
// Long values are shortened for the page's side column.
func timeline(entries []change.AuditEntry, actions []change.ActionItem) []timelineEntry {
	return describeTrail(entries, actions, false)
}

// fullTimeline is timeline with every value in full: the print view is
// the record an auditor files, so nothing in it is cut short.
func fullTimeline(entries []change.AuditEntry, actions []change.ActionItem) []timelineEntry {
	return describeTrail(entries, actions, true)
}

func describeTrail(entries []change.AuditEntry, actions []change.ActionItem, full bool) []timelineEntry {
	clip := func(s string, n int) string {
		if full {
			return strings.TrimSpace(s)
		}
		return clip(s, n)
	}
	titles := make(map[string]string, len(actions))
	for _, a := range actions {
		titles[fmt.Sprintf("action %d", a.ID)] = a.Title
	}
	out := make([]timelineEntry, 0, len(entries))
	for _, e := range entries {
		if e.Action == "action_done" {
			if t, ok := titles[e.Field]; ok {
				e.Field = "the action “" + clip(t, 120) + "”"
			}
		} else if e.Action == "action_added" {
			if _, ok := titles[e.Field]; ok {
				e.Field = "an action"
			}
		}
		out = append(out, describeAudit(e, full))
	}
	return out
}

func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

func stageLabel(s string) string {
	if l := change.Stage(s).Label(); l != "" {
		return l
	}
	return s
}

// disciplineName is a discipline as a heading or list item: "Mechanical",
// "EHS", "Hazard review".
func disciplineName(d string) string {
	if d == change.DisciplineHazardReview {
		return "Hazard review"
	}
	return title(disciplineLabel(d))
}

func disciplineLabel(d string) string {
	switch d {
	case change.DisciplineHazardReview:
		return "hazard"
	case "ehs":
		return "EHS"
	}
	return d
}

// describeAudit says what one audit entry means.
func describeAudit(e change.AuditEntry, full bool) timelineEntry {
	clip := func(s string, n int) string {
		if full {
			return strings.TrimSpace(s)
		}
		return clip(s, n)
	}
	who := e.ActorName
	if e.OnBehalfOf != "" {
		who += " (on behalf of " + e.OnBehalfOf + ")"
	}
	t := timelineEntry{At: e.At, Who: who}
	with := func(s, extra string) string {
		if extra = strings.TrimSpace(extra); extra != "" {
			return s + ": " + clip(extra, 200)
		}
		return s
	}
	switch {
	case e.Action == "created":
		t.Text = with("created the change", e.NewValue)
	case e.Action == "field_changed":
		label := strings.ToLower(fieldLabel(e.Field))
		switch {
		case e.OldValue == "" || e.OldValue == "0":
			t.Text = "set " + label + " to “" + clip(e.NewValue, 120) + "”"
		case e.NewValue == "" || e.NewValue == "0":
			t.Text = "cleared " + label + " (was “" + clip(e.OldValue, 80) + "”)"
		default:
			t.Text = "changed " + label + " from “" + clip(e.OldValue, 80) + "” to “" + clip(e.NewValue, 120) + "”"
		}
	case e.Action == "submitted":
		t.Text = "submitted the change with the screening answers: " + screeningSummary(e.NewValue)
	case e.Action == "stage":
		t.Kind = "stage"
		t.Text = "moved the change from " + stageLabel(e.OldValue) + " to " + stageLabel(e.NewValue)
	case e.Action == "reviewer_assigned":
		t.Text = "assigned " + e.NewValue + " to the " + disciplineLabel(e.Field) + " review"
		if e.OldValue != "" {
			t.Text += " (instead of " + e.OldValue + ")"
		}
	case e.Action == "approvers_set":
		t.Text = "named the approvers (stage: people): " + e.NewValue
	case strings.HasPrefix(e.Action, "review_"):
		dec := strings.TrimPrefix(e.Action, "review_")
		t.Text = with("recorded the "+disciplineLabel(e.Field)+" review: "+dec, e.NewValue)
		if dec == string(change.DecisionRejected) {
			t.Kind = "warn"
		}
	case strings.HasPrefix(e.Action, "approval_"):
		dec := strings.TrimPrefix(e.Action, "approval_")
		t.Kind = "sign"
		if dec == string(change.DecisionRejected) {
			t.Kind = "warn"
		}
		t.Text = "signed the approval (" + e.Field + "): " + dec + " — signature “" + clip(e.NewValue, 200) + "”"
		if strings.Contains(e.NewValue, " on behalf of ") {
			// The signature already says on whose behalf.
			t.Who = e.ActorName
		}
	case e.Action == "action_added":
		t.Text = with("added "+e.Field, e.NewValue)
	case e.Action == "hazard_review_recorded":
		t.Text = with("recorded the hazard review", e.NewValue)
	case e.Action == "action_done":
		t.Text = "completed " + e.Field
		if note := strings.TrimSpace(strings.TrimPrefix(e.NewValue, change.ActionDone)); note != "" {
			t.Text += ": " + clip(note, 200)
		}
	case e.Action == "pssr_answered":
		ans, comment, _ := strings.Cut(e.NewValue, " ")
		t.Text = "answered PSSR " + strings.TrimPrefix(e.Field, "pssr ") + ": " + answerLabel(ans)
		if comment != "" {
			t.Text += " — " + clip(comment, 200)
		}
		if ans == change.AnswerNo {
			t.Kind = "warn"
		}
	case e.Action == "acknowledger_added":
		t.Text = "added " + e.NewValue + " to the acknowledgement roster"
	case e.Action == "acknowledged":
		t.Text = "acknowledged reading and understanding the change"
	case e.Action == "attachment_added":
		t.Text = with("attached a file", e.NewValue)
	case e.Action == "extension_requested":
		t.Text = "asked to extend the expiry from " + e.OldValue + " to " + clip(e.NewValue, 200)
	case strings.HasPrefix(e.Action, "extension_"):
		t.Kind = "sign"
		t.Text = with("signed the extension decision: "+strings.TrimPrefix(e.Action, "extension_"), e.NewValue)
	case e.Action == "startup_authorized":
		t.Kind = "sign"
		t.Text = "authorised startup — signature “" + e.NewValue + "”"
	case e.Action == "reverted":
		t.Text = with("reverted the temporary change (restore actions created)", e.NewValue)
	case e.Action == "signed":
		t.Kind = "sign"
		t.Text = "signed the " + strings.ToLower(change.ControlPoint(e.Field).Label()) + " — " + clip(e.NewValue, 300)
		if e.OnBehalfOf != "" {
			t.Who = e.ActorName
		}
	case e.Action == "rik_rejected":
		t.Kind = "warn"
		t.Text = with("rejected the replacement-in-kind claim", e.NewValue)
	case e.Action == "make_permanent_requested":
		t.Text = with("asked for the temporary change to be made permanent", e.NewValue)
	case e.Action == "made_permanent":
		t.Kind = "stage"
		t.Text = with("made the change permanent", e.NewValue)
	case e.Action == "emergency_authorized":
		t.Kind = "sign"
		t.Text = with("authorised the emergency change for implementation before full review", e.NewValue)
	case e.Action == "emergency_stage":
		t.Kind = "stage"
		t.Text = "moved the emergency implementation from " + stageLabel(e.OldValue) + " to " + stageLabel(e.NewValue) + " (before full review)"
	case e.Action == "emergency_review_complete":
		t.Kind = "stage"
		t.Text = with("completed the full review of the emergency change", e.NewValue)
	default:
		t.Text = strings.ReplaceAll(e.Action, "_", " ")
		if e.Field != "" {
			t.Text += " " + e.Field
		}
		if e.NewValue != "" {
			t.Text += ": " + clip(e.NewValue, 200)
		}
	}
	return t
}

func answerLabel(a string) string {
	switch a {
	case change.AnswerYes:
		return "Yes"
	case change.AnswerNo:
		return "No"
	case change.AnswerNA:
		return "N/A"
	}
	return a
}

// screeningSummary reads the screening answers recorded at submit.
func screeningSummary(raw string) string {
	var sc change.Screening
	if err := json.Unmarshal([]byte(raw), &sc); err != nil {
		return clip(raw, 200)
	}
	return strings.Join(screeningFacts(&sc), "; ")
}

func screeningFacts(sc *change.Screening) []string {
	if sc == nil {
		return nil
	}
	if sc.ReplacementInKind {
		return []string{"Replacement in kind"}
	}
	var out []string
	if len(sc.Disciplines) > 0 {
		names := make([]string, len(sc.Disciplines))
		for i, d := range sc.Disciplines {
			names[i] = disciplineName(d)
		}
		out = append(out, "Disciplines: "+strings.Join(names, ", "))
	}
	yes := func(b bool, s string) {
		if b {
			out = append(out, s)
		}
	}
	yes(sc.PSIChanges, "Process safety information changes")
	yes(sc.ProceduresChange, "Operating procedures change")
	yes(sc.HazardReviewNeeded, "Hazard review needed")
	yes(sc.PSSRNeeded, "PSSR needed")
	return out
}
