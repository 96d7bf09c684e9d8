package notify

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/mocpcr/mocpcr/internal/store"
)

// SecretExpiryCheck warns admins, in the app and by email, once a week
// from 30 days before the Azure client secret expires
// (AZURE_CLIENT_SECRET_EXPIRES_ON). Run it as a periodic job; it keeps
// the time of the last warning in settings, so restarts and several
// replicas still warn once a week.
type SecretExpiryCheck struct {
	DB        *store.DB
	Notifier  *Notifier
	ExpiresOn time.Time
	// Certificate is true when ExpiresOn is a client certificate's
	// (AZURE_CLIENT_CERTIFICATE_PATH) rather than the secret's.
	Certificate bool
	// Now is the clock; tests replace it.
	Now func() time.Time
}

const secretWarnedKey = "notify.secret_expiry_warned_at"

// Run warns if a warning is due.
func (c SecretExpiryCheck) Run(ctx context.Context) error {
	if c.ExpiresOn.IsZero() {
		return nil
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	t := now().UTC()
	days := int(c.ExpiresOn.Sub(t.Truncate(24*time.Hour)).Hours() / 24)
	if days > 30 {
		return nil
	}
	return c.DB.Tx(ctx, func(tx *sql.Tx) error {
		var last string
		err := tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = $1`, secretWarnedKey).Scan(&last)
		if err != nil && err != sql.ErrNoRows {
			return fmt.Errorf("secret expiry warning: %w", err)
		}
		if lt, perr := time.Parse(time.RFC3339, last); perr == nil && t.Sub(lt) < 7*24*time.Hour {
			return nil
		}
		rows, err := tx.QueryContext(ctx, `SELECT u.id FROM users u JOIN user_roles r ON r.user_id = u.id WHERE r.role = 'admin' AND u.disabled = FALSE`)
		if err != nil {
			return fmt.Errorf("secret expiry warning: %w", err)
		}
		var admins []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			admins = append(admins, id)
		}
		rows.Close()
		title := fmt.Sprintf("The Azure client secret expires on %s", c.ExpiresOn.Format(time.DateOnly))
		body := fmt.Sprintf("In %d days mocpcr can no longer send email through Microsoft Graph. Create a new client secret (Azure Portal → App registrations → Certificates & secrets), put its Value in AZURE_CLIENT_SECRET and the new date in AZURE_CLIENT_SECRET_EXPIRES_ON, restart the server, confirm email is sent, then delete the old secret.", days)
		if days < 0 {
			title = fmt.Sprintf("The Azure client secret expired on %s", c.ExpiresOn.Format(time.DateOnly))
			body = "mocpcr cannot send email through Microsoft Graph until AZURE_CLIENT_SECRET holds a new secret Value and the server is restarted."
		}
		if c.Certificate {
			title = fmt.Sprintf("The Azure client certificate expires on %s", c.ExpiresOn.Format(time.DateOnly))
			body = fmt.Sprintf("In %d days mocpcr can no longer send email through Microsoft Graph. Create a new certificate, upload it to the app registration (Certificates & secrets → Certificates), replace the file AZURE_CLIENT_CERTIFICATE_PATH names (certificate and key), restart, confirm email is sent (mocpcr email check), then delete the old certificate.", days)
			if days < 0 {
				title = fmt.Sprintf("The Azure client certificate expired on %s", c.ExpiresOn.Format(time.DateOnly))
				body = "mocpcr cannot send email through Microsoft Graph until AZURE_CLIENT_CERTIFICATE_PATH holds a valid certificate that the app registration lists, and the server is restarted."
			}
		}
		if len(admins) > 0 {
			if err := c.Notifier.Notify(ctx, tx, Event{Type: TypeSecretExpiring, Title: title, Body: body, Link: "/admin/email", Recipients: admins}); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM settings WHERE key = $1`, secretWarnedKey); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3)`, secretWarnedKey, t.Format(time.RFC3339), t)
		return err
	})
}
