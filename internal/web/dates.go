package web

import "time"

// dayOf is t's calendar day in UTC.
func dayOf(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// dateString is t's UTC date as YYYY-MM-DD, "" for the zero time (the
// template func date).
func dateString(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02")
}

// dateValue is a form field's value for an optional date.
func dateValue(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.DateOnly)
}
