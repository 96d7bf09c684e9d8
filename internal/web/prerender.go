package web

import (
	"html/template"
	"strings"
)

// The change list prints 25 rows of eight cells and a handful of option
// lists on every view. Through html/template each printed value is a
// reflective call of its escaper, which made template execution half of
// the page's CPU time. These helpers write those repeated fragments in Go
// instead, escaping exactly as html/template does in the same places
// (TestPrerenderMatchesTemplate holds them to the template's output).

// htmlReplacements is html/template's escaping of text and quoted
// attribute values.
var htmlReplacements = [...]string{
	0:    "\uFFFD",
	'"':  "&#34;",
	'&':  "&amp;",
	'\'': "&#39;",
	'+':  "&#43;",
	'<':  "&lt;",
	'>':  "&gt;",
}

// writeEscaped writes s as html/template writes a string in element text
// or a quoted attribute value.
func writeEscaped(b *strings.Builder, s string) {
	last := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if int(c) < len(htmlReplacements) && htmlReplacements[c] != "" {
			b.WriteString(s[last:i])
			b.WriteString(htmlReplacements[c])
			last = i + 1
		}
	}
	b.WriteString(s[last:])
}

// writeURLAttr writes s as html/template writes a whole href value: unsafe
// schemes become "#ZgotmplZ", characters outside URLs are percent-encoded
// and the result is attribute-escaped.
func writeURLAttr(b *strings.Builder, s string) {
	if i := strings.IndexByte(s, ':'); i >= 0 && !strings.Contains(s[:i], "/") {
		switch strings.ToLower(s[:i]) {
		case "http", "https", "mailto":
		default:
			b.WriteString("#ZgotmplZ")
			return
		}
	}
	var norm strings.Builder
	last := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
			continue
		case strings.IndexByte("!#$&*+,/:;=?@[]-._~%", c) >= 0:
			continue
		}
		norm.WriteString(s[last:i])
		norm.WriteByte('%')
		norm.WriteByte("0123456789abcdef"[c>>4])
		norm.WriteByte("0123456789abcdef"[c&15])
		last = i + 1
	}
	if last == 0 {
		writeEscaped(b, s)
		return
	}
	norm.WriteString(s[last:])
	writeEscaped(b, norm.String())
}

// optionsHTML is a select's options (template func "options").
func optionsHTML(opts []option) template.HTML {
	var b strings.Builder
	for _, o := range opts {
		b.WriteString(`<option value="`)
		writeEscaped(&b, o.Value)
		b.WriteByte('"')
		if o.Selected {
			b.WriteString(" selected")
		}
		b.WriteByte('>')
		writeEscaped(&b, o.Label)
		b.WriteString("</option>")
	}
	return template.HTML(b.String())
}

// changeRowsHTML is the change list's table rows.
func changeRowsHTML(rows []changeListRow) template.HTML {
	var b strings.Builder
	b.Grow(len(rows) * 1100)
	for i := range rows {
		r := &rows[i]
		b.WriteString("\n    <tr class=\"")
		if r.Expired {
			b.WriteString("row-bad")
		}
		b.WriteString("\">\n      <td class=\"num\" data-label=\"Number\"><a href=\"")
		writeURLAttr(&b, r.URL)
		b.WriteString("\">")
		writeEscaped(&b, r.Number)
		b.WriteString("</a></td>\n      <td class=\"ttl\" data-label=\"Title\"><a href=\"")
		writeURLAttr(&b, r.URL)
		b.WriteString("\">")
		writeEscaped(&b, r.Title)
		b.WriteString("</a>")
		if len(r.EquipmentTags) > 0 {
			b.WriteString(`<span class="tags">`)
			for _, t := range r.EquipmentTags {
				b.WriteString(`<span class="tag">`)
				writeEscaped(&b, t)
				b.WriteString("</span>")
			}
			b.WriteString("</span>")
		}
		b.WriteString("</td>\n      <td class=\"wide\" data-label=\"Kind\"><span class=\"kind kind-")
		writeEscaped(&b, r.Kind)
		b.WriteString("\">")
		writeEscaped(&b, r.Kind)
		b.WriteString("</span>")
		if r.Duration != "permanent" {
			b.WriteString(` <span class="muted">`)
			writeEscaped(&b, r.Duration)
			b.WriteString("</span>")
		}
		b.WriteString("</td>\n      <td data-label=\"Stage\"><span class=\"pill stage-")
		writeEscaped(&b, r.Stage)
		b.WriteString("\">")
		writeEscaped(&b, r.StageLabel)
		b.WriteString("</span></td>\n      <td class=\"wide\" data-label=\"Site / unit\">")
		writeEscaped(&b, r.SiteUnit)
		b.WriteString("</td>\n      <td class=\"wide\" data-label=\"Owner\">")
		writeEscaped(&b, r.Owner)
		b.WriteString("</td>\n      <td data-label=\"Expires\">")
		if r.Expiry != "" {
			b.WriteString(`<time datetime="`)
			writeEscaped(&b, r.Expiry)
			b.WriteString(`">`)
			writeEscaped(&b, r.Expiry)
			b.WriteString("</time>")
		} else {
			b.WriteString(`<span class="muted" aria-label="none">–</span>`)
		}
		if r.Expired {
			b.WriteString(` <span class="pill pill-bad">Expired</span>`)
		} else if r.ExpiresSoon {
			b.WriteString(` <span class="pill pill-warn">Soon</span>`)
		}
		b.WriteString("</td>\n      <td class=\"wide\" data-label=\"Updated\">")
		writeEscaped(&b, r.Updated)
		b.WriteString("</td>\n    </tr>\n  ")
	}
	return template.HTML(b.String())
}

// option is one choice of a select.
type option struct {
	Value, Label string
	Selected     bool
}
