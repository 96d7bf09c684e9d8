package change

import (
	"context"
	"database/sql"
	"slices"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/notify"
	"github.com/mocpcr/mocpcr/internal/store"
)

// A replacement in kind (like for like, same specification) needs no
// review or approval, which is exactly why the claim itself must be
// checked: it is confirmed, signed, by an MOC coordinator or an approver
// of the site who is not the initiator (ActConfirmRIK), or rejected into
// the normal flow with a comment (ActRejectRIK). Both are transitions.

// siteApprovers returns the enabled approvers who work on the site.
func (s *Service) siteApprovers(ctx context.Context, q store.Querier, siteID int64) ([]int64, error) {
	return userIDs(ctx, q, `SELECT u.id FROM users u JOIN user_roles r ON r.user_id = u.id AND r.role = 'approver'
		WHERE NOT u.disabled AND (NOT EXISTS (SELECT 1 FROM user_sites us WHERE us.user_id = u.id)
		  OR EXISTS (SELECT 1 FROM user_sites us WHERE us.user_id = u.id AND us.site_id = $1)) ORDER BY u.id`, siteID)
}

// siteDeciders are the people who may confirm c's replacement-in-kind
// claim or authorise it as an emergency: the site's coordinators and
// approvers, without the initiator.
func (s *Service) siteDeciders(ctx context.Context, q store.Querier, c *Change) ([]int64, error) {
	coords, err := s.coordinators(ctx, q, c.SiteID)
	if err != nil {
		return nil, err
	}
	apprs, err := s.siteApprovers(ctx, q, c.SiteID)
	if err != nil {
		return nil, err
	}
	out := append(coords, apprs...)
	slices.Sort(out)
	out = slices.Compact(out)
	return slices.DeleteFunc(out, func(id int64) bool { return id == c.InitiatorID }), nil
}

// confirmRIK closes a replacement in kind on actor's signature.
func (s *Service) confirmRIK(ctx context.Context, tx *sql.Tx, actor *auth.User, d *Detail, comment string, sig Signature) error {
	c := d.Change
	if _, err := s.sign(ctx, tx, actor, d, ActConfirmRIK, DecisionConfirmed, 0, comment, sig); err != nil {
		return err
	}
	note := "Replacement in kind confirmed by " + actor.Name
	if comment != "" {
		note += ": " + comment
	}
	if err := s.setStage(ctx, tx, actor, c, StageClosed, "closed_at = $3, closed_note = $4", s.now(), note); err != nil {
		return err
	}
	coords, err := s.coordinators(ctx, tx, c.SiteID)
	if err != nil {
		return err
	}
	return s.notify(ctx, tx, notify.TypeClosed, c, c.Number+" confirmed as replacement in kind and closed", note,
		append(coords, c.InitiatorID)...)
}

// rejectRIK sends a replacement-in-kind claim back to the initiator, who
// submits it again with the full screening (reviews and approvals).
func (s *Service) rejectRIK(ctx context.Context, tx *sql.Tx, actor *auth.User, d *Detail, comment string) error {
	if comment == "" {
		return invalid("comment", "is required: say why this is not a replacement in kind")
	}
	c := d.Change
	if err := s.audit(ctx, tx, c.ID, actor, "", "rik_rejected", "replacement_in_kind", "claimed", comment); err != nil {
		return err
	}
	return s.returnToInitiator(ctx, tx, actor, c, notify.TypeReturned,
		"Not a replacement in kind (rejected by "+actor.Name+"): "+comment+". Submit it again with the full screening.")
}
