package web

import (
	"math"
	"strconv"
)

// Charts are drawn as SVG on the server: the geometry is computed here
// and _chart.html writes the elements, so a page needs no chart library
// and no JavaScript, and prints as it shows. Series are told apart by
// fill and pattern (solid dark, hatched light), not by colour alone, and
// each bar carries its value, so a black-and-white printout still reads.

// Chart dimensions in SVG user units; the SVG scales to its box.
const (
	chartWidth  = 720.0
	chartHeight = 260.0
	chartLeft   = 48.0
	chartRight  = 8.0
	chartTop    = 18.0
	chartBottom = 42.0
)

// barChart is a grouped bar chart ready to draw.
type barChart struct {
	ID, Title, Unit string
	Width, Height   float64
	Left, Right     float64 // plot area, x
	Top, Bottom     float64 // plot area, y (Bottom is the zero line)
	Series          []chartSeries
	Groups          []barGroup
	YTicks          []chartTick
	// Empty is true when every value is zero: the chart says so, at
	// the centre of the plot.
	Empty            bool
	CenterX, CenterY float64
}

// chartSeries names one series for the legend; Class picks its fill.
type chartSeries struct {
	Name, Class string
	// LegendX is where its legend entry starts.
	LegendX float64
}

// barGroup is one category (a month, a stage, a person).
type barGroup struct {
	Label  string
	LabelX float64
	// ShowLabel is false for labels left out so they do not overlap.
	ShowLabel bool
	Bars      []bar
}

// bar is one rectangle with its value.
type bar struct {
	X, Y, W, H float64
	// CX is the bar's centre, where its value is written.
	CX    float64
	Class string
	Value string
	// Title is the tooltip and the accessible text: "Opened, 2026-03: 4".
	Title string
	// ValueY is where the value is written, above the bar.
	ValueY    float64
	ShowValue bool
}

// chartTick is one gridline of the y axis.
type chartTick struct {
	Y     float64
	Label string
}

// newBarChart lays out values[series][group] as grouped bars.
func newBarChart(id, title, unit string, labels, series []string, values [][]float64) *barChart {
	c := &barChart{ID: id, Title: title, Unit: unit, Width: chartWidth, Height: chartHeight,
		Left: chartLeft, Right: chartWidth - chartRight, Top: chartTop, Bottom: chartHeight - chartBottom, Empty: true,
		CenterX: (chartLeft + chartWidth - chartRight) / 2, CenterY: (chartTop + chartHeight - chartBottom) / 2}
	max := 0.0
	for _, vs := range values {
		for _, v := range vs {
			max = math.Max(max, v)
		}
	}
	if max > 0 {
		c.Empty = false
	}
	step := niceStep(max / 4)
	top := step * math.Max(1, math.Ceil(max/step))
	for v := 0.0; v <= top+step/2; v += step {
		c.YTicks = append(c.YTicks, chartTick{Y: r2(c.y(v, top)), Label: formatNumber(v)})
	}
	for i, name := range series {
		c.Series = append(c.Series, chartSeries{Name: name, Class: "s" + strconv.Itoa(i%3), LegendX: c.Left + float64(i)*170})
	}
	n := len(labels)
	if n == 0 {
		return c
	}
	groupW := (c.Right - c.Left) / float64(n)
	barW := groupW * 0.8 / float64(max1(len(series)))
	// At most about 16 labels fit under the axis; the rest are skipped.
	every := (n + 15) / 16
	showValues := n*len(series) <= 36
	for g, label := range labels {
		x0 := c.Left + float64(g)*groupW + groupW*0.1
		grp := barGroup{Label: label, LabelX: r2(c.Left + (float64(g)+0.5)*groupW), ShowLabel: g%every == 0}
		for si := range series {
			v := 0.0
			if g < len(values[si]) {
				v = values[si][g]
			}
			y := c.y(v, top)
			bx := x0 + float64(si)*barW
			grp.Bars = append(grp.Bars, bar{X: r2(bx), Y: r2(y), W: r2(barW), H: r2(c.Bottom - y), CX: r2(bx + barW/2), Class: c.Series[si].Class,
				Value: formatNumber(v), Title: series[si] + ", " + label + ": " + formatNumber(v) + unitSuffix(unit),
				ValueY: r2(y - 3), ShowValue: showValues && v > 0})
		}
		c.Groups = append(c.Groups, grp)
	}
	return c
}

// y maps a value to the plot's y coordinate.
func (c *barChart) y(v, top float64) float64 {
	return c.Bottom - (c.Bottom-c.Top)*v/top
}

// r2 rounds a coordinate to 1/100 of a unit: finer than any screen or
// printer shows, and the SVG stays short.
func r2(v float64) float64 { return math.Round(v*100) / 100 }

// niceStep rounds a gridline step up to 1, 2 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	if raw <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if raw <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// formatNumber writes 4 as "4" and 5.65 as "5.7".
func formatNumber(v float64) string {
	if v == math.Trunc(v) {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

func unitSuffix(unit string) string {
	if unit == "" {
		return ""
	}
	if unit == "%" {
		return "%"
	}
	return " " + unit
}

func max1(n int) int {
	if n < 1 {
		return 1
	}
	return n
}
