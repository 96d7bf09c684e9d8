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

// fieldLabel is the name people read for a domain field name: its entry
// in fieldLabels, else the name in words ("run_hour" is "Run hour",
// "stages[1].approvers" is "Approvers").
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
	words := strings.ReplaceAll(f, "_", " ")
	if i := strings.IndexByte(words, '['); i > 0 {
		words = words[:i]
	}
	return title(words)
}

// fieldError is the one wording of a domain field error for a page:
// "comment: is required when rejecting" becomes "Comment is required when
// rejecting." The field is named by its label in labels (a form's own
// words), else by fieldLabel; the form's other fields that the message
// names are put in its words too ("ends_on: must not be before
// starts_on" on a form labelling them "To" and "From" is "To must not be
// before From."). The domain's messages start with
// the field's name (problem.Invalidf); one that does not is still put
// after the label.
func fieldError(field, msg string, labels map[string]string) string {
	if field == "" {
		// About the state of the change, not a field: the message alone.
		return msg
	}
	label, ok := labels[field]
	if !ok {
		label = fieldLabel(field)
	}
	rest := strings.TrimPrefix(msg, field+": ")
	if len(labels) > 0 {
		rest = inWords(rest, labels)
	}
	out := label + ": " + rest
	for _, verb := range []string{"is ", "must ", "cannot ", "has ", "each ", "needs "} {
		if strings.HasPrefix(rest, verb) {
			out = label + " " + rest
			break
		}
	}
	if !strings.HasSuffix(out, ".") {
		out += "."
	}
	return out
}

// inWords replaces the field names of labels that msg names, as whole
// words, by their labels.
func inWords(msg string, labels map[string]string) string {
	words := strings.Fields(msg)
	changed := false
	for i, w := range words {
		core := strings.TrimRight(w, ".,;:")
		if l, ok := labels[core]; ok {
			words[i] = l + w[len(core):]
			changed = true
		}
	}
	if !changed {
		return msg
	}
	return strings.Join(words, " ")
}

// formErrors places a domain error on a page: beside the element the
// field maps to (ids maps a domain field name to the element id), or,
// for errors about the state of the change, at the form itself (formID).
// An error listing several fields (problem.Error.Fields) places each.
func formErrors(err error, formID string, ids map[string]string) map[string]string {
	return labelledFormErrors(err, formID, ids, nil)
}

// labelledFormErrors is formErrors with the form's own words for its
// fields (see fieldError).
func labelledFormErrors(err error, formID string, ids, labels map[string]string) map[string]string {
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
			errs[id] = fieldError(fe.Field, fe.Message, labels)
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
	return de.Field, fieldError(de.Field, de.Message, nil), true
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
			out[fe.Field] = fieldError(fe.Field, fe.Message, labels)
		}
	}
	return out, true
}

// sentence starts msg with a capital letter, as a form shows it.
func sentence(msg string) string {
	if msg == "" {
		return msg
	}
	return strings.ToUpper(msg[:1]) + msg[1:]
}
