package mail

import "testing"

// Text a user typed never breaks a header: every line break and control
// character becomes one space, and ordinary text is left alone.
func TestHeaderTextFoldsToOneLine(t *testing.T) {
	for in, want := range map[string]string{
		"Replace P-101 seals":                        "Replace P-101 seals",
		"Seals\r\nBcc: attacker@example.com":         "Seals Bcc: attacker@example.com",
		"Seals\nX-Injected: 1":                       "Seals X-Injected: 1",
		"  tabs\tand\u2028separators\u0085too  \x00": "tabs and separators too",
		"Überprüfung — Ölpumpe":                      "Überprüfung — Ölpumpe",
	} {
		got := HeaderText(in)
		if got != want {
			t.Errorf("HeaderText(%q) = %q, want %q", in, got, want)
		}
		for _, r := range got {
			if r == '\r' || r == '\n' {
				t.Errorf("HeaderText(%q) kept a line break", in)
			}
		}
	}
}
