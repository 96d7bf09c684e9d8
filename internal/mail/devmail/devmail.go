// Package devmail is the "dev" email provider, the default when
// EMAIL_PROVIDER is not "graph": instead of sending, it stores every
// message in the dev_mailbox table, so a local run or a demo needs no
// Azure and a developer can read exactly what would have been sent.
package devmail

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	netmail "net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/mocpcr/mocpcr/internal/mail"
	"github.com/mocpcr/mocpcr/internal/store"
)

// DefaultSender is recorded when no GRAPH_MAIL_SENDER is configured.
const DefaultSender = "no-reply@mocpcr.localhost"

// Mailbox is a mail.Provider that captures messages in the database.
type Mailbox struct {
	db     *store.DB
	sender string
	now    func() time.Time
}

var _ mail.Provider = (*Mailbox)(nil)

// New returns a Mailbox writing to db. sender is shown as the From of every
// stored message (GRAPH_MAIL_SENDER, or DefaultSender when empty); now is
// the clock for created_at (time.Now when nil).
func New(db *store.DB, sender string, now func() time.Time) *Mailbox {
	if sender == "" {
		sender = DefaultSender
	}
	if now == nil {
		now = time.Now
	}
	return &Mailbox{db: db, sender: sender, now: now}
}

// Name implements mail.Provider.
func (m *Mailbox) Name() string { return "dev" }

// Send validates msg with the same rules as the Graph provider, so that a
// message that Graph would refuse fails in development too, and stores it.
// The Result's RequestID is "dev-<row id>".
func (m *Mailbox) Send(ctx context.Context, msg mail.Message) (mail.Result, error) {
	if err := msg.Validate(); err != nil {
		return mail.Result{}, err
	}
	headers, err := json.Marshal(orEmpty(msg.Headers))
	if err != nil {
		return mail.Result{}, mail.InvalidMessage("the headers cannot be encoded: " + err.Error())
	}
	sender := m.sender
	if msg.From != "" {
		sender = msg.From
	}
	var id int64
	err = m.db.SQL.QueryRowContext(ctx,
		`INSERT INTO dev_mailbox (sender, to_addrs, cc_addrs, subject, html_body, headers, created_at)
		 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		sender, formatList(msg.To), formatList(msg.Cc), msg.Subject, msg.HTMLBody, string(headers), m.now().UTC(),
	).Scan(&id)
	if err != nil {
		// A database failure may pass; the queue should try again.
		return mail.Result{}, &mail.Error{Code: "StoreFailed", Message: err.Error(), Retryable: true, Err: err,
			Text: "dev mailbox could not store the email: " + err.Error()}
	}
	return mail.Result{RequestID: RequestID(id)}, nil
}

// requestPrefix starts the request id of a message kept in the mailbox.
const requestPrefix = "dev-"

// RequestID is the request id Send reports for mailbox message id: the
// delivery log stores it, which links a logged email to its message.
func RequestID(id int64) string { return requestPrefix + strconv.FormatInt(id, 10) }

// MessageID reads the mailbox message id back out of a request id, false
// when the email did not go to the dev mailbox.
func MessageID(requestID string) (int64, bool) {
	rest, ok := strings.CutPrefix(requestID, requestPrefix)
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	return id, err == nil && id > 0
}

// Stored is one captured message.
type Stored struct {
	ID        int64
	Sender    string
	To, Cc    []mail.Address
	Subject   string
	HTMLBody  string
	Headers   map[string]string
	CreatedAt time.Time
}

const columns = `id, sender, to_addrs, cc_addrs, subject, html_body, headers, created_at`

// List returns up to limit captured messages, newest first.
func (m *Mailbox) List(ctx context.Context, limit int) ([]Stored, error) {
	rows, err := m.db.SQL.QueryContext(ctx, `SELECT `+columns+` FROM dev_mailbox ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("list dev mailbox: %w", err)
	}
	defer rows.Close()
	var out []Stored
	for rows.Next() {
		s, err := scan(rows.Scan)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// Get returns one captured message, or store.ErrNotFound.
func (m *Mailbox) Get(ctx context.Context, id int64) (Stored, error) {
	row := m.db.SQL.QueryRowContext(ctx, `SELECT `+columns+` FROM dev_mailbox WHERE id = $1`, id)
	s, err := scan(row.Scan)
	if errors.Is(err, sql.ErrNoRows) {
		return Stored{}, store.ErrNotFound
	}
	return s, err
}

func scan(scanFn func(...any) error) (Stored, error) {
	var (
		s              Stored
		to, cc, header string
	)
	if err := scanFn(&s.ID, &s.Sender, &to, &cc, &s.Subject, &s.HTMLBody, &header, &s.CreatedAt); err != nil {
		return Stored{}, fmt.Errorf("read dev mailbox: %w", err)
	}
	var err error
	if s.To, err = parseList(to); err != nil {
		return Stored{}, fmt.Errorf("dev mailbox message %d: to_addrs: %w", s.ID, err)
	}
	if s.Cc, err = parseList(cc); err != nil {
		return Stored{}, fmt.Errorf("dev mailbox message %d: cc_addrs: %w", s.ID, err)
	}
	if err := json.Unmarshal([]byte(header), &s.Headers); err != nil {
		return Stored{}, fmt.Errorf("dev mailbox message %d: headers: %w", s.ID, err)
	}
	return s, nil
}

// formatList writes addresses as an RFC 5322 list, the form a mail client
// shows and net/mail reads back.
func formatList(list []mail.Address) string {
	parts := make([]string, len(list))
	for i, a := range list {
		parts[i] = (&netmail.Address{Name: a.Name, Address: a.Email}).String()
	}
	return strings.Join(parts, ", ")
}

func parseList(s string) ([]mail.Address, error) {
	if s == "" {
		return nil, nil
	}
	list, err := netmail.ParseAddressList(s)
	if err != nil {
		return nil, err
	}
	out := make([]mail.Address, len(list))
	for i, a := range list {
		out[i] = mail.Address{Name: a.Name, Email: a.Address}
	}
	return out, nil
}

func orEmpty(h map[string]string) map[string]string {
	if h == nil {
		return map[string]string{}
	}
	return h
}
