package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/requestid"
	"github.com/mocpcr/mocpcr/internal/sitetime"
)

//go:embed templates/*.html
var templateFiles embed.FS

// templateFuncs are available in every template.
var templateFuncs = template.FuncMap{
	"date": dateString,
	// datetime writes an instant in the page's site zone; zoned replaces
	// this UTC one for each zone a page is rendered in.
	"datetime": func(t time.Time) string { return sitetime.Format(t, time.UTC) },
	"join":     strings.Join,
	// duration is a duration in words: "5 minutes", "3 days".
	"duration": durationText,
	"dict": func(kv ...any) map[string]any {
		m := make(map[string]any, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	},
	"title": func(s string) string { return strings.ToUpper(s[:1]) + strings.ReplaceAll(s[1:], "_", " ") },
	// changeURL links to a change page (change_pages_url.go).
	"changeURL": changeURL,
	// options writes a select's []option (prerender.go).
	"options": optionsHTML,
	// can reports whether the user may take an auth action ("audit.view").
	"can": func(u *auth.User, a string) bool { return auth.Can(u, auth.Action(a)) },
}

// pages holds one template set per page: the shared layout plus the page's
// own file, parsed once at start.
type pages map[string]*template.Template

func parsePages() (pages, error) {
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	p := pages{}
	for _, n := range names {
		base := strings.TrimPrefix(n, "templates/")
		if base == "layout.html" || strings.HasPrefix(base, "_") {
			continue
		}
		t, err := template.New("layout.html").Funcs(templateFuncs).ParseFS(templateFiles, "templates/layout.html", "templates/_*.html", n)
		if err != nil {
			return nil, err
		}
		p[base] = t
	}
	return p, nil
}

// zonedPages are the page templates once per time zone: each set's
// datetime func writes times in its zone, so every template (and every
// template it includes) shows the site's time without being handed the
// zone. The parsed set is cloned per zone on first use; it is never
// executed itself, which html/template requires of a set it clones.
type zonedPages struct {
	mu     sync.Mutex
	parsed pages
	byZone map[string]pages
}

func newZonedPages(p pages) *zonedPages { return &zonedPages{parsed: p, byZone: map[string]pages{}} }

// lookup is page name's template with times in loc.
func (z *zonedPages) lookup(name string, loc *time.Location) (*template.Template, error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	set, ok := z.byZone[loc.String()]
	if !ok {
		set = pages{}
		for n, t := range z.parsed {
			c, err := t.Clone()
			if err != nil {
				return nil, fmt.Errorf("template %s for zone %s: %w", n, loc, err)
			}
			set[n] = c.Funcs(template.FuncMap{"datetime": func(t time.Time) string { return sitetime.Format(t, loc) }})
		}
		z.byZone[loc.String()] = set
	}
	t, ok := set[name]
	if !ok {
		return nil, fmt.Errorf("unknown template %s", name)
	}
	return t, nil
}

// Page is what every page template receives.
type Page struct {
	Title     string
	User      *auth.User
	CSRFToken string
	Demo      bool
	// DevMail: emails are kept in the dev mailbox, not sent.
	DevMail bool
	// Flash is a one-line message shown at the top (after a redirect).
	Flash string
	// Errors maps a form field name to what is wrong with it.
	Errors map[string]string
	// ErrorOrder lists the form's field names top to bottom, so the error
	// summary follows the form; fields not in it come after, by name.
	ErrorOrder []string
	// Data is the page's own content.
	Data any
	// UnreadCount fills the header badge.
	UnreadCount int
	RequestID   string
	Now         time.Time
	// Section is the main navigation entry this page belongs to, marked
	// aria-current so people see where they are.
	Section string
	// SiteID is the site whose time zone the page's times are shown in
	// (a change page: the change's site); 0 is the user's first site.
	SiteID int64
	// Zone is that site's time zone (UTC without one), filled by render.
	Zone *time.Location
}

// section names the navigation entry of a path.
func section(path string) string {
	switch {
	case path == "/":
		return "work"
	case path == "/changes" || strings.HasPrefix(path, "/changes/"):
		return "changes"
	case path == "/dashboard" || strings.HasPrefix(path, "/dashboard/"):
		return "dashboard"
	case path == "/admin" || strings.HasPrefix(path, "/admin/"):
		return "admin"
	}
	return ""
}

// HasErrors reports whether the form had problems.
func (p *Page) HasErrors() bool { return len(p.Errors) > 0 }

// FieldError is one line of the error summary.
type FieldError struct{ Field, Message string }

// ErrorList is Errors in the order of the form (ErrorOrder), then the
// rest by field name.
func (p *Page) ErrorList() []FieldError {
	out := make([]FieldError, 0, len(p.Errors))
	seen := map[string]bool{}
	for _, f := range p.ErrorOrder {
		if m, ok := p.Errors[f]; ok && !seen[f] {
			out = append(out, FieldError{f, m})
			seen[f] = true
		}
	}
	rest := make([]string, 0, len(p.Errors))
	for f := range p.Errors {
		if !seen[f] {
			rest = append(rest, f)
		}
	}
	slices.Sort(rest)
	for _, f := range rest {
		out = append(out, FieldError{f, p.Errors[f]})
	}
	return out
}

// render writes a full page. It renders to a buffer first so a template
// error becomes a clean 500, not half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p *Page) {
	if p.User == nil {
		p.User = auth.UserFrom(r.Context())
	}
	if p.Zone == nil {
		p.Zone = s.siteZone(r, p.User, p.SiteID)
	}
	t, err := s.pages.lookup(name, p.Zone)
	if err != nil {
		s.Logger.ErrorContext(r.Context(), "page template", "name", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if p.Flash == "" {
		p.Flash = takeFlash(w, r)
	}
	p.RequestID = requestid.From(r.Context())
	p.Now = s.Now()
	p.Section = section(r.URL.Path)
	for _, fill := range s.pageFillers {
		fill(r, p)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", p); err != nil {
		s.Logger.ErrorContext(r.Context(), "render page", "name", name, "err", err, "request_id", p.RequestID)
		http.Error(w, "internal error (request id "+p.RequestID+")", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// title is the template func of the same name, for Go code.
func title(s string) string {
	if s == "" {
		return s
	}
	return templateFuncs["title"].(func(string) string)(s)
}

// siteZone is the time zone of site siteID (of the user's first site
// when 0), UTC when there is none or its settings cannot be read: times
// still show, with their zone named beside them.
func (s *Server) siteZone(r *http.Request, u *auth.User, siteID int64) *time.Location {
	if u == nil || s.Changes == nil {
		return time.UTC
	}
	if siteID == 0 && len(u.SiteIDs) > 0 {
		siteID = u.SiteIDs[0]
	}
	if siteID == 0 {
		return time.UTC
	}
	ss, err := s.Changes.SiteSettings(r.Context(), u, siteID)
	if err != nil {
		return time.UTC
	}
	return ss.Location()
}
