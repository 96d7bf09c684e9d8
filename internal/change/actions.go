package change

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/notify"
	"github.com/mocpcr/mocpcr/internal/problem"
	"github.com/mocpcr/mocpcr/internal/store"
)

func (s *Service) listActions(ctx context.Context, q store.Querier, where string, args ...any) ([]ActionItem, error) {
	rows, err := q.QueryContext(ctx, `SELECT a.id, a.change_id, c.number, a.title, a.kind, a.owner_id, u.name, a.due_on, a.before_startup,
		COALESCE(a.pssr_item_id, 0), a.status, a.note, a.created_at, COALESCE(a.completed_by, 0), COALESCE(cb.name, ''), a.completed_at,
		COALESCE(a.evidence_id, 0), a.verification_required, COALESCE(a.verified_by, 0), COALESCE(vb.name, ''), a.verified_at, COALESCE(a.review_id, 0),
		COALESCE(a.hazard_review_id, 0)
		FROM change_actions a JOIN users u ON u.id = a.owner_id JOIN changes c ON c.id = a.change_id
		LEFT JOIN users cb ON cb.id = a.completed_by LEFT JOIN users vb ON vb.id = a.verified_by
		WHERE `+where+` ORDER BY a.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("load actions: %w", err)
	}
	defer rows.Close()
	out := []ActionItem{}
	for rows.Next() {
		var a ActionItem
		var due, done, verified sql.NullTime
		if err := rows.Scan(&a.ID, &a.ChangeID, &a.ChangeNumber, &a.Title, &a.Kind, &a.OwnerID, &a.OwnerName, &due, &a.BeforeStartup,
			&a.PSSRItemID, &a.Status, &a.Note, &a.CreatedAt, &a.CompletedBy, &a.CompletedByName, &done,
			&a.EvidenceID, &a.VerificationRequired, &a.VerifiedBy, &a.VerifiedByName, &verified, &a.ReviewID,
			&a.HazardReviewID); err != nil {
			return nil, err
		}
		a.DueOn, a.CompletedAt, a.CreatedAt, a.VerifiedAt = ptime(due), ptime(done), a.CreatedAt.UTC(), ptime(verified)
		out = append(out, a)
	}
	return out, rows.Err()
}

func (s *Service) insertAction(ctx context.Context, tx *sql.Tx, actor *auth.User, c *Change, na NewAction) (int64, error) {
	return s.insertActionFor(ctx, tx, actor, c, na, 0)
}

func (s *Service) insertActionFor(ctx context.Context, tx *sql.Tx, actor *auth.User, c *Change, na NewAction, pssrItemID int64) (int64, error) {
	na.Title = strings.TrimSpace(na.Title)
	if na.Title == "" {
		return 0, invalid("title", "is required")
	}
	if na.Kind == "" {
		na.Kind = ActionGeneral
	}
	if !slices.Contains([]ActionKind{ActionGeneral, ActionPSI, ActionProcedure, ActionDeficiency, ActionCondition, ActionRecommendation}, na.Kind) {
		return 0, invalid("kind", "must be general, psi, procedure, deficiency, condition or recommendation, got %q", na.Kind)
	}
	owner, err := auth.UserByID(ctx, tx, na.OwnerID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (owner.Disabled || !owner.OnSite(c.SiteID))) {
		return 0, invalid("owner_id", "no active user %d at site %s", na.OwnerID, c.SiteCode)
	}
	if err != nil {
		return 0, err
	}
	if na.DueOn == nil {
		// Every action is due some day, or it could never go overdue.
		ss, err := siteSettings(ctx, tx, c.SiteID)
		if err != nil {
			return 0, err
		}
		due := dateOnly(s.now()).AddDate(0, 0, ss.ActionDueDays)
		na.DueOn = &due
	}
	var actorID any
	if actor != nil {
		actorID = actor.ID
	}
	var id int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO change_actions (change_id, title, kind, owner_id, due_on, before_startup, pssr_item_id,
		created_by, created_at, review_id, hazard_review_id) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) RETURNING id`, c.ID, na.Title, string(na.Kind), owner.ID,
		nt(dateptr(na.DueOn)), na.BeforeStartup, nid(pssrItemID), actorID, s.now(), nid(na.reviewID), nid(na.hazardReviewID)).Scan(&id); err != nil {
		return 0, fmt.Errorf("add action: %w", err)
	}
	when := c.ActionWhen(na.BeforeStartup)
	due := ""
	if na.DueOn != nil {
		due = ", due " + dateOnly(*na.DueOn).Format(time.DateOnly)
	}
	if err := s.audit(ctx, tx, c.ID, actor, "", "action_added", fmt.Sprintf("action %d", id), "",
		fmt.Sprintf("%s (%s, owner %s, %s%s)", na.Title, na.Kind, owner.Name, when, due)); err != nil {
		return 0, err
	}
	return id, s.notify(ctx, tx, notify.TypeActionAssigned, c, "Action assigned on "+c.Number+": "+na.Title,
		fmt.Sprintf("You own an action item on %s (%s%s).", c.Number, when, due), owner.ID)
}

// AddAction adds an action item to a change and notifies its owner.
func (s *Service) AddAction(ctx context.Context, actor *auth.User, changeID int64, na NewAction) (*ActionItem, error) {
	var id int64
	err := s.changeTx(ctx, actor, changeID, ActAddAction, func(tx *sql.Tx, d *Detail) error {
		if na.Kind == ActionDeficiency || na.Kind == ActionCondition || na.Kind == ActionRecommendation {
			return invalid("kind", "deficiencies come from PSSR answers, conditions from reviews and recommendations from hazard review records, not from this form")
		}
		if na.DueOn != nil && dateOnly(*na.DueOn).Before(dateOnly(s.now())) {
			return invalid("due_on", "must be today or later, got %s", dateOnly(*na.DueOn).Format(time.DateOnly))
		}
		var err error
		id, err = s.insertAction(ctx, tx, actor, d.Change, na)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.action(ctx, id)
}

func (s *Service) action(ctx context.Context, id int64) (*ActionItem, error) {
	as, err := s.listActions(ctx, s.DB.SQL, `a.id = $1`, id)
	if err != nil {
		return nil, err
	}
	if len(as) == 0 {
		return nil, notFound("action %d not found", id)
	}
	return &as[0], nil
}

// CanCompleteAction reports whether actor may complete the action item:
// its owner or an MOC coordinator, while the change is open.
func CanCompleteAction(actor *auth.User, a *ActionItem) bool {
	return actor != nil && a.Status == ActionOpen && (actor.ID == a.OwnerID || actor.Has(auth.RoleCoordinator))
}

// CompleteAction marks an action item done, with an optional note.
func (s *Service) CompleteAction(ctx context.Context, actor *auth.User, actionID int64, note string) (*ActionItem, error) {
	return s.CompleteActionWithEvidence(ctx, actor, actionID, note, 0)
}

// CompleteActionWithEvidence records who completed the action and when,
// with an optional note and evidence (an attachment of the same change,
// 0 for none). An action that needs verification then waits for it
// (status to_verify) and the coordinators are asked; otherwise it is done.
func (s *Service) CompleteActionWithEvidence(ctx context.Context, actor *auth.User, actionID int64, note string, evidenceID int64) (*ActionItem, error) {
	a, err := s.action(ctx, actionID)
	if err != nil {
		return nil, err
	}
	note = strings.TrimSpace(note)
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		d, err := s.lockChange(ctx, tx, actor, a.ChangeID)
		if err != nil {
			return asMissing(err, "action %d not found", actionID)
		}
		c := d.Change
		if !c.Stage.IsOpen() {
			return conflict("%s is %s: its actions are frozen", c.Number, c.Stage.Label())
		}
		if a.Status != ActionOpen {
			return conflict("action %d is already done", a.ID)
		}
		if !CanCompleteAction(actor, a) {
			return forbidden("only the action's owner (%s) or an MOC coordinator may complete it", a.OwnerName)
		}
		if evidenceID != 0 && !slices.ContainsFunc(d.Attachments, func(at Attachment) bool { return at.ID == evidenceID }) {
			return invalid("evidence_id", "attachment %d is not attached to %s: attach the file to the change first", evidenceID, c.Number)
		}
		status := ActionDone
		if a.VerificationRequired {
			status = ActionToVerify
		}
		res, err := tx.ExecContext(ctx, `UPDATE change_actions SET status = $1, note = $2, completed_by = $3, completed_at = $4, evidence_id = $5
			WHERE id = $6 AND status = $7`, status, note, actor.ID, s.now(), nid(evidenceID), a.ID, ActionOpen)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return conflict("action %d is already done", a.ID)
		}
		detail := strings.TrimSpace(ActionDone + " " + note)
		if evidenceID != 0 {
			detail += fmt.Sprintf(" (evidence: attachment %d)", evidenceID)
		}
		if err := s.audit(ctx, tx, a.ChangeID, actor, "", "action_done", fmt.Sprintf("action %d", a.ID), ActionOpen, detail); err != nil {
			return err
		}
		if status != ActionToVerify {
			return nil
		}
		coords, err := s.coordinators(ctx, tx, c.SiteID)
		if err != nil {
			return err
		}
		// The completer does not verify their own work.
		coords = slices.DeleteFunc(coords, func(id int64) bool { return id == actor.ID })
		return s.notify(ctx, tx, notify.TypeActionAssigned, c, "Verify action on "+c.Number+": "+a.Title,
			fmt.Sprintf("%s completed an action item of %s that needs verification before it counts as closed.", actor.Name, c.Number), coords...)
	})
	if err != nil {
		return nil, err
	}
	return s.action(ctx, actionID)
}

// CanVerifyAction reports whether actor may verify the completed action:
// an MOC coordinator other than the person who completed it.
func CanVerifyAction(actor *auth.User, a *ActionItem) bool {
	return actor != nil && a.Status == ActionToVerify && actor.Has(auth.RoleCoordinator) && actor.ID != a.CompletedBy
}

// VerifyAction closes a completed action that needed verification; the
// verifier is a coordinator other than its completer (four eyes).
func (s *Service) VerifyAction(ctx context.Context, actor *auth.User, actionID int64, note string) (*ActionItem, error) {
	a, err := s.action(ctx, actionID)
	if err != nil {
		return nil, err
	}
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		d, err := s.lockChange(ctx, tx, actor, a.ChangeID)
		if err != nil {
			return asMissing(err, "action %d not found", actionID)
		}
		c := d.Change
		if !c.Stage.IsOpen() {
			return conflict("%s is %s: its actions are frozen", c.Number, c.Stage.Label())
		}
		if a.Status != ActionToVerify {
			return conflict("action %d is %s: only a completed action waiting for verification can be verified", a.ID, a.Status)
		}
		if !actor.Has(auth.RoleCoordinator) {
			return forbidden("only an MOC coordinator may verify an action")
		}
		if actor.ID == a.CompletedBy {
			return forbidden("someone other than the person who completed the action must verify it")
		}
		res, err := tx.ExecContext(ctx, `UPDATE change_actions SET status = $1, verified_by = $2, verified_at = $3 WHERE id = $4 AND status = $5`,
			ActionDone, actor.ID, s.now(), a.ID, ActionToVerify)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return conflict("action %d is already verified", a.ID)
		}
		if err := s.audit(ctx, tx, c.ID, actor, "", "action_verified", fmt.Sprintf("action %d", a.ID), ActionToVerify,
			strings.TrimSpace(ActionDone+" "+strings.TrimSpace(note))); err != nil {
			return err
		}
		return s.notify(ctx, tx, notify.TypeActionAssigned, c, "Action verified on "+c.Number+": "+a.Title,
			fmt.Sprintf("%s verified the action item; it is closed.", actor.Name), a.OwnerID)
	})
	if err != nil {
		return nil, err
	}
	return s.action(ctx, actionID)
}

func (s *Service) acknowledgements(ctx context.Context, q store.Querier, changeID int64) ([]Acknowledgement, error) {
	rows, err := q.QueryContext(ctx, `SELECT a.change_id, a.user_id, u.name, a.added_at, a.acknowledged_at FROM change_acknowledgements a
		JOIN users u ON u.id = a.user_id WHERE a.change_id = $1 ORDER BY u.name`, changeID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Acknowledgement{}
	for rows.Next() {
		var a Acknowledgement
		var at sql.NullTime
		if err := rows.Scan(&a.ChangeID, &a.UserID, &a.UserName, &a.AddedAt, &at); err != nil {
			return nil, err
		}
		a.AddedAt, a.AcknowledgedAt = a.AddedAt.UTC(), ptime(at)
		out = append(out, a)
	}
	return out, rows.Err()
}

// AddAcknowledgers puts people on the training and acknowledgement
// roster; each must read and sign off before startup.
func (s *Service) AddAcknowledgers(ctx context.Context, actor *auth.User, changeID int64, userIDs []int64) error {
	if len(userIDs) == 0 {
		return invalid("user_ids", "name at least one user")
	}
	if len(userIDs) > MaxPeoplePerRequest {
		return invalid("user_ids", "at most %d people at a time, got %d", MaxPeoplePerRequest, len(userIDs))
	}
	return s.changeTx(ctx, actor, changeID, ActManageRoster, func(tx *sql.Tx, d *Detail) error {
		c := d.Change
		var added []int64
		for _, uid := range userIDs {
			if slices.ContainsFunc(d.Acknowledgements, func(a Acknowledgement) bool { return a.UserID == uid }) || slices.Contains(added, uid) {
				continue
			}
			u, err := auth.UserByID(ctx, tx, uid)
			if errors.Is(err, store.ErrNotFound) || (err == nil && (u.Disabled || !u.OnSite(c.SiteID))) {
				return invalid("user_ids", "no active user %d at site %s", uid, c.SiteCode)
			}
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO change_acknowledgements (change_id, user_id, added_at) VALUES ($1,$2,$3)`,
				c.ID, uid, s.now()); err != nil {
				return err
			}
			if err := s.audit(ctx, tx, c.ID, actor, "", "acknowledger_added", "roster", "", u.Name); err != nil {
				return err
			}
			added = append(added, uid)
		}
		return s.notify(ctx, tx, notify.TypeAcknowledgement, c, "Please read and acknowledge "+c.Number+": "+c.Title,
			"You are on the training and acknowledgement roster of "+c.Number+". Read the change and sign off "+c.Kind.Before()+".", added...)
	})
}

// Acknowledge records that the actor read and understood the change.
func (s *Service) Acknowledge(ctx context.Context, actor *auth.User, changeID int64) error {
	return s.changeTx(ctx, actor, changeID, ActAcknowledge, func(tx *sql.Tx, d *Detail) error {
		if _, err := tx.ExecContext(ctx, `UPDATE change_acknowledgements SET acknowledged_at = $1 WHERE change_id = $2 AND user_id = $3`,
			s.now(), changeID, actor.ID); err != nil {
			return err
		}
		return s.audit(ctx, tx, changeID, actor, "", "acknowledged", "roster", "", actor.Name)
	})
}

func (s *Service) extensions(ctx context.Context, q store.Querier, changeID int64) ([]Extension, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, change_id, old_expires_on, new_expires_on, reason, requested_by, requested_at, decision,
		comment, COALESCE(decided_by, 0), signed_name, signature_method, decided_at FROM change_extensions WHERE change_id = $1 ORDER BY id`, changeID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Extension{}
	for rows.Next() {
		var e Extension
		var dec sql.NullTime
		if err := rows.Scan(&e.ID, &e.ChangeID, &e.OldExpiresOn, &e.NewExpiresOn, &e.Reason, &e.RequestedBy, &e.RequestedAt, &e.Decision,
			&e.Comment, &e.DecidedBy, &e.SignedName, &e.SignatureMethod, &dec); err != nil {
			return nil, err
		}
		e.OldExpiresOn, e.NewExpiresOn, e.RequestedAt, e.DecidedAt = e.OldExpiresOn.UTC(), e.NewExpiresOn.UTC(), e.RequestedAt.UTC(), ptime(dec)
		out = append(out, e)
	}
	return out, rows.Err()
}

// RequestExtension asks to move a temporary change's expiry date. It
// takes effect only when an approver approves it (DecideExtension).
func (s *Service) RequestExtension(ctx context.Context, actor *auth.User, changeID int64, newExpiresOn time.Time, reason string) error {
	return s.changeTx(ctx, actor, changeID, ActRequestExtension, func(tx *sql.Tx, d *Detail) error {
		c := d.Change
		newExpiresOn = dateOnly(newExpiresOn)
		if !newExpiresOn.After(*c.ExpiresOn) {
			return invalid("expires_on", "must be after the current expiry date %s", c.ExpiresOn.Format(time.DateOnly))
		}
		if reason = strings.TrimSpace(reason); reason == "" {
			return invalid("reason", "is required: say why the change must stay longer")
		}
		if err := s.extensionLimit(ctx, tx, d, newExpiresOn); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO change_extensions (change_id, old_expires_on, new_expires_on, reason, requested_by,
			requested_at) VALUES ($1,$2,$3,$4,$5,$6)`, c.ID, *c.ExpiresOn, newExpiresOn, reason, actor.ID, s.now()); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, c.ID, actor, "", "extension_requested", "expires_on", c.ExpiresOn.Format(time.DateOnly),
			newExpiresOn.Format(time.DateOnly)+": "+reason); err != nil {
			return err
		}
		var approvers []int64
		for _, a := range d.Approvals {
			if a.Round == c.Round {
				approvers = append(approvers, a.ApproverID)
			}
		}
		// Their delegates acting today are asked too, as for approvals.
		approvers, err := s.withDelegates(ctx, tx, c.SiteID, approvers)
		if err != nil {
			return err
		}
		// Nobody decides their own request (check).
		approvers = slices.DeleteFunc(approvers, func(id int64) bool { return id == actor.ID })
		return s.notify(ctx, tx, notify.TypeApprovalRequested, c, "Extension requested: "+c.Number,
			fmt.Sprintf("%s asks to extend %s to %s: %s", actor.Name, c.Number, newExpiresOn.Format(time.DateOnly), reason), approvers...)
	})
}

// DecideExtension approves or rejects the pending extension; approval
// needs a verified signature and moves the expiry date.
func (s *Service) DecideExtension(ctx context.Context, actor *auth.User, changeID int64, decision Decision, comment string, sig Signature) error {
	return s.changeTx(ctx, actor, changeID, ActDecideExtension, func(tx *sql.Tx, d *Detail) error {
		c := d.Change
		ext := d.pendingExtension()
		comment, err := checkDecision(decision, DecisionApproved, comment, "")
		if err != nil {
			return err
		}
		// The limits may have changed since the request.
		if decision == DecisionApproved {
			if err := s.extensionLimit(ctx, tx, d, ext.NewExpiresOn); err != nil {
				return err
			}
		}
		if _, err := s.sign(ctx, tx, actor, d, ActDecideExtension, decision, ext.ID, comment, sig); err != nil {
			return err
		}
		now := s.now()
		if _, err := tx.ExecContext(ctx, `UPDATE change_extensions SET decision=$1, comment=$2, decided_by=$3, signed_name=$4, decided_at=$5,
			signature_method=$6 WHERE id=$7`, string(decision), comment, actor.ID, actor.Name, now, sig.Method, ext.ID); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, c.ID, actor, "", "extension_"+string(decision), "expires_on", "",
			strings.TrimSpace(ext.NewExpiresOn.Format(time.DateOnly)+" "+comment)); err != nil {
			return err
		}
		typ := notify.TypeRejected
		title := "Extension of " + c.Number + " rejected"
		if decision == DecisionApproved {
			typ, title = notify.TypeApproved, "Extension of "+c.Number+" approved to "+ext.NewExpiresOn.Format(time.DateOnly)
			if _, err := tx.ExecContext(ctx, `UPDATE changes SET expires_on = $1, updated_at = $2 WHERE id = $3`, ext.NewExpiresOn, now, c.ID); err != nil {
				return err
			}
			if err := s.audit(ctx, tx, c.ID, actor, "", "field_changed", "expires_on", c.ExpiresOn.Format(time.DateOnly),
				ext.NewExpiresOn.Format(time.DateOnly)); err != nil {
				return err
			}
		}
		return s.notify(ctx, tx, typ, c, title, comment, c.InitiatorID, ext.RequestedBy)
	})
}

// ActionUpdate changes some fields of an open action item; nil fields
// stay as they are. A due date cannot be cleared: every action has one.
type ActionUpdate struct {
	Title         *string
	OwnerID       *int64
	DueOn         *time.Time
	BeforeStartup *bool
	// VerificationRequired may be changed by a coordinator only.
	VerificationRequired *bool
}

// CanEditAction reports whether actor may edit or reassign the action
// item: its owner or an MOC coordinator, while it is open.
func CanEditAction(actor *auth.User, a *ActionItem) bool {
	return CanCompleteAction(actor, a)
}

// UpdateAction edits an open action item (title, owner, due date, before
// or after startup). Each changed field is one audit event; a new owner
// is told they own it now, and an owner whose action someone else changed
// is told what changed, so nobody works from a stale to-do list.
func (s *Service) UpdateAction(ctx context.Context, actor *auth.User, actionID int64, up ActionUpdate) (*ActionItem, error) {
	a, err := s.action(ctx, actionID)
	if err != nil {
		return nil, err
	}
	var p problem.List
	if up.Title != nil {
		if *up.Title = strings.TrimSpace(*up.Title); *up.Title == "" {
			p.Invalid("title", "is required: say what the action is")
		}
	}
	if up.DueOn != nil {
		if d := dateOnly(*up.DueOn); d.Before(dateOnly(s.now())) && (a.DueOn == nil || !d.Equal(dateOnly(*a.DueOn))) {
			p.Invalid("due_on", "must be today or later, got %s", d.Format(time.DateOnly))
		}
	}
	if up.BeforeStartup != nil && !*up.BeforeStartup && a.Kind == ActionDeficiency {
		p.Invalid("before_startup", "a PSSR deficiency must be closed before startup")
	}
	if err := p.Err("title", "owner_id", "due_on", "before_startup"); err != nil {
		return nil, err
	}
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		d, err := s.lockChange(ctx, tx, actor, a.ChangeID)
		if err != nil {
			return asMissing(err, "action %d not found", actionID)
		}
		c := d.Change
		if !c.Stage.IsOpen() {
			return conflict("%s is %s: its actions are frozen", c.Number, c.Stage.Label())
		}
		// Re-read inside the lock: a completion may have landed since.
		cur, err := s.listActions(ctx, tx, `a.id = $1`, a.ID)
		if err != nil {
			return err
		}
		a = &cur[0]
		if a.Status != ActionOpen {
			return conflict("action %d is %s: only an open action can be changed", a.ID, a.Status)
		}
		if !CanEditAction(actor, a) {
			return forbidden("only the action's owner (%s) or an MOC coordinator may change it", a.OwnerName)
		}
		ref := fmt.Sprintf("action %d", a.ID)
		var changed []string
		field := func(name, old, new string) error {
			changed = append(changed, fmt.Sprintf("%s: %s → %s", name, old, new))
			return s.audit(ctx, tx, c.ID, actor, "", "action_changed", ref+" "+name, old, new)
		}
		if up.Title != nil && *up.Title != a.Title {
			if _, err := tx.ExecContext(ctx, `UPDATE change_actions SET title = $1 WHERE id = $2`, *up.Title, a.ID); err != nil {
				return err
			}
			if err := field("title", a.Title, *up.Title); err != nil {
				return err
			}
			a.Title = *up.Title
		}
		if up.DueOn != nil && (a.DueOn == nil || !dateOnly(*up.DueOn).Equal(dateOnly(*a.DueOn))) {
			due := dateOnly(*up.DueOn)
			if _, err := tx.ExecContext(ctx, `UPDATE change_actions SET due_on = $1 WHERE id = $2`, due, a.ID); err != nil {
				return err
			}
			old := "none"
			if a.DueOn != nil {
				old = a.DueOn.Format(time.DateOnly)
			}
			if err := field("due date", old, due.Format(time.DateOnly)); err != nil {
				return err
			}
		}
		if up.BeforeStartup != nil && *up.BeforeStartup != a.BeforeStartup {
			if _, err := tx.ExecContext(ctx, `UPDATE change_actions SET before_startup = $1 WHERE id = $2`, *up.BeforeStartup, a.ID); err != nil {
				return err
			}
			if err := field("when", ActionWhen(c.Kind, a.BeforeStartup), ActionWhen(c.Kind, *up.BeforeStartup)); err != nil {
				return err
			}
		}
		if up.VerificationRequired != nil && *up.VerificationRequired != a.VerificationRequired {
			if !actor.Has(auth.RoleCoordinator) {
				return forbidden("only an MOC coordinator may decide whether an action needs verification")
			}
			if _, err := tx.ExecContext(ctx, `UPDATE change_actions SET verification_required = $1 WHERE id = $2`, *up.VerificationRequired, a.ID); err != nil {
				return err
			}
			if err := field("verification", verifyWord(a.VerificationRequired), verifyWord(*up.VerificationRequired)); err != nil {
				return err
			}
		}
		if up.OwnerID != nil && *up.OwnerID != a.OwnerID {
			owner, err := auth.UserByID(ctx, tx, *up.OwnerID)
			if errors.Is(err, store.ErrNotFound) || (err == nil && (owner.Disabled || !owner.OnSite(c.SiteID))) {
				return invalid("owner_id", "no active user %d at site %s", *up.OwnerID, c.SiteCode)
			}
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE change_actions SET owner_id = $1 WHERE id = $2`, owner.ID, a.ID); err != nil {
				return err
			}
			if err := s.audit(ctx, tx, c.ID, actor, "", "action_reassigned", ref, a.OwnerName, owner.Name); err != nil {
				return err
			}
			if err := s.notify(ctx, tx, notify.TypeActionAssigned, c, "Action assigned on "+c.Number+": "+a.Title,
				fmt.Sprintf("%s gave you an action item on %s (was %s's).", actor.Name, c.Number, a.OwnerName), owner.ID); err != nil {
				return err
			}
			return nil
		}
		if len(changed) > 0 && a.OwnerID != actor.ID {
			return s.notify(ctx, tx, notify.TypeActionAssigned, c, "Action changed on "+c.Number+": "+a.Title,
				fmt.Sprintf("%s changed your action item on %s: %s.", actor.Name, c.Number, strings.Join(changed, "; ")), a.OwnerID)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.action(ctx, actionID)
}

func verifyWord(required bool) string {
	if required {
		return "verification required"
	}
	return "no verification"
}
