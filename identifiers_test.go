package consent

import "testing"

func TestIdentifierDue(t *testing.T) {
	id := Identifier{Name: "yq_aid", Category: "analytics", RotateDays: 90}
	const now = 1767225600
	fresh := IdentifierValue("q83vEjRWeJq83vEjRWeJqw", now-86400)
	for _, tc := range []struct {
		name, value string
		due         bool
	}{
		{"fresh", fresh, false},
		{"missing", "", true},
		{"malformed", "hello", true},
		{"bad id", IdentifierValue("not base64url!!!!!!!!!", now), true},
		{"bad time", "q83vEjRWeJq83vEjRWeJqw.soon", true},
		{"just under 90 days", IdentifierValue("q83vEjRWeJq83vEjRWeJqw", now-90*86400+1), false},
		{"90 days old", IdentifierValue("q83vEjRWeJq83vEjRWeJqw", now-90*86400), true},
		{"from the future", IdentifierValue("q83vEjRWeJq83vEjRWeJqw", now+2*86400), true},
	} {
		if got := id.Due(tc.value, now); got != tc.due {
			t.Errorf("%s: Due(%q) = %v, want %v", tc.name, tc.value, got, tc.due)
		}
	}
}
