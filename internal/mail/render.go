package mail

import (
	"bytes"
	"fmt"
	"html/template"
	"strings"
)

// NotificationEmail is what a notification email shows.
type NotificationEmail struct {
	// AppName heads the email, for example "mocpcr".
	AppName string
	Title   string
	Body    string
	// LinkURL is the absolute URL the button opens; empty shows no button.
	LinkURL   string
	LinkLabel string
	// PrefsURL is where the recipient changes their email preferences.
	PrefsURL string
	// ActionRequired says the email cannot be turned off, and why.
	ActionRequired bool
}

// notificationTemplate is deliberately table-based with inline styles:
// that is what Outlook and other mail clients render reliably.
var notificationTemplate = template.Must(template.New("notification").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{{.Title}}</title></head>
<body style="margin:0;padding:0;background:#f3f4f6;font-family:Segoe UI,Helvetica,Arial,sans-serif;color:#111827">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f3f4f6;padding:24px 0"><tr><td align="center">
<table role="presentation" width="600" cellpadding="0" cellspacing="0" style="max-width:600px;width:100%;background:#ffffff;border-radius:6px;border:1px solid #e5e7eb">
<tr><td style="padding:16px 24px;border-bottom:1px solid #e5e7eb;font-weight:600;color:#1f2937">{{.AppName}}</td></tr>
<tr><td style="padding:24px">
<h1 style="margin:0 0 12px;font-size:20px;line-height:1.3">{{.Title}}</h1>
{{range .Paragraphs}}<p style="margin:0 0 12px;font-size:15px;line-height:1.5">{{.}}</p>{{end}}
{{if .LinkURL}}<p style="margin:20px 0 4px"><a href="{{.LinkURL}}" style="display:inline-block;background:#1d4ed8;color:#ffffff;text-decoration:none;padding:10px 18px;border-radius:4px;font-weight:600">{{.LinkLabel}}</a></p>
<p style="margin:8px 0 0;font-size:12px;color:#6b7280">Or open this address: {{.LinkURL}}</p>{{end}}
</td></tr>
<tr><td style="padding:16px 24px;border-top:1px solid #e5e7eb;font-size:12px;color:#6b7280;line-height:1.5">
You receive this email because of your notification settings in {{.AppName}}.
{{if .ActionRequired}}It asks you to act, so it cannot be turned off.{{end}}
{{if .PrefsURL}}Change which emails you get at <a href="{{.PrefsURL}}" style="color:#1d4ed8">{{.PrefsURL}}</a>.{{end}}
Every notification is also in your in-app inbox.
</td></tr>
</table></td></tr></table>
</body></html>
`))

// RenderNotification renders the HTML body of a notification email. Every
// value is HTML-escaped by html/template; a link that is not http(s) is
// dropped rather than sent.
func RenderNotification(n NotificationEmail) (string, error) {
	if strings.TrimSpace(n.Title) == "" {
		return "", fmt.Errorf("render email: title is required")
	}
	if n.AppName == "" {
		n.AppName = "mocpcr"
	}
	if n.LinkLabel == "" {
		n.LinkLabel = "Open in " + n.AppName
	}
	if n.LinkURL != "" && !strings.HasPrefix(n.LinkURL, "https://") && !strings.HasPrefix(n.LinkURL, "http://") {
		n.LinkURL = ""
	}
	var paras []string
	for _, p := range strings.Split(strings.ReplaceAll(n.Body, "\r\n", "\n"), "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			paras = append(paras, p)
		}
	}
	var buf bytes.Buffer
	err := notificationTemplate.Execute(&buf, struct {
		NotificationEmail
		Paragraphs []string
	}{n, paras})
	if err != nil {
		return "", fmt.Errorf("render email: %w", err)
	}
	return buf.String(), nil
}
