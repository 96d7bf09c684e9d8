package web

import (
	"errors"
	"regexp"
	"strings"

	"github.com/mocpcr/mocpcr/internal/change"
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
}

func fieldLabel(f string) string {
	if l, ok := fieldLabels[f]; ok {
		return l
	}
	if strings.HasPrefix(f, "stages[") {
		return "Approvers"
	}
	return strings.ReplaceAll(f, "_", " ")
}

// rawWords are API names that domain messages use and a page must not
// show: the page says what the form calls them.
var rawWords = strings.NewReplacer(
	"answer replacement_in_kind", "tick “Replacement in kind”",
	"hazard_review review", "hazard review",
	"hazard_review", "hazard review",
)

// attachAndName is the API's advice for missing PSSR evidence; the page
// has a file field and a list of attached files instead.
var attachAndName = regexp.MustCompile(`attach a file to [A-Z]+-\d{4}-\d+ and name it here`)

// humanMessage turns "comment: is required when rejecting" into
// "Comment is required when rejecting".
func humanMessage(field, msg string) string {
	msg = rawWords.Replace(msg)
	msg = attachAndName.ReplaceAllString(msg, "choose a file, or one already attached to the change")
	rest, ok := strings.CutPrefix(msg, field+": ")
	if !ok {
		return msg
	}
	label := fieldLabel(field)
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
// An error listing several fields (change.Error.Fields) places each.
func formErrors(err error, formID string, ids map[string]string) map[string]string {
	var de *change.Error
	if !errors.As(err, &de) {
		return map[string]string{formID: "Something went wrong on our side; nothing was saved. Try again."}
	}
	fields := de.Fields
	if len(fields) == 0 {
		fields = []change.FieldError{{Field: de.Field, Message: de.Message}}
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
	var de *change.Error
	if !errors.As(err, &de) || de.Code != change.EInvalid {
		return "", "", false
	}
	return de.Field, fieldMessage(de.Field, de.Message, nil), true
}

// invalidFields is invalidField for every field an error lists
// (change.Error.Fields), so a form shows all its problems at once;
// labels gives the form's words for fields whose API name would read
// badly ("site_id" is the form's "Site").
func invalidFields(err error, labels map[string]string) (map[string]string, bool) {
	var de *change.Error
	if !errors.As(err, &de) || de.Code != change.EInvalid {
		return nil, false
	}
	fields := de.Fields
	if len(fields) == 0 {
		fields = []change.FieldError{{Field: de.Field, Message: de.Message}}
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
