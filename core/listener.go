package core

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"workly.ai/consent"
)

// The listener and the network blocker.
//
// The listener (site.json "discovery": true): the core gathers the names of
// what the page stores that no category declares (cookies, localStorage and
// sessionStorage keys, IndexedDB databases, caches), the hosts of the
// scripts, iframes and requests the page made that no category declares,
// and the hosts the blocker stopped; once a day per browser (the UTC day in
// localStorage consent.discovered), discoverAfter after the page started,
// it hands them to the host as one POST /v1/discovered body (Discover).
// Only names: never a value, the consent id or an address.
//
// The blocker: while a category is refused (not released), requests from
// the page to the hosts it declares fail (Block); the executor wraps the
// APIs and tells the core of each host it stopped (blocked event).

// discoveredKey is the localStorage key of the UTC day (2006-01-02) this
// browser last reported what it found.
const discoveredKey = "consent.discovered"

// discoverAfter is how long after the page started the listener reports:
// by then the page's scripts have run.
const discoverAfter = 5 * time.Second

// The listener's kinds, as POST /v1/discovered names them
// (server/discovery.Kinds).
const (
	foundCookie    = "cookie"
	foundLocal     = "localStorage"
	foundSession   = "sessionStorage"
	foundDatabase  = "indexedDB"
	foundCache     = "cache"
	foundScript    = "script-host"
	foundIframe    = "iframe-host"
	foundRequest   = "request-host"
	foundBlocked   = "blocked-host"
	foundRefused   = "refused-host"
	maxFoundBody   = 8000 // bytes of a report: the server takes 8 KiB
	maxFoundNames  = 100  // names in a report
	maxFoundLength = 128  // bytes of a name (a host: 253)
)

type found struct{ kind, name string }

// listener is the listener's and the blocker's state on this page.
type listener struct {
	on    bool // gathering: discovery is on and this browser has not reported today
	since time.Time
	// body is the report so far, `{"names":[{"kind":…,"name":…},…`: n
	// names, each "kind name" in had.
	body []byte
	n    int
	had  map[string]bool
	told map[string]bool // hosts the blocker stopped, warned about
}

// startListener decides at start whether this page gathers (discovery on,
// and no report from this browser today), and gathers the page's jar.
func (c *Core) startListener() {
	if !c.cfg.Site.Discovery || c.page.Discovered == c.today() {
		return
	}
	c.lis.on, c.lis.since = true, c.now()
	c.gather(&c.jar)
	c.do(Observe{After: int(discoverAfter / time.Millisecond)})
}

func (c *Core) today() string {
	y, m, d := consent.CivilDate(c.now().Unix())
	return consent.ISODate(y, m, d)
}

// gather adds what the page stores now that no category declares, but
// for the module's own (consent.*: its outbox's keys carry receipt ids).
func (c *Core) gather(j *Jar) {
	if !c.lis.on {
		return
	}
	for _, part := range splitJar(j.Cookie) {
		if name, _, _ := cut(part); name != c.cfg.Site.CookieName() {
			c.note(foundCookie, consent.KindCookie, name)
		}
	}
	kinds := [...]string{foundLocal, foundSession, foundDatabase, foundCache}
	items := [...]consent.ItemKind{consent.KindStorage, consent.KindStorage, consent.KindIndexedDB, consent.KindCache}
	for i, names := range [...][]string{j.Local, j.Session, j.Databases, j.Caches} {
		for _, name := range names {
			if !strings.HasPrefix(name, "consent.") {
				c.note(kinds[i], items[i], name)
			}
		}
	}
}

// note adds name of kind unless a category declares it (as item, if not
// "") or it is not a name to report; at most maxFoundNames, in
// maxFoundBody bytes.
func (c *Core) note(kind string, item consent.ItemKind, name string) {
	key := kind + " " + name
	if c.lis.had[key] || item != "" && c.declares(item, name) != nil || !c.reportable(kind, name) ||
		c.lis.n == maxFoundNames || len(c.lis.body)+len(key)+6*len(name)+24 > maxFoundBody {
		return
	}
	if c.lis.had == nil {
		c.lis.had, c.lis.body = map[string]bool{}, []byte(`{"names":[`)
	}
	if c.lis.n > 0 {
		c.lis.body = append(c.lis.body, ',')
	}
	c.lis.had[key] = true
	c.lis.n++
	b := consent.AppendJSONString(append(c.lis.body, `{"kind":`...), kind)
	c.lis.body = append(consent.AppendJSONString(append(b, `,"name":`...), name), '}')
}

// seen adds the hosts the page contacted (resource timing: initiator type
// and host) that no category declares, other than the page's own site.
func (c *Core) seen(rs []Resource) {
	if !c.lis.on {
		return
	}
	for _, r := range rs {
		if h := r.Host; h != c.page.Host && !under(h, c.cfg.Site.Cookie.Domain) { // URL.hostname: lowercase
			kind := foundRequest
			if r.Initiator == "script" {
				kind = foundScript
			} else if r.Initiator == "iframe" || r.Initiator == "frame" {
				kind = foundIframe
			}
			c.note(kind, consent.KindHost, h)
		}
	}
}

// blocked is the executor having stopped a request to host: said once per
// page, and counted for the listener.
func (c *Core) blocked(host string) {
	if c.lis.told == nil {
		c.lis.told = map[string]bool{}
	}
	if c.lis.told[host] {
		return
	}
	c.lis.told[host] = true
	why := "a refused category"
	if cat := c.declares(consent.KindHost, host); cat != nil {
		why = "category " + strconv.Quote(cat.ID) + ", which is refused"
	}
	c.warn("blocked requests to " + host + ": its host is declared by " + why)
	c.note(foundBlocked, "", host)
}

// refusedContent is the loader having refused gated content (why, in
// words; host: an origin its category does not declare as a source, if
// that was why): counted in the state, and the host reported by the
// listener.
func (c *Core) refusedContent(why, host string) {
	if c.refusals == nil {
		c.refusals = map[string]int{}
	}
	c.refusals[why]++
	if host != "" {
		c.note(foundRefused, "", host)
	}
}

// Refusals counts the gated content refused on this page, by why.
func (c *Core) Refusals() map[string]int { return c.refusals }

// report hands the host the report once it is due, and remembers the day.
func (c *Core) report() {
	if !c.lis.on || c.now().Sub(c.lis.since) < discoverAfter {
		return
	}
	c.lis.on = false
	if c.lis.n > 0 {
		c.do(Discover{Body: string(append(c.lis.body, "]}"...))})
	}
	c.lis.body, c.lis.had = nil, nil
	c.do(Storage{Area: "local", Key: discoveredKey, Value: c.today()})
}

// declares returns the category that declares name as kind, nil for none:
// for a host, the one with the longest declared host it is or falls under;
// else the first. (Not Site.Declaring, which would link strings.ToLower's
// tables into the module.)
func (c *Core) declares(kind consent.ItemKind, name string) *consent.Category {
	var best *consent.Category
	n := 0
	for i := range c.cfg.Site.Categories {
		cat := &c.cfg.Site.Categories[i]
		if kind == consent.KindHost {
			for _, h := range cat.Hosts {
				if len(h) > n && under(name, h) {
					best, n = cat, len(h)
				}
			}
			continue
		}
		if declared([]consent.Category{*cat}, name, func(k consent.Category) []consent.Item { return k.Items(kind) }) {
			return cat
		}
	}
	return best
}

// under reports whether host is d or a subdomain of d ("" is nothing's).
func under(host, d string) bool {
	return d != "" && (host == d || strings.HasSuffix(host, "."+d))
}

// reportable reports whether name is one the server takes as kind
// (server/discovery's Name.Validate) and names nothing of the person: not
// the consent id, not an address.
func (c *Core) reportable(kind, name string) bool {
	for _, id := range [...]string{c.state.ID, c.subject, c.page.Subject} {
		if id != "" && strings.Contains(name, id) {
			return false
		}
	}
	if strings.HasSuffix(kind, "-host") {
		return validHost(name)
	}
	if name == "" || len(name) > maxFoundLength || !utf8.ValidString(name) {
		return false
	}
	for _, r := range name {
		if r < 0x20 || r >= 0x7f && r < 0xa0 || r == '@' || kind == foundCookie && (r == '=' || r == ';' || r == ',' || space(r)) {
			return false
		}
	}
	return true
}

// space is unicode.IsSpace, without linking the unicode tables.
func space(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0x85, 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000:
		return true
	}
	return r >= 0x2000 && r <= 0x200a
}

// validHost: a lowercase host name, never an IP address (a numeric last
// label, or an IPv6 address's colons).
func validHost(h string) bool {
	if len(h) > 253 || !strings.Contains(h, ".") {
		return false
	}
	label, digits := 0, true // the label so far: its length, all digits
	for i := 0; i <= len(h); i++ {
		if i < len(h) && h[i] != '.' {
			ch := h[i]
			if !(ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '-') {
				return false
			}
			label++
			digits = digits && ch <= '9'
			continue
		}
		if label == 0 || label > 63 || h[i-1] == '-' || h[i-label] == '-' || i == len(h) && digits {
			return false
		}
		label, digits = 0, true
	}
	return true
}

// blockHosts tells the executor, when the site declares hosts, those of
// every optional category not released (Hosts) and of the others (Allow):
// a request is blocked when the longest declared host it falls under is
// among Hosts only. It comes before the release, so that no gated script
// runs before its refused neighbours are blocked.
func (c *Core) blockHosts() {
	b, some := Block{Hosts: []string{}, Allow: []string{}}, false
	for _, cat := range c.cfg.Site.Categories {
		some = some || len(cat.Hosts) > 0
		if !cat.Required && !c.cfg.Site.Releases(&c.cfg.Policies, c.state, cat.ID) {
			b.Hosts = append(b.Hosts, cat.Hosts...)
		} else {
			b.Allow = append(b.Allow, cat.Hosts...)
		}
	}
	if some {
		c.do(b)
	}
}
