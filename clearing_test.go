package consent

import (
	"slices"
	"testing"
)

func TestItemMatches(t *testing.T) {
	for _, tc := range []struct {
		pattern, name string
		want          bool
	}{
		{"_ga", "_ga", true},
		{"_ga", "_ga_X1", false},
		{"_ga_*", "_ga_X1", true},
		{"_ga_*", "_ga", false},
		{"_ga_*", "_ga_", true},
		{"lang", "language", false},
	} {
		if got := (Item{Name: tc.pattern}).Matches(tc.name); got != tc.want {
			t.Errorf("%q matches %q = %v", tc.pattern, tc.name, got)
		}
	}
}

func TestCookieDeletions(t *testing.T) {
	got := CookieDeletions("_ga", "www.consent.test", "/app/inbox/")
	want := []string{
		"_ga=; Max-Age=0; Path=/",
		"_ga=; Max-Age=0; Path=/app/inbox",
		"_ga=; Max-Age=0; Path=/app",
		"_ga=; Max-Age=0; Path=/; Domain=www.consent.test",
		"_ga=; Max-Age=0; Path=/app/inbox; Domain=www.consent.test",
		"_ga=; Max-Age=0; Path=/app; Domain=www.consent.test",
		"_ga=; Max-Age=0; Path=/; Domain=consent.test",
		"_ga=; Max-Age=0; Path=/app/inbox; Domain=consent.test",
		"_ga=; Max-Age=0; Path=/app; Domain=consent.test",
	}
	if !slices.Equal(got, want) {
		t.Errorf("CookieDeletions =\n%q\nwant\n%q", got, want)
	}
	if got := CookieDeletions("x", "127.0.0.1", "/"); !slices.Equal(got, []string{"x=; Max-Age=0; Path=/"}) {
		t.Errorf("on an IP: %q", got)
	}
	if got := CookieDeletions("x", "127.0.0.1", "/", "/app", "/"); !slices.Equal(got, []string{"x=; Max-Age=0; Path=/", "x=; Max-Age=0; Path=/app"}) {
		t.Errorf("with a declared path: %q", got)
	}
	if got := CookieDeletions("x", "localhost", "/a"); len(got) != 2 {
		t.Errorf("on localhost: %q", got)
	}
}
