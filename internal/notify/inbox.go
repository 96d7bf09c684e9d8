package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/mocpcr/mocpcr/internal/problem"
	"github.com/mocpcr/mocpcr/internal/store"
)

// Notification is one item of a user's in-app inbox.
type Notification struct {
	ID        int64      `json:"id"`
	Type      Type       `json:"type"`
	Title     string     `json:"title"`
	Body      string     `json:"body"`
	Link      string     `json:"link"`
	CreatedAt time.Time  `json:"created_at"`
	ReadAt    *time.Time `json:"read_at"`
}

// Read reports whether the notification was read.
func (n Notification) Read() bool { return n.ReadAt != nil }

// ListOptions select a page of the inbox, newest first.
type ListOptions struct {
	UnreadOnly bool
	// Cursor is the NextCursor of the previous page; empty for the first.
	Cursor string
	// Limit is 1..100; default 20.
	Limit int
}

// Page is one page of the inbox.
type Page struct {
	Items []Notification `json:"items"`
	// NextCursor fetches the next (older) page; empty on the last page.
	NextCursor string `json:"next_cursor"`
}

// invalid is a refusal of input the caller can fix, about field.
func invalid(field, format string, args ...any) error {
	return problem.Field(field, fmt.Sprintf(format, args...))
}

// List returns one page of userID's notifications, newest first. The
// cursor is the id of the last item seen: ids grow with time, so paging is
// stable while new notifications arrive.
func List(ctx context.Context, q store.Querier, userID int64, opt ListOptions) (Page, error) {
	limit := opt.Limit
	if limit == 0 {
		limit = 20
	}
	if limit < 1 || limit > 100 {
		return Page{}, invalid("limit", "limit must be from 1 to 100, got %d", limit)
	}
	// No cursor starts above every id, so the query always carries the
	// range "id < before": an "$2 = 0 OR" form would hide it from
	// SQLite's planner, which plans before the value is bound, and page N
	// would walk every row of the pages before it.
	before := int64(math.MaxInt64)
	if opt.Cursor != "" {
		var err error
		before, err = strconv.ParseInt(opt.Cursor, 10, 64)
		if err != nil || before <= 0 {
			return Page{}, invalid("cursor", "cursor must be the next_cursor of a previous page, got %q", opt.Cursor)
		}
	}
	// The unread filter is in the text, not a parameter, so the planner
	// can pick the partial index of unread notifications for it.
	unread := ""
	if opt.UnreadOnly {
		unread = " AND read_at IS NULL"
	}
	rows, err := q.QueryContext(ctx, `
		SELECT id, type, title, body, link, created_at, read_at FROM notifications
		WHERE user_id = $1 AND id < $2`+unread+`
		ORDER BY id DESC LIMIT $3`, userID, before, limit+1)
	if err != nil {
		return Page{}, fmt.Errorf("list notifications: %w", err)
	}
	defer rows.Close()
	p := Page{Items: []Notification{}}
	for rows.Next() {
		n, err := scanNotification(rows)
		if err != nil {
			return Page{}, fmt.Errorf("list notifications: %w", err)
		}
		p.Items = append(p.Items, n)
	}
	if err := rows.Err(); err != nil {
		return Page{}, fmt.Errorf("list notifications: %w", err)
	}
	if len(p.Items) > limit {
		p.Items = p.Items[:limit]
		p.NextCursor = strconv.FormatInt(p.Items[limit-1].ID, 10)
	}
	return p, nil
}

// Since returns userID's notifications newer than afterID, oldest first
// (at most 50): what a live stream sends after a ping.
func Since(ctx context.Context, q store.Querier, userID, afterID int64) ([]Notification, error) {
	rows, err := q.QueryContext(ctx, `
		SELECT id, type, title, body, link, created_at, read_at FROM notifications
		WHERE user_id = $1 AND id > $2 ORDER BY id LIMIT 50`, userID, afterID)
	if err != nil {
		return nil, fmt.Errorf("new notifications: %w", err)
	}
	defer rows.Close()
	var out []Notification
	for rows.Next() {
		n, err := scanNotification(rows)
		if err != nil {
			return nil, fmt.Errorf("new notifications: %w", err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// LatestID is the id of userID's newest notification, 0 if none.
func LatestID(ctx context.Context, q store.Querier, userID int64) (int64, error) {
	var id sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT max(id) FROM notifications WHERE user_id = $1`, userID).Scan(&id)
	return id.Int64, err
}

func scanNotification(sc interface{ Scan(...any) error }) (Notification, error) {
	var n Notification
	var typ string
	var read sql.NullTime
	err := sc.Scan(&n.ID, &typ, &n.Title, &n.Body, &n.Link, &n.CreatedAt, &read)
	n.Type = Type(typ)
	n.CreatedAt = n.CreatedAt.UTC()
	if read.Valid {
		t := read.Time.UTC()
		n.ReadAt = &t
	}
	return n, err
}

// Get returns one of userID's notifications; store.ErrNotFound when it
// does not exist or belongs to someone else (the two are not told apart).
func Get(ctx context.Context, q store.Querier, userID, id int64) (Notification, error) {
	n, err := scanNotification(q.QueryRowContext(ctx, `
		SELECT id, type, title, body, link, created_at, read_at FROM notifications WHERE id = $1 AND user_id = $2`, id, userID))
	if errors.Is(err, sql.ErrNoRows) {
		return n, store.ErrNotFound
	}
	if err != nil {
		return n, fmt.Errorf("get notification %d: %w", id, err)
	}
	return n, nil
}

// UnreadCount is how many of userID's notifications are unread.
func UnreadCount(ctx context.Context, q store.Querier, userID int64) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL`, userID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count unread notifications: %w", err)
	}
	return n, nil
}

// SetRead marks one of userID's notifications read (read=true, keeping the
// first read time) or unread. store.ErrNotFound when the notification does
// not exist or is someone else's. It commits through db.Tx, so watching
// caches (UnreadCache.Watch) hear of it.
func SetRead(ctx context.Context, db *store.DB, userID, id int64, read bool, now time.Time) (Notification, error) {
	var n Notification
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		if read {
			_, err = tx.ExecContext(ctx, `UPDATE notifications SET read_at = $1 WHERE id = $2 AND user_id = $3 AND read_at IS NULL`, now.UTC(), id, userID)
		} else {
			_, err = tx.ExecContext(ctx, `UPDATE notifications SET read_at = NULL WHERE id = $1 AND user_id = $2`, id, userID)
		}
		if err != nil {
			return fmt.Errorf("mark notification %d: %w", id, err)
		}
		n, err = Get(ctx, tx, userID, id)
		return err
	})
	return n, err
}

// MarkAllRead marks every unread notification of userID read and returns
// how many it marked, committing through db.Tx as SetRead does.
func MarkAllRead(ctx context.Context, db *store.DB, userID int64, now time.Time) (int64, error) {
	var marked int64
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL`, now.UTC(), userID)
		if err != nil {
			return fmt.Errorf("mark all notifications read: %w", err)
		}
		marked, err = res.RowsAffected()
		return err
	})
	return marked, err
}
