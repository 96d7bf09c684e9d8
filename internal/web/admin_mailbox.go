package web

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mocpcr/mocpcr/internal/config"
	"github.com/mocpcr/mocpcr/internal/mail/devmail"
	"github.com/mocpcr/mocpcr/internal/problem"
)

// devMessage is one row of the dev mailbox.
type devMessage struct {
	ID        int64
	Sender    string
	To        string
	Cc        string
	Subject   string
	CreatedAt time.Time
	// LogID is the delivery-log entry of the email, 0 when no entry
	// carries this message's request id.
	LogID int64
}

// RequestID is the id the delivery log keeps for this message.
func (m devMessage) RequestID() string { return devmail.RequestID(m.ID) }

// LogURL shows the delivery-log entry: its page starts at that entry.
func (m devMessage) LogURL() string {
	return "/admin/email/log?before=" + strconv.FormatInt(m.LogID+1, 10) + "#email-" + strconv.FormatInt(m.LogID, 10)
}

// logIDs finds the delivery-log entries of dev mailbox messages: the log
// keeps each message's request id (devmail.RequestID).
func (s *Server) logIDs(ctx context.Context, msgs []devMessage) error {
	if len(msgs) == 0 {
		return nil
	}
	args := make([]any, len(msgs))
	marks := make([]string, len(msgs))
	at := map[string]int{}
	for i, m := range msgs {
		rid := devmail.RequestID(m.ID)
		args[i], marks[i], at[rid] = rid, "$"+strconv.Itoa(i+1), i
	}
	rows, err := s.DB.SQL.QueryContext(ctx, `SELECT id, request_id FROM email_messages WHERE request_id IN (`+strings.Join(marks, ", ")+`) ORDER BY id`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var rid string
		if err := rows.Scan(&id, &rid); err != nil {
			return err
		}
		if i, ok := at[rid]; ok && msgs[i].LogID == 0 {
			msgs[i].LogID = id
		}
	}
	return rows.Err()
}

func (s *Server) pageListMailbox(w http.ResponseWriter, r *http.Request) {
	rows, err := s.DB.SQL.QueryContext(r.Context(), `SELECT id, sender, to_addrs, cc_addrs, subject, created_at FROM dev_mailbox ORDER BY id DESC LIMIT 200`)
	if err != nil {
		s.serverFault(w, r, "dev mailbox", err)
		return
	}
	defer rows.Close()
	var list []devMessage
	for rows.Next() {
		var m devMessage
		if err := rows.Scan(&m.ID, &m.Sender, &m.To, &m.Cc, &m.Subject, &m.CreatedAt); err != nil {
			s.serverFault(w, r, "dev mailbox", err)
			return
		}
		list = append(list, m)
	}
	if err := s.logIDs(r.Context(), list); err != nil {
		s.serverFault(w, r, "dev mailbox", err)
		return
	}
	s.render(w, r, http.StatusOK, "admin_mailbox.html", &Page{Title: "Dev mailbox", Data: map[string]any{
		"Messages": list, "Dev": s.Config.EmailProvider == config.EmailDev}})
}

func (s *Server) pageShowMailboxMessage(w http.ResponseWriter, r *http.Request) {
	id, ok := idParam(r)
	var m devMessage
	err := sql.ErrNoRows
	if ok {
		err = s.DB.SQL.QueryRowContext(r.Context(), `SELECT id, sender, to_addrs, cc_addrs, subject, created_at FROM dev_mailbox WHERE id = $1`, id).
			Scan(&m.ID, &m.Sender, &m.To, &m.Cc, &m.Subject, &m.CreatedAt)
	}
	if errors.Is(err, sql.ErrNoRows) {
		s.fail(w, r, problem.New(problem.NotFound, "There is no such message in the dev mailbox."))
		return
	}
	if err != nil {
		s.serverFault(w, r, "dev mailbox message", err)
		return
	}
	one := []devMessage{m}
	if err := s.logIDs(r.Context(), one); err != nil {
		s.serverFault(w, r, "dev mailbox message", err)
		return
	}
	m = one[0]
	s.render(w, r, http.StatusOK, "admin_mailbox_message.html", &Page{Title: m.Subject, Data: m})
}

// mailBodyPolicy is the Content-Security-Policy of a captured email's
// body: its inline styles apply (as in the recipient's mail client),
// nothing runs, nothing is fetched, no form is sent, and only this
// site's own pages may frame it. sandbox gives the document an opaque
// origin, so even a script that got in could not reach the session.
const mailBodyPolicy = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; base-uri 'none'; frame-ancestors 'self'"

// pageShowMailboxBody serves a captured email's HTML on its own, framed
// by its message page. It is not an srcdoc: an srcdoc frame inherits the
// page's policy (style-src 'self'), which drops every inline style, so
// the email would not look the way its recipient sees it.
func (s *Server) pageShowMailboxBody(w http.ResponseWriter, r *http.Request) {
	id, ok := idParam(r)
	var body string
	err := sql.ErrNoRows
	if ok {
		err = s.DB.SQL.QueryRowContext(r.Context(), `SELECT html_body FROM dev_mailbox WHERE id = $1`, id).Scan(&body)
	}
	if errors.Is(err, sql.ErrNoRows) {
		s.fail(w, r, problem.New(problem.NotFound, "There is no such message in the dev mailbox."))
		return
	}
	if err != nil {
		s.serverFault(w, r, "dev mailbox message body", err)
		return
	}
	h := w.Header()
	h.Set("Content-Security-Policy", mailBodyPolicy)
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("Content-Type", "text/html; charset=utf-8")
	w.Write([]byte(body))
}
