package change

import (
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/problem"
	"github.com/mocpcr/mocpcr/internal/store"
)

// Filter narrows List. Zero values mean "any".
type Filter struct {
	Kind        Kind
	Stage       Stage
	Duration    Duration
	SiteID      int64
	UnitID      int64
	InitiatorID int64
	// Q matches part of the number, title or equipment tags, or every
	// word of it in any text field (full text), case-insensitively.
	Q string
	// OpenOnly hides closed and voided changes.
	OpenOnly bool
	// ReplacementInKind keeps the changes submitted as a replacement in
	// kind (awaiting confirmation, confirmed, or returned after a
	// rejected claim), for an auditor to sample.
	ReplacementInKind bool
	// Overdue keeps open changes with an open action past its due date,
	// or a live temporary change past its expiry date.
	Overdue bool
	// ExpiringWithinDays, when positive, keeps live temporary and
	// emergency changes that expire within that many days from today,
	// including those already past expiry.
	ExpiringWithinDays int
	// Sort is one of SortKeys, prefixed with "-" for descending; "" is
	// newest first.
	Sort  string
	Limit int
	// Offset skips rows: cheap near the start only, since the database
	// walks every skipped row. Not allowed with After.
	Offset int
	// After is the Next cursor of a previous page in the same sort: the
	// page starts right after the row it names, however deep, at the cost
	// of page 1, and rows added meanwhile neither repeat nor go missing.
	After string
	// Count asks for the total on a page fetched by cursor too; without
	// it only pages fetched without a cursor are counted.
	Count bool
}

// changeText is the full-text index over a change's text fields
// (migration 00176): number, title, description, tags, reason, the
// 1910.119(l)(2) answers, time period, authorisation and close-out note.
var changeText = store.TextIndex{FTSTable: "changes_fts", IDColumn: "c.id", VectorColumn: "c.search"}

// SortKeys are the columns List can sort by.
var SortKeys = []string{"number", "title", "kind", "stage", "site", "unit", "initiator", "created", "updated", "expires"}

// sortPart is one expression of a sort, before the id that breaks ties.
type sortPart struct {
	expr string
}

// sortParts maps SortKeys to SQL, ascending. Every sort has an index over
// (its parts..., id) (migrations 00150 and 00190), so a page of any sort,
// at any depth, reads one page of an index: the expressions here must
// stay exactly the indexed ones. Site, unit and owner sort by copies of
// the code and name kept in changes by triggers; stage sorts in workflow
// order.
var sortParts = map[string][]sortPart{
	"number": {{expr: "c.number"}}, "title": {{expr: "lower(c.title)"}}, "kind": {{expr: "c.kind"}},
	"site": {{expr: "c.sort_site"}}, "unit": {{expr: "c.sort_unit"}}, "initiator": {{expr: "c.sort_initiator"}},
	"created": {{expr: "c.created_at"}}, "updated": {{expr: "c.updated_at"}},
	"expires": {{expr: "CASE WHEN c.expires_on IS NULL THEN 1 ELSE 0 END"}, {expr: "c.expires_on"}},
	"stage":   {{expr: stageOrderSQL("c.stage")}},
}

// descParts replaces a sort's parts when it runs descending. Expiry puts
// changes with no expiry last both ways: descending, its rank is the
// other way round, so that every part still runs one way and one index
// (changes_expires_desc_keyset) read backwards serves the page.
var descParts = map[string][]sortPart{
	"expires": {{expr: "CASE WHEN c.expires_on IS NULL THEN 0 ELSE 1 END"}, {expr: "c.expires_on"}},
}

// stageOrderSQL ranks stages in workflow order; col is the stage column
// as the query names it.
func stageOrderSQL(col string) string {
	var b strings.Builder
	b.WriteString("CASE " + col)
	for i, st := range Stages {
		fmt.Fprintf(&b, " WHEN '%s' THEN %d", st, i)
	}
	b.WriteString(" END")
	return b.String()
}

// listOrder is a parsed Sort: its parts and direction, the id last.
type listOrder struct {
	sort  string
	parts []sortPart
	desc  bool
}

// parseSort turns a Sort value into its parts (ties broken by id).
func parseSort(sort string) (listOrder, error) {
	if sort == "" {
		return listOrder{desc: true}, nil
	}
	key, desc := strings.CutPrefix(sort, "-")
	parts, ok := sortParts[key]
	if !ok {
		return listOrder{}, invalid("sort", "must be one of %s (prefix - for descending), got %q", strings.Join(SortKeys, ", "), sort)
	}
	if d, ok := descParts[key]; ok && desc {
		parts = d
	}
	return listOrder{sort: sort, parts: parts, desc: desc}, nil
}

// dir is the SQL direction of every part.
func (o listOrder) dir() string {
	if o.desc {
		return " DESC"
	}
	return " ASC"
}

// orderBy is the ORDER BY clause.
func (o listOrder) orderBy() string {
	var parts []string
	for _, p := range o.parts {
		parts = append(parts, p.expr+o.dir())
	}
	return strings.Join(append(parts, "c.id"+o.dir()), ", ")
}

// keyColumns selects the sort parts after a change's columns, for the
// cursor of the page's last row.
func (o listOrder) keyColumns() string {
	var b strings.Builder
	for _, p := range o.parts {
		b.WriteString(", " + p.expr)
	}
	return b.String()
}

// after is the condition "sorts after the row at cur". Every part runs
// one way, so it is a row comparison, which both engines take as a range
// on the index over (parts..., id). A NULL part (no expiry) cannot be
// compared: such a row is in the last rank of the expiry sort either way
// (descParts), so what follows it is the rest of that rank, NULL expiry
// and a later id.
func (o listOrder) after(cur listCursor, args *[]any) string {
	arg := func(v any) string {
		*args = append(*args, v)
		return fmt.Sprintf("$%d", len(*args))
	}
	op := " > "
	if o.desc {
		op = " < "
	}
	for i, p := range o.parts {
		if cur.Keys[i].value() == nil {
			eqs := make([]string, 0, len(o.parts)+1)
			for j, q := range o.parts[:i] {
				eqs = append(eqs, q.expr+" = "+arg(cur.Keys[j].value()))
			}
			eqs = append(eqs, p.expr+" IS NULL", "c.id"+op+arg(cur.ID))
			return "(" + strings.Join(eqs, " AND ") + ")"
		}
	}
	var cols, vals []string
	for i, p := range o.parts {
		cols, vals = append(cols, p.expr), append(vals, arg(cur.Keys[i].value()))
	}
	cols, vals = append(cols, "c.id"), append(vals, arg(cur.ID))
	row := "(" + strings.Join(cols, ", ") + ")" + op + "(" + strings.Join(vals, ", ") + ")"
	if len(o.parts) == 0 {
		return "(" + row + ")"
	}
	// SQLite takes a row comparison as a range only when the index's
	// first column is a plain column, not for lower(title): the
	// redundant bound on the first part gives it the range.
	return "(" + o.parts[0].expr + strings.TrimSpace(op) + "= " + vals[0] + " AND " + row + ")"
}

// siteScope limits a query to the actor's sites.
func siteScope(actor *auth.User, col string, args *[]any) string {
	if actor.AllSites {
		return "TRUE"
	}
	if len(actor.SiteIDs) == 0 {
		return "FALSE"
	}
	var ph []string
	for _, id := range actor.SiteIDs {
		*args = append(*args, id)
		ph = append(ph, fmt.Sprintf("$%d", len(*args)))
	}
	return col + " IN (" + strings.Join(ph, ",") + ")"
}

// CountCap is the most List counts: past it a total is "more than
// CountCap". Counting stops there, so a count costs at most CountCap
// index entries however many changes match, and a 100,000-change list
// is no slower to open than a 10,000-change one.
const CountCap = 10000

// Page is one page of the change list.
type Page struct {
	Changes []Change `json:"changes"`
	// Total is how many changes match, up to CountCap; nil when the page
	// was fetched by cursor without asking for a count.
	Total *int `json:"total"`
	// TotalExact is false when more than CountCap match: Total is then
	// CountCap.
	TotalExact bool `json:"total_exact"`
	// TotalCached is true when Total was counted by an earlier request,
	// at most CountTTL ago, and not recounted (a change written by this
	// process since recounts at once; one written elsewhere may be
	// missing): the page says "about". Filter.Count always counts afresh.
	TotalCached bool `json:"total_cached"`
	// Next fetches the following page (Filter.After); "" on the last.
	Next string `json:"next"`
}

// List returns the changes actor may see that match f and how many
// match (up to CountCap, perhaps cached: see ListPage), for callers that
// page by offset.
func (s *Service) List(ctx context.Context, actor *auth.User, f Filter) ([]Change, int, error) {
	if f.After != "" {
		f.Count = true
	}
	p, err := s.ListPage(ctx, actor, f)
	if err != nil {
		return nil, 0, err
	}
	return p.Changes, *p.Total, nil
}

// ListPage returns one page of the changes actor may see that match f,
// in f's sort, with the cursor of the next page. The total is given
// (up to CountCap) when the page is not fetched by cursor or f.Count
// asks for it: paging on by cursor then costs the same on every page. A
// total counted for the same filter and sites less than CountTTL ago is
// served from memory (Page.TotalCached); f.Count always counts.
func (s *Service) ListPage(ctx context.Context, actor *auth.User, f Filter) (Page, error) {
	w, err := s.listWhere(actor, f)
	if err != nil {
		return Page{}, err
	}
	cond, args, order, today := w.cond, w.args, w.order, w.today
	p := Page{Changes: []Change{}, TotalExact: true}
	if f.After == "" || f.Count {
		key := countKey(actor, f, today)
		if e, ok := s.counts.get(key, s.Now()); ok && !f.Count {
			p.Total, p.TotalExact, p.TotalCached = &e.total, e.exact, true
		} else {
			gen := s.counts.generation()
			var total int
			if err := s.DB.Prepared().QueryRowContext(ctx, countSQL(cond), args...).Scan(&total); err != nil {
				return Page{}, fmt.Errorf("count changes: %w", err)
			}
			if total > CountCap {
				total, p.TotalExact = CountCap, false
			}
			p.Total = &total
			s.counts.put(key, countEntry{total: total, exact: p.TotalExact, at: s.Now(), gen: gen})
		}
	}
	query, args, err := pageSQL(cond, args, order, &f)
	if err != nil {
		return Page{}, err
	}
	rows, err := s.DB.Prepared().QueryContext(ctx, query, args...)
	if err != nil {
		return Page{}, fmt.Errorf("list changes: %w", err)
	}
	defer rows.Close()
	var last []any
	for rows.Next() {
		if len(p.Changes) == f.Limit {
			next, err := encodeCursor(order, p.Changes[len(p.Changes)-1].ID, last)
			if err != nil {
				return Page{}, err
			}
			p.Next = next
			break
		}
		keys := make([]any, len(order.parts))
		c, err := scanChange(withKeys{rows, keys})
		if err != nil {
			return Page{}, fmt.Errorf("list changes: %w", err)
		}
		p.Changes = append(p.Changes, *c)
		last = keys
	}
	return p, rows.Err()
}

// ListSQL returns the queries ListPage runs for f, with their arguments:
// the page's and the total's (a total is counted only when not cached).
// It is for measuring: the benchmark runs them directly as the raw-SQL
// lower bound of the change list.
func (s *Service) ListSQL(actor *auth.User, f Filter) (page string, pageArgs []any, count string, countArgs []any, err error) {
	w, err := s.listWhere(actor, f)
	if err != nil {
		return "", nil, "", nil, err
	}
	page, pageArgs, err = pageSQL(w.cond, slices.Clone(w.args), w.order, &f)
	return page, pageArgs, countSQL(w.cond), w.args, err
}

// countSQL counts the changes matching cond, up to CountCap+1. Every
// condition is on c, and the joins in changeFrom neither drop rows (NOT
// NULL foreign keys) nor add them (LEFT JOIN on a key), so the count
// skips them; the inner LIMIT stops it at CountCap+1 rows.
func countSQL(cond string) string {
	return fmt.Sprintf(`SELECT count(*) FROM (SELECT 1 FROM changes c WHERE %s LIMIT %d) m`, cond, CountCap+1)
}

// pageSQL is the query of one page: cond, then the cursor's position
// (f.After) or the offset, in order, one row more than f.Limit (which it
// settles to 1-1000, 100 by default) to tell whether a next page exists.
func pageSQL(cond string, args []any, order listOrder, f *Filter) (string, []any, error) {
	if f.After != "" {
		if f.Offset != 0 {
			return "", nil, invalid("offset", "cannot be combined with a cursor (after): a cursor already says where the page starts")
		}
		cur, err := decodeCursor(f.After, order)
		if err != nil {
			return "", nil, err
		}
		cond += " AND " + order.after(cur, &args)
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	args = append(args, f.Limit+1, f.Offset)
	return `SELECT ` + changeColumns + order.keyColumns() + changeFrom + ` WHERE ` + cond +
		fmt.Sprintf(` ORDER BY %s LIMIT $%d OFFSET $%d`, order.orderBy(), len(args)-1, len(args)), args, nil
}

// listFilter is f as SQL: the condition on c with its arguments, the
// order, and the day the date filters were measured from.
type listFilter struct {
	cond  string
	args  []any
	order listOrder
	today time.Time
}

// listWhere checks f and turns it into SQL.
func (s *Service) listWhere(actor *auth.User, f Filter) (listFilter, error) {
	if actor == nil {
		return listFilter{}, forbidden("sign in first")
	}
	var args []any
	where := []string{siteScope(actor, "c.site_id", &args)}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", fmt.Sprintf("$%d", len(args))))
	}
	if f.Kind != "" {
		add("c.kind = ?", strings.ToUpper(string(f.Kind)))
	}
	if f.Stage != "" {
		if !slices.Contains(Stages, f.Stage) {
			return listFilter{}, invalid("stage", "unknown stage %q", f.Stage)
		}
		add("c.stage = ?", string(f.Stage))
	}
	if f.Duration != "" {
		add("c.duration = ?", string(f.Duration))
	}
	if f.SiteID != 0 {
		add("c.site_id = ?", f.SiteID)
	}
	if f.UnitID != 0 {
		add("c.unit_id = ?", f.UnitID)
	}
	if f.InitiatorID != 0 {
		add("c.initiator_id = ?", f.InitiatorID)
	}
	if q := strings.TrimSpace(f.Q); q != "" {
		if n := utf8.RuneCountInString(q); n > MaxQueryLength {
			return listFilter{}, invalid("q", "search text may be at most %d characters, got %d", MaxQueryLength, n)
		}
		args = append(args, "%"+strings.ToLower(q)+"%")
		n := len(args)
		// A part of a number or tag ("0042", "101A") still matches as
		// before; the words of q also find changes whose description
		// or other text fields hold every one of them.
		cond := fmt.Sprintf("lower(c.number) LIKE $%d OR lower(c.title) LIKE $%d OR lower(c.equipment_tags) LIKE $%d", n, n, n)
		if terms := store.TextTerms(q); len(terms) > 0 {
			args = append(args, s.DB.TextQuery(terms))
			cond += " OR " + s.DB.Match(changeText, fmt.Sprintf("$%d", len(args)))
		}
		where = append(where, "("+cond+")")
	}
	if f.OpenOnly {
		where = append(where, "c.stage NOT IN ('closed', 'voided')")
	}
	if f.ReplacementInKind {
		where = append(where, "c.replacement_in_kind")
	}
	today := dateOnly(s.Now())
	if f.Overdue {
		args = append(args, today)
		n := len(args)
		where = append(where, fmt.Sprintf(`c.stage NOT IN ('closed', 'voided') AND (EXISTS (SELECT 1 FROM change_actions oa
			WHERE oa.change_id = c.id AND oa.status = 'open' AND oa.due_on IS NOT NULL AND oa.due_on < $%d)
			OR (%s AND c.expires_on < $%d))`, n, liveTemporary, n))
	}
	if f.ExpiringWithinDays < 0 {
		return listFilter{}, invalid("expiring", "must be a number of days, 0 or more, got %d", f.ExpiringWithinDays)
	}
	if f.ExpiringWithinDays > 0 {
		add("("+liveTemporary+" AND c.expires_on <= ?)", today.AddDate(0, 0, f.ExpiringWithinDays))
	}
	order, err := parseSort(f.Sort)
	if err != nil {
		return listFilter{}, err
	}
	if f.Offset < 0 {
		return listFilter{}, invalid("offset", "must be 0 or more, got %d", f.Offset)
	}
	return listFilter{cond: strings.Join(where, " AND "), args: args, order: order, today: today}, nil
}

// withKeys scans a change row followed by its sort keys.
type withKeys struct {
	row  scanner
	keys []any
}

func (w withKeys) Scan(dest ...any) error {
	for i := range w.keys {
		dest = append(dest, &w.keys[i])
	}
	return w.row.Scan(dest...)
}

func (s *Service) queryChanges(ctx context.Context, q store.Querier, tail string, args ...any) ([]Change, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+changeColumns+changeFrom+tail, args...)
	if err != nil {
		return nil, fmt.Errorf("list changes: %w", err)
	}
	defer rows.Close()
	out := []Change{}
	for rows.Next() {
		c, err := scanChange(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *c)
	}
	return out, rows.Err()
}

// Conflicts returns the open changes, and the live temporary ones, on the
// same unit or sharing an equipment tag at the site, so someone filing a
// change sees what else is in play there. excludeID leaves one change out
// (the one being filed).
func (s *Service) Conflicts(ctx context.Context, actor *auth.User, siteID, unitID int64, tags []string, excludeID int64) ([]Change, error) {
	if actor == nil || !actor.OnSite(siteID) {
		return []Change{}, nil
	}
	want := map[string]bool{}
	// The database narrows the site's open changes to those on the unit
	// or whose tags contain one of ours (tags are stored one a line), so
	// only candidates are read and decoded: at 100,000 changes reading
	// every open change of the site cost the change page 100 ms and more.
	// LIKE may over-match (a tag holding % or _, SQLite ignoring case);
	// the exact test below decides.
	args := []any{siteID, excludeID}
	var match []string
	nl := 0 // the parameter holding "\n", once a tag needs it
	if unitID != 0 {
		args = append(args, unitID)
		match = append(match, fmt.Sprintf("c.unit_id = $%d", len(args)))
	}
	for _, t := range tags {
		t = strings.ToUpper(strings.TrimSpace(t))
		if t == "" || want[t] {
			continue
		}
		want[t] = true
		if nl == 0 {
			args = append(args, "\n")
			nl = len(args)
		}
		args = append(args, "%\n"+t+"\n%")
		match = append(match, fmt.Sprintf("($%d || c.equipment_tags || $%d) LIKE $%d", nl, nl, len(args)))
	}
	if len(match) == 0 {
		return []Change{}, nil
	}
	open, err := s.queryChanges(ctx, s.DB.SQL, ` WHERE c.site_id = $1 AND c.id <> $2 AND c.stage NOT IN ('closed', 'voided') AND (`+
		strings.Join(match, " OR ")+`) ORDER BY c.id`, args...)
	if err != nil {
		return nil, err
	}
	out := []Change{}
	for _, c := range open {
		hit := unitID != 0 && c.UnitID == unitID
		for _, t := range c.EquipmentTags {
			hit = hit || want[t]
		}
		if hit {
			out = append(out, c)
		}
	}
	return out, nil
}

// Units lists the units of the actor's sites (of one site when siteID is set).
func (s *Service) Units(ctx context.Context, actor *auth.User, siteID int64) ([]Unit, error) {
	var args []any
	cond := siteScope(actor, "u.site_id", &args)
	if siteID != 0 {
		args = append(args, siteID)
		cond += fmt.Sprintf(" AND u.site_id = $%d", len(args))
	}
	rows, err := s.DB.Prepared().QueryContext(ctx, `SELECT u.id, u.site_id, s.code, u.code, u.name, u.retired_at, s.retired_at IS NOT NULL FROM units u JOIN sites s ON s.id = u.site_id
		WHERE `+cond+` ORDER BY s.code, u.code`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Unit{}
	for rows.Next() {
		var u Unit
		var ret sql.NullTime
		if err := rows.Scan(&u.ID, &u.SiteID, &u.SiteCode, &u.Code, &u.Name, &ret, &u.SiteRetired); err != nil {
			return nil, err
		}
		u.RetiredAt = ptime(ret)
		out = append(out, u)
	}
	return out, rows.Err()
}

// CreateUnit adds a unit to a site (admin only).
func (s *Service) CreateUnit(ctx context.Context, actor *auth.User, siteID int64, code, name string) (*Unit, error) {
	if !actor.Has(auth.RoleAdmin) {
		return nil, forbidden("only an admin may add units")
	}
	code, name = strings.ToUpper(strings.TrimSpace(code)), strings.TrimSpace(name)
	var p problem.List
	if siteID <= 0 {
		p.Invalid("site_id", "is required: choose the site the unit belongs to")
	} else if !actor.ManagesSite(siteID) {
		p.Invalid("site_id", "you can add units only to your own sites")
	}
	if code == "" {
		p.Invalid("code", "is required")
	}
	if name == "" {
		p.Invalid("name", "is required")
	}
	if err := p.Err("site_id", "code", "name"); err != nil {
		return nil, err
	}
	u := &Unit{SiteID: siteID, Code: code, Name: name}
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		var retired sql.NullTime
		if err := tx.QueryRowContext(ctx, `SELECT code, retired_at FROM sites WHERE id = $1`, siteID).Scan(&u.SiteCode, &retired); err != nil {
			return invalid("site_id", "no site with id %d", siteID)
		}
		if retired.Valid {
			return invalid("site_id", "site %s is retired; bring it back first", u.SiteCode)
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO units (site_id, code, name) VALUES ($1,$2,$3) RETURNING id`, siteID, code, name).Scan(&u.ID)
		if store.IsUniqueViolation(err) {
			return invalid("code", "site %s already has a unit %s", u.SiteCode, code)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// WorkItem is one thing waiting for the user.
type WorkItem struct {
	ChangeID     int64      `json:"change_id"`
	ChangeNumber string     `json:"change_number"`
	Title        string     `json:"title"`
	What         string     `json:"what"`
	Since        *time.Time `json:"since,omitempty"`
	DueOn        *time.Time `json:"due_on,omitempty"`
	// OnBehalfOf names the approver when the user acts as a delegate.
	OnBehalfOf string `json:"on_behalf_of,omitempty"`
	// DaysWaiting is whole days since Since; Overdue is set once the due
	// date has passed or it has waited the reminder threshold (mywork.go).
	DaysWaiting int  `json:"days_waiting"`
	Overdue     bool `json:"overdue"`
}

// Work is everything waiting for one user.
type Work struct {
	Reviews          []WorkItem   `json:"reviews"`
	Approvals        []WorkItem   `json:"approvals"`
	Actions          []ActionItem `json:"actions"`
	Acknowledgements []WorkItem   `json:"acknowledgements"`
	// Extensions are expiry extension requests of temporary changes the
	// user approved, waiting for their decision (What names the new date).
	Extensions []WorkItem `json:"extensions"`
	// Drafts are the user's own changes in Draft or Returned.
	Drafts []Change `json:"drafts"`
	// ToCoordinate are changes in Screening or PSSR at the coordinator's sites.
	ToCoordinate []Change `json:"to_coordinate"`
	// ToConfirm are others' changes waiting for a coordinator's or
	// approver's signature at the user's sites: replacement-in-kind claims
	// to confirm and emergency changes to authorise (What says which).
	ToConfirm []WorkItem `json:"to_confirm"`
	// PSSR are the PSSR walkdowns waiting for the user as a member (or
	// the lead) of a PSSR team, while the change is in PSSR (What names
	// the scope, and the sign-off for the lead).
	PSSR []WorkItem `json:"pssr"`

	// reminders are the settings the items were judged by (markWaiting).
	reminders *ReminderSettings
}

// MyWork returns what is waiting for actor.
func (s *Service) MyWork(ctx context.Context, actor *auth.User) (*Work, error) {
	w := &Work{Reviews: []WorkItem{}, Approvals: []WorkItem{}, Acknowledgements: []WorkItem{}, Extensions: []WorkItem{},
		ToCoordinate: []Change{}, ToConfirm: []WorkItem{}, PSSR: []WorkItem{}}
	q := s.DB.Prepared()
	items := func(query string, args ...any) ([]WorkItem, error) {
		rows, err := q.QueryContext(ctx, query, args...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		out := []WorkItem{}
		for rows.Next() {
			var it WorkItem
			var since sql.NullTime
			if err := rows.Scan(&it.ChangeID, &it.ChangeNumber, &it.Title, &it.What, &since, &it.OnBehalfOf); err != nil {
				return nil, err
			}
			it.Since = ptime(since)
			out = append(out, it)
		}
		return out, rows.Err()
	}
	var err error
	// Only changes the actor can open are listed (siteScope), so no item
	// leads to a "not found": a delegate acts only on changes of their
	// own sites, and someone taken off a site loses its work.
	onSites := func(args ...any) (string, []any) {
		cond := siteScope(actor, "c.site_id", &args)
		return cond, args
	}
	cond, args := onSites(actor.ID)
	if w.Reviews, err = items(`SELECT c.id, c.number, c.title, r.discipline, r.requested_at, '' FROM change_reviews r
		JOIN changes c ON c.id = r.change_id WHERE r.reviewer_id = $1 AND r.decided_at IS NULL AND r.round = c.round
		AND c.stage = 'review' AND `+cond+` ORDER BY r.requested_at`, args...); err != nil {
		return nil, err
	}
	delegators, err := s.activeDelegators(ctx, q, actor.ID)
	if err != nil {
		return nil, err
	}
	for _, who := range append([]int64{actor.ID}, delegators...) {
		cond, args := onSites(who, actor.ID)
		// Not offered as a delegate where the actor would sign twice in
		// the round (Detail.maySignAsDelegate).
		once := ""
		if who != actor.ID {
			once = ` AND NOT EXISTS (SELECT 1 FROM change_approvals o WHERE o.change_id = c.id AND o.round = c.round
				AND (o.approver_id = $2 OR o.decided_by = $2))`
		}
		its, err := items(`SELECT c.id, c.number, c.title, 'approval stage ' || a.stage_no, a.requested_at,
			CASE WHEN a.approver_id = $2 THEN '' ELSE u.name END
			FROM change_approvals a JOIN changes c ON c.id = a.change_id JOIN users u ON u.id = a.approver_id
			WHERE a.approver_id = $1 AND a.decided_at IS NULL AND a.requested_at IS NOT NULL AND a.round = c.round
			AND c.stage = 'approval' AND c.initiator_id <> $2`+once+` AND `+cond+` ORDER BY a.requested_at`, args...)
		if err != nil {
			return nil, err
		}
		w.Approvals = append(w.Approvals, its...)
	}
	if actor.Has(auth.RoleApprover) {
		for _, who := range append([]int64{actor.ID}, delegators...) {
			its, err := s.pendingExtensions(ctx, q, actor, who)
			if err != nil {
				return nil, err
			}
			w.Extensions = append(w.Extensions, its...)
		}
	}
	if w.Actions, err = s.listActions(ctx, q, `a.owner_id = $1 AND a.status = 'open' AND c.stage NOT IN ('closed', 'voided')`, actor.ID); err != nil {
		return nil, err
	}
	if w.Acknowledgements, err = items(`SELECT c.id, c.number, c.title, 'acknowledge', a.added_at, '' FROM change_acknowledgements a
		JOIN changes c ON c.id = a.change_id WHERE a.user_id = $1 AND a.acknowledged_at IS NULL
		AND c.stage NOT IN ('closed', 'voided') AND `+cond+` ORDER BY a.added_at`, args...); err != nil {
		return nil, err
	}
	// The lead's item stays until startup: a sign-off voided by a later
	// answer is the lead's to give again. No "since": being named long
	// before the PSSR is ready is no delay of the walkdown.
	if w.PSSR, err = items(`SELECT c.id, c.number, c.title,
		'PSSR walkdown' || CASE WHEN t.scope <> '' THEN ': ' || t.scope ELSE '' END
		  || CASE WHEN t.is_lead THEN ' (lead: signs the PSSR off)' ELSE '' END,
		NULL, '' FROM pssr_team t JOIN changes c ON c.id = t.change_id
		WHERE t.user_id = $1 AND (c.stage = 'pssr' OR (c.emergency_stage = 'pssr' AND c.stage IN ('screening', 'review', 'approval', 'returned')))
		AND `+cond+` ORDER BY t.added_at, c.id`, args...); err != nil {
		return nil, err
	}
	if w.Drafts, err = s.queryChanges(ctx, q, ` WHERE c.initiator_id = $1 AND c.stage IN ('draft', 'returned') ORDER BY c.id`, actor.ID); err != nil {
		return nil, err
	}
	if actor.Has(auth.RoleCoordinator) || actor.Has(auth.RoleApprover) {
		cond, args := onSites(actor.ID)
		if w.ToConfirm, err = items(`SELECT c.id, c.number, c.title,
			CASE WHEN c.stage = 'rik_confirmation' THEN 'confirm replacement in kind' ELSE 'authorise emergency implementation' END,
			c.submitted_at, '' FROM changes c WHERE c.initiator_id <> $1 AND (c.stage = 'rik_confirmation'
			  OR (c.duration = 'emergency' AND c.emergency_authorized_at IS NULL AND c.stage IN ('screening', 'review', 'approval')))
			AND `+cond+` ORDER BY c.submitted_at, c.id`, args...); err != nil {
			return nil, err
		}
	}
	if actor.Has(auth.RoleCoordinator) {
		var args []any
		cond := siteScope(actor, "c.site_id", &args)
		if w.ToCoordinate, err = s.queryChanges(ctx, q, ` WHERE `+cond+` AND (c.stage IN ('screening', 'pssr', 'closeout') OR c.emergency_stage = 'pssr') ORDER BY c.id`, args...); err != nil {
			return nil, err
		}
	}
	if err := s.markWaiting(ctx, w); err != nil {
		return nil, err
	}
	return w, nil
}

// pendingExtensions lists the undecided extension requests of live
// temporary changes on which who is a current-round approver: they are
// the ones asked to act (RequestExtension notifies them). The actor may
// not decide their own change or their own request (check).
func (s *Service) pendingExtensions(ctx context.Context, q store.Querier, actor *auth.User, who int64) ([]WorkItem, error) {
	args := []any{who, actor.ID}
	cond := siteScope(actor, "c.site_id", &args)
	rows, err := q.QueryContext(ctx, `SELECT c.id, c.number, c.title, e.new_expires_on, e.requested_at, u.name
		FROM change_extensions e JOIN changes c ON c.id = e.change_id JOIN users u ON u.id = $1
		WHERE e.decided_at IS NULL AND c.initiator_id <> $2 AND e.requested_by <> $2 AND c.reverted_at IS NULL
		AND (c.stage IN ('implementation', 'pssr', 'in_service', 'closeout')
		  OR (c.permanent_round = c.round AND c.stage IN ('review', 'approval'))) AND `+cond+`
		AND EXISTS (SELECT 1 FROM change_approvals a WHERE a.change_id = c.id AND a.round = c.round AND a.approver_id = $1)
		ORDER BY e.requested_at`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []WorkItem{}
	for rows.Next() {
		var it WorkItem
		var to, since time.Time
		var name string
		if err := rows.Scan(&it.ChangeID, &it.ChangeNumber, &it.Title, &to, &since, &name); err != nil {
			return nil, err
		}
		it.What = "expiry extension to " + to.UTC().Format(time.DateOnly)
		since = since.UTC()
		it.Since = &since
		if who != actor.ID {
			it.OnBehalfOf = name
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// SiteDashboard holds one site's numbers.
type SiteDashboard struct {
	SiteID   int64  `json:"site_id"`
	SiteCode string `json:"site_code"`
	// OpenByStage counts open changes per stage.
	OpenByStage    map[Stage]int `json:"open_by_stage"`
	OverdueActions int           `json:"overdue_actions"`
	// TemporaryExpired counts live temporary changes past expiry;
	// TemporaryNearExpiry those expiring within 14 days.
	TemporaryExpired    int `json:"temporary_expired"`
	TemporaryNearExpiry int `json:"temporary_near_expiry"`
	PendingPSSRs        int `json:"pending_pssrs"`
	// EmergencyReviewOverdue lists the emergency changes implemented
	// before full review whose review is past its deadline.
	EmergencyReviewOverdue []string `json:"emergency_review_overdue"`
	// AverageCycleDays is submit-to-close of closed changes.
	AverageCycleDays float64 `json:"average_cycle_days"`
	ClosedCount      int     `json:"closed_count"`
}

// liveTemporary holds for a live temporary change: it carries an expiry,
// is past Draft, still open and not reverted.
const liveTemporary = "c.duration IN ('temporary', 'emergency') AND c.expires_on IS NOT NULL AND c.reverted_at IS NULL" +
	" AND c.stage NOT IN ('draft', 'closed', 'voided')"

// Dashboard returns per-site numbers for the actor's sites.
func (s *Service) Dashboard(ctx context.Context, actor *auth.User) ([]SiteDashboard, error) {
	var args []any
	cond := siteScope(actor, "s.id", &args)
	rows, err := s.DB.SQL.QueryContext(ctx, `SELECT s.id, s.code FROM sites s WHERE `+cond+` ORDER BY s.code`, args...)
	if err != nil {
		return nil, err
	}
	var out []SiteDashboard
	idx := map[int64]int{}
	for rows.Next() {
		var d SiteDashboard
		if err := rows.Scan(&d.SiteID, &d.SiteCode); err != nil {
			rows.Close()
			return nil, err
		}
		d.OpenByStage = map[Stage]int{}
		d.EmergencyReviewOverdue = []string{}
		idx[d.SiteID] = len(out)
		out = append(out, d)
	}
	rows.Close()
	if len(out) == 0 {
		return []SiteDashboard{}, nil
	}
	// Each number is one aggregate over the actor's sites, so the page
	// costs what the counts cost, not a read of every change.
	today := dateOnly(s.Now())
	scoped := func(extra ...any) (string, []any, int) {
		var a []any
		cond := siteScope(actor, "c.site_id", &a)
		a = append(a, extra...)
		return cond, a, len(a)
	}
	sum := func(query string, args []any, row func() ([]any, func(d *SiteDashboard))) error {
		return s.dashboardRows(ctx, query, args, out, idx, row)
	}
	cond, args, _ = scoped()
	if err := sum(`SELECT c.site_id, c.stage, count(*) FROM changes c WHERE `+cond+`
		AND c.stage NOT IN ('closed', 'voided') GROUP BY c.site_id, c.stage`, args, func() ([]any, func(*SiteDashboard)) {
		var stage Stage
		var n int
		return []any{&stage, &n}, func(d *SiteDashboard) {
			d.OpenByStage[stage] = n
			if stage == StagePSSR {
				d.PendingPSSRs = n
			}
		}
	}); err != nil {
		return nil, err
	}
	cond, args, n := scoped(today)
	if err := sum(fmt.Sprintf(`SELECT c.site_id, c.number FROM changes c WHERE %s AND c.duration = 'emergency'
		AND c.review_deadline IS NOT NULL AND c.review_deadline < $%d AND c.stage IN ('screening', 'review', 'approval', 'returned')
		ORDER BY c.number`, cond, n), args, func() ([]any, func(*SiteDashboard)) {
		var number string
		return []any{&number}, func(d *SiteDashboard) { d.EmergencyReviewOverdue = append(d.EmergencyReviewOverdue, number) }
	}); err != nil {
		return nil, err
	}
	// Near expiry is within 14 days: before the 15th day's midnight.
	cond, args, n = scoped(today, today.AddDate(0, 0, 15))
	if err := sum(fmt.Sprintf(`SELECT c.site_id, sum(CASE WHEN c.expires_on < $%[1]d THEN 1 ELSE 0 END),
		sum(CASE WHEN c.expires_on >= $%[1]d AND c.expires_on < $%[2]d THEN 1 ELSE 0 END) FROM changes c
		WHERE %[3]s AND %[4]s GROUP BY c.site_id`, n-1, n, cond, liveTemporary), args, func() ([]any, func(*SiteDashboard)) {
		var expired, near int
		return []any{&expired, &near}, func(d *SiteDashboard) { d.TemporaryExpired, d.TemporaryNearExpiry = expired, near }
	}); err != nil {
		return nil, err
	}
	cond, args, _ = scoped()
	if err := sum(`SELECT c.site_id, count(*), sum(`+s.DB.SecondsBetween("c.submitted_at", "c.closed_at")+`) FROM changes c
		WHERE `+cond+` AND c.stage = 'closed' AND c.submitted_at IS NOT NULL AND c.closed_at IS NOT NULL GROUP BY c.site_id`,
		args, func() ([]any, func(*SiteDashboard)) {
			var closed int
			var secs float64
			return []any{&closed, &secs}, func(d *SiteDashboard) {
				d.ClosedCount = closed
				d.AverageCycleDays = float64(int(secs/86400/float64(closed)*10)) / 10
			}
		}); err != nil {
		return nil, err
	}
	cond, args, n = scoped(today)
	if err := sum(fmt.Sprintf(`SELECT c.site_id, count(*) FROM change_actions a JOIN changes c ON c.id = a.change_id
		WHERE %s AND a.status = 'open' AND a.due_on IS NOT NULL AND a.due_on < $%d AND c.stage NOT IN ('closed', 'voided')
		GROUP BY c.site_id`, cond, n), args, func() ([]any, func(*SiteDashboard)) {
		var overdue int
		return []any{&overdue}, func(d *SiteDashboard) { d.OverdueActions = overdue }
	}); err != nil {
		return nil, err
	}
	return out, nil
}

// dashboardRows runs query, whose rows are a site id and then what row
// gives destinations for; each row's apply then sets that site's numbers.
func (s *Service) dashboardRows(ctx context.Context, query string, args []any, out []SiteDashboard, idx map[int64]int,
	row func() ([]any, func(d *SiteDashboard))) error {
	rows, err := s.DB.SQL.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("dashboard: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var site int64
		dest, apply := row()
		if err := rows.Scan(append([]any{&site}, dest...)...); err != nil {
			return fmt.Errorf("dashboard: %w", err)
		}
		if i, ok := idx[site]; ok {
			apply(&out[i])
		}
	}
	return rows.Err()
}

// WithRIKConfirmations fills in who confirmed each replacement in kind
// of cs and when (the latest confirmation signature), for the export.
func (s *Service) WithRIKConfirmations(ctx context.Context, cs []Change) error {
	at := map[int64]int{}
	for i, c := range cs {
		if c.ReplacementInKind {
			at[c.ID] = i
		}
	}
	ids := make([]int64, 0, len(at))
	for id := range at {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	// In chunks, so that no statement carries more parameters than
	// either database takes.
	for chunk := range slices.Chunk(ids, 500) {
		marks := make([]string, len(chunk))
		args := []any{string(CPRIK), string(DecisionConfirmed)}
		for i, id := range chunk {
			marks[i] = fmt.Sprintf("$%d", i+3)
			args = append(args, id)
		}
		rows, err := s.DB.SQL.QueryContext(ctx, `SELECT change_id, printed_name, signed_at FROM change_signatures
			WHERE control_point = $1 AND decision = $2 AND change_id IN (`+strings.Join(marks, ",")+`) ORDER BY id`, args...)
		if err != nil {
			return fmt.Errorf("read replacement-in-kind confirmations: %w", err)
		}
		for rows.Next() {
			var id int64
			var name string
			var when time.Time
			if err := rows.Scan(&id, &name, &when); err != nil {
				rows.Close()
				return fmt.Errorf("read replacement-in-kind confirmations: %w", err)
			}
			c := &cs[at[id]]
			c.RIKConfirmedBy, c.RIKConfirmedAt = name, &when
		}
		if err := rows.Close(); err != nil {
			return err
		}
	}
	return nil
}

// WriteCSV writes changes as CSV with a header row.
func WriteCSV(w io.Writer, cs []Change) error {
	cw := csv.NewWriter(w)
	date := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format(time.DateOnly)
	}
	_ = cw.Write([]string{"number", "kind", "duration", "stage", "title", "site", "unit", "equipment_tags", "risk_ranking",
		"initiator", "created", "submitted", "approved", "closed", "expires_on", "replacement_in_kind", "rik_confirmed_by", "rik_confirmed_at"})
	for _, c := range cs {
		row := []string{c.Number, string(c.Kind), string(c.Duration), string(c.Stage), c.Title, c.SiteCode, c.UnitCode,
			strings.Join(c.EquipmentTags, " "), c.RiskRanking, c.InitiatorName, c.CreatedAt.Format(time.DateOnly),
			date(c.SubmittedAt), date(c.ApprovedAt), date(c.ClosedAt), date(c.ExpiresOn), yesNo(c.ReplacementInKind), c.RIKConfirmedBy, stamp(c.RIKConfirmedAt)}
		// Every cell, not only the ones users type today: site and unit
		// codes and names are admin text, and a column added later is
		// covered without anyone remembering to.
		for i := range row {
			row[i] = csvSafe(row[i])
		}
		_ = cw.Write(row)
	}
	cw.Flush()
	return cw.Error()
}

// stamp is an instant in the CSV: UTC, to the minute, saying so.
func stamp(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04Z")
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// csvSafe stops spreadsheet formula injection (OWASP's CSV injection
// advice): a cell that a spreadsheet would read as a formula, starting
// with = + - @, a tab, a carriage return or a line feed, or with spaces
// before one of those, is prefixed with a quote.
func csvSafe(s string) string {
	t := strings.TrimLeft(s, " ")
	if t != "" && strings.ContainsRune("=+-@\t\r\n", rune(t[0])) {
		return "'" + s
	}
	return s
}
