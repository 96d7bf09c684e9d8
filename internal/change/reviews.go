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

func (s *Service) reviews(ctx context.Context, q store.Querier, changeID int64) ([]Review, error) {
	rows, err := q.QueryContext(ctx, `SELECT r.id, r.change_id, r.round, r.discipline, COALESCE(r.reviewer_id, 0), COALESCE(u.name, ''),
		r.requested_at, r.decision, r.comment, COALESCE(r.decided_by, 0), r.decided_at
		FROM change_reviews r LEFT JOIN users u ON u.id = r.reviewer_id WHERE r.change_id = $1 ORDER BY r.round, r.discipline`, changeID)
	if err != nil {
		return nil, fmt.Errorf("load reviews: %w", err)
	}
	defer rows.Close()
	out := []Review{}
	for rows.Next() {
		var r Review
		var req, dec sql.NullTime
		if err := rows.Scan(&r.ID, &r.ChangeID, &r.Round, &r.Discipline, &r.ReviewerID, &r.ReviewerName, &req, &r.Decision,
			&r.Comment, &r.DecidedBy, &dec); err != nil {
			return nil, err
		}
		r.RequestedAt, r.DecidedAt = ptime(req), ptime(dec)
		out = append(out, r)
	}
	return out, rows.Err()
}

func (s *Service) approvals(ctx context.Context, q store.Querier, changeID int64) ([]Approval, error) {
	rows, err := q.QueryContext(ctx, `SELECT a.id, a.change_id, a.round, a.stage_no, a.approver_id, u.name, a.requested_at,
		a.decision, a.comment, COALESCE(a.decided_by, 0), COALESCE(d.name, ''), a.signed_name, a.signature_method, a.decided_at
		FROM change_approvals a JOIN users u ON u.id = a.approver_id LEFT JOIN users d ON d.id = a.decided_by
		WHERE a.change_id = $1 ORDER BY a.round, a.stage_no, a.approver_id`, changeID)
	if err != nil {
		return nil, fmt.Errorf("load approvals: %w", err)
	}
	defer rows.Close()
	out := []Approval{}
	for rows.Next() {
		var a Approval
		var req, dec sql.NullTime
		if err := rows.Scan(&a.ID, &a.ChangeID, &a.Round, &a.StageNo, &a.ApproverID, &a.ApproverName, &req, &a.Decision,
			&a.Comment, &a.DecidedBy, &a.DecidedByName, &a.SignedName, &a.SignatureMethod, &dec); err != nil {
			return nil, err
		}
		a.RequestedAt, a.DecidedAt = ptime(req), ptime(dec)
		a.OnBehalfOf = a.DecidedBy != 0 && a.DecidedBy != a.ApproverID
		out = append(out, a)
	}
	return out, rows.Err()
}

// activeDelegators are the users who delegated to userID for today.
func (s *Service) activeDelegators(ctx context.Context, q store.Querier, userID int64) ([]int64, error) {
	today := dateOnly(s.Now())
	return userIDs(ctx, q, `SELECT delegator_id FROM delegations WHERE delegate_id = $1 AND revoked_at IS NULL
		AND starts_on <= $2 AND ends_on >= $2 ORDER BY delegator_id`, userID, today)
}

// withDelegates adds to the approvers ids their delegates acting today
// who belong to the change's site: a delegate acts only where they may
// open the change (check refuses other sites as not found), so only
// they are asked.
func (s *Service) withDelegates(ctx context.Context, q store.Querier, siteID int64, ids []int64) ([]int64, error) {
	today := dateOnly(s.Now())
	out := slices.Clone(ids)
	for _, a := range ids {
		del, err := userIDs(ctx, q, `SELECT d.delegate_id FROM delegations d WHERE d.delegator_id = $1 AND d.revoked_at IS NULL
			AND d.starts_on <= $2 AND d.ends_on >= $2
			AND `+auth.OnSiteSQL("d.delegate_id", "$3")+`
			ORDER BY d.delegate_id`, a, today, siteID)
		if err != nil {
			return nil, err
		}
		out = append(out, del...)
	}
	return out, nil
}

// userWithRole loads an enabled user and checks role and site.
func userWithRole(ctx context.Context, q store.Querier, field string, id int64, role auth.Role, siteID int64) (*auth.User, error) {
	u, err := auth.UserByID(ctx, q, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, invalid(field, "no user with id %d", id)
	}
	if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, invalid(field, "%s is disabled", u.Name)
	}
	if !u.Has(role) {
		return nil, invalid(field, "%s does not have the %s role", u.Name, role)
	}
	if !u.OnSite(siteID) {
		return nil, invalid(field, "%s is not a member of this site", u.Name)
	}
	return u, nil
}

// AssignReviewer names the reviewer of one discipline review of the
// current round (Screening stage, coordinator).
func (s *Service) AssignReviewer(ctx context.Context, actor *auth.User, id int64, discipline string, reviewerID int64) error {
	return s.changeTx(ctx, actor, id, ActAssign, func(tx *sql.Tx, d *Detail) error {
		c := d.Change
		discipline = strings.ToLower(strings.TrimSpace(discipline))
		var rv *Review
		var known []string
		for i := range d.Reviews {
			if d.Reviews[i].Round == c.Round {
				known = append(known, d.Reviews[i].Discipline)
				if d.Reviews[i].Discipline == discipline {
					rv = &d.Reviews[i]
				}
			}
		}
		if rv == nil {
			return invalid("discipline", "%s needs no %q review; screening asked for: %s", c.Number, discipline, strings.Join(known, ", "))
		}
		u, err := userWithRole(ctx, tx, "reviewer_id", reviewerID, auth.RoleReviewer, c.SiteID)
		if err != nil {
			return err
		}
		if u.ID == c.InitiatorID {
			return invalid("reviewer_id", "nobody reviews their own change")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE change_reviews SET reviewer_id = $1 WHERE id = $2`, u.ID, rv.ID); err != nil {
			return err
		}
		return s.audit(ctx, tx, id, actor, "", "reviewer_assigned", discipline, rv.ReviewerName, u.Name)
	})
}

// AddReview asks for one more discipline review in the current round
// (coordinator, during screening or review), or names the reviewer of a
// discipline whose review is still pending. During review the reviewer is
// required and asked at once; a reviewer replaced there is told their
// review was withdrawn.
func (s *Service) AddReview(ctx context.Context, actor *auth.User, id int64, discipline string, reviewerID int64) error {
	discipline = strings.ToLower(strings.TrimSpace(discipline))
	if !slices.Contains(Disciplines, discipline) && discipline != DisciplineHazardReview {
		return invalid("discipline", "must be one of %s or %s, got %q", strings.Join(Disciplines, ", "), DisciplineHazardReview, discipline)
	}
	return s.changeTx(ctx, actor, id, ActAddReview, func(tx *sql.Tx, d *Detail) error {
		c := d.Change
		inReview := c.Stage == StageReview
		if inReview && reviewerID == 0 {
			return invalid("reviewer_id", "the review has started: name who reviews the %s", reviewName(discipline))
		}
		var u *auth.User
		if reviewerID != 0 {
			var err error
			if u, err = userWithRole(ctx, tx, "reviewer_id", reviewerID, auth.RoleReviewer, c.SiteID); err != nil {
				return err
			}
			if u.ID == c.InitiatorID {
				return invalid("reviewer_id", "nobody reviews their own change")
			}
		}
		var rv *Review
		for i := range d.Reviews {
			if d.Reviews[i].Round == c.Round && d.Reviews[i].Discipline == discipline {
				rv = &d.Reviews[i]
			}
		}
		var requested any
		if inReview {
			requested = s.now()
		}
		switch {
		case rv == nil:
			if _, err := tx.ExecContext(ctx, `INSERT INTO change_reviews (change_id, round, discipline, reviewer_id, requested_at) VALUES ($1,$2,$3,$4,$5)`,
				c.ID, c.Round, discipline, nid(reviewerID), requested); err != nil {
				return err
			}
			name := ""
			if u != nil {
				name = u.Name
			}
			if err := s.audit(ctx, tx, id, actor, "", "review_added", discipline, "", name); err != nil {
				return err
			}
		case rv.DecidedAt != nil:
			return conflict("the %s of %s is already decided (%s)", reviewName(discipline), c.Number, rv.Decision)
		case u == nil || rv.ReviewerID == u.ID:
			return invalid("reviewer_id", "%s already has a %s; name a different reviewer to replace %s", c.Number, reviewName(discipline), nameOr(rv.ReviewerName, "nobody"))
		default:
			if _, err := tx.ExecContext(ctx, `UPDATE change_reviews SET reviewer_id = $1, requested_at = $2 WHERE id = $3`, u.ID, requested, rv.ID); err != nil {
				return err
			}
			if err := s.audit(ctx, tx, id, actor, "", "reviewer_assigned", discipline, rv.ReviewerName, u.Name); err != nil {
				return err
			}
			if inReview && rv.ReviewerID != 0 {
				if err := s.notify(ctx, tx, notify.TypeReturned, c, "Your "+reviewName(discipline)+" of "+c.Number+" was withdrawn",
					fmt.Sprintf("%s asked %s to do the %s of %s %s instead of you.", actor.Name, u.Name, reviewName(discipline), c.Number, c.Title),
					rv.ReviewerID); err != nil {
					return err
				}
			}
		}
		if !inReview {
			return nil
		}
		return s.notify(ctx, tx, notify.TypeReviewRequested, c, "Review requested: "+c.Number+" "+c.Title,
			fmt.Sprintf("Please do the %s of %s.", reviewName(discipline), c.Number), u.ID)
	})
}

func nameOr(s, dflt string) string {
	if s == "" {
		return dflt
	}
	return s
}

// SetApprovers replaces the approvers of the current round: stages run in
// order, the approvers inside a stage in parallel (Screening stage,
// coordinator).
func (s *Service) SetApprovers(ctx context.Context, actor *auth.User, id int64, stages [][]int64) error {
	return s.changeTx(ctx, actor, id, ActAssign, func(tx *sql.Tx, d *Detail) error {
		c := d.Change
		if len(stages) == 0 {
			return invalid("stages", "name at least one approval stage with at least one approver")
		}
		if len(stages) > MaxApprovalStages {
			return invalid("stages", "at most %d approval stages, got %d", MaxApprovalStages, len(stages))
		}
		people := 0
		for _, st := range stages {
			people += len(st)
		}
		if people > MaxPeoplePerRequest {
			return invalid("stages", "at most %d approvers in all, got %d", MaxPeoplePerRequest, people)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM change_approvals WHERE change_id = $1 AND round = $2`, id, c.Round); err != nil {
			return err
		}
		var desc []string
		// A person signs once per round: the same approver in two stages
		// would add a second signature that means nothing new.
		stageOf := map[int64]int{}
		for i, st := range stages {
			if len(st) == 0 {
				return invalid(fmt.Sprintf("stages[%d]", i), "an approval stage needs at least one approver")
			}
			for _, uid := range st {
				if prev, ok := stageOf[uid]; ok && prev != i {
					return invalid(fmt.Sprintf("stages[%d]", i), "an approver signs once per round, but user %d is in stages %d and %d", uid, prev+1, i+1)
				}
				stageOf[uid] = i
			}
			var names []string
			for _, uid := range st {
				u, err := userWithRole(ctx, tx, fmt.Sprintf("stages[%d]", i), uid, auth.RoleApprover, c.SiteID)
				if err != nil {
					return err
				}
				if u.ID == c.InitiatorID {
					return invalid(fmt.Sprintf("stages[%d]", i), "nobody approves their own change: %s is the initiator", u.Name)
				}
				_, err = tx.ExecContext(ctx, `INSERT INTO change_approvals (change_id, round, stage_no, approver_id) VALUES ($1,$2,$3,$4)`,
					id, c.Round, i+1, u.ID)
				if store.IsUniqueViolation(err) {
					return invalid(fmt.Sprintf("stages[%d]", i), "%s is listed twice in one stage", u.Name)
				}
				if err != nil {
					return err
				}
				names = append(names, u.Name)
			}
			desc = append(desc, fmt.Sprintf("%d: %s", i+1, strings.Join(names, ", ")))
		}
		return s.audit(ctx, tx, id, actor, "", "approvers_set", "approvers", "", strings.Join(desc, "; "))
	})
}

// startReview is the start_review transition: every discipline review
// must have a reviewer and at least one approver must be named.
func (s *Service) startReview(ctx context.Context, tx *sql.Tx, actor *auth.User, d *Detail) error {
	c := d.Change
	var pending []int64
	for _, r := range d.Reviews {
		if r.Round != c.Round {
			continue
		}
		if r.ReviewerID == 0 {
			return invalid("reviewer_id", "assign a reviewer for the %s first", reviewName(r.Discipline))
		}
		pending = append(pending, r.ReviewerID)
	}
	if !slices.ContainsFunc(d.Approvals, func(a Approval) bool { return a.Round == c.Round }) {
		return invalid("approvers", "name the approvers before starting the review")
	}
	if len(pending) == 0 {
		// Nothing to review (a PCR with no discipline affected): straight to approval.
		return s.startApproval(ctx, tx, actor, d)
	}
	if err := s.setStage(ctx, tx, actor, c, StageReview, ""); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE change_reviews SET requested_at = $1 WHERE change_id = $2 AND round = $3`, s.now(), c.ID, c.Round); err != nil {
		return err
	}
	return s.notify(ctx, tx, notify.TypeReviewRequested, c, "Review requested: "+c.Number+" "+c.Title,
		"Please review "+c.Number+" for your discipline.", pending...)
}

// startApproval moves to Approval and requests the first stage.
func (s *Service) startApproval(ctx context.Context, tx *sql.Tx, actor *auth.User, d *Detail) error {
	if err := s.setStage(ctx, tx, actor, d.Change, StageApproval, ""); err != nil {
		return err
	}
	return s.requestApprovalStage(ctx, tx, d.Change, 1)
}

func (s *Service) requestApprovalStage(ctx context.Context, tx *sql.Tx, c *Change, stageNo int) error {
	if _, err := tx.ExecContext(ctx, `UPDATE change_approvals SET requested_at = $1 WHERE change_id = $2 AND round = $3 AND stage_no = $4`,
		s.now(), c.ID, c.Round, stageNo); err != nil {
		return err
	}
	ids, err := userIDs(ctx, tx, `SELECT approver_id FROM change_approvals WHERE change_id = $1 AND round = $2 AND stage_no = $3`, c.ID, c.Round, stageNo)
	if err != nil {
		return err
	}
	// Delegates acting today hear about it too, except those who would
	// sign twice in the round (Detail.maySignAsDelegate): they may not
	// decide it.
	withDel, err := s.withDelegates(ctx, tx, c.SiteID, ids)
	if err != nil {
		return err
	}
	signers, err := userIDs(ctx, tx, `SELECT approver_id FROM change_approvals WHERE change_id = $1 AND round = $2
		UNION SELECT decided_by FROM change_approvals WHERE change_id = $1 AND round = $2 AND decided_by IS NOT NULL`, c.ID, c.Round)
	if err != nil {
		return err
	}
	for _, id := range withDel[len(ids):] {
		if !slices.Contains(signers, id) {
			ids = append(ids, id)
		}
	}
	return s.notify(ctx, tx, notify.TypeApprovalRequested, c, "Approval requested: "+c.Number+" "+c.Title,
		fmt.Sprintf("Approval stage %d of %s is waiting for your decision.", stageNo, c.Number), ids...)
}

// DecideReview records the actor's discipline review of the current round.
// discipline may be empty when the actor has only one review pending.
// A rejection (comment required) returns the change to the initiator;
// the last review moves the change to Approval.
func (s *Service) DecideReview(ctx context.Context, actor *auth.User, id int64, discipline string, decision Decision, comment string) error {
	return s.DecideReviewWith(ctx, actor, id, ReviewDecision{Discipline: discipline, Decision: decision, Comment: comment})
}

// MaxReviewConditions bounds the conditions of one review.
const MaxReviewConditions = 20

// ReviewDecision is a reviewer's decision; Conditions are given with
// DecisionReviewedWithConditions only, each becoming an action item.
type ReviewDecision struct {
	Discipline string
	Decision   Decision
	Comment    string
	Conditions []ReviewCondition
}

// ReviewCondition is one condition of a review: what must be done, by
// whom, by when (the site's default when nil), before or after startup.
type ReviewCondition struct {
	Title         string     `json:"title"`
	OwnerID       int64      `json:"owner_id"`
	DueOn         *time.Time `json:"due_on"`
	BeforeStartup bool       `json:"before_startup"`
}

// checkConditions validates a review's conditions, naming the field of
// the first wrong one (conditions[2].title).
func (s *Service) checkConditions(rd ReviewDecision) error {
	withConditions := rd.Decision == DecisionReviewedWithConditions
	switch {
	case withConditions && len(rd.Conditions) == 0:
		return invalid("conditions", "name at least one condition, or record the review without conditions")
	case !withConditions && len(rd.Conditions) > 0:
		return invalid("conditions", "conditions go with the decision %s only", DecisionReviewedWithConditions)
	case len(rd.Conditions) > MaxReviewConditions:
		return invalid("conditions", "at most %d conditions, got %d", MaxReviewConditions, len(rd.Conditions))
	}
	var p problem.List
	for i, cd := range rd.Conditions {
		f := fmt.Sprintf("conditions[%d].", i)
		if strings.TrimSpace(cd.Title) == "" {
			p.Invalid(f+"title", "is required: say what must be done")
		}
		if cd.OwnerID <= 0 {
			p.Invalid(f+"owner_id", "choose who owns the condition")
		}
		if cd.DueOn != nil && dateOnly(*cd.DueOn).Before(dateOnly(s.now())) {
			p.Invalid(f+"due_on", "must be today or later, got %s", dateOnly(*cd.DueOn).Format(time.DateOnly))
		}
	}
	return p.Err()
}

// DecideReviewWith records the actor's discipline review of the current
// round, as DecideReview, and turns the conditions of a review "reviewed
// — with conditions" into action items linked to the review: the
// before-startup ones block startup like any pre-startup action.
func (s *Service) DecideReviewWith(ctx context.Context, actor *auth.User, id int64, rd ReviewDecision) error {
	discipline, decision, comment := rd.Discipline, rd.Decision, rd.Comment
	if decision == DecisionReviewedWithConditions {
		if err := s.checkConditions(rd); err != nil {
			return err
		}
	}
	return s.changeTx(ctx, actor, id, ActReview, func(tx *sql.Tx, d *Detail) error {
		c := d.Change
		var rv *Review
		for i := range d.Reviews {
			r := &d.Reviews[i]
			if r.Round == c.Round && r.ReviewerID == actor.ID && r.DecidedAt == nil &&
				(discipline == "" || r.Discipline == strings.ToLower(discipline)) {
				rv = r
				break
			}
		}
		if rv == nil {
			return invalid("discipline", "you have no pending %q review on %s", discipline, c.Number)
		}
		yes := DecisionReviewed
		if decision == DecisionReviewedWithConditions {
			yes = decision
		}
		comment, err := checkDecision(decision, yes, comment, ": say what must change")
		if err != nil {
			return err
		}
		if rv.Discipline == DisciplineHazardReview && decision != DecisionRejected {
			if err := d.requireHazardRecord(); err != nil {
				return err
			}
		}
		if err := s.checkConditions(ReviewDecision{Decision: decision, Conditions: rd.Conditions}); err != nil {
			return err
		}
		now := s.now()
		if _, err := tx.ExecContext(ctx, `UPDATE change_reviews SET decision=$1, comment=$2, decided_by=$3, decided_at=$4 WHERE id=$5`,
			string(decision), comment, actor.ID, now, rv.ID); err != nil {
			return err
		}
		rv.Decision, rv.DecidedAt = decision, &now
		if err := s.audit(ctx, tx, id, actor, "", "review_"+string(decision), rv.Discipline, "", comment); err != nil {
			return err
		}
		for i, cd := range rd.Conditions {
			_, err := s.insertAction(ctx, tx, actor, c, NewAction{Title: cd.Title, Kind: ActionCondition, OwnerID: cd.OwnerID,
				DueOn: cd.DueOn, BeforeStartup: cd.BeforeStartup, reviewID: rv.ID})
			var pe *problem.Error
			if errors.As(err, &pe) && pe.Field != "" {
				// Say which condition is wrong, not just which field.
				return invalid(fmt.Sprintf("conditions[%d].%s", i, pe.Field), "%s", strings.TrimPrefix(pe.Message, pe.Field+": "))
			}
			if err != nil {
				return err
			}
		}
		if decision == DecisionRejected {
			why := fmt.Sprintf("%s rejected by %s: %s", strings.ToUpper(reviewName(rv.Discipline)[:1])+reviewName(rv.Discipline)[1:], actor.Name, comment)
			if c.permanentRound() {
				return s.refusePermanent(ctx, tx, actor, c, why+".")
			}
			return s.returnToInitiator(ctx, tx, actor, c, notify.TypeRejected, why)
		}
		for _, r := range d.Reviews {
			if r.Round == c.Round && r.DecidedAt == nil {
				return nil
			}
		}
		return s.startApproval(ctx, tx, actor, d)
	})
}

// returnToInitiator sends the change back for revision with a comment.
func (s *Service) returnToInitiator(ctx context.Context, tx *sql.Tx, actor *auth.User, c *Change, typ notify.Type, comment string) error {
	if err := s.setStage(ctx, tx, actor, c, StageReturned, "return_comment = $3", comment); err != nil {
		return err
	}
	if err := s.withdrawPendingReviews(ctx, tx, actor, c, comment); err != nil {
		return err
	}
	return s.notify(ctx, tx, typ, c, c.Number+" returned for revision", comment, c.InitiatorID)
}

// withdrawPendingReviews closes the reviews of the round still waiting
// when the change goes back to its initiator: the next round asks again.
// Their reviewers are told why (in the app and by email), so the review
// does not just vanish from their My work.
func (s *Service) withdrawPendingReviews(ctx context.Context, tx *sql.Tx, actor *auth.User, c *Change, reason string) error {
	rows, err := tx.QueryContext(ctx, `SELECT id, discipline, COALESCE(reviewer_id, 0), requested_at IS NOT NULL FROM change_reviews
		WHERE change_id = $1 AND round = $2 AND decided_at IS NULL ORDER BY discipline`, c.ID, c.Round)
	if err != nil {
		return fmt.Errorf("pending reviews of %s: %w", c.Number, err)
	}
	type pending struct {
		id         int64
		discipline string
		reviewer   int64
		requested  bool
	}
	var ps []pending
	for rows.Next() {
		var p pending
		if err := rows.Scan(&p.id, &p.discipline, &p.reviewer, &p.requested); err != nil {
			rows.Close()
			return err
		}
		ps = append(ps, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	why := "Withdrawn: " + c.Number + " was returned for revision. " + reason
	for _, p := range ps {
		if _, err := tx.ExecContext(ctx, `UPDATE change_reviews SET decision = $1, comment = $2, decided_at = $3 WHERE id = $4`,
			string(DecisionWithdrawn), why, s.now(), p.id); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, c.ID, actor, "", "review_withdrawn", p.discipline, "", reason); err != nil {
			return err
		}
		// Only a reviewer who was asked has something to stop working on.
		if !p.requested || p.reviewer == 0 || p.reviewer == actor.ID {
			continue
		}
		if err := s.notify(ctx, tx, notify.TypeReturned, c, "Your "+reviewName(p.discipline)+" of "+c.Number+" was withdrawn",
			fmt.Sprintf("You need not review %s %s now: it was returned to its initiator for revision (%s). If it is resubmitted, you may be asked again.",
				c.Number, c.Title, reason), p.reviewer); err != nil {
			return err
		}
	}
	return nil
}

// checkDecision validates a review or approval decision: yes (reviewed
// or approved) or rejected, which needs a comment (rejectHint tells what
// it should say). It returns the trimmed comment.
func checkDecision(decision, yes Decision, comment, rejectHint string) (string, error) {
	comment = strings.TrimSpace(comment)
	switch decision {
	case yes:
	case DecisionRejected:
		if comment == "" {
			return "", invalid("comment", "is required when rejecting%s", rejectHint)
		}
	default:
		return "", invalid("decision", "must be %s or rejected, got %q", yes, decision)
	}
	return comment, nil
}

// requireSignature refuses a signed decision whose signer did not just
// confirm their identity (the web edge verifies it).
func requireSignature(sig Signature) error {
	if !sig.Verified {
		return &problem.Error{Kind: problem.Reauth, Field: "password", Message: "password: confirm your identity to sign this decision"}
	}
	return nil
}

// Decide records an approval decision (approved or rejected) by the actor
// for the current approval stage, as the approver or as their delegate.
// The signature must be verified by the edge; nobody approves their own
// change; a rejection needs a comment and returns the change to the
// initiator. The last approval of the last stage moves the change to
// Implementation.
func (s *Service) Decide(ctx context.Context, actor *auth.User, id int64, decision Decision, comment string, sig Signature) (*Approval, error) {
	var out *Approval
	err := s.changeTx(ctx, actor, id, ActApprove, func(tx *sql.Tx, d *Detail) error {
		c := d.Change
		comment, err := checkDecision(decision, DecisionApproved, comment, ": say why")
		if err != nil {
			return err
		}
		ap := d.pendingApprovalFor(actor.ID)
		// Signed first: the meaning names the stage still waiting.
		if _, err := s.sign(ctx, tx, actor, d, ActApprove, decision, ap.ID, comment, sig); err != nil {
			return err
		}
		now := s.now()
		signed := actor.Name
		onBehalf := ""
		if ap.ApproverID != actor.ID {
			onBehalf = ap.ApproverName
			signed = actor.Name + " on behalf of " + ap.ApproverName
		}
		if _, err := tx.ExecContext(ctx, `UPDATE change_approvals SET decision=$1, comment=$2, decided_by=$3, signed_name=$4,
			signature_method=$5, decided_at=$6 WHERE id=$7`, string(decision), comment, actor.ID, signed, sig.Method, now, ap.ID); err != nil {
			return err
		}
		ap.Decision, ap.Comment, ap.DecidedBy, ap.DecidedByName, ap.SignedName, ap.SignatureMethod, ap.DecidedAt =
			decision, comment, actor.ID, actor.Name, signed, sig.Method, &now
		ap.OnBehalfOf = onBehalf != ""
		out = ap
		if err := s.audit(ctx, tx, id, actor, onBehalf, "approval_"+string(decision), fmt.Sprintf("stage %d", ap.StageNo),
			"", strings.TrimSpace(signed+" ("+sig.Method+") "+comment)); err != nil {
			return err
		}
		if onBehalf != "" {
			// The approver hears what was signed in their name.
			body := fmt.Sprintf("%s signed your approval (stage %d) of %s %s as your delegate: %s.", actor.Name, ap.StageNo, c.Number, c.Title, decision)
			if comment != "" {
				body += " Comment: " + comment
			}
			if err := s.notify(ctx, tx, notify.TypeDelegateDecided, c, fmt.Sprintf("%s %s %s on your behalf", actor.Name, decision, c.Number),
				body, ap.ApproverID); err != nil {
				return err
			}
		}
		if decision == DecisionRejected {
			if c.permanentRound() {
				return s.refusePermanent(ctx, tx, actor, c, fmt.Sprintf("Re-approval refused by %s: %s.", signed, comment))
			}
			return s.returnToInitiator(ctx, tx, actor, c, notify.TypeRejected,
				fmt.Sprintf("Rejected by %s: %s", signed, comment))
		}
		if next := d.currentApprovalStage(); next != 0 {
			if next != ap.StageNo {
				return s.requestApprovalStage(ctx, tx, c, next)
			}
			return nil
		}
		if c.permanentRound() {
			return s.makePermanent(ctx, tx, actor, d)
		}
		if c.EmergencyAuthorizedAt != nil && c.EmergencyStage != "" {
			// Implemented first: the work is already under way (or done).
			if err := s.finishEmergencyReview(ctx, tx, actor, c, now); err != nil {
				return err
			}
			coords, err := s.coordinators(ctx, tx, c.SiteID)
			if err != nil {
				return err
			}
			return s.notify(ctx, tx, notify.TypeApproved, c, c.Number+": full review of the emergency change complete", c.Title,
				append(coords, c.InitiatorID)...)
		}
		if err := s.setStage(ctx, tx, actor, c, StageImplementation, "approved_at = $3", now); err != nil {
			return err
		}
		coords, err := s.coordinators(ctx, tx, c.SiteID)
		if err != nil {
			return err
		}
		return s.notify(ctx, tx, notify.TypeApproved, c, c.Number+" approved: ready for implementation", c.Title,
			append(coords, c.InitiatorID)...)
	})
	return out, err
}

// CreateDelegation lets delegateID decide the actor's approvals from
// startsOn to endsOn (inclusive dates).
func (s *Service) CreateDelegation(ctx context.Context, actor *auth.User, delegateID int64, startsOn, endsOn time.Time, reason string) (*Delegation, error) {
	if !actor.Has(auth.RoleApprover) {
		return nil, forbidden("only an approver can delegate approvals")
	}
	startsOn, endsOn = dateOnly(startsOn), dateOnly(endsOn)
	if startsOn.IsZero() || endsOn.IsZero() {
		return nil, invalid("starts_on", "starts_on and ends_on are required (YYYY-MM-DD)")
	}
	// A range wholly in the past would never let anyone decide anything.
	if endsOn.Before(dateOnly(s.now())) {
		return nil, invalid("ends_on", "must be today or later")
	}
	if endsOn.Before(startsOn) {
		return nil, invalid("ends_on", "must not be before starts_on")
	}
	if delegateID == actor.ID {
		return nil, invalid("delegate_id", "you cannot delegate to yourself")
	}
	var id int64
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		u, err := auth.UserByID(ctx, tx, delegateID)
		if errors.Is(err, store.ErrNotFound) {
			return invalid("delegate_id", "no user with id %d", delegateID)
		}
		if err != nil {
			return err
		}
		if !u.Has(auth.RoleApprover) || u.Disabled {
			return invalid("delegate_id", "%s is not an active approver", u.Name)
		}
		return tx.QueryRowContext(ctx, `INSERT INTO delegations (delegator_id, delegate_id, starts_on, ends_on, reason, created_at)
			VALUES ($1,$2,$3,$4,$5,$6) RETURNING id`, actor.ID, delegateID, startsOn, endsOn, strings.TrimSpace(reason), s.now()).Scan(&id)
	})
	if err != nil {
		return nil, err
	}
	ds, err := s.Delegations(ctx, actor)
	if err != nil {
		return nil, err
	}
	for i := range ds {
		if ds[i].ID == id {
			return &ds[i], nil
		}
	}
	return nil, fmt.Errorf("delegation %d vanished", id)
}

// DelegateCandidates are the people CreateDelegation accepts as the
// actor's delegate: enabled approvers other than the actor. No site
// filter: a delegate acts only on the changes of the sites they share with
// the change (check, withDelegates, MyWork), so one delegation can cover
// an approver's several sites with whoever is at each.
func (s *Service) DelegateCandidates(ctx context.Context, actor *auth.User) ([]*auth.User, error) {
	all, err := auth.ListUsers(ctx, s.DB.SQL)
	if err != nil {
		return nil, err
	}
	var out []*auth.User
	for _, u := range all {
		if u.ID != actor.ID && !u.Disabled && u.Has(auth.RoleApprover) {
			out = append(out, u)
		}
	}
	return out, nil
}

// Delegation states as of a day: a revoked one is revoked whatever its dates.
const (
	DelegationActive   = "active"
	DelegationUpcoming = "upcoming"
	DelegationPast     = "past"
	DelegationRevoked  = "revoked"
)

// State says whether the delegation applies on today's date, as
// activeDelegators decides it (inclusive dates).
func (d Delegation) State(now time.Time) string {
	today := dateOnly(now)
	switch {
	case d.RevokedAt != nil:
		return DelegationRevoked
	case today.Before(d.StartsOn):
		return DelegationUpcoming
	case today.After(d.EndsOn):
		return DelegationPast
	}
	return DelegationActive
}

// Delegations lists the delegations the actor gave or received.
func (s *Service) Delegations(ctx context.Context, actor *auth.User) ([]Delegation, error) {
	rows, err := s.DB.SQL.QueryContext(ctx, `SELECT d.id, d.delegator_id, a.name, d.delegate_id, b.name, d.starts_on, d.ends_on, d.reason,
		d.created_at, d.revoked_at FROM delegations d JOIN users a ON a.id = d.delegator_id JOIN users b ON b.id = d.delegate_id
		WHERE d.delegator_id = $1 OR d.delegate_id = $1 ORDER BY d.id`, actor.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Delegation{}
	for rows.Next() {
		var d Delegation
		var rev sql.NullTime
		if err := rows.Scan(&d.ID, &d.DelegatorID, &d.DelegatorName, &d.DelegateID, &d.DelegateName, &d.StartsOn, &d.EndsOn,
			&d.Reason, &d.CreatedAt, &rev); err != nil {
			return nil, err
		}
		d.StartsOn, d.EndsOn, d.CreatedAt, d.RevokedAt = d.StartsOn.UTC(), d.EndsOn.UTC(), d.CreatedAt.UTC(), ptime(rev)
		out = append(out, d)
	}
	return out, rows.Err()
}

// RevokeDelegation ends a delegation the actor gave.
func (s *Service) RevokeDelegation(ctx context.Context, actor *auth.User, id int64) error {
	res, err := s.DB.SQL.ExecContext(ctx, `UPDATE delegations SET revoked_at = $1 WHERE id = $2 AND delegator_id = $3 AND revoked_at IS NULL`,
		s.now(), id, actor.ID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("no active delegation %d of yours", id)
	}
	return nil
}

// reviewName names a discipline's review in a message: "mechanical
// review", and "hazard review" (not "hazard_review review").
func reviewName(discipline string) string {
	if discipline == DisciplineHazardReview {
		return "hazard review"
	}
	return discipline + " review"
}
