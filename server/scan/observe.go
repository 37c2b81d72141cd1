// Package scan is consentd scan: it loads a site in headless Chromium three
// times (before any choice, after "reject all", after "accept all"), records
// what each page stores and which hosts it contacts, and reports it against
// what the site declares (site.json) and the services catalogue.
//
// Crawl does the browsing and returns observations; Analyze turns them into
// a Report, which needs no browser and is tested on its own.
package scan

import "strings"

// Phase is one of the three visits of a site.
type Phase string

// The phases, in the order they are visited. Each runs in a fresh browser
// context: nothing carries over from one to the next.
const (
	Before   Phase = "before"   // no choice made
	Rejected Phase = "rejected" // after data-consent-action="reject-all"
	Accepted Phase = "accepted" // after data-consent-action="accept-all"
)

// Phases lists the phases in order.
var Phases = []Phase{Before, Rejected, Accepted}

// Kind is the kind of a thing seen.
type Kind string

// Kinds of things seen.
const (
	Cookie         Kind = "cookie"
	LocalStorage   Kind = "localStorage"
	SessionStorage Kind = "sessionStorage"
	IndexedDB      Kind = "indexedDB"
	Cache          Kind = "cache"
	ServiceWorker  Kind = "serviceWorker"
	Host           Kind = "host" // of a request, script, iframe, image or WebSocket
)

// CookieSeen is a cookie as the browser holds it; never its value.
type CookieSeen struct {
	Name     string  `json:"name"`
	Domain   string  `json:"domain"`
	Path     string  `json:"path"`
	Expires  float64 `json:"expires"` // Unix seconds; -1 for a session cookie
	Secure   bool    `json:"secure"`
	HTTPOnly bool    `json:"httpOnly"`
	SameSite string  `json:"sameSite,omitempty"`
}

// Page is what one page held and contacted once it had settled.
type Page struct {
	URL            string       `json:"url"`
	Time           float64      `json:"time"` // Unix seconds when it was recorded
	Cookies        []CookieSeen `json:"cookies"`
	LocalStorage   []string     `json:"localStorage"`
	SessionStorage []string     `json:"sessionStorage"`
	IndexedDB      []string     `json:"indexedDB"`
	Caches         []string     `json:"caches"`
	ServiceWorkers []string     `json:"serviceWorkers"` // script URLs
	Hosts          []string     `json:"hosts"`          // every request's host, this page's own included
}

// Visit is one phase's pages, in the order visited.
type Visit struct {
	Phase Phase  `json:"phase"`
	Pages []Page `json:"pages"`
	// Problem says why the phase could not be completed (a missing
	// control, a page that would not load); empty when it was.
	Problem string `json:"problem,omitempty"`
}

// Site is the observations of one scanned URL.
type Site struct {
	URL    string  `json:"url"`
	Visits []Visit `json:"visits"`
}

// firstParty reports whether host belongs to the scanned site: the start
// URL's host, or cookieDomain (site.json's cookie.domain, shared by the
// site's subdomains) and its subdomains.
func firstParty(host, startHost, cookieDomain string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if host == strings.ToLower(startHost) {
		return true
	}
	return cookieDomain != "" && (host == cookieDomain || strings.HasSuffix(host, "."+cookieDomain))
}
