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
	"github.com/mocpcr/mocpcr/internal/store"
)

func (s *Service) listActions(ctx context.Context, q store.Querier, where string, args ...any) ([]ActionItem, error) {
	rows, err := q.QueryContext(ctx, `SELECT a.id, a.change_id, c.number, a.title, a.kind, a.owner_id, u.name, a.due_on, a.before_startup,
		COALESCE(a.pssr_item_id, 0), a.status, a.note, a.created_at, COALESCE(a.completed_by, 0), a.completed_at
		FROM change_actions a JOIN users u ON u.id = a.owner_id JOIN changes c ON c.id = a.change_id
		WHERE `+where+` ORDER BY a.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("load actions: %w", err)
	}
	defer rows.Close()
	out := []ActionItem{}
	for rows.Next() {
		var a ActionItem
		var due, done sql.NullTime
		if err := rows.Scan(&a.ID, &a.ChangeID, &a.ChangeNumber, &a.Title, &a.Kind, &a.OwnerID, &a.OwnerName, &due, &a.BeforeStartup,
			&a.PSSRItemID, &a.Status, &a.Note, &a.CreatedAt, &a.CompletedBy, &done); err != nil {
			return nil, err
		}
		a.DueOn, a.CompletedAt, a.CreatedAt = ptime(due), ptime(done), a.CreatedAt.UTC()
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
	if !slices.Contains([]ActionKind{ActionGeneral, ActionPSI, ActionProcedure, ActionDeficiency}, na.Kind) {
		return 0, invalid("kind", "must be general, psi, procedure or deficiency, got %q", na.Kind)
	}
	owner, err := auth.UserByID(ctx, tx, na.OwnerID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (owner.Disabled || !owner.OnSite(c.SiteID))) {
		return 0, invalid("owner_id", "no active user %d at site %s", na.OwnerID, c.SiteCode)
	}
	if err != nil {
		return 0, err
	}
	var actorID any
	if actor != nil {
		actorID = actor.ID
	}
	var id int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO change_actions (change_id, title, kind, owner_id, due_on, before_startup, pssr_item_id,
		created_by, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) RETURNING id`, c.ID, na.Title, string(na.Kind), owner.ID,
		nt(dateptr(na.DueOn)), na.BeforeStartup, nid(pssrItemID), actorID, s.now()).Scan(&id); err != nil {
		return 0, fmt.Errorf("add action: %w", err)
	}
	when := ActionWhen(c.Kind, na.BeforeStartup)
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
		if na.Kind == ActionDeficiency {
			return invalid("kind", "deficiencies come from PSSR answers, not from this form")
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
	a, err := s.action(ctx, actionID)
	if err != nil {
		return nil, err
	}
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		d, err := s.lockChange(ctx, tx, actor, a.ChangeID)
		if err != nil {
			return asMissing(err, "action %d not found", actionID)
		}
		if !d.Change.Stage.IsOpen() {
			return conflict("%s is %s: its actions are frozen", d.Change.Number, d.Change.Stage.Label())
		}
		if a.Status != ActionOpen {
			return conflict("action %d is already done", a.ID)
		}
		if !CanCompleteAction(actor, a) {
			return forbidden("only the action's owner (%s) or an MOC coordinator may complete it", a.OwnerName)
		}
		res, err := tx.ExecContext(ctx, `UPDATE change_actions SET status = $1, note = $2, completed_by = $3, completed_at = $4
			WHERE id = $5 AND status = $6`, ActionDone, strings.TrimSpace(note), actor.ID, s.now(), a.ID, ActionOpen)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return conflict("action %d is already done", a.ID)
		}
		return s.audit(ctx, tx, a.ChangeID, actor, "", "action_done", fmt.Sprintf("action %d", a.ID), ActionOpen,
			strings.TrimSpace(ActionDone+" "+note))
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
