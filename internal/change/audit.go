package change

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/store"
)

// The audit trail is one hash chain per change. Appends happen inside
// the transaction that holds the change's row lock (lockChange), so the
// chain of one change is written by one transaction at a time and stays
// linear; the unique (change_id, seq) index is the last guard. A chain
// per change, rather than one global chain, lets unrelated changes be
// worked on concurrently on PostgreSQL without a global lock row.

// genesisHash is the prev_hash of every chain's first entry.
var genesisHash = strings.Repeat("0", 64)

// canonicalEntry is what is hashed: a fixed field order and a fixed time
// format, so the hash recomputes identically from either database.
type canonicalEntry struct {
	ChangeID   int64  `json:"change_id"`
	Seq        int64  `json:"seq"`
	At         string `json:"at"`
	ActorID    int64  `json:"actor_id"`
	ActorName  string `json:"actor_name"`
	OnBehalfOf string `json:"on_behalf_of"`
	Action     string `json:"action"`
	Field      string `json:"field"`
	OldValue   string `json:"old_value"`
	NewValue   string `json:"new_value"`
}

// entryHash is sha256(prev_hash || canonical JSON of the entry), hex.
func entryHash(e *AuditEntry) string {
	b, _ := json.Marshal(canonicalEntry{
		ChangeID: e.ChangeID, Seq: e.Seq, At: e.At.UTC().Format(time.RFC3339Nano),
		ActorID: e.ActorID, ActorName: e.ActorName, OnBehalfOf: e.OnBehalfOf,
		Action: e.Action, Field: e.Field, OldValue: e.OldValue, NewValue: e.NewValue,
	})
	h := sha256.New()
	h.Write([]byte(e.PrevHash))
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// audit appends one entry to the change's chain in tx. actor nil means
// the system (reminders, expiry).
func (s *Service) audit(ctx context.Context, tx *sql.Tx, changeID int64, actor *auth.User, onBehalfOf, action, field, oldValue, newValue string) error {
	e := &AuditEntry{ChangeID: changeID, At: s.now(), ActorName: "system", OnBehalfOf: onBehalfOf,
		Action: action, Field: field, OldValue: oldValue, NewValue: newValue}
	if actor != nil {
		e.ActorID, e.ActorName = actor.ID, actor.Name
	}
	var last int64
	var prev string
	err := tx.QueryRowContext(ctx, `SELECT seq, hash FROM change_audit WHERE change_id = $1 ORDER BY seq DESC LIMIT 1`, changeID).Scan(&last, &prev)
	if errors.Is(err, sql.ErrNoRows) {
		last, prev, err = 0, genesisHash, nil
	}
	if err != nil {
		return fmt.Errorf("audit: read chain head: %w", err)
	}
	e.Seq, e.PrevHash = last+1, prev
	e.Hash = entryHash(e)
	_, err = tx.ExecContext(ctx, `INSERT INTO change_audit (change_id, seq, at, actor_id, actor_name, on_behalf_of, action, field,
		old_value, new_value, prev_hash, hash) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)`,
		e.ChangeID, e.Seq, e.At, nid(e.ActorID), e.ActorName, e.OnBehalfOf, e.Action, e.Field, e.OldValue, e.NewValue, e.PrevHash, e.Hash)
	if err != nil {
		return fmt.Errorf("audit: append entry %d of change %d: %w", e.Seq, changeID, err)
	}
	return nil
}

const auditColumns = `change_id, seq, at, COALESCE(actor_id, 0), actor_name, on_behalf_of, action, field, old_value, new_value, prev_hash, hash`

func scanAudit(rows *sql.Rows) (AuditEntry, error) {
	var e AuditEntry
	err := rows.Scan(&e.ChangeID, &e.Seq, &e.At, &e.ActorID, &e.ActorName, &e.OnBehalfOf, &e.Action, &e.Field,
		&e.OldValue, &e.NewValue, &e.PrevHash, &e.Hash)
	e.At = e.At.UTC()
	return e, err
}

// AuditTrail returns a change's audit trail, oldest first.
func (s *Service) AuditTrail(ctx context.Context, actor *auth.User, changeID int64) ([]AuditEntry, error) {
	p, err := s.AuditTrailPage(ctx, actor, changeID, 0, 0)
	return p.Entries, err
}

// MaxAuditPage is the most entries AuditTrailPage returns at once.
const MaxAuditPage = 1000

// AuditPage is one page of a change's audit trail.
type AuditPage struct {
	Entries []AuditEntry `json:"entries"`
	// Next is the seq the following page starts after (AuditTrailPage's
	// after); 0 on the last page.
	Next int64 `json:"next"`
}

// AuditTrailPage returns up to limit entries of a change's audit trail
// after entry number after (0 from the start), oldest first. Entries are
// numbered 1, 2, 3... per change and never change, so the seq is the
// cursor: a page reads its entries from the (change_id, seq) index and
// costs the same however long the trail. limit 0 means the whole trail
// (the change page's timeline and the print view show it in full);
// otherwise it is 1 to MaxAuditPage.
func (s *Service) AuditTrailPage(ctx context.Context, actor *auth.User, changeID, after int64, limit int) (AuditPage, error) {
	p := AuditPage{Entries: []AuditEntry{}}
	if after < 0 {
		return p, invalid("after", "must be the number of an entry (0 or more), got %d", after)
	}
	if limit < 0 || limit > MaxAuditPage {
		return p, invalid("limit", "must be between 1 and %d, got %d", MaxAuditPage, limit)
	}
	c, err := loadChange(ctx, s.DB.SQL, changeID)
	if err != nil {
		return p, err
	}
	if !actor.OnSite(c.SiteID) {
		return p, notFound("change %d not found", changeID)
	}
	q, args := `SELECT `+auditColumns+` FROM change_audit WHERE change_id = $1 AND seq > $2 ORDER BY seq`, []any{changeID, after}
	if limit > 0 {
		// One more than the page says whether there is a next one.
		q += ` LIMIT $3`
		args = append(args, limit+1)
	}
	rows, err := s.DB.SQL.QueryContext(ctx, q, args...)
	if err != nil {
		return p, err
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return p, err
		}
		if limit > 0 && len(p.Entries) == limit {
			p.Next = p.Entries[len(p.Entries)-1].Seq
			break
		}
		p.Entries = append(p.Entries, e)
	}
	return p, rows.Err()
}

// AuditReport is the result of verifying every chain.
type AuditReport struct {
	Changes int `json:"changes"`
	Entries int `json:"entries"`
	// Broken is empty when every chain verifies.
	Broken []AuditBreak `json:"broken,omitempty"`
}

// OK reports whether every chain verified.
func (r *AuditReport) OK() bool { return len(r.Broken) == 0 }

// AuditBreak names the first broken entry of one change's chain.
type AuditBreak struct {
	ChangeID int64  `json:"change_id"`
	Number   string `json:"number"`
	Seq      int64  `json:"seq"`
	Reason   string `json:"reason"`
}

func (b AuditBreak) String() string {
	return fmt.Sprintf("%s (change %d) audit entry %d: %s", b.Number, b.ChangeID, b.Seq, b.Reason)
}

// VerifyAudit recomputes the chain of every change the actor may see
// (the changes of their sites, or of every site)
// and reports, per change, the first entry whose hash or link does not
// match: an edited, deleted or inserted row breaks the chain there. A
// change with no entries at all is reported too (every change gets a
// "created" entry). Changes of other sites are neither checked, counted
// nor named: an auditor of one site learns nothing about the others.
func (s *Service) VerifyAudit(ctx context.Context, actor *auth.User) (AuditReport, error) {
	if actor == nil {
		return AuditReport{}, forbidden("sign in to verify the audit trail")
	}
	if actor.AllSites {
		return verifyChains(ctx, s.DB.SQL, chainScope{})
	}
	if len(actor.SiteIDs) == 0 {
		// No site yet: nothing to see, and chainScope{} would mean all.
		return AuditReport{}, nil
	}
	return verifyChains(ctx, s.DB.SQL, chainScope{sites: actor.SiteIDs})
}

// VerifyAudit checks every change's chain on every site, for callers
// without a user (the mocpcr audit verify command on the server).
func VerifyAudit(ctx context.Context, q store.Querier) (AuditReport, error) {
	return verifyChains(ctx, q, chainScope{})
}

// VerifyChangeAudit verifies one change's chain, for the people who may
// see that change (the audit page of a change); the check is the one
// VerifyAudit runs over every chain.
func (s *Service) VerifyChangeAudit(ctx context.Context, actor *auth.User, changeID int64) (AuditReport, error) {
	c, err := loadChange(ctx, s.DB.SQL, changeID)
	if err != nil {
		return AuditReport{}, err
	}
	if !actor.OnSite(c.SiteID) {
		return AuditReport{}, notFound("change %d not found", changeID)
	}
	return verifyChains(ctx, s.DB.SQL, chainScope{changeID: changeID})
}

// chainScope picks the chains verifyChains checks: one change, the
// changes of some sites, or (zero value) every change.
type chainScope struct {
	changeID int64
	sites    []int64
}

// where returns the condition on changes.id (as col) and its arguments.
func (sc chainScope) where(col string) (string, []any) {
	switch {
	case sc.changeID != 0:
		return " WHERE " + col + " = $1", []any{sc.changeID}
	case len(sc.sites) > 0:
		ph := make([]string, len(sc.sites))
		args := make([]any, len(sc.sites))
		for i, id := range sc.sites {
			ph[i] = fmt.Sprintf("$%d", i+1)
			args[i] = id
		}
		return " WHERE " + col + " IN (SELECT id FROM changes WHERE site_id IN (" + strings.Join(ph, ", ") + "))", args
	}
	return "", nil
}

// verifyChains checks the chains of the changes in scope.
func verifyChains(ctx context.Context, q store.Querier, sc chainScope) (AuditReport, error) {
	var rep AuditReport
	numbers := map[int64]string{}
	var order []int64
	where, args := sc.where("id")
	rows, err := q.QueryContext(ctx, `SELECT id, number FROM changes`+where+` ORDER BY id`, args...)
	if err != nil {
		return rep, fmt.Errorf("verify audit: %w", err)
	}
	for rows.Next() {
		var id int64
		var n string
		if err := rows.Scan(&id, &n); err != nil {
			rows.Close()
			return rep, err
		}
		numbers[id] = n
		order = append(order, id)
	}
	rows.Close()
	rep.Changes = len(order)
	where, args = sc.where("change_id")
	rows, err = q.QueryContext(ctx, `SELECT `+auditColumns+` FROM change_audit`+where+` ORDER BY change_id, seq`, args...)
	if err != nil {
		return rep, fmt.Errorf("verify audit: %w", err)
	}
	defer rows.Close()
	type state struct {
		seq    int64
		hash   string
		broken bool
	}
	chains := map[int64]*state{}
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return rep, err
		}
		rep.Entries++
		st := chains[e.ChangeID]
		if st == nil {
			st = &state{hash: genesisHash}
			chains[e.ChangeID] = st
		}
		if st.broken {
			continue
		}
		fail := func(reason string) {
			st.broken = true
			rep.Broken = append(rep.Broken, AuditBreak{ChangeID: e.ChangeID, Number: numbers[e.ChangeID], Seq: e.Seq, Reason: reason})
		}
		switch {
		case e.Seq != st.seq+1:
			fail(fmt.Sprintf("sequence jumps from %d to %d (an entry was deleted or inserted)", st.seq, e.Seq))
		case e.PrevHash != st.hash:
			fail("prev_hash does not match the previous entry's hash (an entry was deleted, inserted or edited)")
		case entryHash(&e) != e.Hash:
			fail("hash does not match the entry's content (the entry was edited)")
		}
		st.seq, st.hash = e.Seq, e.Hash
	}
	if err := rows.Err(); err != nil {
		return rep, err
	}
	for _, id := range order {
		if chains[id] == nil {
			rep.Broken = append(rep.Broken, AuditBreak{ChangeID: id, Number: numbers[id], Seq: 1, Reason: "the change has no audit entries (its chain was deleted)"})
		}
	}
	return rep, nil
}
