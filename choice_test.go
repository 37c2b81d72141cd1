package consent

import (
	"slices"
	"testing"
	"time"
)

func testSite() *Site {
	t := Text{"x", "x"}
	return &Site{Name: t, Cookie: CookieConfig{MaxAgeDays: 365}, Controller: Controller{"c", "a", "e@x", "1", "https://x"}, Categories: []Category{
		{ID: "necessary", Required: true, Title: t, Purpose: t},
		{ID: "functional", Title: t, Purpose: t},
		{ID: "analytics", Title: t, Purpose: t},
		{ID: "marketing", Title: t, Purpose: t},
	}}
}

func TestDecide(t *testing.T) {
	site := testSite()
	now := time.Date(2026, 11, 29, 10, 0, 0, 500, time.UTC)
	first := Decide(State{}, site, []string{"marketing", "necessary", "unknown", "analytics"}, "2022-01-01", now, func() string { return "q83vEjRWeJq83vEjRWeJqw" })
	if first.ID != "q83vEjRWeJq83vEjRWeJqw" || first.Policy != "2022-01-01" {
		t.Fatalf("first choice %+v", first)
	}
	if !slices.Equal(first.Granted, []string{"analytics", "marketing"}) {
		t.Errorf("granted %v: want the known optional ones, sorted", first.Granted)
	}
	if !first.Given.Equal(now.Truncate(time.Second)) || !first.Updated.Equal(first.Given) {
		t.Errorf("times %v %v", first.Given, first.Updated)
	}
	if _, err := EncodeCookie(first); err != nil {
		t.Fatalf("a decided state does not encode: %v", err)
	}

	later := now.Add(time.Hour)
	second := Decide(first, site, []string{"functional"}, "2023-06-01", later, func() string { t.Fatal("a later choice must keep the id"); return "" })
	if second.ID != first.ID || !second.Given.Equal(first.Given) || !second.Updated.Equal(later.Truncate(time.Second)) {
		t.Errorf("later choice %+v", second)
	}
	if got := Withdrawn(first, second); !slices.Equal(got, []string{"analytics", "marketing"}) {
		t.Errorf("Withdrawn = %v", got)
	}
}

func TestChoiceEvent(t *testing.T) {
	st := func(policy string, granted ...string) State {
		return State{ID: "q83vEjRWeJq83vEjRWeJqw", Policy: policy, Granted: granted}
	}
	for _, tc := range []struct {
		name       string
		prev, next State
		want       Event
	}{
		{"first choice, something granted", State{}, st("b", "analytics"), EventConsentGiven},
		{"first choice, everything refused", State{}, st("b"), EventConsentRefused},
		{"one category withdrawn", st("b", "analytics", "marketing"), st("b", "marketing"), EventWithdrawn},
		{"withdrawn while acknowledging", st("a", "analytics"), st("b"), EventWithdrawn},
		{"swapped categories count as withdrawn", st("b", "analytics"), st("b", "marketing"), EventWithdrawn},
		{"new version acknowledged, grants kept", st("a", "analytics"), st("b", "analytics"), EventAcknowledged},
		{"new version acknowledged, nothing granted", st("a"), st("b"), EventAcknowledged},
		{"more granted with the new version", st("a", "analytics"), st("b", "analytics", "marketing"), EventConsentGiven},
		{"same choice saved again", st("b", "analytics"), st("b", "analytics"), EventConsentGiven},
		{"refusal saved again", st("b"), st("b"), EventConsentRefused},
	} {
		if got := ChoiceEvent(tc.prev, tc.next); got != tc.want {
			t.Errorf("%s: ChoiceEvent = %s, want %s", tc.name, got, tc.want)
		}
	}
}
