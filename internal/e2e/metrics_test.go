package e2e

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// The metrics page in a real browser, on the demo's year of history:
// reached from the dashboard, its opened-and-closed chart is an SVG with
// bars drawn, the table under it holds the same months and numbers, and
// in print the chart stays while the filter form goes.
func TestMetricsPageShowsChartAndTable(t *testing.T) {
	srv := startServer(t, nil)
	b := newBrowser(t)
	signIn(b, srv, "cora@demo.mocpcr.local")
	b.do(chromedp.Navigate(srv.url("/dashboard")), chromedp.WaitVisible(chromedp.CSS(`a[href="/dashboard/metrics"]`)),
		chromedp.Click(chromedp.CSS(`a[href="/dashboard/metrics"]`)), chromedp.WaitVisible(chromedp.CSS("#chart-opened svg")))
	if h := b.text("h1"); h != "Metrics" {
		t.Fatalf("heading %q, want Metrics", h)
	}
	// Bars with a height: the demo history has changes in the period.
	drawn := get(b, chromedp.Evaluate[int](`Array.from(document.querySelectorAll("#chart-opened rect.cbar"))
		.filter(function(r){return parseFloat(r.getAttribute("height")) > 0}).length`))
	if drawn < 10 {
		t.Errorf("opened/closed chart has %d bars drawn, want most of 24", drawn)
	}
	months := get(b, chromedp.Evaluate[int](`document.querySelectorAll("#table-opened thead th").length`))
	if months != 13 {
		t.Errorf("table under the chart has %d header cells, want Month and 12 months", months)
	}
	// The table's numbers are the chart's: each month's bar title names them.
	opened := get(b, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#table-opened tbody tr:first-child td")).map(function(td){return td.textContent})`))
	titles := get(b, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#chart-opened rect.cbar.s0 title")).map(function(t){return t.textContent})`))
	if len(opened) != 12 || len(titles) != 12 {
		t.Fatalf("opened row %v, chart titles %v", opened, titles)
	}
	total := 0
	for i := range opened {
		n, _ := strconv.Atoi(opened[i])
		total += n
		if !strings.Contains(titles[i], ": "+opened[i]+" changes") {
			t.Errorf("month %d: table says %s, chart %q", i+1, opened[i], titles[i])
		}
	}
	if total < 20 {
		t.Errorf("only %d changes opened in the demo's year", total)
	}
	if !strings.Contains(b.text("#table-stages"), "Review") {
		t.Error("cycle-time table lacks the review stage")
	}
	b.screenshot("metrics")
	b.do(media("print"))
	if vis := get(b, chromedp.Evaluate[bool](`getComputedStyle(document.getElementById("metrics-filter")).display === "none" &&
		document.querySelector("#chart-opened svg").getBoundingClientRect().height > 100`)); !vis {
		t.Error("in print, the filter form should go and the chart stay")
	}
	b.screenshot("metrics-print")
	b.do(media(""))
	b.noConsoleErrors()
}

// media emulates a CSS media type ("print"; "" ends the emulation).
func media(m string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: m})
		return chromedp.Void{}, err
	}
}
