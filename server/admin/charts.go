package admin

import (
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
)

// series is one row of values a chart draws, in the order of its labels.
type series struct {
	Name   string
	Values []float64
}

// chart is one figure: drawn as server-rendered SVG, and given beside it as
// a table, which is the accessible form of the data (the SVG is role="img"
// with a title and a description that says so).
type chart struct {
	ID      string // unique on the page
	Title   string
	Desc    string // what the chart shows, in a sentence
	Labels  []string
	Series  []series
	Percent bool // values are shares 0–1, on a scale of 0–100 %
	Lines   bool // a line per series (a time series), else grouped bars
}

const (
	chartW, chartH = 720, 280
	padL, padR     = 56, 16
	padT, padB     = 16, 48
)

// SVG draws the chart: grouped bars, or lines. Colours come from
// the console's stylesheet (classes s0…s5), which has a light and a dark set.
func (c chart) SVG() template.HTML {
	var b strings.Builder
	esc := template.HTMLEscapeString
	fmt.Fprintf(&b, `<div class="chart-scroll" tabindex="0" role="group" aria-labelledby="%s-t">`, c.ID)
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-labelledby="%s-t %s-d" focusable="false">`,
		chartW, chartH, c.ID, c.ID)
	fmt.Fprintf(&b, `<title id="%s-t">%s</title><desc id="%s-d">%s</desc>`, c.ID, esc(c.Title), c.ID, esc(c.Desc))
	top := 1.0
	if !c.Percent {
		top = 0
		for _, s := range c.Series {
			for _, v := range s.Values {
				top = math.Max(top, v)
			}
		}
		top = 4 * math.Ceil(niceCeil(top/4)) // four gridlines at round, whole values
	}
	plotW, plotH := float64(chartW-padL-padR), float64(chartH-padT-padB)
	y := func(v float64) float64 { return float64(padT) + plotH*(1-v/top) }
	// Grid and y axis labels.
	b.WriteString(`<g class="grid">`)
	for i := 0; i <= 4; i++ {
		v := top * float64(i) / 4
		label := strconv.FormatFloat(v, 'f', -1, 64)
		if c.Percent {
			label = strconv.Itoa(int(math.Round(v*100))) + "%"
		}
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f"/><text x="%d" y="%.1f" text-anchor="end" dy="0.35em">%s</text>`,
			padL, chartW-padR, y(v), y(v), padL-6, y(v), label)
	}
	b.WriteString(`</g>`)
	n := len(c.Labels)
	if n == 0 {
		fmt.Fprintf(&b, `<text class="empty" x="%d" y="%d" text-anchor="middle">暂无数据 · no data yet</text></svg></div>`, chartW/2, chartH/2)
		return template.HTML(b.String())
	}
	slot := plotW / float64(n)
	// x labels: at most about twelve, so they never overlap.
	every := int(math.Ceil(float64(n) / 12))
	b.WriteString(`<g class="xlabels">`)
	for i, l := range c.Labels {
		if i%every != 0 {
			continue
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`, float64(padL)+slot*(float64(i)+0.5), chartH-padB+18, esc(l))
	}
	b.WriteString(`</g>`)
	if c.Lines {
		for si, s := range c.Series {
			var pts []string
			for i, v := range s.Values {
				if math.IsNaN(v) {
					continue
				}
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", float64(padL)+slot*(float64(i)+0.5), y(v)))
			}
			fmt.Fprintf(&b, `<g class="s%d"><polyline points="%s"/>`, si%6, strings.Join(pts, " "))
			for _, p := range pts {
				xy := strings.Split(p, ",")
				fmt.Fprintf(&b, `<circle cx="%s" cy="%s" r="3.5"/>`, xy[0], xy[1])
			}
			b.WriteString(`</g>`)
		}
	} else {
		k := float64(len(c.Series))
		barW := slot * 0.8 / k
		for si, s := range c.Series {
			fmt.Fprintf(&b, `<g class="s%d">`, si%6)
			for i, v := range s.Values {
				if math.IsNaN(v) {
					continue
				}
				x := float64(padL) + slot*float64(i) + slot*0.1 + barW*float64(si)
				fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f"/>`, x, y(v), math.Max(barW-1, 1), y(0)-y(v))
			}
			b.WriteString(`</g>`)
		}
	}
	fmt.Fprintf(&b, `<line class="axis" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>`, padL, chartW-padR, y(0), y(0))
	b.WriteString(`</svg></div>`)
	return template.HTML(b.String())
}

// Legend names the series with their colours. It is hidden from screen
// readers, which read the table's headers instead.
func (c chart) Legend() template.HTML {
	var b strings.Builder
	b.WriteString(`<ul class="legend" aria-hidden="true">`)
	for i, s := range c.Series {
		fmt.Fprintf(&b, `<li><span class="swatch s%d"></span>%s</li>`, i%6, template.HTMLEscapeString(s.Name))
	}
	b.WriteString(`</ul>`)
	return template.HTML(b.String())
}

// niceCeil rounds v up to a round number (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6
// or 8 times a power of ten), and to at least 1.
func niceCeil(v float64) float64 {
	if v <= 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

// percent formats a share for tables: "42.9%", or "–" when there is none.
func percent(part, whole int64) string {
	if whole == 0 {
		return "–"
	}
	return strconv.FormatFloat(float64(part)*100/float64(whole), 'f', 1, 64) + "%"
}

func share(part, whole int64) float64 {
	if whole == 0 {
		return math.NaN()
	}
	return float64(part) / float64(whole)
}
