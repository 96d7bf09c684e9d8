package change

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/notify"
	"github.com/mocpcr/mocpcr/internal/problem"
	"github.com/mocpcr/mocpcr/internal/store"
)

// PSSRMember is one person of a change's PSSR team.
type PSSRMember struct {
	UserID int64  `json:"user_id"`
	Name   string `json:"name"`
	// Lead signs the PSSR off; a team has one lead.
	Lead bool `json:"lead"`
	// Scope is the discipline or checklist section the member walks;
	// empty is the whole checklist.
	Scope   string    `json:"scope,omitempty"`
	AddedAt time.Time `json:"added_at"`
}

// PSSRTeamRequest is the whole team as the coordinator names it: the
// lead and the members with their scopes. The lead is a member too,
// whether or not Members lists them.
type PSSRTeamRequest struct {
	LeadID  int64               `json:"lead_id"`
	Members []PSSRMemberRequest `json:"members"`
}

// PSSRMemberRequest names one member and what they walk.
type PSSRMemberRequest struct {
	UserID int64  `json:"user_id"`
	Scope  string `json:"scope"`
}

// MaxScopeLength bounds a team member's scope (a discipline or a
// checklist section's name), in characters; a section name has the same
// bound (MaxPSSRSectionName).
const MaxScopeLength = 100

func (s *Service) pssrTeam(ctx context.Context, q store.Querier, changeID int64) ([]PSSRMember, error) {
	rows, err := q.QueryContext(ctx, `SELECT t.user_id, u.name, t.is_lead, t.scope, t.added_at FROM pssr_team t
		JOIN users u ON u.id = t.user_id WHERE t.change_id = $1 ORDER BY t.is_lead DESC, u.name, t.user_id`, changeID)
	if err != nil {
		return nil, fmt.Errorf("load PSSR team: %w", err)
	}
	defer rows.Close()
	out := []PSSRMember{}
	for rows.Next() {
		var m PSSRMember
		if err := rows.Scan(&m.UserID, &m.Name, &m.Lead, &m.Scope, &m.AddedAt); err != nil {
			return nil, err
		}
		m.AddedAt = m.AddedAt.UTC()
		out = append(out, m)
	}
	return out, rows.Err()
}

// PSSRLead is the team's lead, or nil while none is named.
func (d *Detail) PSSRLead() *PSSRMember {
	for i := range d.PSSRTeam {
		if d.PSSRTeam[i].Lead {
			return &d.PSSRTeam[i]
		}
	}
	return nil
}

// onPSSRTeam reports whether userID is on the change's PSSR team.
func (d *Detail) onPSSRTeam(userID int64) bool {
	return slices.ContainsFunc(d.PSSRTeam, func(m PSSRMember) bool { return m.UserID == userID })
}

// PSSRSections are the checklist's sections in checklist order ("" for
// items in no section, as the checklist's one unnamed section).
func (d *Detail) PSSRSections() []string {
	var out []string
	for _, it := range d.PSSR {
		if !slices.Contains(out, it.Section) {
			out = append(out, it.Section)
		}
	}
	return out
}

// PSSRSignOff is the lead's sign-off that still stands, or nil: the
// latest pssr_signoff signature, given by the current lead, with no
// checklist answer given after it. A new lead, or an answer changed
// after signing, needs a new sign-off.
func (d *Detail) PSSRSignOff() *SignatureRecord {
	sig := d.Signature(CPPSSRSignoff, 0)
	lead := d.PSSRLead()
	if sig == nil || lead == nil || sig.SignerID != lead.UserID {
		return nil
	}
	for _, it := range d.PSSR {
		if it.AnsweredAt != nil && it.AnsweredAt.After(sig.SignedAt) {
			return nil
		}
	}
	return sig
}

// requirePSSRSignedOff holds startup until the PSSR team lead has signed
// the review off.
func (d *Detail) requirePSSRSignedOff() *problem.Error {
	if d.PSSRSignOff() != nil {
		return nil
	}
	lead := d.PSSRLead()
	switch {
	case lead == nil:
		return conflict("No PSSR team lead is named: an MOC coordinator assigns the PSSR team, and its lead signs the PSSR off before startup.")
	case d.Signature(CPPSSRSignoff, 0) != nil:
		return conflict("The PSSR changed after it was signed off (or its lead changed): %s, the PSSR team lead, signs it off again.", lead.Name)
	}
	return conflict("%s, the PSSR team lead, has not signed the PSSR off yet.", lead.Name)
}

// requireDeficienciesClosed refuses while a PSSR deficiency is open: the
// lead signs off a review whose findings are dealt with.
func (d *Detail) requireDeficienciesClosed() *problem.Error {
	var open []string
	for _, a := range d.Actions {
		if a.Kind == ActionDeficiency && !a.Closed() {
			open = append(open, actionTitle(a))
		}
	}
	if n := len(open); n > 0 {
		return conflict("%s still open: %s. %s be closed before the PSSR is signed off.",
			count(n, "PSSR deficiency is", "PSSR deficiencies are"), strings.Join(open, ", "), itThey(n)+" must")
	}
	return nil
}

// pssrScopes are the scopes a member may be named for: the disciplines,
// and the sections of the change's checklist (of the default template
// while the checklist is not copied yet).
func (s *Service) pssrScopes(ctx context.Context, q store.Querier, d *Detail) ([]string, error) {
	out := slices.Clone(Disciplines)
	if len(d.PSSR) > 0 {
		for _, sec := range d.PSSRSections() {
			if sec != "" {
				out = append(out, sec)
			}
		}
		return out, nil
	}
	secs, err := userIDsText(ctx, q, `SELECT DISTINCT i.section FROM pssr_template_items i JOIN pssr_templates t ON t.id = i.template_id
		WHERE t.is_default AND i.section <> '' ORDER BY i.section`)
	return append(out, secs...), err
}

func userIDsText(ctx context.Context, q store.Querier, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// PSSRScopes are the scopes the team form offers (see pssrScopes).
func (s *Service) PSSRScopes(ctx context.Context, d *Detail) ([]string, error) {
	return s.pssrScopes(ctx, s.DB.SQL, d)
}

// SetPSSRTeam names a change's PSSR team (coordinator; from screening
// until startup), replacing the team named before. The lead signs the
// PSSR off, so the lead is never the initiator. Members added while the
// PSSR is under way are told at once (in the app and by email); the
// others are told when implementation is complete and the PSSR is ready.
func (s *Service) SetPSSRTeam(ctx context.Context, actor *auth.User, id int64, req PSSRTeamRequest) ([]PSSRMember, error) {
	if len(req.Members) > MaxPeoplePerRequest {
		return nil, invalid("members", "at most %d people per team, got %d", MaxPeoplePerRequest, len(req.Members))
	}
	if req.LeadID <= 0 {
		return nil, invalid("lead_id", "is required: choose the PSSR team lead, who signs the PSSR off")
	}
	err := s.changeTx(ctx, actor, id, ActAssignPSSRTeam, func(tx *sql.Tx, d *Detail) error {
		c := d.Change
		scopes, err := s.pssrScopes(ctx, tx, d)
		if err != nil {
			return err
		}
		type row struct {
			user  *auth.User
			scope string
			lead  bool
		}
		var team []row
		seen := map[int64]int{}
		for i, m := range req.Members {
			field := fmt.Sprintf("members[%d]", i)
			if m.UserID <= 0 {
				return invalid(field+".user_id", "choose a person")
			}
			if _, dup := seen[m.UserID]; dup {
				return invalid(field+".user_id", "names the same person twice; give one scope per person (or none: the whole checklist)")
			}
			scope := strings.TrimSpace(m.Scope)
			if n := utf8.RuneCountInString(scope); n > MaxScopeLength {
				return invalid(field+".scope", "at most %d characters, got %d", MaxScopeLength, n)
			}
			if scope != "" {
				i := slices.IndexFunc(scopes, func(s string) bool { return strings.EqualFold(s, scope) })
				if i < 0 {
					return invalid(field+".scope", "%q is neither a discipline nor a section of the checklist: expected one of %s, or none for the whole checklist",
						scope, strings.Join(scopes, ", "))
				}
				scope = scopes[i]
			}
			u, err := teamUser(ctx, tx, field+".user_id", m.UserID, c.SiteID)
			if err != nil {
				return err
			}
			seen[m.UserID] = len(team)
			team = append(team, row{user: u, scope: scope})
		}
		lead, err := teamUser(ctx, tx, "lead_id", req.LeadID, c.SiteID)
		if err != nil {
			return err
		}
		if lead.ID == c.InitiatorID {
			return invalid("lead_id", "nobody signs off the PSSR of their own change: choose someone other than the initiator")
		}
		if !lead.Has(auth.RoleCoordinator) && !lead.Has(auth.RoleApprover) && !lead.Has(auth.RoleReviewer) {
			return invalid("lead_id", "%s cannot sign off a PSSR: the lead needs the reviewer, approver or coordinator role", lead.Name)
		}
		if i, ok := seen[lead.ID]; ok {
			team[i].lead = true
		} else {
			team = append([]row{{user: lead, lead: true}}, team...)
		}
		describe := func(names []string) string { return strings.Join(names, "; ") }
		var before, after []string
		for _, m := range d.PSSRTeam {
			before = append(before, memberLine(m.Name, m.Scope, m.Lead))
		}
		now := s.now()
		if _, err := tx.ExecContext(ctx, `DELETE FROM pssr_team WHERE change_id = $1`, c.ID); err != nil {
			return err
		}
		var added []int64
		for _, m := range team {
			at, known := now, false
			for _, old := range d.PSSRTeam {
				if old.UserID == m.user.ID {
					at, known = old.AddedAt, true
				}
			}
			if !known {
				added = append(added, m.user.ID)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO pssr_team (change_id, user_id, is_lead, scope, added_by, added_at) VALUES ($1,$2,$3,$4,$5,$6)`,
				c.ID, m.user.ID, m.lead, m.scope, actor.ID, at); err != nil {
				return fmt.Errorf("save PSSR team of %s: %w", c.Number, err)
			}
			after = append(after, memberLine(m.user.Name, m.scope, m.lead))
		}
		if describe(before) != describe(after) {
			if err := s.audit(ctx, tx, c.ID, actor, "", "pssr_team", "pssr_team", describe(before), describe(after)); err != nil {
				return err
			}
		}
		if c.ImplementationStage() == StagePSSR && len(added) > 0 {
			return s.notifyPSSRTeam(ctx, tx, c, added)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.pssrTeam(ctx, s.DB.SQL, id)
}

// memberLine is one member as the audit trail records the team.
func memberLine(name, scope string, lead bool) string {
	line := name
	if scope != "" {
		line += " (" + scope + ")"
	}
	if lead {
		line += ", lead"
	}
	return line
}

// teamUser loads a person the coordinator names to the team: enabled and
// a member of the change's site.
func teamUser(ctx context.Context, q store.Querier, field string, id, siteID int64) (*auth.User, error) {
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
	if !u.OnSite(siteID) {
		return nil, invalid(field, "%s is not a member of this site", u.Name)
	}
	return u, nil
}

// notifyPSSRTeam tells members of the team that the PSSR is ready for
// them, with a link straight to the walkdown page.
func (s *Service) notifyPSSRTeam(ctx context.Context, tx *sql.Tx, c *Change, members []int64) error {
	if s.Notifier == nil || len(members) == 0 {
		return nil
	}
	return s.Notifier.Notify(ctx, tx, notify.Event{
		Type: notify.TypePSSRReady, Title: "PSSR ready for your walkdown: " + c.Number + " " + c.Title,
		Body: "You are on the PSSR team of " + c.Number + ". Implementation is complete: walk the checklist " +
			"(the walkdown page works on a phone or tablet, offline too).",
		Link: "/changes/" + c.Number + "/walkdown", Recipients: members,
	})
}

// teamIDs are the user ids of the change's PSSR team.
func (d *Detail) teamIDs() []int64 {
	var out []int64
	for _, m := range d.PSSRTeam {
		out = append(out, m.UserID)
	}
	return out
}

// PSSRItemDeficiencies are the deficiencies a No on the item raised,
// oldest first: an item keeps them in its history whatever it is
// answered later.
func (d *Detail) PSSRItemDeficiencies(itemID int64) []ActionItem {
	var out []ActionItem
	for _, a := range d.Actions {
		if a.Kind == ActionDeficiency && a.PSSRItemID == itemID {
			out = append(out, a)
		}
	}
	return out
}

// DeficiencyHistory says in a line what became of a No's deficiency:
// "No — deficiency closed 2026-12-03 by Ines Initiator", or that it is
// still open, with its owner and due date.
func DeficiencyHistory(a ActionItem) string {
	switch a.Status {
	case ActionDone:
		at, by := a.CompletedAt, a.CompletedByName
		line := "No — deficiency closed"
		if a.VerifiedAt != nil {
			at = a.VerifiedAt
		}
		if at != nil {
			line += " " + at.Format(time.DateOnly)
		}
		if by != "" {
			line += " by " + by
		}
		if a.VerifiedByName != "" {
			line += ", verified by " + a.VerifiedByName
		}
		return line
	case ActionToVerify:
		return "No — deficiency done by " + a.CompletedByName + ", awaiting verification"
	}
	line := "No — deficiency open, owned by " + a.OwnerName
	if a.DueOn != nil {
		line += ", due " + a.DueOn.Format(time.DateOnly)
	}
	return line
}
