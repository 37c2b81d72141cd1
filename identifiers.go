package consent

import "strconv"

// IdentifierValue is the cookie value of an anonymous identifier: its 128
// random bits (see ValidConsentID), a dot, and when it was made in Unix
// seconds, so the module knows when to replace it.
func IdentifierValue(id string, created int64) string {
	return id + "." + strconv.FormatInt(created, 10)
}

// Due reports whether the identifier in cookie value v must be made anew at
// Unix time now: it is missing or malformed, or older than RotateDays (or
// dated in the future, which only a wrong clock or a forgery can do).
func (id Identifier) Due(v string, now int64) bool {
	if len(v) < 24 || v[22] != '.' || !ValidConsentID(v[:22]) {
		return true
	}
	created, err := strconv.ParseInt(v[23:], 10, 64)
	if err != nil || created > now+86400 {
		return true
	}
	return now-created >= int64(id.RotateDays)*86400
}
