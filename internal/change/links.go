package change

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/problem"
	"github.com/mocpcr/mocpcr/internal/store"
)

// LinkKind says how two changes are related, as seen from one of them.
type LinkKind string

const (
	// LinkDependsOn: this change depends on the other (it needs the other
	// one done first). Stored as made.
	LinkDependsOn LinkKind = "depends_on"
	// LinkRequiredBy is depends_on seen from the other change.
	LinkRequiredBy LinkKind = "required_by"
	// LinkRelatedTo: the two concern the same thing; it reads the same
	// from both sides.
	LinkRelatedTo LinkKind = "related_to"
)

// LinkKinds are the kinds a person may choose when linking.
var LinkKinds = []LinkKind{LinkDependsOn, LinkRelatedTo}

// Label is the kind in words, as a change page lists it.
func (k LinkKind) Label() string {
	switch k {
	case LinkDependsOn:
		return "Depends on"
	case LinkRequiredBy:
		return "Required by"
	}
	return "Related to"
}

// Link is one related change as the change it is shown on sees it.
type Link struct {
	ID     int64    `json:"id"`
	Kind   LinkKind `json:"kind"`
	Number string   `json:"number"`
	Title  string   `json:"title"`
	Stage  Stage    `json:"stage"`
	// ChangeID is the other change's id.
	ChangeID  int64     `json:"change_id"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

// links returns the changes linked to changeID that actor may see, and
// how many others are linked that actor may not see (at sites not
// theirs): those are counted, never named.
func (s *Service) links(ctx context.Context, q store.Querier, actor *auth.User, changeID int64) ([]Link, int, error) {
	rows, err := q.QueryContext(ctx, `SELECT l.id, l.kind, l.change_id = $1, o.id, o.number, o.title, o.stage, o.site_id, u.name, l.created_at
		FROM change_links l JOIN changes o ON o.id = CASE WHEN l.change_id = $1 THEN l.linked_id ELSE l.change_id END
		JOIN users u ON u.id = l.created_by
		WHERE l.change_id = $1 OR l.linked_id = $1 ORDER BY l.id`, changeID)
	if err != nil {
		return nil, 0, fmt.Errorf("links of change %d: %w", changeID, err)
	}
	defer rows.Close()
	out := []Link{}
	hidden := 0
	for rows.Next() {
		var l Link
		var mine bool
		var site int64
		if err := rows.Scan(&l.ID, &l.Kind, &mine, &l.ChangeID, &l.Number, &l.Title, &l.Stage, &site, &l.CreatedBy, &l.CreatedAt); err != nil {
			return nil, 0, err
		}
		if !actor.OnSite(site) {
			hidden++
			continue
		}
		if l.Kind == LinkDependsOn && !mine {
			l.Kind = LinkRequiredBy
		}
		l.CreatedAt = l.CreatedAt.UTC()
		out = append(out, l)
	}
	return out, hidden, rows.Err()
}

// Links returns the changes linked to changeID that actor may see, and
// how many others are linked at sites not theirs; the change itself must
// be one actor can see.
func (s *Service) Links(ctx context.Context, actor *auth.User, changeID int64) ([]Link, int, error) {
	c, err := loadChange(ctx, s.DB.SQL, changeID)
	if err != nil {
		return nil, 0, err
	}
	if !actor.OnSite(c.SiteID) {
		return nil, 0, notFound("change %d not found", changeID)
	}
	return s.links(ctx, s.DB.SQL, actor, changeID)
}

// LinkChange records that change changeID depends on, or is related to,
// the change other names (a number like MOC-2026-0003, or an id). Both
// changes must be ones actor can see; the link shows on both and is in
// both audit trails.
func (s *Service) LinkChange(ctx context.Context, actor *auth.User, changeID int64, kind LinkKind, other string) (*Link, error) {
	if kind != LinkDependsOn && kind != LinkRelatedTo {
		return nil, invalid("kind", "must be depends_on or related_to, got %q", kind)
	}
	other = strings.TrimSpace(other)
	if other == "" {
		return nil, invalid("linked_change", "name the related change by its number, like MOC-2026-0003")
	}
	if len(other) > 40 {
		return nil, invalid("linked_change", "a change number is at most 40 characters, got %d", len(other))
	}
	var link *Link
	err := s.changeTx(ctx, actor, changeID, ActLink, func(tx *sql.Tx, d *Detail) error {
		c := d.Change
		otherID, err := resolve(ctx, tx, actor, other)
		if problem.KindOf(err) == problem.NotFound {
			return invalid("linked_change", "there is no change %s that you can see", strings.ToUpper(other))
		}
		if err != nil {
			return err
		}
		if otherID == c.ID {
			return invalid("linked_change", "a change cannot be linked to itself")
		}
		o, err := loadChange(ctx, tx, otherID)
		if err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM change_links WHERE (change_id = $1 AND linked_id = $2) OR (change_id = $2 AND linked_id = $1)`,
			c.ID, o.ID).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return conflict("%s and %s are already linked: remove that link first to link them another way", c.Number, o.Number)
		}
		for _, id := range []int64{c.ID, o.ID} {
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM change_links WHERE change_id = $1 OR linked_id = $1`, id).Scan(&n); err != nil {
				return err
			}
			if n >= MaxLinksPerChange {
				return invalid("linked_change", "a change may have at most %d related changes", MaxLinksPerChange)
			}
		}
		now := s.now()
		link = &Link{Kind: kind, Number: o.Number, Title: o.Title, Stage: o.Stage, ChangeID: o.ID, CreatedBy: actor.Name, CreatedAt: now.UTC()}
		if err := tx.QueryRowContext(ctx, `INSERT INTO change_links (change_id, linked_id, kind, created_by, created_at) VALUES ($1,$2,$3,$4,$5) RETURNING id`,
			c.ID, o.ID, string(kind), actor.ID, now).Scan(&link.ID); err != nil {
			return err
		}
		back := LinkRelatedTo
		if kind == LinkDependsOn {
			back = LinkRequiredBy
		}
		if err := s.audit(ctx, tx, c.ID, actor, "", "link_added", "links", "", kind.Label()+" "+o.Number); err != nil {
			return err
		}
		return s.audit(ctx, tx, o.ID, actor, "", "link_added", "links", "", back.Label()+" "+c.Number)
	})
	return link, err
}

// UnlinkChange removes link linkID from change changeID (the link shows
// on either change, and may be removed from either), in both audit trails.
func (s *Service) UnlinkChange(ctx context.Context, actor *auth.User, changeID, linkID int64) error {
	return s.changeTx(ctx, actor, changeID, ActLink, func(tx *sql.Tx, d *Detail) error {
		var from, to int64
		var kind LinkKind
		err := tx.QueryRowContext(ctx, `SELECT change_id, linked_id, kind FROM change_links WHERE id = $1 AND (change_id = $2 OR linked_id = $2)`,
			linkID, changeID).Scan(&from, &to, &kind)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("%s has no link %d", d.Change.Number, linkID)
		}
		if err != nil {
			return err
		}
		a, err := loadChange(ctx, tx, from)
		if err != nil {
			return err
		}
		b, err := loadChange(ctx, tx, to)
		if err != nil {
			return err
		}
		// Removing a link changes the other change's record too: only
		// someone who can see it may.
		if !actor.OnSite(a.SiteID) || !actor.OnSite(b.SiteID) {
			return notFound("%s has no link %d", d.Change.Number, linkID)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM change_links WHERE id = $1`, linkID); err != nil {
			return err
		}
		back := LinkRelatedTo
		if kind == LinkDependsOn {
			back = LinkRequiredBy
		}
		if err := s.audit(ctx, tx, a.ID, actor, "", "link_removed", "links", kind.Label()+" "+b.Number, ""); err != nil {
			return err
		}
		return s.audit(ctx, tx, b.ID, actor, "", "link_removed", "links", back.Label()+" "+a.Number, "")
	})
}
