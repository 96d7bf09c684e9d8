package web_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// The metrics page draws its charts as SVG with the numbers in a table
// under each, links a CSV of the same numbers, and names a bad filter
// beside it; the API answers the same metrics as JSON and refuses a
// period over 120 months naming the field.
func TestMetricsPageDrawsChartsTablesAndCSV(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newPageFixture(t, db)
		month := f.site.clock.Now().UTC().Format("2006-01")
		page := f.coord2.get("/dashboard/metrics")
		if page.StatusCode != http.StatusOK {
			t.Fatalf("metrics page: %d\n%s", page.StatusCode, excerpt(page.Body))
		}
		for _, want := range []string{`<figure class="chart" id="chart-opened">`, `<svg viewBox="0 0 720 260" role="img"`,
			`<title>Opened, ` + month + `: 5 changes</title>`, `id="table-opened"`, `<th scope="row">Opened</th>`, `id="chart-stages"`,
			`href="/dashboard/metrics.csv?`} {
			if !strings.Contains(page.Body, want) {
				t.Errorf("metrics page lacks %q", want)
			}
		}
		csv := f.coord2.get("/dashboard/metrics.csv?from=" + month + "&to=" + month)
		if csv.StatusCode != http.StatusOK || !strings.HasPrefix(csv.Body, "metric,group,month,value\n") || !strings.Contains(csv.Body, "opened,,"+month+",5\n") {
			t.Errorf("CSV: %d\n%s", csv.StatusCode, csv.Body)
		}
		bad := f.coord2.get("/dashboard/metrics?from=2001-01&to=" + month)
		if bad.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(errorBeside(bad.Body, "m-from"), "at most 120") ||
			!strings.Contains(bad.Body, `id="chart-opened"`) {
			t.Errorf("too long a period: %d %q", bad.StatusCode, errorBeside(bad.Body, "m-from"))
		}
		tok := f.site.token(f.coord)
		r := bearer(t, f.site.URL, "GET", "/api/v1/change-metrics?from="+month+"&to="+month, tok, nil)
		var m struct {
			Months []struct {
				Month  string `json:"month"`
				Opened int    `json:"opened"`
			} `json:"months"`
		}
		if err := json.Unmarshal([]byte(r.Body), &m); err != nil || r.StatusCode != http.StatusOK || len(m.Months) != 1 || m.Months[0].Opened != 5 {
			t.Errorf("API: %d %s", r.StatusCode, r.Body)
		}
		if r := bearer(t, f.site.URL, "GET", "/api/v1/change-metrics?from=2001-01", tok, nil); r.StatusCode != http.StatusUnprocessableEntity ||
			!strings.Contains(r.Body, `"field":"from"`) {
			t.Errorf("API long period: %d %s", r.StatusCode, r.Body)
		}
	})
}
