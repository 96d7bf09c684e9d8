package change

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/problem"
	"github.com/mocpcr/mocpcr/internal/sitetime"
	"github.com/mocpcr/mocpcr/internal/store"
)

// SiteSettings are one site's rules for the change workflow.
type SiteSettings struct {
	SiteID int64 `json:"site_id"`
	// TimeZone is the IANA zone the site's times are shown in (pages,
	// signatures, emails) and its reminder hour is read in.
	TimeZone string `json:"time_zone"`
	// MaxExtensions is how many times a temporary change may be extended.
	MaxExtensions int `json:"max_extensions"`
	// MaxTemporaryDays is how long a temporary change may stay
	// temporary in all, in days from startup; 0 means no limit.
	MaxTemporaryDays int `json:"max_temporary_days"`
	// EmergencyReviewDays is how many working days after its emergency
	// authorisation an emergency change's full review is due.
	EmergencyReviewDays int `json:"emergency_review_days"`
	// ActionDueDays is when an action item made without a due date
	// (the automatic PSI and procedure actions, PSSR deficiencies) is
	// due: this many days after it is made.
	ActionDueDays int `json:"action_due_days"`
	// MailSender is the mailbox this site's changes' emails are sent
	// from instead of GRAPH_MAIL_SENDER; empty for the default. It has
	// its own daily recipient budget and its own Retry-After pauses.
	MailSender string    `json:"mail_sender"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// MaxMailSenderLength bounds a site's sender address (RFC 5321's limit
// on a forward path).
const MaxMailSenderLength = 254

// DefaultSiteSettings are the settings of a site nobody configured.
func DefaultSiteSettings(siteID int64) SiteSettings {
	return SiteSettings{SiteID: siteID, TimeZone: "UTC", MaxExtensions: 2, MaxTemporaryDays: 365, EmergencyReviewDays: 1, ActionDueDays: 14}
}

// Location is the site's time zone (UTC if it no longer loads).
func (ss SiteSettings) Location() *time.Location { return zone(ss.TimeZone) }

// zone loads an IANA zone, falling back to UTC (sitetime.Load).
func zone(name string) *time.Location { return sitetime.Load(name) }

func siteSettings(ctx context.Context, q store.Querier, siteID int64) (SiteSettings, error) {
	ss := DefaultSiteSettings(siteID)
	err := q.QueryRowContext(ctx, `SELECT time_zone, max_extensions, max_temporary_days, emergency_review_days, action_due_days, mail_sender, updated_at
		FROM change_site_settings WHERE site_id = $1`, siteID).
		Scan(&ss.TimeZone, &ss.MaxExtensions, &ss.MaxTemporaryDays, &ss.EmergencyReviewDays, &ss.ActionDueDays, &ss.MailSender, &ss.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return ss, nil
	}
	if err != nil {
		return ss, fmt.Errorf("site %d settings: %w", siteID, err)
	}
	ss.UpdatedAt = ss.UpdatedAt.UTC()
	return ss, nil
}

// SiteSettings returns a site's workflow settings (defaults when none
// were saved).
func (s *Service) SiteSettings(ctx context.Context, actor *auth.User, siteID int64) (*SiteSettings, error) {
	if actor == nil || !actor.OnSite(siteID) {
		return nil, notFound("site %d not found", siteID)
	}
	if _, err := auth.SiteByID(ctx, s.DB.SQL, siteID); errors.Is(err, store.ErrNotFound) {
		return nil, notFound("site %d not found", siteID)
	} else if err != nil {
		return nil, err
	}
	ss, err := siteSettings(ctx, s.DB.SQL, siteID)
	return &ss, err
}

// SiteSettingsUpdate changes some of a site's settings; nil fields stay.
type SiteSettingsUpdate struct {
	TimeZone         *string `json:"time_zone"`
	MaxExtensions    *int    `json:"max_extensions"`
	MaxTemporaryDays *int    `json:"max_temporary_days"`
	// EmergencyReviewDays: working days from authorisation to the review deadline.
	EmergencyReviewDays *int `json:"emergency_review_days"`
	ActionDueDays       *int `json:"action_due_days"`
	// MailSender: "" returns the site to GRAPH_MAIL_SENDER. Only an
	// administrator of all sites may change it.
	MailSender *string `json:"mail_sender"`
}

// UpdateSiteSettings changes a site's workflow settings (admin only),
// checking every field at once.
func (s *Service) UpdateSiteSettings(ctx context.Context, actor *auth.User, siteID int64, up SiteSettingsUpdate) (*SiteSettings, error) {
	if !actor.Has(auth.RoleAdmin) {
		return nil, forbidden("only an admin may change site settings")
	}
	if _, err := auth.SiteByID(ctx, s.DB.SQL, siteID); errors.Is(err, store.ErrNotFound) || !actor.ManagesSite(siteID) {
		return nil, notFound("site %d not found", siteID)
	} else if err != nil {
		return nil, err
	}
	ss, err := siteSettings(ctx, s.DB.SQL, siteID)
	if err != nil {
		return nil, err
	}
	if up.TimeZone != nil {
		ss.TimeZone = *up.TimeZone
	}
	if up.MaxExtensions != nil {
		ss.MaxExtensions = *up.MaxExtensions
	}
	if up.MaxTemporaryDays != nil {
		ss.MaxTemporaryDays = *up.MaxTemporaryDays
	}
	if up.EmergencyReviewDays != nil {
		ss.EmergencyReviewDays = *up.EmergencyReviewDays
	}
	if up.ActionDueDays != nil {
		ss.ActionDueDays = *up.ActionDueDays
	}
	if up.MailSender != nil && strings.TrimSpace(*up.MailSender) != ss.MailSender {
		// The application may send as any mailbox its Mail.Send reaches:
		// who it sends as is the whole organisation's choice, not one
		// site's.
		if !actor.ManagesAllSites() {
			return nil, forbidden("only an administrator of all sites may change a site's sender mailbox")
		}
		ss.MailSender = strings.TrimSpace(*up.MailSender)
	}
	var p problem.List
	ss.TimeZone = strings.TrimSpace(ss.TimeZone)
	if ss.TimeZone == "" {
		p.Invalid("time_zone", "is required: an IANA time zone like America/Chicago or Europe/Berlin")
	} else if _, err := time.LoadLocation(ss.TimeZone); err != nil || ss.TimeZone == "Local" {
		p.Invalid("time_zone", "%q is not a time zone: use an IANA name like America/Chicago or Europe/Berlin", ss.TimeZone)
	}
	if ss.MaxExtensions < 0 || ss.MaxExtensions > 20 {
		p.Invalid("max_extensions", "must be between 0 and 20, got %d", ss.MaxExtensions)
	}
	if ss.MaxTemporaryDays < 0 || ss.MaxTemporaryDays > 3650 {
		p.Invalid("max_temporary_days", "must be between 0 (no limit) and 3650 days, got %d", ss.MaxTemporaryDays)
	}
	if ss.EmergencyReviewDays < 1 || ss.EmergencyReviewDays > 10 {
		p.Invalid("emergency_review_days", "must be between 1 and 10 working days, got %d", ss.EmergencyReviewDays)
	}
	if ss.ActionDueDays < 1 || ss.ActionDueDays > 365 {
		p.Invalid("action_due_days", "must be between 1 and 365 days, got %d", ss.ActionDueDays)
	}
	if why := mailSenderProblem(ss.MailSender); why != "" {
		p.Invalid("mail_sender", "%s", why)
	}
	if err := p.Err(siteSettingsOrder...); err != nil {
		return nil, err
	}
	_, err = s.DB.SQL.ExecContext(ctx, `INSERT INTO change_site_settings (site_id, time_zone, max_extensions, max_temporary_days,
		emergency_review_days, action_due_days, mail_sender, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT (site_id) DO UPDATE SET time_zone = $2,
		max_extensions = $3, max_temporary_days = $4, emergency_review_days = $5, action_due_days = $6, mail_sender = $7, updated_at = $8`,
		ss.SiteID, ss.TimeZone, ss.MaxExtensions, ss.MaxTemporaryDays, ss.EmergencyReviewDays, ss.ActionDueDays, ss.MailSender, s.now())
	if err != nil {
		return nil, fmt.Errorf("save site %d settings: %w", ss.SiteID, err)
	}
	out, err := siteSettings(ctx, s.DB.SQL, ss.SiteID)
	return &out, err
}

// mailSenderProblem says what is wrong with a site's sender address, ""
// when it is usable (or empty: the default sender).
func mailSenderProblem(v string) string {
	switch a, err := mail.ParseAddress(v); {
	case v == "":
		return ""
	case len(v) > MaxMailSenderLength:
		return fmt.Sprintf("must be at most %d characters, got %d", MaxMailSenderLength, len(v))
	case err != nil || a.Address != v || a.Name != "":
		return fmt.Sprintf("must be a mailbox address like moc-plant2@yourcompany.com (no display name), or empty for the default sender; got %q", v)
	}
	return ""
}

// SiteSenders lists the sender mailboxes sites have set, lower case and
// without repeats, for `mocpcr email check` and the email admin page.
func SiteSenders(ctx context.Context, q store.Querier) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT DISTINCT lower(mail_sender) FROM change_site_settings WHERE mail_sender <> '' ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("site sender mailboxes: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("site sender mailboxes: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// siteMailSender is the sender mailbox of a site's emails, "" for the
// default.
func siteMailSender(ctx context.Context, q store.Querier, siteID int64) (string, error) {
	var v string
	err := q.QueryRowContext(ctx, `SELECT mail_sender FROM change_site_settings WHERE site_id = $1`, siteID).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("site %d sender mailbox: %w", siteID, err)
	}
	return v, nil
}

// siteSettingsOrder is the order of the settings form's fields.
var siteSettingsOrder = []string{"time_zone", "max_extensions", "max_temporary_days", "emergency_review_days", "action_due_days", "mail_sender"}

// UserZone is the time zone a user's own day is read in (their daily
// digest): their first site's, as pages not about one change show; UTC
// for a user of every site or of none.
func (s *Service) UserZone(ctx context.Context, userID int64) (*time.Location, error) {
	var site int64
	err := s.DB.SQL.QueryRowContext(ctx, `SELECT us.site_id FROM user_sites us JOIN users u ON u.id = us.user_id
		WHERE us.user_id = $1 AND NOT u.all_sites ORDER BY us.site_id LIMIT 1`, userID).Scan(&site)
	if errors.Is(err, sql.ErrNoRows) {
		return time.UTC, nil
	}
	if err != nil {
		return nil, fmt.Errorf("zone of user %d: %w", userID, err)
	}
	ss, err := siteSettings(ctx, s.DB.SQL, site)
	if err != nil {
		return nil, err
	}
	return ss.Location(), nil
}
