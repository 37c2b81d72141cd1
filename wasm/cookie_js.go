//go:build js && wasm

package main

import (
	"strconv"
	"strings"

	"workly.ai/consent"
)

// readCookie returns the value of the cookie name in document.cookie, or "".
func readCookie(name string) (string, error) {
	var r jsReader
	doc, err := global("document")
	if err != nil {
		return "", err
	}
	all := r.str(doc, "cookie")
	if r.err != nil {
		return "", r.err
	}
	for _, part := range strings.Split(all, "; ") {
		if k, v, ok := strings.Cut(part, "="); ok && k == name {
			return v, nil
		}
	}
	return "", nil
}

// writeConsentCookie stores s in the consent cookie with the site's
// attributes: Path=/, SameSite=Lax, Secure on https, the configured Domain
// and lifetime.
func writeConsentCookie(site *consent.Site, s consent.State) error {
	v, err := consent.EncodeCookie(s)
	if err != nil {
		return err
	}
	if err := setCookie(site.CookieName() + "=" + v + "; Path=/; Max-Age=" +
		strconv.Itoa(site.Cookie.MaxAgeDays*86400) + cookieScope(site)); err != nil {
		return err
	}
	rememberWritten(v)
	return nil
}

// clearConsentCookie deletes the consent cookie, with the same scope it was
// written with (a delete with another path or domain does nothing).
func clearConsentCookie(site *consent.Site) error {
	rememberWritten("")
	return setCookie(site.CookieName() + "=; Path=/; Max-Age=0" + cookieScope(site))
}

// cookieScope returns the attributes that scope the module's cookies:
// SameSite=Lax, Secure on https, and the configured Domain when the page is
// on that domain or a subdomain of it (elsewhere, such as localhost during
// development, the cookie is host-only: a browser refuses a foreign Domain).
func cookieScope(site *consent.Site) string {
	attrs := "; SameSite=Lax"
	loc, err := global("location")
	if err != nil {
		return attrs
	}
	var r jsReader
	host := r.str(loc, "hostname")
	if d := site.Cookie.Domain; d != "" && (host == d || strings.HasSuffix(host, "."+d)) {
		attrs += "; Domain=" + d
	}
	if r.str(loc, "protocol") == "https:" {
		attrs += "; Secure"
	}
	return attrs
}

func setCookie(c string) error {
	doc, err := global("document")
	if err != nil {
		return err
	}
	return doc.Set("cookie", c)
}
