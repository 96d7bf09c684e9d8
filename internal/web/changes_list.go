package web

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/problem"
)

// changesPerPage is the change list's page size.
const changesPerPage = 25

// csvLimit caps one CSV export.
const csvLimit = 5000

// changeQuery is the change list's filter form as read from the URL. The
// form is a GET form, so a filtered list is a link people can share.
type changeQuery struct {
	Kind, Stage, Duration string
	Site, Unit, Owner     string
	Q                     string
	Open, Overdue         bool
	// RIK keeps the replacement-in-kind changes, for auditors to sample.
	RIK bool
	// Expiring is a number of days ("" for any).
	Expiring string
	Sort     string
	// Page is the page's number: which rows an offset page shows, and
	// only a label on a page read by cursor (After).
	Page int
	// After is the cursor the page starts after ("" for an offset page).
	After string
}

// maxNumberedPage is the last page offered by number: an offset page
// costs the database every row before it, so deeper pages are reached
// with Next, whose cursor costs the same at any depth.
const maxNumberedPage = 40

// expiringChoices are the "temporary, expiring within" options.
var expiringChoices = []int{7, 14, 30, 60, 90}

// readChangeQuery parses the list filters. Bad values are reported per
// field and ignored, so a mistyped link still shows a list.
func (s *Server) readChangeQuery(r *http.Request, u *auth.User) (changeQuery, change.Filter, map[string]string) {
	v := r.URL.Query()
	q := changeQuery{Kind: strings.ToUpper(v.Get("kind")), Stage: v.Get("stage"), Duration: v.Get("duration"),
		Site: v.Get("site"), Unit: v.Get("unit"), Owner: v.Get("owner"), Q: strings.TrimSpace(v.Get("q")),
		Open: v.Get("open") != "", Overdue: v.Get("overdue") != "", RIK: v.Get("rik") != "", Expiring: v.Get("expiring"), Sort: v.Get("sort"), Page: 1}
	f := change.Filter{Q: q.Q, OpenOnly: q.Open, Overdue: q.Overdue, ReplacementInKind: q.RIK, Limit: changesPerPage}
	errs := map[string]string{}
	switch q.Kind {
	case "":
	case string(change.KindMOC), string(change.KindPCR):
		f.Kind = change.Kind(q.Kind)
	default:
		errs["kind"] = "Kind must be MOC or PCR."
		q.Kind = ""
	}
	if q.Stage != "" {
		if slices.Contains(change.Stages, change.Stage(q.Stage)) {
			f.Stage = change.Stage(q.Stage)
		} else {
			errs["stage"] = fmt.Sprintf("Unknown stage %q.", q.Stage)
			q.Stage = ""
		}
	}
	if q.Duration != "" {
		if d := change.Duration(q.Duration); d == change.DurationPermanent || d == change.DurationTemporary || d == change.DurationEmergency {
			f.Duration = d
		} else {
			errs["duration"] = "Duration must be permanent, temporary or emergency."
			q.Duration = ""
		}
	}
	id := func(name string, val *string, dst *int64) {
		if *val == "" {
			return
		}
		if name == "owner" && *val == "me" {
			*dst = u.ID
			return
		}
		if name == "owner" && strings.Contains(*val, "@") {
			// A site with many people gets a text box instead of a list.
			if id, ok := s.userIDByEmail(r, *val); ok {
				*dst = id
			} else {
				errs[name] = fmt.Sprintf("No user has the email address %q.", *val)
				*val = ""
			}
			return
		}
		n, err := strconv.ParseInt(*val, 10, 64)
		if err != nil || n <= 0 {
			errs[name] = fmt.Sprintf("%s must be chosen from the list.", title(name))
			*val = ""
			return
		}
		*dst = n
	}
	id("site", &q.Site, &f.SiteID)
	id("unit", &q.Unit, &f.UnitID)
	id("owner", &q.Owner, &f.InitiatorID)
	if q.Expiring != "" {
		n, err := strconv.Atoi(q.Expiring)
		if err != nil || n <= 0 || n > 365 {
			errs["expiring"] = "Expiring within must be a number of days between 1 and 365."
			q.Expiring = ""
		} else {
			f.ExpiringWithinDays = n
		}
	}
	if q.Sort != "" {
		if slices.Contains(change.SortKeys, strings.TrimPrefix(q.Sort, "-")) {
			f.Sort = q.Sort
		} else {
			errs["sort"] = fmt.Sprintf("Cannot sort by %q.", q.Sort)
			q.Sort = ""
		}
	}
	if p := v.Get("page"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 {
			errs["page"] = "Page must be a number from 1."
		} else {
			q.Page = n
		}
	}
	if q.After = v.Get("after"); q.After != "" {
		f.After = q.After
	} else {
		f.Offset = (q.Page - 1) * changesPerPage
	}
	return q, f, errs
}

// values is q as URL parameters, without empty ones; page is left out.
func (q changeQuery) values() url.Values {
	v := url.Values{}
	set := func(k, val string) {
		if val != "" {
			v.Set(k, val)
		}
	}
	set("q", q.Q)
	set("kind", q.Kind)
	set("stage", q.Stage)
	set("duration", q.Duration)
	set("site", q.Site)
	set("unit", q.Unit)
	set("owner", q.Owner)
	if q.Open {
		v.Set("open", "1")
	}
	if q.Overdue {
		v.Set("overdue", "1")
	}
	if q.RIK {
		v.Set("rik", "1")
	}
	set("expiring", q.Expiring)
	set("sort", q.Sort)
	return v
}

// url is the list's address with q's filters and the given sort and page.
func (q changeQuery) url(path, sort string, page int) string {
	return q.urlAfter(path, sort, page, "")
}

// urlAfter is url for the page after cursor after (none when "").
func (q changeQuery) urlAfter(path, sort string, page int, after string) string {
	v := q.values()
	v.Del("sort")
	if sort != "" {
		v.Set("sort", sort)
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	if after != "" {
		v.Set("after", after)
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// column is a sortable column header.
type column struct {
	Label, Key string
	// URL sorts by this column (toggling the direction when it is the
	// current sort); AriaSort is "ascending", "descending" or "".
	URL, AriaSort string
	// Class hides less important columns on narrow screens.
	Class string
}

// changeListRow is a change as the list shows it, flattened to the strings
// the template prints: reading promoted fields of an embedded change.Change
// cost the template a reflective field search per cell.
type changeListRow struct {
	Number, Title, URL string
	EquipmentTags      []string
	Kind, Duration     string
	Stage, StageLabel  string
	// SiteUnit is "NRF" or "NRF · U100".
	SiteUnit, Owner string
	// Expiry is the temporary change's expiry date (YYYY-MM-DD), with its
	// state; "" when the change does not expire.
	Expiry               string
	Expired, ExpiresSoon bool
	Updated              string
}

// newChangeListRow prepares c for the list as of today.
func newChangeListRow(c *change.Change, today time.Time) changeListRow {
	row := changeListRow{Number: c.Number, Title: c.Title, URL: changePath(c.Number), EquipmentTags: c.EquipmentTags,
		Kind: string(c.Kind), Duration: string(c.Duration), Stage: string(c.Stage), StageLabel: c.Stage.Label(),
		SiteUnit: c.SiteCode, Owner: c.InitiatorName, Updated: dateString(c.UpdatedAt)}
	if c.UnitCode != "" {
		row.SiteUnit += " · " + c.UnitCode
	}
	if c.Duration.IsTemporary() && c.ExpiresOn != nil && c.RevertedAt == nil && c.Stage.IsOpen() {
		row.Expiry = dateString(c.ExpiresOn.UTC())
		days := int(dayOf(*c.ExpiresOn).Sub(today).Hours() / 24)
		row.Expired = c.ExpiryPassed(today)
		row.ExpiresSoon = days >= 0 && days <= 14
	}
	return row
}

type pageLink struct {
	N       int
	URL     string
	Current bool
	Gap     bool
}

type changesData struct {
	Query                                 changeQuery
	Kinds, Stages, Durations              []option
	Sites, Units, Owners, ExpiringOptions []option
	Columns                               []column
	Rows                                  []changeListRow
	// RowsHTML is Rows as table rows (prerender.go).
	RowsHTML        template.HTML
	Total, From, To int
	// TotalText is the count as shown ("more than 10,000"); "" on a page
	// read by cursor, which is not counted.
	TotalText           string
	Pages               []pageLink
	PrevURL, NextURL    string
	CSVURL, ClearURL    string
	Filtered, CanCreate bool
	// PastEnd: the page asked for is after the last one (a stale link);
	// FirstURL and LastURL lead back into the list.
	PastEnd           bool
	FirstURL, LastURL string
	// OpenFilters says whether the "More filters" part starts open.
	OpenFilters bool
}

func (s *Server) pageListChanges(w http.ResponseWriter, r *http.Request) {
	u := auth.UserFrom(r.Context())
	ctx := r.Context()
	q, f, errs := s.readChangeQuery(r, u)
	status := http.StatusOK
	list, err := s.Changes.ListPage(ctx, u, f)
	if err != nil {
		if field, msg, ok := invalidField(err); ok {
			errs[field] = msg
			zero := 0
			list = change.Page{Total: &zero}
			if field == "after" {
				// A cursor is never typed: a broken one is a bad link.
				status = http.StatusUnprocessableEntity
			}
		} else {
			s.serverFault(w, r, "list changes", err)
			return
		}
	}
	cs, total := list.Changes, 0
	if list.Total != nil {
		total = *list.Total
	}
	d := changesData{Query: q, Total: total, CanCreate: auth.Can(u, auth.ActionCreateChange), ClearURL: "/changes"}
	d.CSVURL = q.url("/changes.csv", q.Sort, 0)
	d.Filtered = len(q.values()) > 0 && !(len(q.values()) == 1 && q.Sort != "")
	d.OpenFilters = q.Duration != "" || q.Unit != "" || q.Owner != "" || q.Expiring != "" || q.Overdue || q.Open

	sel := func(cur string, opts ...option) []option {
		for i := range opts {
			opts[i].Selected = opts[i].Value == cur
		}
		return opts
	}
	d.Kinds = sel(q.Kind, option{"", "Any kind", false}, option{"MOC", "MOC", false}, option{"PCR", "PCR", false})
	d.Stages = []option{{Label: "Any stage", Selected: q.Stage == ""}}
	for _, st := range change.Stages {
		d.Stages = append(d.Stages, option{string(st), st.Label(), q.Stage == string(st)})
	}
	d.Durations = sel(q.Duration, option{"", "Any duration", false}, option{"permanent", "Permanent", false},
		option{"temporary", "Temporary", false}, option{"emergency", "Emergency", false})
	d.ExpiringOptions = []option{{Label: "Any time", Selected: q.Expiring == ""}}
	for _, n := range expiringChoices {
		d.ExpiringOptions = append(d.ExpiringOptions, option{strconv.Itoa(n), fmt.Sprintf("%d days", n), q.Expiring == strconv.Itoa(n)})
	}
	if d.Sites, err = s.siteOptions(r, u, q.Site); err != nil {
		s.serverFault(w, r, "list sites", err)
		return
	}
	units, err := s.Changes.Units(ctx, u, 0)
	if err != nil {
		s.serverFault(w, r, "list units", err)
		return
	}
	d.Units = []option{{Label: "Any unit", Selected: q.Unit == ""}}
	for _, un := range units {
		v := strconv.FormatInt(un.ID, 10)
		d.Units = append(d.Units, option{v, un.SiteCode + " · " + un.Code + " – " + un.Name, q.Unit == v})
	}
	if d.Owners, err = s.ownerOptions(r, u, q.Owner); err != nil {
		s.serverFault(w, r, "list users", err)
		return
	}

	for _, c := range []struct{ label, key, class string }{
		{"Number", "number", ""}, {"Title", "title", ""}, {"Kind", "kind", "wide"}, {"Stage", "stage", ""},
		{"Site / unit", "site", "wide"}, {"Owner", "initiator", "wide"}, {"Expires", "expires", ""}, {"Updated", "updated", "wide"},
	} {
		col := column{Label: c.label, Key: c.key, Class: c.class}
		next := c.key
		switch q.Sort {
		case c.key:
			col.AriaSort, next = "ascending", "-"+c.key
		case "-" + c.key:
			col.AriaSort = "descending"
		}
		col.URL = q.url("/changes", next, 0)
		d.Columns = append(d.Columns, col)
	}

	today := dayOf(s.Now())
	d.Rows = make([]changeListRow, 0, len(cs))
	for i := range cs {
		d.Rows = append(d.Rows, newChangeListRow(&cs[i], today))
	}
	d.RowsHTML = changeRowsHTML(d.Rows)
	if list.Total != nil {
		d.TotalText = strconv.Itoa(total)
		switch {
		case !list.TotalExact:
			d.TotalText = "more than " + strconv.Itoa(total)
		case list.TotalCached:
			// Counted by an earlier request, up to change.CountTTL ago.
			d.TotalText = "about " + strconv.Itoa(total)
		}
	}
	if len(cs) > 0 {
		d.From = (q.Page-1)*changesPerPage + 1
		d.To = d.From + len(cs) - 1
	}
	pages := min((total+changesPerPage-1)/changesPerPage, maxNumberedPage)
	if list.Total != nil && total > 0 && len(cs) == 0 && err == nil {
		d.PastEnd = true
		d.FirstURL, d.LastURL = q.url("/changes", q.Sort, 1), q.url("/changes", q.Sort, pages)
	}
	if q.Page > 1 && q.Page-1 <= maxNumberedPage {
		d.PrevURL = q.url("/changes", q.Sort, q.Page-1)
	}
	if q.Page > 1 {
		d.FirstURL = q.url("/changes", q.Sort, 1)
	}
	if list.Next != "" {
		d.NextURL = q.urlAfter("/changes", q.Sort, q.Page+1, list.Next)
	}
	if pages > 1 && q.After == "" {
		last := 0
		for n := 1; n <= pages; n++ {
			// First, last and two either side of the current page.
			if n != 1 && n != pages && (n < q.Page-2 || n > q.Page+2) {
				continue
			}
			if last != 0 && n > last+1 {
				d.Pages = append(d.Pages, pageLink{Gap: true})
			}
			d.Pages = append(d.Pages, pageLink{N: n, URL: q.url("/changes", q.Sort, n), Current: n == q.Page})
			last = n
		}
	}
	if len(errs) > 0 && status == http.StatusOK {
		status = http.StatusBadRequest
	}
	s.render(w, r, status, "changes.html", &Page{Title: "Changes", Errors: errs, Data: d})
}

// pageExportChanges exports the list with the same filters and sort as the page
// (every matching change, not one page of them).
func (s *Server) pageExportChanges(w http.ResponseWriter, r *http.Request) {
	u := auth.UserFrom(r.Context())
	_, f, errs := s.readChangeQuery(r, u)
	if len(errs) > 0 {
		var msgs []string
		for _, m := range errs {
			msgs = append(msgs, m)
		}
		slices.Sort(msgs)
		s.fail(w, r, problem.New(problem.Invalid, "The export's filters are not valid: "+strings.Join(msgs, " ")))
		return
	}
	// By cursor and uncounted: each batch costs the same as the first.
	f.Offset, f.Limit, f.After = 0, 1000, ""
	var all []change.Change
	for len(all) < csvLimit {
		p, err := s.Changes.ListPage(r.Context(), u, f)
		if err != nil {
			s.serverFault(w, r, "export changes", err)
			return
		}
		all = append(all, p.Changes...)
		if p.Next == "" {
			break
		}
		f.After = p.Next
	}
	all = all[:min(len(all), csvLimit)]
	if err := s.Changes.WithRIKConfirmations(r.Context(), all); err != nil {
		s.serverFault(w, r, "export changes", err)
		return
	}
	name := "changes-" + s.Now().UTC().Format("2006-01-02") + ".csv"
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	if err := change.WriteCSV(w, all); err != nil {
		s.Logger.WarnContext(r.Context(), "write CSV", "err", err)
	}
}

// siteOptions are the sites the user belongs to.
func (s *Server) siteOptions(r *http.Request, u *auth.User, cur string) ([]option, error) {
	sites, err := s.users.ListSites(r.Context(), s.DB.Prepared())
	if err != nil {
		return nil, err
	}
	out := []option{{Label: "Any site", Selected: cur == ""}}
	for _, st := range sites {
		if !u.OnSite(st.ID) {
			continue
		}
		v := strconv.FormatInt(st.ID, 10)
		out = append(out, option{v, st.Code + " – " + st.Name, cur == v})
	}
	return out, nil
}

// maxOwnerOptions is the longest owner list offered as a drop-down; past
// it the filter is a text box taking "me" or an email address, because a
// list of thousands of names is slow to render and useless to scroll.
const maxOwnerOptions = 100

// ownerOptions are the people who may file changes and share a site with
// the user, plus "me"; nil when there are too many for a list.
func (s *Server) ownerOptions(r *http.Request, u *auth.User, cur string) ([]option, error) {
	users, err := s.users.ListUsers(r.Context(), s.DB.SQL) // read only
	if err != nil {
		return nil, err
	}
	out := []option{{Label: "Anyone", Selected: cur == ""}, {"me", "Me", cur == "me"}}
	for _, o := range users {
		if o.ID == u.ID || o.Disabled || !auth.Can(o, auth.ActionCreateChange) || !sharesSite(u, o) {
			continue
		}
		if len(out) == maxOwnerOptions+2 {
			return nil, nil
		}
		v := strconv.FormatInt(o.ID, 10)
		out = append(out, option{v, o.Name, cur == v})
	}
	return out, nil
}

// userIDByEmail finds a user by email address, case-insensitively.
func (s *Server) userIDByEmail(r *http.Request, email string) (int64, bool) {
	users, err := s.users.ListUsers(r.Context(), s.DB.SQL) // read only
	if err != nil {
		return 0, false
	}
	for _, o := range users {
		if strings.EqualFold(o.Email, strings.TrimSpace(email)) {
			return o.ID, true
		}
	}
	return 0, false
}

// sharesSite reports whether two users have a site in common (a user
// of every site shares one with anybody who has a site).
func sharesSite(a, b *auth.User) bool {
	if a.NoSite() || b.NoSite() {
		return false
	}
	if a.AllSites || b.AllSites {
		return true
	}
	for _, id := range a.SiteIDs {
		if slices.Contains(b.SiteIDs, id) {
			return true
		}
	}
	return false
}
