package web

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
)

// workRow is one line on My work: a change and what is asked of the user.
type workRow struct {
	Number, Title, What string
	URL                 string
	// Since is when it started waiting; Due the date it is due.
	Since, Due *time.Time
	// Overdue is set when Due is past, or when it has waited longer than
	// the reminder threshold.
	Overdue bool
	// Note is a short extra ("on behalf of Arno", a stage label).
	Note string
	// DaysWaiting is whole days since Since.
	DaysWaiting int
}

// workSection is a titled group of rows with its empty-state text.
type workSection struct {
	ID, Title, Empty string
	Rows             []workRow
	Overdue          int
}

type myWorkData struct {
	FirstName string
	// Sections waiting for the user, in the order they are shown.
	Waiting []workSection
	// WaitingCount and OverdueCount sum the sections.
	WaitingCount, OverdueCount int
	// Mine are the user's open changes (not draft or returned: those are
	// in Waiting).
	Mine      []workRow
	MineTotal int
	CanCreate bool
	// NoRole: the user may sign in but takes part in nothing yet.
	NoRole bool
	// NoSite: the user has roles but no site yet (a first Entra ID
	// sign-in), so there is nothing they may see.
	NoSite bool
	// NeverFiled: an initiator with no change at all, shown the first-change prompt.
	NeverFiled bool
}

// pageShowMyWork is the home page: everything waiting for the user, then
// their own open changes.
func (s *Server) pageShowMyWork(w http.ResponseWriter, r *http.Request) {
	u := auth.UserFrom(r.Context())
	d := myWorkData{FirstName: strings.Fields(u.Name + " x")[0], CanCreate: auth.Can(u, auth.ActionCreateChange), NoRole: len(u.Roles) == 0, NoSite: u.NoSite()}
	if d.NoRole || d.NoSite {
		s.render(w, r, http.StatusOK, "home.html", &Page{Title: "My work", Data: d})
		return
	}
	ctx := r.Context()
	work, err := s.Changes.MyWork(ctx, u)
	if err != nil {
		s.serverFault(w, r, "my work", err)
		return
	}
	today := dayOf(s.Now())
	fromItems := func(items []change.WorkItem, what func(change.WorkItem) string) []workRow {
		out := make([]workRow, 0, len(items))
		for _, it := range items {
			row := workRow{Number: it.ChangeNumber, Title: it.Title, What: what(it), URL: changePath(it.ChangeNumber), Since: it.Since, Due: it.DueOn,
				DaysWaiting: it.DaysWaiting, Overdue: it.Overdue}
			if it.OnBehalfOf != "" {
				row.Note = "on behalf of " + it.OnBehalfOf
			}
			out = append(out, row)
		}
		return out
	}
	reviews := fromItems(work.Reviews, func(it change.WorkItem) string {
		// The hazard review is already called a review.
		if it.What == change.DisciplineHazardReview {
			return disciplineName(it.What)
		}
		return disciplineName(it.What) + " review"
	})
	approvals := fromItems(work.Approvals, func(it change.WorkItem) string { return title(it.What) })
	// An extension request asks the approvers to act too: it sits with
	// their approvals so it is not found only by chance on the change page.
	approvals = append(approvals, fromItems(work.Extensions, func(it change.WorkItem) string { return "Decide the " + it.What })...)
	// So is a replacement-in-kind claim: it closes only on a signature.
	approvals = append(approvals, fromItems(work.ToConfirm, func(it change.WorkItem) string { return title(it.What) })...)
	acks := fromItems(work.Acknowledgements, func(change.WorkItem) string { return "Read and acknowledge" })

	actions := make([]workRow, 0, len(work.Actions))
	for _, a := range work.Actions {
		row := workRow{Number: a.ChangeNumber, Title: a.Title, What: "Action", URL: changePath(a.ChangeNumber), Due: a.DueOn}
		if a.PSSRItemID != 0 {
			row.What = "PSSR deficiency"
		}
		if a.BeforeStartup {
			row.Note = change.ActionWhen(change.KindOfNumber(a.ChangeNumber), true)
		}
		row.Overdue = change.PastDue(a.DueOn, today)
		actions = append(actions, row)
	}
	// Overdue and soonest-due actions first.
	slices.SortStableFunc(actions, func(a, b workRow) int {
		switch {
		case a.Due == nil && b.Due == nil:
			return 0
		case a.Due == nil:
			return 1
		case b.Due == nil:
			return -1
		}
		return a.Due.Compare(*b.Due)
	})

	var pssr, coordinate []workRow
	// The PSSR team's walkdowns link straight to the walkdown page.
	onTeam := map[string]bool{}
	for _, row := range fromItems(work.PSSR, func(it change.WorkItem) string { return it.What }) {
		row.URL += "/walkdown"
		onTeam[row.Number] = true
		pssr = append(pssr, row)
	}
	for _, c := range work.ToCoordinate {
		row := changeRow(c, today)
		row.Note = ""
		switch c.Stage {
		case change.StagePSSR:
			if onTeam[c.Number] {
				continue
			}
			row.What = "Complete the PSSR checklist"
			pssr = append(pssr, row)
		case change.StageScreening:
			row.What = "Screen, assign reviewers and approvers"
			coordinate = append(coordinate, row)
		default:
			row.What = "Close out"
			coordinate = append(coordinate, row)
		}
	}
	var drafts []workRow
	for _, c := range work.Drafts {
		row := changeRow(c, today)
		// A draft's expiry date does not run yet: the row says how long
		// it has waited for the initiator instead.
		row.What, row.Note, row.Due, row.Overdue = "Finish and submit", "", nil, false
		if c.Stage == change.StageReturned {
			row.What = "Revise and resubmit"
			// Like a review or approval: overdue once it has waited the
			// reminder threshold, not on the day it came back.
			row.Overdue = work.WaitedTooLong(row.DaysWaiting)
			row.Note = c.ReturnComment
		}
		drafts = append(drafts, row)
	}

	d.Waiting = []workSection{
		{ID: "reviews", Title: "Reviews", Empty: "No reviews assigned to you.", Rows: reviews},
		{ID: "approvals", Title: "Approvals", Empty: "No approvals waiting for your signature.", Rows: approvals},
		{ID: "actions", Title: "Action items", Empty: "No open action items.", Rows: actions},
		{ID: "pssr", Title: "Pre-startup safety reviews", Empty: "No PSSR checklists to complete.", Rows: pssr},
		{ID: "coordinate", Title: "To coordinate", Empty: "Nothing to screen or close out.", Rows: coordinate},
		{ID: "acknowledgements", Title: "Acknowledgements", Empty: "Nothing to read and acknowledge.", Rows: acks},
		{ID: "drafts", Title: "Your drafts and returned changes", Empty: "No drafts.", Rows: drafts},
	}
	// Sections that only apply to some roles are hidden when empty for
	// users without the role, so a reviewer is not told about approvals.
	relevant := map[string]bool{
		"reviews":    u.Has(auth.RoleReviewer),
		"approvals":  u.Has(auth.RoleApprover) || u.Has(auth.RoleCoordinator),
		"pssr":       u.Has(auth.RoleCoordinator),
		"coordinate": u.Has(auth.RoleCoordinator),
		"drafts":     d.CanCreate,
	}
	shown := d.Waiting[:0]
	for _, sec := range d.Waiting {
		for _, row := range sec.Rows {
			if row.Overdue {
				sec.Overdue++
			}
		}
		d.WaitingCount += len(sec.Rows)
		d.OverdueCount += sec.Overdue
		if len(sec.Rows) > 0 || relevant[sec.ID] {
			shown = append(shown, sec)
		}
	}
	d.Waiting = shown

	mine, total, err := s.Changes.List(ctx, u, change.Filter{InitiatorID: u.ID, OpenOnly: true, Sort: "-updated", Limit: 20})
	if err != nil {
		s.serverFault(w, r, "my changes", err)
		return
	}
	for _, c := range mine {
		if c.Stage == change.StageDraft || c.Stage == change.StageReturned {
			total--
			continue
		}
		d.Mine = append(d.Mine, changeRow(c, today))
	}
	d.MineTotal = total
	if d.CanCreate && len(work.Drafts) == 0 && len(d.Mine) == 0 {
		_, all, err := s.Changes.List(ctx, u, change.Filter{InitiatorID: u.ID, Limit: 1})
		if err != nil {
			s.serverFault(w, r, "my changes", err)
			return
		}
		d.NeverFiled = all == 0
	}
	s.render(w, r, http.StatusOK, "home.html", &Page{Title: "My work", Data: d})
}

// changeRow is a change as a My work row: its stage as the note, and
// overdue when it is a live temporary change past expiry.
func changeRow(c change.Change, today time.Time) workRow {
	row := workRow{Number: c.Number, Title: c.Title, URL: changePath(c.Number), What: c.Stage.Label(), Note: c.Stage.Label()}
	if c.Duration.IsTemporary() && c.ExpiresOn != nil && c.RevertedAt == nil {
		row.Due = c.ExpiresOn
		row.Overdue = c.ExpiryPassed(today)
	}
	since := c.UpdatedAt
	row.Since = &since
	row.DaysWaiting = change.DaysWaiting(since, today)
	return row
}
