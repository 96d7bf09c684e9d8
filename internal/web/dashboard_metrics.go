package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/problem"
)

// metricsFilter reads the metrics filter from the query: site and unit
// (ids; the page names them site and unit like the change list, the API
// site_id and unit_id), from and to (YYYY-MM; the last 12 months when
// absent). Every unreadable parameter is named at once.
func (s *Server) metricsFilter(r *http.Request, siteKey, unitKey string) (change.MetricsFilter, error) {
	q := r.URL.Query()
	var p problem.List
	var f change.MetricsFilter
	f.From, f.To = change.DefaultMetricsPeriod(s.Now())
	id := func(key string) int64 {
		v := strings.TrimSpace(q.Get(key))
		if v == "" {
			return 0
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			p.Invalid(key, "expected an id, got %q", v)
		}
		return n
	}
	f.SiteID, f.UnitID = id(siteKey), id(unitKey)
	month := func(key string, into *time.Time) {
		v := strings.TrimSpace(q.Get(key))
		if v == "" {
			return
		}
		t, err := time.Parse("2006-01", v)
		if err != nil {
			p.Invalid(key, "expected a month like 2026-03, got %q", v)
			return
		}
		*into = t
	}
	month("from", &f.From)
	month("to", &f.To)
	return f, p.Err(siteKey, unitKey, "from", "to")
}

// metricsPage is what dashboard_metrics.html shows.
type metricsPage struct {
	M       *change.Metrics
	Sites   []option
	Units   []option
	From    string
	To      string
	CSVURL  string
	Charts  map[string]*barChart
	Stages  []change.StageCycle
	Overdue []change.PersonOverdue
	// Trend is, per month, each stage's median (days) for the table.
	Trend []metricsTrendRow
	// Filtered names the site or unit chosen, for the heading.
	Filtered string
}

// metricsTrendRow is one month of the per-stage trend table.
type metricsTrendRow struct {
	Month   string
	Medians []string
}

// pageShowMetrics is the metrics dashboard: a chart and its table for
// each metric, the filter, and a CSV of the same numbers.
func (s *Server) pageShowMetrics(w http.ResponseWriter, r *http.Request) {
	u := auth.UserFrom(r.Context())
	f, ferr := s.metricsFilter(r, "site", "unit")
	var m *change.Metrics
	err := ferr
	if err == nil {
		m, err = s.Changes.Metrics(r.Context(), u, f)
	}
	status := http.StatusOK
	var errs map[string]string
	if err != nil {
		if problem.KindOf(err) != problem.Invalid {
			s.fail(w, r, err)
			return
		}
		// A bad filter shows the page for the default period, the
		// problem beside the filter.
		status = statusOf(err)
		errs = formErrors(err, "metrics-filter", map[string]string{"site": "m-site", "site_id": "m-site", "unit": "m-unit",
			"unit_id": "m-unit", "from": "m-from", "to": "m-to"})
		f = change.MetricsFilter{}
		f.From, f.To = change.DefaultMetricsPeriod(s.Now())
		if m, err = s.Changes.Metrics(r.Context(), u, f); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	v := &metricsPage{M: m, From: m.From, To: m.To, Charts: map[string]*barChart{}, Stages: m.Stages, Overdue: m.Overdue}
	site, unit := "", ""
	if f.SiteID != 0 {
		site = strconv.FormatInt(f.SiteID, 10)
	}
	if f.UnitID != 0 {
		unit = strconv.FormatInt(f.UnitID, 10)
	}
	if v.Sites, err = s.siteOptions(r, u, site); err != nil {
		s.serverFault(w, r, "list sites", err)
		return
	}
	units, err := s.Changes.Units(r.Context(), u, 0)
	if err != nil {
		s.serverFault(w, r, "list units", err)
		return
	}
	v.Units = []option{{Label: "Any unit", Selected: unit == ""}}
	for _, un := range units {
		id := strconv.FormatInt(un.ID, 10)
		v.Units = append(v.Units, option{id, un.SiteCode + " · " + un.Code + " – " + un.Name, unit == id})
		if id == unit {
			v.Filtered = un.SiteCode + " · " + un.Code
		}
	}
	for _, o := range v.Sites {
		if o.Selected && o.Value != "" && v.Filtered == "" {
			v.Filtered = o.Label
		}
	}
	q := url.Values{"from": {m.From}, "to": {m.To}}
	if site != "" {
		q.Set("site", site)
	}
	if unit != "" {
		q.Set("unit", unit)
	}
	v.CSVURL = "/dashboard/metrics.csv?" + q.Encode()
	v.buildCharts()
	s.render(w, r, status, "dashboard_metrics.html", &Page{Title: "Metrics", Errors: errs, Data: v})
}

// buildCharts lays out every chart of the page from the numbers.
func (v *metricsPage) buildCharts() {
	m := v.M
	months := make([]string, len(m.Months))
	col := func(get func(change.MonthMetrics) float64) []float64 {
		out := make([]float64, len(m.Months))
		for i, mm := range m.Months {
			out[i] = get(mm)
		}
		return out
	}
	for i, mm := range m.Months {
		months[i] = mm.Month
	}
	v.Charts["opened"] = newBarChart("chart-opened", "Changes opened and closed per month", "changes", months, []string{"Opened", "Closed"},
		[][]float64{col(func(mm change.MonthMetrics) float64 { return float64(mm.Opened) }), col(func(mm change.MonthMetrics) float64 { return float64(mm.Closed) })})
	var stageLabels []string
	var med, p90 []float64
	for _, st := range m.Stages {
		stageLabels = append(stageLabels, st.Label)
		med, p90 = append(med, st.MedianDays), append(p90, st.P90Days)
	}
	v.Charts["stages"] = newBarChart("chart-stages", "Cycle time per stage", "days", stageLabels, []string{"Median", "90th percentile"}, [][]float64{med, p90})
	v.Charts["cycle"] = newBarChart("chart-cycle", "Submit to close, by month closed", "days", months, []string{"Median", "90th percentile"},
		[][]float64{col(func(mm change.MonthMetrics) float64 { return mm.CycleMedianDays }), col(func(mm change.MonthMetrics) float64 { return mm.CycleP90Days })})
	var people []string
	var late, waiting []float64
	for i, p := range m.Overdue {
		if i == 20 {
			break // the table lists everyone; the chart the 20 most overdue
		}
		people = append(people, p.Name)
		waiting = append(waiting, float64(p.ReviewsOverdue+p.ApprovalsOverdue))
		late = append(late, float64(p.DecidedLate))
	}
	v.Charts["overdue"] = newBarChart("chart-overdue", "Overdue reviews and approvals per person", "items", people,
		[]string{"Waiting past the reminder now", "Decided late in the period"}, [][]float64{waiting, late})
	v.Charts["emergency"] = newBarChart("chart-emergency", "Emergency changes per month", "changes", months, []string{"Emergency changes opened", "Missed the review deadline"},
		[][]float64{col(func(mm change.MonthMetrics) float64 { return float64(mm.Emergency) }), col(func(mm change.MonthMetrics) float64 { return float64(mm.EmergencyMissed) })})
	v.Charts["deficiencies"] = newBarChart("chart-deficiencies", "PSSR deficiencies raised and closed per month", "deficiencies", months, []string{"Raised", "Closed"},
		[][]float64{col(func(mm change.MonthMetrics) float64 { return float64(mm.DeficienciesOpened) }), col(func(mm change.MonthMetrics) float64 { return float64(mm.DeficienciesClosed) })})
	v.Charts["rik"] = newBarChart("chart-rik", "Replacement-in-kind share of submitted changes", "%", months, []string{"Replacement in kind"},
		[][]float64{col(func(mm change.MonthMetrics) float64 { return sharePercent(mm.RIK, mm.Submitted) })})
	for i, mm := range m.Months {
		row := metricsTrendRow{Month: mm.Month}
		for _, st := range m.Stages {
			cm := st.Months[i]
			if cm.Count == 0 {
				row.Medians = append(row.Medians, "—")
				continue
			}
			row.Medians = append(row.Medians, formatNumber(cm.MedianDays))
		}
		v.Trend = append(v.Trend, row)
	}
}

// sharePercent is part of all in per cent, one decimal; 0 of nothing is 0.
func sharePercent(part, all int) float64 {
	if all == 0 {
		return 0
	}
	return float64(int(1000*float64(part)/float64(all)+0.5)) / 10
}

// Share writes a month's part of all as a percentage for the tables.
func (v *metricsPage) Share(part, all int) string {
	if all == 0 {
		return "—"
	}
	return formatNumber(sharePercent(part, all)) + " %"
}

// pageExportMetrics downloads the page's numbers as CSV.
func (s *Server) pageExportMetrics(w http.ResponseWriter, r *http.Request) {
	s.exportMetrics(w, r, "site", "unit")
}

// exportMetrics writes the metrics of the filter as CSV, or the refusal.
func (s *Server) exportMetrics(w http.ResponseWriter, r *http.Request, siteKey, unitKey string) {
	f, err := s.metricsFilter(r, siteKey, unitKey)
	var m *change.Metrics
	if err == nil {
		m, err = s.Changes.Metrics(r.Context(), auth.UserFrom(r.Context()), f)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="mocpcr-metrics-`+m.From+`-to-`+m.To+`.csv"`)
	if err := change.WriteMetricsCSV(w, m); err != nil {
		s.Logger.WarnContext(r.Context(), "write metrics CSV", "err", err)
	}
}
