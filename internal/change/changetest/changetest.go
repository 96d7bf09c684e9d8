// Package changetest builds a small plant for change tests: two sites,
// units, one user per role (plus a second approver and a user of the
// other site), a settable clock and a recording email queue.
package changetest

import (
	"context"
	"database/sql"
	"sync"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/notify"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/testclock"
)

// Password is every fixture user's password.
const Password = "test-password-1"

// EmailRecorder is an EmailQueue that remembers every email handed to it
// in committed transactions... and in rolled-back ones too: tests look at
// what was queued per step.
type EmailRecorder struct {
	mu     sync.Mutex
	Emails []notify.Email
}

// EnqueueTx records e.
func (r *EmailRecorder) EnqueueTx(ctx context.Context, tx *sql.Tx, e notify.Email) error {
	r.mu.Lock()
	r.Emails = append(r.Emails, e)
	r.mu.Unlock()
	return nil
}

// Take returns and forgets the recorded emails.
func (r *EmailRecorder) Take() []notify.Email {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.Emails
	r.Emails = nil
	return out
}

// Fixture is the seeded plant.
type Fixture struct {
	DB      *store.DB
	Service *change.Service
	Clock   *testclock.Clock
	Emails  *EmailRecorder
	NRF     int64 // site
	SCP     int64 // site
	CDU     int64 // unit at NRF
	FCC     int64 // unit at NRF

	Initiator, Reviewer, Reviewer2, Approver, Approver2, Coordinator, Admin, Auditor, Outsider *auth.User
}

// Users returns every fixture user by a short name.
func (f *Fixture) Users() map[string]*auth.User {
	return map[string]*auth.User{"initiator": f.Initiator, "reviewer": f.Reviewer, "reviewer2": f.Reviewer2,
		"approver": f.Approver, "approver2": f.Approver2, "coordinator": f.Coordinator, "admin": f.Admin,
		"auditor": f.Auditor, "outsider": f.Outsider}
}

// Seed creates the fixture in db with the clock at start.
func Seed(t testing.TB, db *store.DB, start time.Time) *Fixture {
	t.Helper()
	ctx := context.Background()
	f := &Fixture{DB: db, Clock: testclock.New(start), Emails: &EmailRecorder{}}
	f.Service = change.New(db, &notify.Notifier{Emails: f.Emails, BaseURL: "https://moc.test", Now: f.Clock.Now})
	f.Service.Now = f.Clock.Now
	hash, err := auth.HashPassword(Password)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Tx(ctx, func(tx *sql.Tx) error {
		for _, s := range []struct {
			code string
			id   *int64
		}{{"NRF", &f.NRF}, {"SCP", &f.SCP}} {
			if err := tx.QueryRowContext(ctx, `INSERT INTO sites (code, name) VALUES ($1, $1) RETURNING id`, s.code).Scan(s.id); err != nil {
				return err
			}
		}
		for _, u := range []struct {
			code string
			id   *int64
		}{{"CDU-1", &f.CDU}, {"FCC", &f.FCC}} {
			if err := tx.QueryRowContext(ctx, `INSERT INTO units (site_id, code, name) VALUES ($1, $2, $2) RETURNING id`, f.NRF, u.code).Scan(u.id); err != nil {
				return err
			}
		}
		mk := func(name, title string, sites []int64, roles ...auth.Role) *auth.User {
			if err != nil {
				return nil
			}
			var u *auth.User
			u, err = auth.CreateUser(ctx, tx, auth.NewUser{Email: name + "@plant.test", Name: name, PasswordHash: hash, Roles: roles,
				AllSites: sites == nil, SiteIDs: sites, JobTitle: title})
			return u
		}
		f.Coordinator = mk("Cora", "MOC Coordinator", nil, auth.RoleCoordinator, auth.RoleApprover, auth.RoleInitiator)
		f.Initiator = mk("Ines", "Process Engineer", []int64{f.NRF}, auth.RoleInitiator)
		f.Reviewer = mk("Rita", "Mechanical Engineer", []int64{f.NRF}, auth.RoleReviewer, auth.RoleInitiator)
		f.Reviewer2 = mk("Rolf", "", []int64{f.NRF}, auth.RoleReviewer)
		f.Approver = mk("Arno", "Operations Superintendent", []int64{f.NRF}, auth.RoleApprover, auth.RoleReviewer)
		f.Approver2 = mk("Anke", "Maintenance Manager", []int64{f.NRF}, auth.RoleApprover)
		f.Admin = mk("Adam", "", nil, auth.RoleAdmin)
		f.Auditor = mk("Audrey", "PSM Auditor", nil, auth.RoleAuditor)
		f.Outsider = mk("Otto", "", []int64{f.SCP}, auth.RoleInitiator, auth.RoleApprover, auth.RoleReviewer)
		if err != nil {
			return err
		}
		// The coordinator manages everyone: escalations go there.
		_, err = tx.ExecContext(ctx, `UPDATE users SET manager_id = $1 WHERE id <> $1`, f.Coordinator.ID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// Str returns a pointer to s.
func Str(s string) *string { return &s }

// Complete returns the fields a change needs to be submitted.
func Complete(kind change.Kind, site, unit int64, tags ...string) change.Fields {
	k := kind
	return change.Fields{Kind: &k, Title: Str("Replace pump seals"), Description: Str("Dual seals on P-101"),
		SiteID: &site, UnitID: &unit, EquipmentTags: &tags, Reason: Str("Leaks"), RiskRanking: Str("medium"),
		TechnicalBasis: Str("Vendor data"), SafetyHealthImpact: Str("Fewer leaks"), ProcedureChanges: Str("OP-12 updated"),
		TimePeriod: Str("Permanent"), AuthorizationRequired: Str("Superintendent")}
}

// Notified returns the user ids notified with type typ since afterID.
func Notified(t testing.TB, db *store.DB, typ notify.Type, afterID int64) []int64 {
	t.Helper()
	rows, err := db.SQL.Query(`SELECT user_id FROM notifications WHERE type = $1 AND id > $2 ORDER BY user_id`, string(typ), afterID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		out = append(out, id)
	}
	return out
}

// LastNotification is the newest notification id.
func LastNotification(t testing.TB, db *store.DB) int64 {
	t.Helper()
	var id sql.NullInt64
	if err := db.SQL.QueryRow(`SELECT max(id) FROM notifications`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id.Int64
}

// SignOffPSSR names the reviewer the PSSR team lead of change id (as the
// coordinator) and has them sign the PSSR off, a second later on the
// clock so the sign-off comes after the answers: what startup needs.
func (f *Fixture) SignOffPSSR(t testing.TB, id int64) {
	t.Helper()
	ctx := context.Background()
	if _, err := f.Service.SetPSSRTeam(ctx, f.Coordinator, id, change.PSSRTeamRequest{LeadID: f.Reviewer.ID}); err != nil {
		t.Fatalf("name the PSSR team lead: %v", err)
	}
	f.Clock.Advance(time.Second)
	if _, err := f.Service.Transition(ctx, f.Reviewer, id, change.TransitionRequest{Action: change.ActSignOffPSSR,
		Signature: change.Signature{Verified: true, Method: "password"}}); err != nil {
		t.Fatalf("sign off the PSSR: %v", err)
	}
	f.Clock.Advance(time.Second)
}

// ConfirmScreening has the coordinator confirm, signed, the screening of
// change id as it was given, the step between submit and the review.
func (f *Fixture) ConfirmScreening(t testing.TB, id int64) {
	t.Helper()
	f.ConfirmScreeningAs(t, f.Coordinator, id)
}

// ConfirmScreeningAs is ConfirmScreening by someone else (the coordinator
// cannot confirm their own change).
func (f *Fixture) ConfirmScreeningAs(t testing.TB, by *auth.User, id int64) {
	t.Helper()
	if _, err := f.Service.ConfirmScreening(context.Background(), by, id,
		change.ScreeningConfirmation{Signature: change.Signature{Verified: true, Method: "password"}}); err != nil {
		t.Fatalf("confirm the screening: %v", err)
	}
}
