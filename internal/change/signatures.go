package change

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/sitetime"
	"github.com/mocpcr/mocpcr/internal/store"
)

// ControlPoint names a decision that moves a change past a point of
// control. Each is decided by someone other than the initiator and
// recorded as a SignatureRecord.
type ControlPoint string

// The control points.
const (
	CPApproval ControlPoint = "approval"
	// CPMakePermanent is an approver's re-approval of a temporary change
	// becoming permanent (an approval of a make-permanent round).
	CPMakePermanent ControlPoint = "make_permanent"
	CPStartup       ControlPoint = "startup"
	CPExtension     ControlPoint = "extension"
	CPRIK           ControlPoint = "rik_confirmation"
	CPEmergency     ControlPoint = "emergency_authorisation"
	CPCloseout      ControlPoint = "closeout"
	// CPPSSRSignoff is the PSSR team lead's sign-off of the review.
	CPPSSRSignoff ControlPoint = "pssr_signoff"
	// CPScreening is a coordinator's confirmation of the screening answers.
	CPScreening ControlPoint = "screening_confirmation"
)

// ControlPointLabels are the control points as people read them.
var ControlPointLabels = map[ControlPoint]string{
	CPApproval: "Approval", CPMakePermanent: "Re-approval to make permanent", CPStartup: "Startup authorisation",
	CPExtension: "Extension decision", CPRIK: "Replacement-in-kind confirmation", CPEmergency: "Emergency authorisation",
	CPCloseout: "Close-out", CPPSSRSignoff: "PSSR sign-off", CPScreening: "Screening confirmation",
}

// Label is the control point's display name.
func (cp ControlPoint) Label() string { return ControlPointLabels[cp] }

// More decisions a signature can carry, beside approved and rejected.
const (
	DecisionAuthorized Decision = "authorized"
	DecisionConfirmed  Decision = "confirmed"
	DecisionClosed     Decision = "closed"
	DecisionSignedOff  Decision = "signed_off"
)

// SignatureRecord is one electronic signature (21 CFR 11.50): who signed
// (printed name and job title at the time), when (with the time zone it
// was shown in) and what it means, stated in full as the signer read it
// before signing.
type SignatureRecord struct {
	ID           int64        `json:"id"`
	ChangeID     int64        `json:"change_id"`
	ControlPoint ControlPoint `json:"control_point"`
	// RefID is the approval or extension the signature decides, or 0.
	RefID       int64    `json:"ref_id,omitempty"`
	Decision    Decision `json:"decision"`
	Meaning     string   `json:"meaning"`
	SignerID    int64    `json:"signer_id,omitempty"`
	PrintedName string   `json:"printed_name"`
	JobTitle    string   `json:"job_title"`
	// OnBehalfOf names the approver when a delegate signed for them.
	OnBehalfOf string `json:"on_behalf_of,omitempty"`
	// Method says how the signer confirmed who they were (password, entra).
	Method  string `json:"method"`
	Comment string `json:"comment,omitempty"`
	// SignedAt is in TimeZone, so its JSON carries the offset
	// (2026-03-02T10:00:00+01:00).
	SignedAt time.Time `json:"signed_at"`
	TimeZone string    `json:"time_zone"`
}

// When is the signing time as printed on a signature line: date, time,
// zone abbreviation and offset ("2026-03-02 10:00 CET (UTC+01:00)").
func (r SignatureRecord) When() string {
	return sitetime.Format(r.SignedAt, r.SignedAt.Location())
}

// Signer is the printed name with the job title, as a signature line
// shows it: "Arno Berg, Operations Superintendent".
func (r SignatureRecord) Signer() string {
	if r.JobTitle == "" {
		return r.PrintedName + " (no job title on record)"
	}
	return r.PrintedName + ", " + r.JobTitle
}

// Statement is what a signature form states before the user signs: the
// meaning in full and the name and title the record will print. Detail
// lists one per signed decision the user may make now (ToSign).
type Statement struct {
	Action      Action   `json:"action"`
	Decision    Decision `json:"decision"`
	Meaning     string   `json:"meaning"`
	PrintedName string   `json:"printed_name"`
	JobTitle    string   `json:"job_title"`
	OnBehalfOf  string   `json:"on_behalf_of,omitempty"`
}

// ControlPoint says which control point the statement's signature passes.
func (st Statement) controlPoint(d *Detail) ControlPoint {
	switch st.Action {
	case ActApprove:
		if d.Change.permanentRound() {
			return CPMakePermanent
		}
		return CPApproval
	case ActAuthorizeStartup:
		return CPStartup
	case ActDecideExtension:
		return CPExtension
	case ActConfirmRIK:
		return CPRIK
	case ActAuthorizeEmergency:
		return CPEmergency
	case ActClose:
		return CPCloseout
	case ActSignOffPSSR:
		return CPPSSRSignoff
	case ActConfirmScreening:
		return CPScreening
	}
	return ""
}

// SignedActions are the actions whose decision is an electronic
// signature: the form states the meaning and asks for the password.
var SignedActions = []Action{ActApprove, ActSignOffPSSR, ActAuthorizeStartup, ActDecideExtension, ActConfirmRIK, ActAuthorizeEmergency, ActClose, ActConfirmScreening}

// meaning states in full what signing action a with decision means for
// the change, in the signer's voice. It is shown on the form before
// signing and stored, word for word, in the record.
func (d *Detail) meaning(actor *auth.User, a Action, decision Decision) (text, onBehalf string) {
	c := d.Change
	switch a {
	case ActApprove:
		verb := "approve "
		if decision == DecisionRejected {
			verb = "reject "
		}
		what := c.Number
		if c.permanentRound() {
			what = "making temporary change " + c.Number + " permanent"
		}
		stage := 0
		if ap := d.pendingApprovalFor(actor.ID); ap != nil {
			stage = ap.StageNo
			if ap.ApproverID != actor.ID {
				onBehalf = ap.ApproverName
			}
		}
		text = fmt.Sprintf("By signing I %s%s as approver, stage %d", verb, what, stage)
		if onBehalf != "" {
			text += ", on behalf of " + onBehalf
		}
		return text, onBehalf
	case ActAuthorizeStartup:
		return "By signing I authorise startup of " + c.Number + ": the pre-startup safety review is complete", ""
	case ActDecideExtension:
		to := ""
		if ext := d.pendingExtension(); ext != nil {
			to = " to " + ext.NewExpiresOn.Format(time.DateOnly)
		}
		if decision == DecisionRejected {
			return "By signing I reject extending temporary change " + c.Number + to, ""
		}
		return "By signing I approve extending temporary change " + c.Number + to, ""
	case ActConfirmRIK:
		return "By signing I confirm " + c.Number + " as a replacement in kind: same specification", ""
	case ActAuthorizeEmergency:
		return "By signing I authorise " + c.Number + " for implementation before full review", ""
	case ActClose:
		return "By signing I close out " + c.Number + " as MOC coordinator: every action is done", ""
	case ActSignOffPSSR:
		return "By signing I sign off the pre-startup safety review of " + c.Number +
			" as PSSR team lead: every checklist item is answered and every deficiency closed", ""
	case ActConfirmScreening:
		v := 0
		if c.Screening != nil {
			v = c.Screening.QuestionnaireVersion
		}
		if v == 0 {
			return "By signing I confirm the screening of " + c.Number + " as given on the checkboxes: " +
				"the reviews, hazard review, PSSR and actions it asks for", ""
		}
		return fmt.Sprintf("By signing I confirm the screening of %s on questionnaire version %d, with the overrides stated: "+
			"the reviews, hazard review, PSSR and actions its answers require", c.Number, v), ""
	}
	return "", ""
}

// statements lists what actor could sign now, with its meaning.
func (d *Detail) statements(actor *auth.User) []Statement {
	out := []Statement{}
	for _, a := range SignedActions {
		if !slices.Contains(d.AllowedActions, a) {
			continue
		}
		decisions := []Decision{signedDecision(a)}
		if a == ActApprove || a == ActDecideExtension {
			decisions = []Decision{DecisionApproved, DecisionRejected}
		}
		for _, dec := range decisions {
			m, onBehalf := d.meaning(actor, a, dec)
			out = append(out, Statement{Action: a, Decision: dec, Meaning: m, PrintedName: actor.Name, JobTitle: actor.JobTitle, OnBehalfOf: onBehalf})
		}
	}
	return out
}

// Statement returns what signing action a with decision would state,
// for the form; ok is false when the user cannot sign it now.
func (d *Detail) Statement(a Action, decision Decision) (st Statement, ok bool) {
	for _, s := range d.ToSign {
		if s.Action == a && (decision == "" || s.Decision == decision) {
			return s, true
		}
	}
	return Statement{}, false
}

// signedDecision is the one decision of a signed action that has no choice.
func signedDecision(a Action) Decision {
	switch a {
	case ActAuthorizeStartup, ActAuthorizeEmergency:
		return DecisionAuthorized
	case ActConfirmRIK, ActConfirmScreening:
		return DecisionConfirmed
	case ActClose:
		return DecisionClosed
	case ActSignOffPSSR:
		return DecisionSignedOff
	}
	return DecisionApproved
}

// sign records actor's signature of action a with decision on the
// change in tx, after the edge verified who they are (sig), and audits
// it with its meaning, so the hash chain covers what was signed. refID
// is the approval or extension decided.
func (s *Service) sign(ctx context.Context, tx *sql.Tx, actor *auth.User, d *Detail, a Action, decision Decision,
	refID int64, comment string, sig Signature) (*SignatureRecord, error) {
	if err := requireSignature(sig); err != nil {
		return nil, err
	}
	c := d.Change
	meaning, onBehalf := d.meaning(actor, a, decision)
	cp := Statement{Action: a}.controlPoint(d)
	settings, err := siteSettings(ctx, tx, c.SiteID)
	if err != nil {
		return nil, err
	}
	// The title as it is now, not as cached with the session: the record
	// prints what the signer is at the moment of signing.
	title := actor.JobTitle
	if err := tx.QueryRowContext(ctx, `SELECT job_title FROM users WHERE id = $1`, actor.ID).Scan(&title); err != nil {
		return nil, fmt.Errorf("sign: job title: %w", err)
	}
	rec := &SignatureRecord{ChangeID: c.ID, ControlPoint: cp, RefID: refID, Decision: decision, Meaning: meaning,
		SignerID: actor.ID, PrintedName: actor.Name, JobTitle: title, OnBehalfOf: onBehalf, Method: sig.Method,
		Comment: strings.TrimSpace(comment), SignedAt: s.now(), TimeZone: settings.TimeZone}
	if err := tx.QueryRowContext(ctx, `INSERT INTO change_signatures (change_id, control_point, ref_id, decision, meaning, signer_id,
		printed_name, job_title, on_behalf_of, method, comment, signed_at, time_zone) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)
		RETURNING id`, rec.ChangeID, string(rec.ControlPoint), nid(rec.RefID), string(rec.Decision), rec.Meaning, rec.SignerID,
		rec.PrintedName, rec.JobTitle, rec.OnBehalfOf, rec.Method, rec.Comment, rec.SignedAt, rec.TimeZone).Scan(&rec.ID); err != nil {
		return nil, fmt.Errorf("record signature on %s: %w", c.Number, err)
	}
	rec.SignedAt = rec.SignedAt.In(settings.Location())
	line := fmt.Sprintf("%s; %s; %s; %s", rec.Signer(), rec.When(), rec.Method, rec.Meaning)
	if err := s.audit(ctx, tx, c.ID, actor, onBehalf, "signed", string(cp), "", line); err != nil {
		return nil, err
	}
	d.Signatures = append(d.Signatures, *rec)
	return rec, nil
}

// signatures loads a change's signature records, oldest first, with
// each time in the zone it was signed in.
func (s *Service) signatures(ctx context.Context, q store.Querier, changeID int64) ([]SignatureRecord, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, change_id, control_point, COALESCE(ref_id, 0), decision, meaning, COALESCE(signer_id, 0),
		printed_name, job_title, on_behalf_of, method, comment, signed_at, time_zone FROM change_signatures WHERE change_id = $1 ORDER BY id`, changeID)
	if err != nil {
		return nil, fmt.Errorf("load signatures: %w", err)
	}
	defer rows.Close()
	out := []SignatureRecord{}
	for rows.Next() {
		var r SignatureRecord
		if err := rows.Scan(&r.ID, &r.ChangeID, &r.ControlPoint, &r.RefID, &r.Decision, &r.Meaning, &r.SignerID, &r.PrintedName,
			&r.JobTitle, &r.OnBehalfOf, &r.Method, &r.Comment, &r.SignedAt, &r.TimeZone); err != nil {
			return nil, err
		}
		r.SignedAt = r.SignedAt.In(zone(r.TimeZone))
		out = append(out, r)
	}
	return out, rows.Err()
}

// Signature returns the latest signature record of control point cp
// (for cp with a row, refID picks the approval or extension), or nil.
func (d *Detail) Signature(cp ControlPoint, refID int64) *SignatureRecord {
	for i := len(d.Signatures) - 1; i >= 0; i-- {
		r := &d.Signatures[i]
		if r.ControlPoint == cp && (refID == 0 || r.RefID == refID) {
			return r
		}
	}
	return nil
}

// ApprovalSignature is the signature record of an approval (for the
// approval and make-permanent control points alike), or nil.
func (d *Detail) ApprovalSignature(approvalID int64) *SignatureRecord {
	for i := range d.Signatures {
		r := &d.Signatures[i]
		if (r.ControlPoint == CPApproval || r.ControlPoint == CPMakePermanent) && r.RefID == approvalID {
			return r
		}
	}
	return nil
}
