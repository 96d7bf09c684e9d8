package web

import (
	"errors"
	"strings"

	"github.com/mocpcr/mocpcr/internal/problem"
)

// fieldLabels are the names people read for the domain's field names.
var fieldLabels = map[string]string{
	"kind": "Kind", "duration": "Duration", "title": "Title", "description": "Description", "site_id": "Site",
	"unit_id": "Unit", "equipment_tags": "Equipment tags", "reason": "Reason for the change", "risk_ranking": "Risk ranking",
	"technical_basis": "Technical basis", "safety_health_impact": "Impact on safety and health",
	"procedure_changes": "Changes to operating procedures", "time_period": "Time period",
	"authorization_required": "Authorisation required", "expires_on": "Expiry date", "review_deadline": "Review deadline",
	"comment": "Comment", "password": "Password", "decision": "Decision", "discipline": "Discipline",
	"reviewer_id": "Reviewer", "approvers": "Approvers", "title_action": "Title", "owner_id": "Owner", "due_on": "Due date",
	"answer": "Answer", "attachment_id": "Evidence", "user_ids": "People", "file": "File", "reason_ext": "Reason",
	"screening.disciplines": "Affected disciplines", "screening.pssr_needed": "PSSR needed", "note": "Note",
	"code": "Code", "name": "Name",
	"method": "Method", "held_on": "Date held", "team": "Team", "summary": "Summary", "worksheet_id": "Worksheet",
	"recommendations": "Recommendations",
}

func fieldLabel(f string) string {
	if l, ok := fieldLabels[f]; ok {
		return l
	}
	if strings.HasPrefix(f, "stages[") {
		return "Approvers"
	}
	// A hazard review's nested fields: say which part, not the path.
	if name, ok := strings.CutPrefix(f, "team["); ok {
		_, part, _ := strings.Cut(name, "].")
		return "Team member " + strings.ReplaceAll(part, "_", " ")
	}
	if name, ok := strings.CutPrefix(f, "recommendations["); ok {
		_, part, _ := strings.Cut(name, "].")
		return "Recommendation " + strings.ReplaceAll(strings.TrimSuffix(part, "_id"), "_", " ")
	}
	return strings.ReplaceAll(f, "_", " ")
}

// humanMessage turns "comment: is required when rejecting" into
// "Comment is required when rejecting".
func humanMessage(field, msg string) string { return labelled(fieldLabel(field), field, msg) }

// labelled is humanMessage with the form's own label for field. The
// domain's messages start with the field's name (problem.Invalidf).
func labelled(label, field, msg string) string {
	rest, ok := strings.CutPrefix(msg, field+": ")
	if !ok {
		return msg
	}
	for _, p := range []string{"is ", "must ", "cannot ", "has "} {
		if strings.HasPrefix(rest, p) {
			return label + " " + rest
		}
	}
	return label + ": " + rest
}

// formErrors places a domain error on a page: beside the element the
// field maps to (ids maps a domain field name to the element id), or,
// for errors about the state of the change, at the form itself (formID).
// An error listing several fields (problem.Error.Fields) places each.
func formErrors(err error, formID string, ids map[string]string) map[string]string {
	var de *problem.Error
	if !errors.As(err, &de) {
		return map[string]string{formID: "Something went wrong on our side; nothing was saved. Try again."}
	}
	fields := de.Fields
	if len(fields) == 0 {
		fields = []problem.FieldError{{Field: de.Field, Message: de.Message}}
	}
	errs := map[string]string{}
	for _, fe := range fields {
		id := formID
		if i, ok := ids[fe.Field]; ok && fe.Field != "" {
			id = i
		} else if i, ok := ids["approvers"]; ok && strings.HasPrefix(fe.Field, "stages[") {
			id = i
		}
		if _, taken := errs[id]; !taken {
			errs[id] = humanMessage(fe.Field, fe.Message)
		}
	}
	return errs
}

// invalidField splits a domain validation error into its field and a
// sentence for the page ("Name is required.").
func invalidField(err error) (field, msg string, ok bool) {
	var de *problem.Error
	if !errors.As(err, &de) || de.Kind != problem.Invalid {
		return "", "", false
	}
	return de.Field, fieldMessage(de.Field, de.Message, nil), true
}

// invalidFields is invalidField for every field an error lists
// (problem.Error.Fields), so a form shows all its problems at once;
// labels gives the form's words for fields whose API name would read
// badly ("site_id" is the form's "Site").
func invalidFields(err error, labels map[string]string) (map[string]string, bool) {
	var de *problem.Error
	if !errors.As(err, &de) || de.Kind != problem.Invalid {
		return nil, false
	}
	fields := de.Fields
	if len(fields) == 0 {
		fields = []problem.FieldError{{Field: de.Field, Message: de.Message}}
	}
	out := map[string]string{}
	for _, fe := range fields {
		if _, taken := out[fe.Field]; !taken {
			out[fe.Field] = fieldMessage(fe.Field, fe.Message, labels)
		}
	}
	return out, true
}

// fieldMessage words "code: is required" as "Code is required.".
func fieldMessage(field, message string, labels map[string]string) string {
	text := strings.TrimPrefix(message, field+": ")
	label, ok := labels[field]
	if !ok {
		label = strings.ReplaceAll(field, "_", " ")
		if i := strings.IndexByte(label, '['); i > 0 {
			label = label[:i]
		}
		label = title(label)
	}
	msg := label + ": " + text
	for _, verb := range []string{"is ", "must ", "each ", "cannot ", "needs "} {
		if strings.HasPrefix(text, verb) {
			msg = label + " " + text
		}
	}
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	return msg
}

// sentence starts msg with a capital letter, as a form shows it.
func sentence(msg string) string {
	if msg == "" {
		return msg
	}
	return strings.ToUpper(msg[:1]) + msg[1:]
}
