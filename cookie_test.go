package consent

import (
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// cookieVector is one entry of testdata/cookie-vectors.json, which the loader's
// Chromium test reads too.
type cookieVector struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	Valid bool   `json:"valid"`
	State *struct {
		ID      string   `json:"id"`
		Policy  string   `json:"policy"`
		Granted []string `json:"granted"`
		Given   int64    `json:"given"`
		Updated int64    `json:"updated"`
		Expires int64    `json:"expires"`
		Proof   string   `json:"proof"`
	} `json:"state"`
}

func loadCookieVectors(t *testing.T) []cookieVector {
	t.Helper()
	data, err := os.ReadFile("testdata/cookie-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct{ Vectors []cookieVector }
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	if len(file.Vectors) < 20 {
		t.Fatalf("only %d cookie vectors", len(file.Vectors))
	}
	return file.Vectors
}

func TestDecodeCookieVectors(t *testing.T) {
	for _, v := range loadCookieVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			got, err := DecodeCookie(v.Value)
			if !v.Valid {
				if err == nil || !errors.Is(err, ErrInvalid) {
					t.Fatalf("DecodeCookie(%q) = %+v, %v; want an ErrInvalid", v.Value, got, err)
				}
				if !got.IsZero() {
					t.Fatalf("invalid value decoded to non-zero state %+v", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("DecodeCookie(%q): %v", v.Value, err)
			}
			want := State{ID: v.State.ID, Policy: v.State.Policy, Granted: v.State.Granted,
				Given: time.Unix(v.State.Given, 0).UTC(), Updated: time.Unix(v.State.Updated, 0).UTC()}
			if len(want.Granted) == 0 {
				want.Granted = nil
			}
			if v.State.Proof != "" {
				want.Expires, want.Proof = time.Unix(v.State.Expires, 0).UTC(), v.State.Proof
			}
			if !got.Expires.Equal(want.Expires) || got.Proof != want.Proof {
				t.Fatalf("DecodeCookie(%q): voucher %v %q, want %v %q", v.Value, got.Expires, got.Proof, want.Expires, want.Proof)
			}
			if (ProofText(v.Value) != "") != (want.Proof != "") {
				t.Fatalf("ProofText(%q) = %q", v.Value, ProofText(v.Value))
			}
			if got.ID != want.ID || got.Policy != want.Policy || !slices.Equal(got.Granted, want.Granted) ||
				!got.Given.Equal(want.Given) || !got.Updated.Equal(want.Updated) {
				t.Fatalf("DecodeCookie(%q)\n got %+v\nwant %+v", v.Value, got, want)
			}
			// Encoding the decoded state gives a value that decodes the same.
			again, err := EncodeCookie(got)
			if err != nil {
				t.Fatal(err)
			}
			if back, _ := DecodeCookie(again); !slices.Equal(back.Granted, got.Granted) || back.Policy != got.Policy {
				t.Fatalf("round trip changed %q to %q", v.Value, again)
			}
		})
	}
}

func TestEncodeCookie(t *testing.T) {
	given := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := State{ID: "q83vEjRWeJq83vEjRWeJqw", Policy: "2022-01-01", Granted: []string{"marketing", "analytics", "analytics"},
		Given: given, Updated: given.Add(24 * time.Hour)}
	got, err := EncodeCookie(s)
	if err != nil {
		t.Fatal(err)
	}
	const want = "1~q83vEjRWeJq83vEjRWeJqw~2022-01-01~analytics.marketing~1767225600~1767312000"
	if got != want {
		t.Fatalf("EncodeCookie = %q, want %q", got, want)
	}
	if !slices.Equal(s.Granted, []string{"marketing", "analytics", "analytics"}) {
		t.Fatal("EncodeCookie modified its argument")
	}
}

// The proof signs the cookie's text up to its expiry, exactly as written.
func TestCookieProofText(t *testing.T) {
	s := State{ID: "q83vEjRWeJq83vEjRWeJqw", Policy: "2022-01-01", Granted: []string{"marketing", "analytics"},
		Given: time.Unix(1767225600, 0), Updated: time.Unix(1767312000, 0)}
	exp := time.Unix(1798848000, 0)
	text, err := CookieProofText(s, exp)
	if err != nil {
		t.Fatal(err)
	}
	const want = "1~q83vEjRWeJq83vEjRWeJqw~2022-01-01~analytics.marketing~1767225600~1767312000~1798848000"
	if text != want {
		t.Fatalf("CookieProofText = %q, want %q", text, want)
	}
	s.Expires, s.Proof = exp, strings.Repeat("x", CookieProofLen)
	v, err := EncodeCookie(s)
	if err != nil {
		t.Fatal(err)
	}
	if v != want+"~"+s.Proof || ProofText(v) != want {
		t.Fatalf("EncodeCookie = %q, ProofText %q", v, ProofText(v))
	}
	if _, err := CookieProofText(s, time.Unix(5000000000, 0)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("an expiry after 2100: %v", err)
	}
	s.Proof = ""
	if v, err := EncodeCookie(s); !errors.Is(err, ErrInvalid) {
		t.Fatalf("an expiry without a proof encoded to %q, %v", v, err)
	}
}

func TestEncodeCookieRefusesWhatWouldNotDecode(t *testing.T) {
	good := State{ID: "q83vEjRWeJq83vEjRWeJqw", Policy: "2022-01-01", Given: time.Unix(1767225600, 0), Updated: time.Unix(1767225600, 0)}
	for name, mutate := range map[string]func(*State){
		"zero state":       func(s *State) { *s = State{} },
		"bad id":           func(s *State) { s.ID = "short" },
		"bad policy":       func(s *State) { s.Policy = "../x" },
		"bad category":     func(s *State) { s.Granted = []string{"a~b"} },
		"updated <  given": func(s *State) { s.Updated = s.Given.Add(-time.Second) },
	} {
		t.Run(name, func(t *testing.T) {
			s := good
			mutate(&s)
			if v, err := EncodeCookie(s); !errors.Is(err, ErrInvalid) {
				t.Fatalf("EncodeCookie = %q, %v; want ErrInvalid", v, err)
			}
		})
	}
}

func TestStateHas(t *testing.T) {
	s, err := DecodeCookie("1~q83vEjRWeJq83vEjRWeJqw~2022-01-01~marketing.analytics~1767225600~1767312000")
	if err != nil {
		t.Fatal(err)
	}
	if !s.Has("analytics") || !s.Has("marketing") || s.Has("functional") {
		t.Fatalf("Has wrong for %v", s.Granted)
	}
}

func FuzzDecodeCookie(f *testing.F) {
	f.Add("1~q83vEjRWeJq83vEjRWeJqw~2022-01-01~analytics.functional~1767225600~1767312000")
	f.Add("1~~~~~")
	f.Add("")
	f.Fuzz(func(t *testing.T, v string) {
		s, err := DecodeCookie(v)
		if err != nil {
			if !s.IsZero() {
				t.Fatalf("error with non-zero state %+v", s)
			}
			return
		}
		// Whatever decodes re-encodes, and the re-encoding decodes to the same.
		enc, err := EncodeCookie(s)
		if err != nil {
			t.Fatalf("EncodeCookie of decoded %q: %v", v, err)
		}
		s2, err := DecodeCookie(enc)
		if err != nil || s2.ID != s.ID || s2.Policy != s.Policy || !slices.Equal(s2.Granted, s.Granted) || !s2.Given.Equal(s.Given) {
			t.Fatalf("round trip of %q: %q → %+v, %v", v, enc, s2, err)
		}
	})
}
