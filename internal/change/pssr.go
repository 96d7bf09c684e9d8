package change

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/problem"
	"github.com/mocpcr/mocpcr/internal/store"
)

func (s *Service) pssrItems(ctx context.Context, q store.Querier, changeID int64) ([]PSSRItem, error) {
	rows, err := q.QueryContext(ctx, `SELECT p.id, p.change_id, p.position, p.text, p.evidence_required, p.answer, p.comment,
		COALESCE(p.attachment_id, 0), COALESCE(p.answered_by, 0), COALESCE(u.name, ''), p.answered_at, p.version, p.section
		FROM pssr_items p LEFT JOIN users u ON u.id = p.answered_by WHERE p.change_id = $1 ORDER BY p.position`, changeID)
	if err != nil {
		return nil, fmt.Errorf("load PSSR: %w", err)
	}
	defer rows.Close()
	out := []PSSRItem{}
	for rows.Next() {
		var it PSSRItem
		var at sql.NullTime
		if err := rows.Scan(&it.ID, &it.ChangeID, &it.Position, &it.Text, &it.EvidenceRequired, &it.Answer, &it.Comment,
			&it.AttachmentID, &it.AnsweredBy, &it.AnsweredByName, &at, &it.Version, &it.Section); err != nil {
			return nil, err
		}
		it.AnsweredAt = ptime(at)
		out = append(out, it)
	}
	return out, rows.Err()
}

// createPSSRChecklist copies the default template's items onto the change
// (once: a change that comes back to PSSR keeps its answers).
func (s *Service) createPSSRChecklist(ctx context.Context, tx *sql.Tx, c *Change) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM pssr_items WHERE change_id = $1`, c.ID).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO pssr_items (change_id, position, text, evidence_required, section)
		SELECT $1, i.position, i.text, i.evidence_required, i.section FROM pssr_template_items i
		JOIN pssr_templates t ON t.id = i.template_id WHERE t.is_default`, c.ID)
	if err != nil {
		return fmt.Errorf("create PSSR checklist: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return conflict("no default PSSR template has items: an admin must set one up first")
	}
	return nil
}

// PSSRAnswer is one answer to a checklist item.
type PSSRAnswer struct {
	Answer       string
	Comment      string
	AttachmentID int64
	// Version, when set, is the item's version the answer was given
	// against (what the device showed): if the item was answered since,
	// the answer is refused as a conflict naming what is recorded now.
	Version *int64
}

// AnswerPSSR answers one checklist item Yes, No or N/A without a version
// check (the API's answer without "version"); see AnswerPSSRItem.
func (s *Service) AnswerPSSR(ctx context.Context, actor *auth.User, itemID int64, answer, comment string, attachmentID int64) (*PSSRItem, error) {
	return s.AnswerPSSRItem(ctx, actor, itemID, PSSRAnswer{Answer: answer, Comment: comment, AttachmentID: attachmentID})
}

// AnswerPSSRItem answers one checklist item Yes, No or N/A. An N/A needs a
// comment (the justification). A No needs a comment and creates a pre-startup deficiency (an action item owned by
// the initiator) that must be closed before startup is authorised. A Yes
// on an item that requires evidence needs an attachment of the change.
// With a.Version set, an item answered since that version is not
// overwritten: the refusal (Conflict, field "version") says what is
// recorded, by whom and when. The same answer sent again by the person who
// gave it (a device resending what the network lost) is not a conflict.
func (s *Service) AnswerPSSRItem(ctx context.Context, actor *auth.User, itemID int64, a PSSRAnswer) (*PSSRItem, error) {
	answer, comment, attachmentID := a.Answer, a.Comment, a.AttachmentID
	var changeID int64
	err := s.DB.SQL.QueryRowContext(ctx, `SELECT change_id FROM pssr_items WHERE id = $1`, itemID).Scan(&changeID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("PSSR item %d not found", itemID)
	}
	if err != nil {
		return nil, err
	}
	var out *PSSRItem

	err = s.changeTx(ctx, actor, changeID, ActAnswerPSSR, func(tx *sql.Tx, d *Detail) error {
		c := d.Change
		var it *PSSRItem
		for i := range d.PSSR {
			if d.PSSR[i].ID == itemID {
				it = &d.PSSR[i]
			}
		}
		answer = strings.ToLower(strings.TrimSpace(answer))
		comment = strings.TrimSpace(comment)
		if n := utf8.RuneCountInString(comment); n > MaxPSSRComment {
			return invalid("comment", "at most %d characters, got %d", MaxPSSRComment, n)
		}
		if a.Version != nil && *a.Version != it.Version {
			if it.Answer == answer && it.Comment == comment && it.AnsweredBy == actor.ID && (attachmentID == 0 || attachmentID == it.AttachmentID) {
				out = it // already recorded: the device did not hear the first reply
				return nil
			}
			return d.answerConflict(it, answer)
		}
		switch answer {
		case AnswerYes:
			if it.EvidenceRequired && attachmentID == 0 {
				return invalid("attachment_id", "item %d requires evidence: attach a file to %s and name it here", it.Position, c.Number)
			}
		case AnswerNo:
			if comment == "" {
				return invalid("comment", "is required for a No: describe the deficiency")
			}
		case AnswerNA:
			// An N/A is a judgement an auditor will question: the record
			// must say why the item does not apply.
			if comment == "" {
				return invalid("comment", "is required for N/A: say why the item does not apply to this change")
			}
		default:
			return invalid("answer", "must be yes, no or na, got %q", answer)
		}
		if attachmentID != 0 {
			var owner int64
			err := tx.QueryRowContext(ctx, `SELECT change_id FROM change_attachments WHERE id = $1`, attachmentID).Scan(&owner)
			if errors.Is(err, sql.ErrNoRows) || (err == nil && owner != c.ID) {
				return invalid("attachment_id", "attachment %d is not attached to %s", attachmentID, c.Number)
			}
			if err != nil {
				return err
			}
		}
		now := s.now()
		if _, err := tx.ExecContext(ctx, `UPDATE pssr_items SET answer=$1, comment=$2, attachment_id=$3, answered_by=$4, answered_at=$5,
			version = version + 1 WHERE id=$6`, answer, comment, nid(attachmentID), actor.ID, now, it.ID); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, c.ID, actor, "", "pssr_answered", fmt.Sprintf("pssr item %d", it.Position), it.Answer,
			strings.TrimSpace(answer+" "+comment)); err != nil {
			return err
		}
		if answer == AnswerNo {
			if _, err := s.insertActionFor(ctx, tx, actor, c, NewAction{
				Title: fmt.Sprintf("PSSR deficiency (item %d): %s", it.Position, comment), Kind: ActionDeficiency,
				OwnerID: c.InitiatorID, BeforeStartup: true,
			}, it.ID); err != nil {
				return err
			}
		}
		it.Answer, it.Comment, it.AttachmentID, it.AnsweredBy, it.AnsweredByName, it.AnsweredAt = answer, comment, attachmentID, actor.ID, actor.Name, &now
		it.Version++
		out = it
		return nil
	})
	return out, asMissing(err, "PSSR item %d not found", itemID)
}

// answerConflict is the refusal of an answer given against an older
// version of the item: what is recorded now, so the user can decide.
func (d *Detail) answerConflict(it *PSSRItem, yours string) *problem.Error {
	msg := fmt.Sprintf("Item %d changed since your device loaded it", it.Position)
	if it.Answer != "" {
		msg += fmt.Sprintf(": it is now answered %s by %s", answerWord(it.Answer), it.AnsweredByName)
		if it.AnsweredAt != nil {
			msg += ", " + it.AnsweredAt.Format("2006-01-02 15:04 UTC")
		}
		if it.Comment != "" {
			msg += " (" + quoteTitle(it.Comment) + ")"
		}
	}
	msg += fmt.Sprintf(". Your answer %s was not saved: look at the recorded answer and answer again if it must change.", answerWord(yours))
	return &problem.Error{Kind: problem.Conflict, Field: "version", Message: msg}
}

// answerWord is an answer as people write it.
func answerWord(a string) string {
	switch a {
	case AnswerYes:
		return "Yes"
	case AnswerNo:
		return "No"
	case AnswerNA:
		return "N/A"
	}
	return "“" + a + "”"
}

// PSSRTemplates lists the checklist templates with their items.
func (s *Service) PSSRTemplates(ctx context.Context) ([]PSSRTemplate, error) {
	rows, err := s.DB.SQL.QueryContext(ctx, `SELECT id, name, is_default, updated_at FROM pssr_templates ORDER BY id`)
	if err != nil {
		return nil, err
	}
	var out []PSSRTemplate
	for rows.Next() {
		var t PSSRTemplate
		if err := rows.Scan(&t.ID, &t.Name, &t.IsDefault, &t.UpdatedAt); err != nil {
			rows.Close()
			return nil, err
		}
		t.UpdatedAt = t.UpdatedAt.UTC()
		t.Items = []PSSRTemplateItem{}
		out = append(out, t)
	}
	rows.Close()
	for i := range out {
		irows, err := s.DB.SQL.QueryContext(ctx, `SELECT text, evidence_required, section FROM pssr_template_items WHERE template_id = $1 ORDER BY position`, out[i].ID)
		if err != nil {
			return nil, err
		}
		for irows.Next() {
			var it PSSRTemplateItem
			if err := irows.Scan(&it.Text, &it.EvidenceRequired, &it.Section); err != nil {
				irows.Close()
				return nil, err
			}
			out[i].Items = append(out[i].Items, it)
		}
		irows.Close()
	}
	if out == nil {
		out = []PSSRTemplate{}
	}
	return out, nil
}

// PSSRTemplate returns one template.
func (s *Service) PSSRTemplate(ctx context.Context, id int64) (*PSSRTemplate, error) {
	ts, err := s.PSSRTemplates(ctx)
	if err != nil {
		return nil, err
	}
	for i := range ts {
		if ts[i].ID == id {
			return &ts[i], nil
		}
	}
	return nil, notFound("PSSR template %d not found", id)
}

// SavePSSRTemplate creates (id 0) or replaces a template (admin only).
// Making it the default unsets the previous default. Changes already in
// PSSR keep their copied checklist.
func (s *Service) SavePSSRTemplate(ctx context.Context, actor *auth.User, t PSSRTemplate) (*PSSRTemplate, error) {
	if !actor.Has(auth.RoleAdmin) {
		return nil, forbidden("only an admin may edit PSSR templates")
	}
	t.Name = strings.TrimSpace(t.Name)
	if t.Name == "" {
		return nil, invalid("name", "is required")
	}
	if len(t.Items) == 0 {
		return nil, invalid("items", "a checklist needs at least one item")
	}
	if len(t.Items) > MaxPSSRItems {
		return nil, invalid("items", "a checklist may have at most %d items, got %d", MaxPSSRItems, len(t.Items))
	}
	for i, it := range t.Items {
		if strings.TrimSpace(it.Text) == "" {
			return nil, invalid(fmt.Sprintf("items[%d].text", i), "is required")
		}
		if n := utf8.RuneCountInString(it.Text); n > MaxPSSRItemText {
			return nil, invalid(fmt.Sprintf("items[%d].text", i), "at most %d characters, got %d", MaxPSSRItemText, n)
		}
		if n := utf8.RuneCountInString(strings.TrimSpace(it.Section)); n > MaxPSSRSectionName {
			return nil, invalid(fmt.Sprintf("items[%d].section", i), "at most %d characters, got %d", MaxPSSRSectionName, n)
		}
	}
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		now := s.now()
		if t.IsDefault {
			if _, err := tx.ExecContext(ctx, `UPDATE pssr_templates SET is_default = FALSE WHERE is_default`); err != nil {
				return err
			}
		}
		if t.ID == 0 {
			if err := tx.QueryRowContext(ctx, `INSERT INTO pssr_templates (name, is_default, created_at, updated_at) VALUES ($1,$2,$3,$3) RETURNING id`,
				t.Name, t.IsDefault, now).Scan(&t.ID); err != nil {
				return err
			}
		} else {
			res, err := tx.ExecContext(ctx, `UPDATE pssr_templates SET name=$1, is_default=$2, updated_at=$3 WHERE id=$4`, t.Name, t.IsDefault, now, t.ID)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return notFound("PSSR template %d not found", t.ID)
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM pssr_template_items WHERE template_id = $1`, t.ID); err != nil {
				return err
			}
		}
		for i, it := range t.Items {
			if _, err := tx.ExecContext(ctx, `INSERT INTO pssr_template_items (template_id, position, text, evidence_required, section) VALUES ($1,$2,$3,$4,$5)`,
				t.ID, i+1, strings.TrimSpace(it.Text), it.EvidenceRequired, strings.TrimSpace(it.Section)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.PSSRTemplate(ctx, t.ID)
}
