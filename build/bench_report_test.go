package main

import (
	"strings"
	"testing"
)

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{{[]float64{3, 1, 2}, 2}, {[]float64{4, 1, 3, 2}, 2.5}, {[]float64{7}, 7}} {
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// The report marks each budget met or missed from the figures, and the chart
// has a bar per manager and profile.
func TestReportBudgets(t *testing.T) {
	r := &benchReport{Runs: 2, LoaderBrotli: 5300, WasmBrotli: 660_000}
	r.add("mobile", "this module", []sample{{Banner: 600}, {Banner: 700}}, []sample{{Granted: 500}, {Granted: 500}})
	r.add("mobile", "vanilla-cookieconsent 3.1", []sample{{Banner: 1000}, {Banner: 1000}}, []sample{{Granted: 400}, {Granted: 400}})
	r.add("desktop", "this module", []sample{{Banner: 100, CLS: 0.01}}, []sample{{Granted: 50}})
	r.Static = []staticResult{{"consentd", "/loader.js", 900, 1}, {"nginx", "/loader.js", 1000, 1}}
	got := map[string]bool{}
	for _, b := range r.budgets() {
		got[b.What] = b.Met
	}
	want := map[string]bool{
		"loader + CSS ≤ 6 KB brotli":                                 true,
		"wasm ≤ 650 KB brotli":                                       false,
		"time to banner, mobile ≤ 0.7× vanilla-cookieconsent":        true, // 650 ≤ 700
		"returning visitor's granted script ≤ vanilla-cookieconsent": false,
		"banner layout shift = 0":                                    false,
		"static /loader.js ≥ 0.8× nginx":                             true,
	}
	for what, met := range want {
		if m, ok := got[what]; !ok || m != met {
			t.Errorf("%s: met = %v (present %v), want %v", what, m, ok, met)
		}
	}
	md := r.markdown()
	if !strings.Contains(md, "| wasm ≤ 650 KB brotli | 660.0 KB | missed |") {
		t.Errorf("report:\n%s", md)
	}
	if svg := r.svg(); strings.Count(svg, "<rect") != 4 { // background + 3 bars
		t.Errorf("chart has %d rects:\n%s", strings.Count(svg, "<rect"), svg)
	}
}

// Lighthouse's budgets compare this module with vanilla-cookieconsent on the
// same page, and demand 1.00 for accessibility and best practices on every
// demo page.
func TestLighthouseBudgets(t *testing.T) {
	r := &benchReport{Lighthouse: []lighthouseResult{
		{Page: "this module", Performance: 0.90, TBT: 400, TTI: 5000, Accessibility: 1, Practice: 1},
		{Page: "vanilla-cookieconsent 3.1", Performance: 1, TBT: 30, TTI: 1100, Accessibility: 1, Practice: 1},
		{Page: "demo /", Performance: -1, Accessibility: 1, Practice: 0.96},
		{Page: "demo /app/", Performance: -1, Accessibility: 1, Practice: 1},
	}}
	got := map[string]bool{}
	for _, b := range r.lighthouseBudgets() {
		got[b.What] = b.Met
	}
	want := map[string]bool{
		"Lighthouse total blocking time ≤ max(50 ms, vanilla-cookieconsent's)": false,
		"Lighthouse performance ≥ vanilla-cookieconsent's":                     false,
		"Lighthouse time to interactive ≤ 1.2× vanilla-cookieconsent's":        false,
		"Lighthouse accessibility and best practices 1.00 on every demo page":  false,
	}
	for what, met := range want {
		if m, ok := got[what]; !ok || m != met {
			t.Errorf("%s: met=%v (present %v), want %v", what, m, ok, met)
		}
	}
	r.Lighthouse[0] = lighthouseResult{Page: "this module", Performance: 1, TBT: 45, TTI: 1200, Accessibility: 1, Practice: 1}
	r.Lighthouse[2].Practice = 1
	for _, b := range r.lighthouseBudgets() {
		if !b.Met {
			t.Errorf("%s: missed with %s", b.What, b.Figure)
		}
	}
}

// The floods are reported with the disk they used and what a day of it would take.
func TestReportFlood(t *testing.T) {
	r := &benchReport{Flood: []floodResult{{Load: "one address", Rate: 10, Refused: 500, Stored: 550, DiskPerMinute: 540_000, BytesPerReceipt: 900}}}
	if md := r.markdown(); !strings.Contains(md, "| one address | 10 | 500 | 550 | 900 | 0.5 MB | 0.8 GB |") {
		t.Errorf("report:\n%s", md)
	}
}
