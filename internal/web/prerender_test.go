package web

import (
	"html/template"
	"strings"
	"testing"
)

// rowsTemplate and optionsTemplate are the change list's rows and a
// select's options as they were written in changes.html before being
// rendered in Go; the Go versions must print exactly what these print.
const rowsTemplate = `  {{range .}}
    <tr class="{{if .Expired}}row-bad{{end}}">
      <td class="num" data-label="Number"><a href="{{.URL}}">{{.Number}}</a></td>
      <td class="ttl" data-label="Title"><a href="{{.URL}}">{{.Title}}</a>{{if .EquipmentTags}}<span class="tags">{{range .EquipmentTags}}<span class="tag">{{.}}</span>{{end}}</span>{{end}}</td>
      <td class="wide" data-label="Kind"><span class="kind kind-{{.Kind}}">{{.Kind}}</span>{{if ne .Duration "permanent"}} <span class="muted">{{.Duration}}</span>{{end}}</td>
      <td data-label="Stage"><span class="pill stage-{{.Stage}}">{{.StageLabel}}</span></td>
      <td class="wide" data-label="Site / unit">{{.SiteUnit}}</td>
      <td class="wide" data-label="Owner">{{.Owner}}</td>
      <td data-label="Expires">{{with .Expiry}}<time datetime="{{.}}">{{.}}</time>{{else}}<span class="muted" aria-label="none">–</span>{{end}}{{if .Expired}} <span class="pill pill-bad">Expired</span>{{else if .ExpiresSoon}} <span class="pill pill-warn">Soon</span>{{end}}</td>
      <td class="wide" data-label="Updated">{{.Updated}}</td>
    </tr>
  {{end}}
`

const optionsTemplate = `{{range .}}<option value="{{.Value}}"{{if .Selected}} selected{{end}}>{{.Label}}</option>{{end}}`

func TestPrerenderMatchesTemplate(t *testing.T) {
	nasty := []string{"", "plain", `<script>alert("x")</script>`, `a & b + 'c' "d"`, "nul\x00byte", "naïve – ünïcode ✓",
		"bad\xffutf8", "tab\tand\nnewline", "=+-@`"}
	urls := []string{"/changes/MOC-2026-0001", "/changes/a b(c)'d\"e", "javascript:alert(1)", "JavaScript:x", "https://x.test/a?b=c&d=e+f",
		"/changes/ü%20x", "mailto:a@b.test", "data:text/html,x", "/a:b", "x/y:z"}
	var rows []changeListRow
	for i, s := range nasty {
		rows = append(rows, changeListRow{Number: s, Title: nasty[(i+1)%len(nasty)], URL: urls[i%len(urls)],
			EquipmentTags: nasty[:i%3], Kind: s, Duration: []string{"permanent", "temporary", s}[i%3], Stage: s,
			StageLabel: nasty[(i+2)%len(nasty)], SiteUnit: s + " · " + s, Owner: s, Expiry: []string{"", "2026-01-02", s}[i%3],
			Expired: i%4 == 1, ExpiresSoon: i%3 == 2, Updated: s})
	}
	for _, u := range urls[len(nasty)%len(urls):] {
		rows = append(rows, changeListRow{URL: u, Duration: "permanent"})
	}
	// The template file prints the rows as "  {{$d.RowsHTML}}\n", the
	// same frame as the old range's indentation and line end.
	frame := func(h template.HTML) string { return "  " + string(h) + "\n" }
	tmpl := template.Must(template.New("rows").Parse(rowsTemplate))
	for i := range rows {
		var w strings.Builder
		if err := tmpl.Execute(&w, rows[i:i+1]); err != nil {
			t.Fatal(err)
		}
		if got := frame(changeRowsHTML(rows[i : i+1])); got != w.String() {
			t.Errorf("row %d:\n got %q\nwant %q", i, got, w.String())
		}
	}
	var want strings.Builder
	if err := tmpl.Execute(&want, rows); err != nil {
		t.Fatal(err)
	}
	if got := frame(changeRowsHTML(rows)); got != want.String() {
		t.Errorf("all rows:\n got %q\nwant %q", got, want.String())
	}

	var opts []option
	for i, s := range nasty {
		opts = append(opts, option{Value: s, Label: nasty[(i+3)%len(nasty)], Selected: i%2 == 0})
	}
	var wantOpts strings.Builder
	if err := template.Must(template.New("opts").Parse(optionsTemplate)).Execute(&wantOpts, opts); err != nil {
		t.Fatal(err)
	}
	if got := string(optionsHTML(opts)); got != wantOpts.String() {
		t.Errorf("options:\n got %q\nwant %q", got, wantOpts.String())
	}
}
