package web

import "testing"

// Every page words a field error the same way: the field's label, the
// message without the field's name, one sentence.
func TestFieldErrorsAreWordedOneWay(t *testing.T) {
	delegation := map[string]string{"starts_on": "From", "ends_on": "To", "delegate_id": "Delegate"}
	for _, c := range []struct {
		field, msg string
		labels     map[string]string
		want       string
	}{
		{"comment", "comment: is required when rejecting", nil, "Comment is required when rejecting."},
		{"site_id", "site_id: must be a site you manage", nil, "Site must be a site you manage."},
		{"run_hour", "run_hour: must be an hour between 0 and 23", nil, "Run hour must be an hour between 0 and 23."},
		{"stages[1].approvers", "stages[1].approvers: needs at least one approver", nil, "Approvers needs at least one approver."},
		{"code", "code: already used by another site.", nil, "Code: already used by another site."},
		{"ends_on", "ends_on: must not be before starts_on", delegation, "To must not be before From."},
		{"delegate_id", "delegate_id: you cannot delegate to yourself", delegation, "Delegate: you cannot delegate to yourself."},
		{"password", "password: must be at least 10 characters", map[string]string{"password": "New password"}, "New password must be at least 10 characters."},
		{"title", "a message that does not name its field", nil, "Title: a message that does not name its field."},
	} {
		if got := fieldError(c.field, c.msg, c.labels); got != c.want {
			t.Errorf("fieldError(%q, %q) = %q, want %q", c.field, c.msg, got, c.want)
		}
	}
}
