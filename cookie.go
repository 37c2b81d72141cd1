package consent

import (
	"strconv"
	"strings"
	"time"
)

// CookieName is the default name of the consent cookie.
const CookieName = "consent"

// MaxCookieValue is the longest cookie value DecodeCookie accepts. Longer
// values are refused unread: browsers cap a cookie near 4 KB and a real
// consent value is under 200 bytes.
const MaxCookieValue = 1024

// State is one person's consent as the consent cookie records it.
//
// The zero State means "no consent": the person has not chosen yet.
type State struct {
	// ID is the pseudonymous consent id: 128 random bits, base64url without
	// padding (22 characters). It is the subject of every receipt.
	ID string
	// Policy is the policy version the person last acknowledged.
	Policy string
	// Granted lists the optional categories granted, sorted, without
	// duplicates. Strictly necessary categories are never listed.
	Granted []string
	// Given is when the person first chose; Updated when they last changed
	// anything. Both have second precision.
	Given, Updated time.Time
	// Expires and Proof are the server's voucher (see CookieProofText):
	// until Expires, Proof is the server's signature of the cookie's other
	// fields. Both are zero on a cookie the server has not vouched for (one
	// the module has just written, or any older cookie of format 1).
	Expires time.Time
	Proof   string
}

// Has reports whether category is granted.
func (s State) Has(category string) bool {
	return containsString(s.Granted, category)
}

// IsZero reports whether s is "no consent".
func (s State) IsZero() bool { return s.ID == "" }

// Time bounds of a consent cookie in Unix seconds: nothing before the format
// existed (2020-01-01), nothing after 2100-01-01. They reject garbage, not
// clock skew.
const (
	minCookieTime = 1577836800
	maxCookieTime = 4102444800
)

// EncodeCookie returns the cookie value for s in format 1:
//
//	1~ID~POLICY~CATEGORIES~GIVEN~UPDATED[~EXPIRES~PROOF]
//
// ID is 22 base64url characters; POLICY a version id (see ValidVersionID);
// CATEGORIES the granted category ids (see ValidCategoryID) joined by ".",
// sorted, possibly empty; GIVEN and UPDATED Unix seconds in decimal. For example
//
//	1~q83vEjRWeJq83vEjRWeJqw~2022-01-01~analytics.functional~1767225600~1767312000
//
// Every character is a cookie-octet of RFC 6265, so the value needs no quoting.
// EXPIRES (Unix seconds) and PROOF (CookieProofLen base64url characters) are
// present together or not at all: the server's voucher, see CookieProofText.
// The loader (web/loader.js) reads the same format; testdata/cookie-vectors.json
// pins both. EncodeCookie returns an error wrapping ErrInvalid when s would not
// decode back to itself.
func EncodeCookie(s State) (string, error) {
	v := encodeFields(s)
	if s.Proof != "" || !s.Expires.IsZero() {
		v += "~" + strconv.FormatInt(s.Expires.Unix(), 10) + "~" + s.Proof
	}
	if _, err := DecodeCookie(v); err != nil {
		return "", err
	}
	return v, nil
}

// CookieProofLen is the length of a cookie's proof: an ECDSA P-256 SHA-256
// signature r‖s (64 bytes), base64url without padding.
const CookieProofLen = 86

// CookieProofText returns the text a cookie's proof signs: the value of s
// without its proof, up to and including EXPIRES (exp, whole seconds). The
// server signs it with its cookie key (ECDSA P-256, SHA-256) only for a
// choice it has stored the browser-signed receipt of; the loader and the
// module verify it with the public half baked in at build time.
func CookieProofText(s State, exp time.Time) (string, error) {
	s.Expires, s.Proof = exp, strings.Repeat("A", CookieProofLen)
	if _, err := EncodeCookie(s); err != nil {
		return "", err
	}
	return encodeFields(s) + "~" + strconv.FormatInt(exp.Unix(), 10), nil
}

// ProofText returns the part of cookie value v that its proof signs (all
// but the last field), as written: the verifier checks the bytes it holds,
// not a re-encoding. It is "" for a value without a proof.
func ProofText(v string) string {
	if strings.Count(v, "~") != 7 {
		return ""
	}
	return v[:strings.LastIndexByte(v, '~')]
}

func encodeFields(s State) string {
	s.Granted = sortedSet(s.Granted)
	var b strings.Builder
	b.WriteString("1~")
	b.WriteString(s.ID)
	b.WriteByte('~')
	b.WriteString(s.Policy)
	b.WriteByte('~')
	b.WriteString(strings.Join(s.Granted, "."))
	b.WriteByte('~')
	b.WriteString(strconv.FormatInt(s.Given.Unix(), 10))
	b.WriteByte('~')
	b.WriteString(strconv.FormatInt(s.Updated.Unix(), 10))
	return b.String()
}

// DecodeCookie parses a consent cookie value written by EncodeCookie.
//
// A value of six fields is a cookie the server has not vouched for; one of
// eight carries the server's voucher (Expires, Proof), whose signature
// DecodeCookie does not check (that needs the server's key: see
// CookieProofText). Any value that is not exactly format 1 (empty, truncated, oversized,
// tampered, or another program's cookie of the same name) yields the zero
// State and an error wrapping ErrInvalid; callers treat that as "no consent".
// DecodeCookie never panics.
func DecodeCookie(v string) (State, error) {
	if len(v) > MaxCookieValue {
		return State{}, cookieErr("longer than " + strconv.Itoa(MaxCookieValue) + " bytes")
	}
	f := strings.Split(v, "~")
	if len(f) != 6 && len(f) != 8 {
		return State{}, cookieErr("want 6 or 8 fields separated by ~, got " + strconv.Itoa(len(f)))
	}
	if f[0] != "1" {
		return State{}, cookieErr("unknown format")
	}
	if !ValidConsentID(f[1]) {
		return State{}, cookieErr("malformed consent id")
	}
	if !ValidVersionID(f[2]) {
		return State{}, cookieErr("malformed policy version")
	}
	var granted []string
	if f[3] != "" {
		granted = strings.Split(f[3], ".")
		for _, c := range granted {
			if !ValidCategoryID(c) {
				return State{}, cookieErr("malformed category id")
			}
		}
		set := sortedSet(granted)
		if len(set) != len(granted) {
			return State{}, cookieErr("duplicate category")
		}
		granted = set
	}
	given, ok1 := parseUnix(f[4])
	updated, ok2 := parseUnix(f[5])
	if !ok1 || !ok2 {
		return State{}, cookieErr("malformed time")
	}
	if updated.Before(given) {
		return State{}, cookieErr("updated before given")
	}
	s := State{ID: f[1], Policy: f[2], Granted: granted, Given: given, Updated: updated}
	if len(f) == 8 {
		exp, ok := parseUnix(f[6])
		if !ok {
			return State{}, cookieErr("malformed expiry")
		}
		if !validBase64URL(f[7], CookieProofLen) {
			return State{}, cookieErr("malformed proof")
		}
		s.Expires, s.Proof = exp, f[7]
	}
	return s, nil
}

// cookieError is why a cookie value did not decode. It matches ErrInvalid.
type cookieError string

func (e cookieError) Error() string { return "consent cookie: " + string(e) }
func (e cookieError) Unwrap() error { return ErrInvalid }

func cookieErr(msg string) error { return cookieError(msg) }

// parseUnix accepts exactly ten decimal digits without a leading zero, within
// the cookie's time bounds.
func parseUnix(s string) (time.Time, bool) {
	if len(s) != 10 || s[0] == '0' {
		return time.Time{}, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return time.Time{}, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < minCookieTime || n > maxCookieTime {
		return time.Time{}, false
	}
	return time.Unix(n, 0).UTC(), true
}

// ValidConsentID reports whether id is 22 base64url characters (128 bits).
func ValidConsentID(id string) bool {
	if len(id) != 22 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(isLower(c) || isUpper(c) || isDigit(c) || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// ValidVersionID reports whether id can name a policy version: 1 to 32
// characters of a–z, 0–9, "-" and ".", beginning and ending with a letter or
// digit, with no "..". Such an id is a safe URL path segment and file name.
func ValidVersionID(id string) bool {
	if len(id) == 0 || len(id) > 32 || strings.Contains(id, "..") {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		alnum := isLower(c) || isDigit(c)
		if !alnum && ((c != '-' && c != '.') || i == 0 || i == len(id)-1) {
			return false
		}
	}
	return true
}

// ValidCategoryID reports whether id can name a consent category: a lowercase
// letter, then up to 31 lowercase letters, digits or "_".
func ValidCategoryID(id string) bool {
	if len(id) == 0 || len(id) > 32 || !isLower(id[0]) {
		return false
	}
	for i := 1; i < len(id); i++ {
		c := id[i]
		if !(isLower(c) || isDigit(c) || c == '_') {
			return false
		}
	}
	return true
}

func isLower(c byte) bool { return 'a' <= c && c <= 'z' }
func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// sortedSet returns a sorted copy of list without duplicates. Lists here hold
// a few category ids: an insertion sort keeps the browser module smaller than
// the generic sort would.
func sortedSet(list []string) []string {
	if len(list) == 0 {
		return nil
	}
	out := make([]string, 0, len(list))
	for _, v := range list {
		i := len(out)
		for i > 0 && out[i-1] > v {
			i--
		}
		if i > 0 && out[i-1] == v {
			continue
		}
		out = append(out, "")
		copy(out[i+1:], out[i:])
		out[i] = v
	}
	return out
}

func containsString(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
