package mail

import (
	"strings"
	"unicode"
)

// HeaderText folds s to one line for a subject, a display name or a header
// value: line breaks, tabs and other control characters become a single
// space, so text a user typed (a change title, a name) can never start a
// new header or hide part of the subject.
func HeaderText(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || unicode.IsSpace(r) {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}
