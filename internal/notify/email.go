package notify

import (
	"context"
	"database/sql"
	"strings"

	"github.com/mocpcr/mocpcr/internal/jobs"
	"github.com/mocpcr/mocpcr/internal/mail"
)

// PrefsPath is the page where a user changes their email preferences.
const PrefsPath = "/account/notifications"

// JobEmails is the EmailQueue that renders a notification email and puts
// it on the durable job queue inside the event's transaction.
type JobEmails struct {
	Jobs *jobs.Queue
	// BaseURL makes the preferences link absolute.
	BaseURL string
}

// EnqueueTx implements EmailQueue.
func (j JobEmails) EnqueueTx(ctx context.Context, tx *sql.Tx, e Email) error {
	html, err := RenderEmail(e, j.BaseURL)
	if err != nil {
		return err
	}
	_, err = j.Jobs.EnqueueEmailTx(ctx, tx, jobs.OutgoingEmail{
		NotificationID: e.NotificationID, UserID: e.UserID, Kind: jobs.KindNotification,
		To: mail.Address{Name: e.ToName, Email: e.ToEmail}, Subject: e.Subject, HTMLBody: html,
		ActionRequired: IsActionRequired(e.Type), Sender: e.Sender,
	})
	return err
}

// RenderEmail renders the HTML email of a notification.
func RenderEmail(e Email, baseURL string) (string, error) {
	return mail.RenderNotification(mail.NotificationEmail{
		AppName:        "mocpcr",
		Title:          e.Title,
		Body:           e.Body,
		LinkURL:        e.Link,
		PrefsURL:       strings.TrimRight(baseURL, "/") + PrefsPath,
		ActionRequired: IsActionRequired(e.Type),
	})
}
