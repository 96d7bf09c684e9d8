// Package change is the MOC and PCR domain: change requests, their stages,
// screening, reviews, approvals and delegations, action items, PSSR
// checklists, acknowledgements, attachments, the tamper-evident audit
// trail, reminders and dashboard numbers. It knows nothing about HTTP:
// the web pages and the JSON API both call Service, and map the kinds of
// its errors (package problem) to statuses at the edge.
package change

import (
	"strings"
	"time"

	"github.com/mocpcr/mocpcr/internal/problem"
)

// Kind says which workflow a change follows.
type Kind string

// The kinds.
const (
	// KindMOC is a Management of Change: the full workflow, with a PSSR
	// when screening says one is needed.
	KindMOC Kind = "MOC"
	// KindPCR is a Process Change Request: procedure and document changes
	// with no hardware, and never a PSSR.
	KindPCR Kind = "PCR"
)

// Before is what the actions due "before" lead up to, in a sentence
// ("must be done before startup"). A PCR changes procedures and
// documents and starts nothing up, so its pages and emails never speak
// of startup: its point is the completion of its implementation.
func (k Kind) Before() string {
	if k == KindPCR {
		return "before implementation is complete"
	}
	return "before startup"
}

// ActionWhen labels an action as due before or after that point:
// "before startup" / "after startup", for a PCR "before completion" /
// "after completion".
func ActionWhen(k Kind, before bool) string {
	switch {
	case k == KindPCR && before:
		return "before completion"
	case k == KindPCR:
		return "after completion"
	case before:
		return "before startup"
	}
	return "after startup"
}

// ActionWhen labels an action of c. Once a temporary change has been
// reverted, what is left after startup is taking it out again (the
// restore actions), which close-out waits for: "after startup" would read
// as if the change were starting up.
func (c *Change) ActionWhen(before bool) string {
	if !before && c.RevertedAt != nil {
		return "before close-out of the reverted change"
	}
	return ActionWhen(c.Kind, before)
}

// KindOfNumber is the kind a change number starts with (PCR-2026-0007).
func KindOfNumber(number string) Kind {
	if strings.HasPrefix(number, string(KindPCR)+"-") {
		return KindPCR
	}
	return KindMOC
}

// preActions names the actions due before that point, one or many.
func (k Kind) preActions(n int) string {
	if k == KindPCR {
		return count(n, "action due before completion is", "actions due before completion are")
	}
	return count(n, "pre-startup action is", "pre-startup actions are")
}

// Duration says how long a change is meant to stay.
type Duration string

// The durations.
const (
	DurationPermanent Duration = "permanent"
	// DurationTemporary needs an expiry date; at expiry the owner reverts
	// it or converts it to permanent.
	DurationTemporary Duration = "temporary"
	// DurationEmergency is implemented first and must finish its review by
	// the review deadline set at creation. It is always also temporary.
	DurationEmergency Duration = "emergency"
)

// IsTemporary reports whether the duration carries an expiry date.
func (d Duration) IsTemporary() bool { return d == DurationTemporary || d == DurationEmergency }

// Stage is where a change is in its workflow.
type Stage string

// The stages, in workflow order, then the two side states.
const (
	StageDraft Stage = "draft"
	// StageRIKConfirmation holds a change submitted as a replacement in
	// kind until someone other than the initiator confirms the claim
	// (signed) or rejects it into the normal flow.
	StageRIKConfirmation Stage = "rik_confirmation"
	StageScreening       Stage = "screening"
	StageReview          Stage = "review"
	StageApproval        Stage = "approval"
	StageImplementation  Stage = "implementation"
	StagePSSR            Stage = "pssr"
	// StageInService: a temporary change is in the plant, its expiry
	// counting down, until it is reverted or made permanent.
	StageInService Stage = "in_service"
	StageCloseout  Stage = "closeout"
	StageClosed    Stage = "closed"
	StageReturned  Stage = "returned"
	StageVoided    Stage = "voided"
)

// Stages lists every stage in display order.
var Stages = []Stage{StageDraft, StageRIKConfirmation, StageScreening, StageReview, StageApproval, StageImplementation,
	StagePSSR, StageInService, StageCloseout, StageClosed, StageReturned, StageVoided}

// StageLabels are the stage names people read.
var StageLabels = map[Stage]string{
	StageDraft: "Draft", StageRIKConfirmation: "Awaiting RIK confirmation", StageScreening: "Screening", StageReview: "Review", StageApproval: "Approval",
	StageImplementation: "Implementation", StagePSSR: "PSSR", StageInService: "In service", StageCloseout: "Close-out", StageClosed: "Closed",
	StageReturned: "Returned for revision", StageVoided: "Voided",
}

// Label is the stage's display name.
func (s Stage) Label() string { return StageLabels[s] }

// IsOpen reports whether a change in this stage is still live.
func (s Stage) IsOpen() bool { return s != StageClosed && s != StageVoided }

// Disciplines that screening can mark as affected; each gets a review.
var Disciplines = []string{"process", "mechanical", "electrical", "instrumentation", "operations", "ehs", "civil", "maintenance"}

// DisciplineHazardReview is the review added when screening says a hazard
// review (PHA, HAZOP, what-if) is needed.
const DisciplineHazardReview = "hazard_review"

// RiskRankings are the accepted risk rankings.
var RiskRankings = []string{"low", "medium", "high", "very_high"}

// Change is one change request.
type Change struct {
	ID       int64    `json:"id"`
	Number   string   `json:"number"`
	Kind     Kind     `json:"kind"`
	Duration Duration `json:"duration"`
	Stage    Stage    `json:"stage"`

	Title         string   `json:"title"`
	Description   string   `json:"description"`
	SiteID        int64    `json:"site_id"`
	SiteCode      string   `json:"site_code"`
	UnitID        int64    `json:"unit_id,omitempty"`
	UnitCode      string   `json:"unit_code,omitempty"`
	EquipmentTags []string `json:"equipment_tags"`
	Reason        string   `json:"reason"`
	// RiskRanking is the risk level after the change (the highest over
	// the categories of Risk, when assessed on the matrix): what the
	// list, its filters, the CSV and the dashboard use.
	RiskRanking string `json:"risk_ranking"`
	// RiskBefore is the level before the change, when assessed.
	RiskBefore string `json:"risk_before,omitempty"`
	// Risk is the assessment on the site's risk matrix, nil for a change
	// ranked without one (before the matrix existed, or through the
	// API's risk_ranking).
	Risk *RiskAssessment `json:"risk_assessment,omitempty"`

	// The fields OSHA 1910.119(l)(2) requires before any change.
	TechnicalBasis        string `json:"technical_basis"`
	SafetyHealthImpact    string `json:"safety_health_impact"`
	ProcedureChanges      string `json:"procedure_changes"`
	TimePeriod            string `json:"time_period"`
	AuthorizationRequired string `json:"authorization_required"`

	// ExpiresOn is set for temporary and emergency changes (a date, UTC midnight).
	ExpiresOn *time.Time `json:"expires_on,omitempty"`
	// ReviewDeadline is set for emergency changes: the date the full
	// review is due (set at the emergency authorisation if not before).
	ReviewDeadline *time.Time `json:"review_deadline,omitempty"`
	// EmergencyAuthorizedAt is when an emergency change was authorised
	// (signed) for implementation before its full review.
	EmergencyAuthorizedAt *time.Time `json:"emergency_authorized_at,omitempty"`
	// EmergencyStage is where the implementation of an authorised
	// emergency change is while its review and approval run in Stage.
	EmergencyStage Stage `json:"emergency_stage,omitempty"`

	InitiatorID   int64      `json:"initiator_id"`
	InitiatorName string     `json:"initiator_name"`
	Screening     *Screening `json:"screening,omitempty"`
	// ReplacementInKind is set when the change was submitted as a
	// replacement in kind (it needs a confirmation, see StageRIKConfirmation).
	ReplacementInKind bool `json:"replacement_in_kind"`
	// RIKConfirmedBy and RIKConfirmedAt name who signed the replacement
	// in kind as such, for the CSV an auditor samples; set by
	// Service.WithRIKConfirmations only.
	RIKConfirmedBy string     `json:"-"`
	RIKConfirmedAt *time.Time `json:"-"`
	PSSRRequired   bool       `json:"pssr_required"`
	Round          int        `json:"round"`
	// PermanentRound is the round in which the approvers re-approve
	// making the temporary change permanent; 0 if never asked.
	PermanentRound int        `json:"permanent_round,omitempty"`
	ReturnComment  string     `json:"return_comment,omitempty"`
	VoidReason     string     `json:"void_reason,omitempty"`
	ClosedNote     string     `json:"closed_note,omitempty"`
	RevertedAt     *time.Time `json:"reverted_at,omitempty"`

	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	SubmittedAt *time.Time `json:"submitted_at,omitempty"`
	ApprovedAt  *time.Time `json:"approved_at,omitempty"`
	StartupAt   *time.Time `json:"startup_at,omitempty"`
	ClosedAt    *time.Time `json:"closed_at,omitempty"`
}

// permanentRound reports whether the current round is the re-approval
// of making a temporary change permanent, still to be decided.
func (c *Change) permanentRound() bool {
	return c.PermanentRound != 0 && c.PermanentRound == c.Round && c.Duration.IsTemporary()
}

// UnderEmergency reports whether an authorised emergency change is being
// implemented while its review and approval still run: Stage is then
// the review's, ImplementationStage the work's.
func (c *Change) UnderEmergency() bool {
	return c.EmergencyAuthorizedAt != nil && c.EmergencyStage != "" &&
		in(c.Stage, StageScreening, StageReview, StageApproval, StageReturned)
}

// ImplementationStage is where the work on the change is: the stage,
// or for an emergency change under way before its full review, the
// stage its implementation has reached.
func (c *Change) ImplementationStage() Stage {
	if c.UnderEmergency() {
		return c.EmergencyStage
	}
	return c.Stage
}

// AwaitingEmergencyAuthorization reports whether an emergency change
// waits for an approver or coordinator to authorise its implementation.
func (c *Change) AwaitingEmergencyAuthorization() bool {
	return c.Duration == DurationEmergency && c.EmergencyAuthorizedAt == nil && in(c.Stage, StageScreening, StageReview, StageApproval)
}

// EmergencyReviewOverdue reports whether an emergency change's full
// review is past its deadline as of today (a date).
func (c *Change) EmergencyReviewOverdue(today time.Time) bool {
	return c.Duration == DurationEmergency && c.ReviewDeadline != nil && today.After(*c.ReviewDeadline) &&
		in(c.Stage, StageScreening, StageReview, StageApproval, StageReturned)
}

// Converting reports whether the change is being re-reviewed or
// re-approved to become permanent; it stays in the plant meanwhile.
func (c *Change) Converting() bool {
	return c.permanentRound() && in(c.Stage, StageReview, StageApproval)
}

// LiveTemporary reports whether a temporary change is in the plant (or
// about to be) and not reverted: its expiry date counts.
func (c *Change) LiveTemporary() bool {
	return c.Duration.IsTemporary() && c.RevertedAt == nil &&
		(in(c.ImplementationStage(), StageImplementation, StagePSSR, StageInService, StageCloseout) || c.Converting())
}

// DaysToExpiry is how many days are left before the expiry date as of
// now (negative once past), and false when the change does not expire.
func (c *Change) DaysToExpiry(now time.Time) (int, bool) {
	if c.ExpiresOn == nil {
		return 0, false
	}
	return daysBetween(now, *c.ExpiresOn), true
}

// Screening is the questionnaire answered at submit. Its answers decide
// which reviews and steps the change needs.
type Screening struct {
	// ReplacementInKind claims the change replaces like with like (same
	// specification): no review or approval, but someone other than the
	// initiator must confirm the claim before it closes.
	ReplacementInKind bool `json:"replacement_in_kind"`
	// Disciplines affected; each gets a discipline review.
	Disciplines []string `json:"disciplines"`
	// PSIChanges: process safety information changes (adds a required action).
	PSIChanges bool `json:"psi_changes"`
	// ProceduresChange: operating procedures change (adds a required action).
	ProceduresChange bool `json:"procedures_change"`
	// HazardReviewNeeded: a PHA/HAZOP/what-if review is required.
	HazardReviewNeeded bool `json:"hazard_review_needed"`
	// PSSRNeeded: a pre-startup safety review is required (MOC only).
	PSSRNeeded bool `json:"pssr_needed"`

	// The fields below are set when the screening was answered on the
	// site's questionnaire (Submit with Answers); the ones above then
	// follow from the answers.

	// QuestionnaireID and QuestionnaireVersion are the version answered.
	QuestionnaireID      int64 `json:"questionnaire_id,omitempty"`
	QuestionnaireVersion int   `json:"questionnaire_version,omitempty"`
	// Answers are yes or no by question key, as confirmed.
	Answers map[string]string `json:"answers,omitempty"`
	// InitiatorAnswers are the answers as the initiator gave them.
	InitiatorAnswers map[string]string `json:"initiator_answers,omitempty"`
	// TrainingRequired: the people on the roster must be trained (sign)
	// before startup, and the roster may not be empty.
	TrainingRequired bool `json:"training_required,omitempty"`
	// Overrides are the answers the confirming coordinator changed.
	Overrides []ScreeningOverride `json:"overrides,omitempty"`
	// ConfirmedBy is the coordinator who confirmed the answers, signed.
	ConfirmedBy     int64      `json:"confirmed_by,omitempty"`
	ConfirmedByName string     `json:"confirmed_by_name,omitempty"`
	ConfirmedAt     *time.Time `json:"confirmed_at,omitempty"`
	// CarriedOver marks a screening ticked on the checkboxes before
	// questionnaires (migration 00161): its answers are on version 1,
	// and nobody was asked to confirm them.
	CarriedOver bool `json:"carried_over,omitempty"`
}

// Fields is what a create or update sets. Nil pointers leave a field as
// it is on update.
type Fields struct {
	Kind          *Kind
	Duration      *Duration
	Title         *string
	Description   *string
	SiteID        *int64
	UnitID        *int64 // 0 clears the unit
	EquipmentTags *[]string
	Reason        *string
	RiskRanking   *string
	// Risk assesses the change on its site's current risk matrix; the
	// level after the change becomes RiskRanking.
	Risk                  *RiskInput
	TechnicalBasis        *string
	SafetyHealthImpact    *string
	ProcedureChanges      *string
	TimePeriod            *string
	AuthorizationRequired *string
	ExpiresOn             **time.Time
	ReviewDeadline        **time.Time
	// Problems are fields the caller could not read (a date that does not
	// parse; leave the field nil). Create and Update report them with
	// every other invalid field, all at once, and save nothing.
	Problems []problem.FieldError
}

// FieldOrder is the order of the fields of a change on its form; a
// refusal lists invalid fields in it, so the first reported is the
// first the user meets.
var FieldOrder = []string{"kind", "duration", "title", "description", "site_id", "unit_id", "equipment_tags",
	"reason", "risk_ranking", "technical_basis", "safety_health_impact", "procedure_changes", "time_period",
	"authorization_required", "expires_on", "review_deadline"}

// Review is one discipline review of one round.
type Review struct {
	ID           int64      `json:"id"`
	ChangeID     int64      `json:"change_id"`
	Round        int        `json:"round"`
	Discipline   string     `json:"discipline"`
	ReviewerID   int64      `json:"reviewer_id,omitempty"`
	ReviewerName string     `json:"reviewer_name,omitempty"`
	RequestedAt  *time.Time `json:"requested_at,omitempty"`
	Decision     Decision   `json:"decision,omitempty"`
	Comment      string     `json:"comment,omitempty"`
	DecidedBy    int64      `json:"decided_by,omitempty"`
	DecidedAt    *time.Time `json:"decided_at,omitempty"`
}

// Decision is the meaning of a recorded decision.
type Decision string

// The decisions.
const (
	DecisionReviewed Decision = "reviewed"
	// DecisionReviewedWithConditions is a review that does not object
	// provided its conditions (action items) are met.
	DecisionReviewedWithConditions Decision = "reviewed_with_conditions"
	// DecisionWithdrawn closes a review still pending when the change
	// went back to its initiator; nobody decided it.
	DecisionWithdrawn Decision = "withdrawn"
	DecisionApproved  Decision = "approved"
	DecisionRejected  Decision = "rejected"
)

// Approval is one approver's slot in one approval stage of one round.
type Approval struct {
	ID              int64      `json:"id"`
	ChangeID        int64      `json:"change_id"`
	Round           int        `json:"round"`
	StageNo         int        `json:"stage_no"`
	ApproverID      int64      `json:"approver_id"`
	ApproverName    string     `json:"approver_name"`
	RequestedAt     *time.Time `json:"requested_at,omitempty"`
	Decision        Decision   `json:"decision,omitempty"`
	Comment         string     `json:"comment,omitempty"`
	DecidedBy       int64      `json:"decided_by,omitempty"`
	DecidedByName   string     `json:"decided_by_name,omitempty"`
	SignedName      string     `json:"signed_name,omitempty"`
	SignatureMethod string     `json:"signature_method,omitempty"`
	DecidedAt       *time.Time `json:"decided_at,omitempty"`
	// OnBehalfOf is true when a delegate decided for the approver.
	OnBehalfOf bool `json:"on_behalf_of"`
}

// Signature is the edge's statement that the user confirmed their
// identity again just before deciding (password for local accounts, a
// fresh sign-in for Entra ID). The domain refuses signed decisions
// without it.
type Signature struct {
	Verified bool
	// Method says how: "password", "entra", ...
	Method string
}

// Delegation lets Delegate act for Delegator over a dated period.
type Delegation struct {
	ID            int64      `json:"id"`
	DelegatorID   int64      `json:"delegator_id"`
	DelegatorName string     `json:"delegator_name"`
	DelegateID    int64      `json:"delegate_id"`
	DelegateName  string     `json:"delegate_name"`
	StartsOn      time.Time  `json:"starts_on"`
	EndsOn        time.Time  `json:"ends_on"`
	Reason        string     `json:"reason,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	RevokedAt     *time.Time `json:"revoked_at,omitempty"`
}

// ActionKind classifies action items.
type ActionKind string

// The action kinds.
const (
	ActionGeneral    ActionKind = "general"
	ActionPSI        ActionKind = "psi"
	ActionProcedure  ActionKind = "procedure"
	ActionDeficiency ActionKind = "deficiency"
	// ActionCondition is a condition a reviewer attached to their review.
	ActionCondition ActionKind = "condition"
	// ActionRecommendation is a recommendation of a hazard review record.
	ActionRecommendation ActionKind = "recommendation"
)

// ActionItem is a task on a change.
type ActionItem struct {
	ID            int64      `json:"id"`
	ChangeID      int64      `json:"change_id"`
	ChangeNumber  string     `json:"change_number,omitempty"`
	Title         string     `json:"title"`
	Kind          ActionKind `json:"kind"`
	OwnerID       int64      `json:"owner_id"`
	OwnerName     string     `json:"owner_name"`
	DueOn         *time.Time `json:"due_on,omitempty"`
	BeforeStartup bool       `json:"before_startup"`
	PSSRItemID    int64      `json:"pssr_item_id,omitempty"`
	Status        string     `json:"status"`
	Note          string     `json:"note,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	CompletedBy   int64      `json:"completed_by,omitempty"`
	// CompletedByName is who completed it, as they were named then.
	CompletedByName string     `json:"completed_by_name,omitempty"`
	CompletedAt     *time.Time `json:"completed_at,omitempty"`
	// EvidenceID is the attachment of the change the completer gave as
	// evidence (0: none).
	EvidenceID int64 `json:"evidence_id,omitempty"`
	// VerificationRequired: a coordinator asked that someone other than
	// the completer verifies the action before it counts as closed.
	VerificationRequired bool       `json:"verification_required"`
	VerifiedBy           int64      `json:"verified_by,omitempty"`
	VerifiedByName       string     `json:"verified_by_name,omitempty"`
	VerifiedAt           *time.Time `json:"verified_at,omitempty"`
	// ReviewID is the review whose condition this action is (0: none).
	ReviewID int64 `json:"review_id,omitempty"`
	// HazardReviewID is the hazard review record whose recommendation
	// this action is (0: none).
	HazardReviewID int64 `json:"hazard_review_id,omitempty"`
}

// Action statuses. An action counts as closed only when done: one that
// waits for verification still blocks what an open one blocks.
const (
	ActionOpen     = "open"
	ActionToVerify = "to_verify"
	ActionDone     = "done"
)

// Closed reports whether the action no longer holds anything up.
func (a ActionItem) Closed() bool { return a.Status == ActionDone }

// NewAction is what AddAction needs.
type NewAction struct {
	Title         string
	Kind          ActionKind
	OwnerID       int64
	DueOn         *time.Time
	BeforeStartup bool
	// reviewID links a review's condition to the review.
	reviewID int64
	// hazardReviewID links a recommendation to its hazard review record.
	hazardReviewID int64
}

// PSSRTemplate is an admin-editable PSSR checklist.
type PSSRTemplate struct {
	ID        int64              `json:"id"`
	Name      string             `json:"name"`
	IsDefault bool               `json:"is_default"`
	Items     []PSSRTemplateItem `json:"items"`
	UpdatedAt time.Time          `json:"updated_at"`
}

// PSSRTemplateItem is one checklist question.
type PSSRTemplateItem struct {
	Text             string `json:"text"`
	EvidenceRequired bool   `json:"evidence_required"`
	// Section groups items for a walkdown (one section at a time) and
	// for the PSSR team's scopes; empty: the checklist's one section.
	Section string `json:"section,omitempty"`
}

// PSSR answers.
const (
	AnswerYes = "yes"
	AnswerNo  = "no"
	AnswerNA  = "na"
)

// PSSRItem is one question of a change's PSSR checklist.
type PSSRItem struct {
	ID               int64  `json:"id"`
	ChangeID         int64  `json:"change_id"`
	Position         int    `json:"position"`
	Text             string `json:"text"`
	Section          string `json:"section,omitempty"`
	EvidenceRequired bool   `json:"evidence_required"`
	Answer           string `json:"answer,omitempty"`
	Comment          string `json:"comment,omitempty"`
	AttachmentID     int64  `json:"attachment_id,omitempty"`
	AnsweredBy       int64  `json:"answered_by,omitempty"`
	// AnsweredByName names who answered, for the PSSR record.
	AnsweredByName string     `json:"answered_by_name,omitempty"`
	AnsweredAt     *time.Time `json:"answered_at,omitempty"`
	// Version counts the item's answers. An answer that names the version
	// it was given against is refused as a conflict if the item was
	// answered since (another device, another person).
	Version int64 `json:"version"`
}

// Acknowledgement is one person on the training and acknowledgement roster.
type Acknowledgement struct {
	ChangeID       int64      `json:"change_id"`
	UserID         int64      `json:"user_id"`
	UserName       string     `json:"user_name"`
	AddedAt        time.Time  `json:"added_at"`
	AcknowledgedAt *time.Time `json:"acknowledged_at,omitempty"`
}

// Attachment describes a stored file (the bytes are fetched separately).
type Attachment struct {
	ID          int64     `json:"id"`
	ChangeID    int64     `json:"change_id"`
	Filename    string    `json:"filename"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"`
	UploadedBy  int64     `json:"uploaded_by"`
	UploadedAt  time.Time `json:"uploaded_at"`
}

// Extension is a request to move a temporary change's expiry date.
type Extension struct {
	ID           int64     `json:"id"`
	ChangeID     int64     `json:"change_id"`
	OldExpiresOn time.Time `json:"old_expires_on"`
	NewExpiresOn time.Time `json:"new_expires_on"`
	Reason       string    `json:"reason"`
	RequestedBy  int64     `json:"requested_by"`
	RequestedAt  time.Time `json:"requested_at"`
	Decision     Decision  `json:"decision,omitempty"`
	Comment      string    `json:"comment,omitempty"`
	DecidedBy    int64     `json:"decided_by,omitempty"`
	SignedName   string    `json:"signed_name,omitempty"`
	// SignatureMethod is how the signer confirmed who they were (password, entra).
	SignatureMethod string     `json:"signature_method,omitempty"`
	DecidedAt       *time.Time `json:"decided_at,omitempty"`
}

// AuditEntry is one line of a change's audit trail.
type AuditEntry struct {
	ChangeID   int64     `json:"change_id"`
	Seq        int64     `json:"seq"`
	At         time.Time `json:"at"`
	ActorID    int64     `json:"actor_id,omitempty"`
	ActorName  string    `json:"actor_name"`
	OnBehalfOf string    `json:"on_behalf_of,omitempty"`
	Action     string    `json:"action"`
	Field      string    `json:"field,omitempty"`
	OldValue   string    `json:"old_value,omitempty"`
	NewValue   string    `json:"new_value,omitempty"`
	PrevHash   string    `json:"prev_hash"`
	Hash       string    `json:"hash"`
}

// Unit is a process unit of a site.
type Unit struct {
	ID       int64  `json:"id"`
	SiteID   int64  `json:"site_id"`
	SiteCode string `json:"site_code"`
	Code     string `json:"code"`
	Name     string `json:"name"`
	// RetiredAt is set once the unit is retired: changes filed against it
	// keep it, new changes cannot choose it.
	RetiredAt *time.Time `json:"retired_at,omitempty"`
	// SiteRetired is true when the unit's site is retired: the unit is
	// then out of use too, whatever its own state.
	SiteRetired bool `json:"site_retired,omitempty"`
}

// Retired reports whether the unit is retired (for templates).
func (u Unit) Retired() bool { return u.RetiredAt != nil }

// InUse reports whether new changes may choose the unit: neither it nor
// its site is retired.
func (u Unit) InUse() bool { return u.RetiredAt == nil && !u.SiteRetired }

// Detail is a change with everything hanging off it, for the detail page
// and GET /api/v1/changes/{id}.
type Detail struct {
	Change    *Change      `json:"change"`
	Reviews   []Review     `json:"reviews"`
	Approvals []Approval   `json:"approvals"`
	Actions   []ActionItem `json:"actions"`
	PSSR      []PSSRItem   `json:"pssr"`
	// PSSRTeam walks the checklist; its lead signs the PSSR off.
	PSSRTeam         []PSSRMember      `json:"pssr_team"`
	Acknowledgements []Acknowledgement `json:"acknowledgements"`
	Attachments      []Attachment      `json:"attachments"`
	Extensions       []Extension       `json:"extensions"`
	// HazardReviews are the change's hazard review records, oldest first.
	HazardReviews []HazardReview `json:"hazard_reviews"`
	// Signatures are the signed decisions at the change's control
	// points, oldest first.
	Signatures []SignatureRecord `json:"signatures"`
	// Links are the related changes the user can see; HiddenLinks
	// counts those at sites the user cannot see (never named).
	Links       []Link `json:"links"`
	HiddenLinks int    `json:"hidden_links,omitempty"`
	// ToSign states, for each signed decision the user may make now, the
	// meaning and the name and title the signature will record.
	ToSign []Statement `json:"to_sign"`
	// AllowedActions are what the requesting user may do now.
	AllowedActions []Action `json:"allowed_actions"`
	// Blocked lists, for a stage move the user could make once the change
	// is ready (complete_implementation, authorize_startup), what is still
	// open: the sentences the refusal would give, one per open point.
	Blocked map[Action][]string `json:"blocked_actions,omitempty"`

	// delegators are the approvers who delegated to the user the detail
	// was loaded for, today.
	delegators []int64
	// today is the service clock's date when the detail was loaded.
	today time.Time

	// Matrix is the risk matrix the change was assessed on (its site's
	// current one when not assessed yet).
	Matrix *RiskMatrix `json:"risk_matrix"`
	// Questionnaire is the screening questionnaire version the change
	// was answered on (its site's current one when not screened yet).
	Questionnaire *Questionnaire `json:"questionnaire"`
	// riskMatrix is Matrix, for the approval stage rules.
	riskMatrix *RiskMatrix
	// stageApproverNames names, per approval stage the change's level
	// requires, who may sign it.
	stageApproverNames map[string][]string
}
