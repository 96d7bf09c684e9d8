package change

import (
	"fmt"
	"slices"
	"time"
)

// Step is one step of a change's stage indicator. The steps say what
// really happened: a step the change did not need is "skipped" with the
// reason, one it should have had and has no record of is "missing".
type Step struct {
	No    int    `json:"no"`
	Label string `json:"label"`
	// State is done, current, todo, skipped or missing.
	State string `json:"state"`
	// Note says who or why, where the label alone would mislead
	// ("confirmed by Cora", "not needed: replacement in kind").
	Note string `json:"note,omitempty"`
}

// The step states.
const (
	StepDone    = "done"
	StepCurrent = "current"
	StepTodo    = "todo"
	StepSkipped = "skipped"
	StepMissing = "missing"
)

// Steps is the stage indicator of the change as the detail records it.
func (d *Detail) Steps() []Step {
	c := d.Change
	if c.ReplacementInKind && in(c.Stage, StageRIKConfirmation, StageClosed) {
		return d.rikSteps()
	}
	order := []Stage{StageDraft, StageScreening, StageReview, StageApproval, StageImplementation, StagePSSR, StageInService, StageCloseout, StageClosed}
	if c.Kind == KindPCR || (c.Stage != StageDraft && c.Stage != StageReturned && !c.PSSRRequired && c.SubmittedAt != nil) {
		order = slices.DeleteFunc(order, func(s Stage) bool { return s == StagePSSR })
	}
	// In service is a step of temporary changes, and of those made
	// permanent after it.
	wasTemporary := c.Duration.IsTemporary() || c.PermanentRound != 0
	if !wasTemporary {
		order = slices.DeleteFunc(order, func(s Stage) bool { return s == StageInService })
	}
	cur := c.Stage
	if cur == StageReturned {
		cur = StageDraft
	}
	// A re-approval to make it permanent runs while the change stays in
	// service: the indicator stays there, and says so.
	if c.Converting() {
		cur = StageInService
	}
	idx := slices.Index(order, cur)
	steps := make([]Step, 0, len(order))
	for i, st := range order {
		step := Step{No: i + 1, Label: st.Label(), State: StepTodo}
		switch {
		case c.Stage == StageVoided:
		case i < idx:
			step.State = StepDone
		case i == idx:
			step.State = StepCurrent
			if st == StageClosed {
				step.State = StepDone
			}
			if c.Stage == StageReturned {
				step.Label = "Returned"
			}
		}
		if st == StageInService {
			step.Note = d.inServiceNote()
		}
		steps = append(steps, step)
	}
	d.emergencySteps(order, steps)
	return steps
}

// emergencySteps marks the second track of an emergency change: the
// implementation under way before its full review, shown beside the
// review stage it runs alongside, and later where it started early.
func (d *Detail) emergencySteps(order []Stage, steps []Step) {
	c := d.Change
	if c.Duration != DurationEmergency || c.Stage == StageVoided {
		return
	}
	if c.AwaitingEmergencyAuthorization() {
		for i := range steps {
			if steps[i].State == StepCurrent {
				steps[i].Note = "emergency: waiting for authorisation to implement before full review"
			}
		}
		return
	}
	if c.EmergencyAuthorizedAt == nil {
		return
	}
	implIdx := slices.Index(order, StageImplementation)
	if !c.UnderEmergency() {
		if implIdx >= 0 {
			steps[implIdx].Note = "started before full review (emergency authorised " + c.EmergencyAuthorizedAt.Format(time.DateOnly) + ")"
		}
		return
	}
	work := slices.Index(order, c.EmergencyStage)
	for i := implIdx; i >= 0 && i <= work; i++ {
		steps[i].State = StepDone
		if i == work {
			steps[i].State = StepCurrent
		}
	}
	if work >= 0 {
		steps[work].Note = "under way before full review (emergency)"
		if c.ReviewDeadline != nil {
			steps[work].Note += "; full review due " + c.ReviewDeadline.Format(time.DateOnly)
		}
	}
}

// inServiceNote says how a temporary change's time in service stands:
// the countdown, the re-approval running, or how it ended.
func (d *Detail) inServiceNote() string {
	c := d.Change
	switch {
	case c.RevertedAt != nil:
		return "reverted " + c.RevertedAt.Format(time.DateOnly)
	case c.PermanentRound != 0 && !c.Duration.IsTemporary():
		return "made permanent"
	case c.Converting():
		return "being re-approved to become permanent"
	case c.Stage == StageInService:
		if left, ok := c.DaysToExpiry(d.today); ok {
			return ExpiryCountdown(left)
		}
	}
	return ""
}

// ExpiryCountdown words the days left before expiry: "expires in 12
// days", "expires today", "expired 3 days ago".
func ExpiryCountdown(left int) string {
	switch {
	case left > 1:
		return fmt.Sprintf("expires in %d days", left)
	case left == 1:
		return "expires tomorrow"
	case left == 0:
		return "expires today"
	case left == -1:
		return "expired yesterday"
	}
	return fmt.Sprintf("expired %d days ago", -left)
}

// rikSteps: draft, the confirmation, review and approval skipped (the
// claim is why), closed.
func (d *Detail) rikSteps() []Step {
	c := d.Change
	confirm := Step{Label: "Replacement-in-kind confirmation", State: StepCurrent, Note: "waiting for an MOC coordinator or an approver of the site"}
	closed := Step{Label: StageClosed.Label(), State: StepTodo}
	if c.Stage == StageClosed {
		closed.State = StepDone
		if sig := d.Signature(CPRIK, 0); sig != nil {
			confirm.State, confirm.Note = StepDone, "confirmed by "+sig.PrintedName
		} else {
			// Closed before confirmations were required: say so rather
			// than tick a step that never happened.
			confirm.State, confirm.Note = StepMissing, "no confirmation on record"
		}
	}
	steps := []Step{
		{Label: StageDraft.Label(), State: StepDone},
		confirm,
		{Label: StageReview.Label(), State: StepSkipped, Note: "not needed: replacement in kind"},
		{Label: StageApproval.Label(), State: StepSkipped, Note: "not needed: replacement in kind"},
		closed,
	}
	for i := range steps {
		steps[i].No = i + 1
	}
	return steps
}
