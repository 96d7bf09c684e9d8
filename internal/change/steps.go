package change

import "slices"

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
	order := []Stage{StageDraft, StageScreening, StageReview, StageApproval, StageImplementation, StagePSSR, StageCloseout, StageClosed}
	if c.Kind == KindPCR || (c.Stage != StageDraft && c.Stage != StageReturned && !c.PSSRRequired && c.SubmittedAt != nil) {
		order = slices.DeleteFunc(order, func(s Stage) bool { return s == StagePSSR })
	}
	cur := c.Stage
	if cur == StageReturned {
		cur = StageDraft
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
		steps = append(steps, step)
	}
	return steps
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
