package admin

import (
	"math"
	"regexp"
	"strings"
	"testing"
)

// gridLabels returns the y axis labels of a chart's SVG, bottom up.
func gridLabels(svg string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`dy="0.35em">([^<]*)</text>`).FindAllStringSubmatch(svg, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestChartScale(t *testing.T) {
	for _, c := range []struct {
		name string
		max  float64
		want string
	}{
		{"nothing", 0, "0 1 2 3 4"},
		{"small counts", 6, "0 2 4 6 8"},
		{"tens", 25, "0 8 16 24 32"},
		{"hundreds", 444, "0 120 240 360 480"},
		{"a round top", 400, "0 100 200 300 400"},
	} {
		ch := chart{ID: "c", Labels: []string{"a"}, Series: []series{{Name: "s", Values: []float64{c.max}}}}
		if got := strings.Join(gridLabels(string(ch.SVG())), " "); got != c.want {
			t.Errorf("%s (max %v): %s, want %s", c.name, c.max, got, c.want)
		}
	}
	shares := chart{ID: "p", Percent: true, Lines: true, Labels: []string{"a", "b", "c"},
		Series: []series{{Name: "s", Values: []float64{0.5, math.NaN(), 1}}}}
	svg := string(shares.SVG())
	if got := strings.Join(gridLabels(svg), " "); got != "0% 25% 50% 75% 100%" {
		t.Errorf("shares: %s", got)
	}
	if n := strings.Count(svg, "<circle"); n != 2 || strings.Contains(svg, "NaN") {
		t.Errorf("a day without choices is drawn: %d points\n%s", n, svg)
	}
	empty := string(chart{ID: "e", Title: "t", Desc: "d"}.SVG())
	if !strings.Contains(empty, "no data yet") || !strings.Contains(empty, `role="img"`) {
		t.Errorf("empty chart: %s", empty)
	}
}
