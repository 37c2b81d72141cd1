package core

import (
	"slices"
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
	maxFoundBody   = 8000 // bytes of a report: the server takes 8 KiB
	maxFoundNames  = 100  // names in a report
	maxFoundLength = 128  // bytes of a name (a host: 253)
)

type found struct{ kind, name string }

// listener is the listener's and the blocker's state on this page.
type listener struct {
	on     bool // gathering: discovery is on and this browser has not reported today
	since  time.Time
	found  []found         // in the order found, without duplicates
	told   map[string]bool // hosts the blocker stopped, warned about
	block  []string        // the last Block's hosts, allow its exceptions
	allow  []string
	listed bool // a Block was sent
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

// gather adds what the page stores now that no category declares.
func (c *Core) gather(j *Jar) {
	if !c.lis.on {
		return
	}
	site := &c.cfg.Site
	for _, part := range splitJar(j.Cookie) {
		if name, _, _ := cut(part); name != site.CookieName() {
			c.note(foundCookie, consent.KindCookie, name)
		}
	}
	for _, k := range []struct {
		kind  string
		item  consent.ItemKind
		names []string
	}{{foundLocal, consent.KindStorage, j.Local}, {foundSession, consent.KindStorage, j.Session},
		{foundDatabase, consent.KindIndexedDB, j.Databases}, {foundCache, consent.KindCache, j.Caches}} {
		for _, name := range k.names {
			// The module's own (its outbox's keys carry receipt ids).
			if !strings.HasPrefix(name, "consent.") {
				c.note(k.kind, k.item, name)
			}
		}
	}
}

// note adds name of kind unless a category declares it (as item) or it is
// not a name to report.
func (c *Core) note(kind string, item consent.ItemKind, name string) {
	if _, _, ok := c.cfg.Site.Declaring(item, name); ok || !c.reportable(kind, name) {
		return
	}
	if f := (found{kind, name}); !slices.Contains(c.lis.found, f) {
		c.lis.found = append(c.lis.found, f)
	}
}

// seen adds the hosts the page contacted (resource timing: initiator type
// and host) that no category declares, other than the page's own site.
func (c *Core) seen(rs []Resource) {
	if !c.lis.on {
		return
	}
	for _, r := range rs {
		h := strings.ToLower(r.Host)
		if h == c.page.Host || c.cfg.Site.Cookie.Domain != "" && consent.MatchesHost(c.cfg.Site.Cookie.Domain, h) {
			continue
		}
		kind := foundRequest
		switch r.Initiator {
		case "script":
			kind = foundScript
		case "iframe", "frame":
			kind = foundIframe
		}
		c.note(kind, consent.KindHost, h)
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
	cat, _, _ := c.cfg.Site.Declaring(consent.KindHost, host)
	why := "a refused category"
	if cat != nil {
		why = "category " + strconv.Quote(cat.ID) + ", which is refused"
	}
	c.warn("blocked requests to " + host + ": its host is declared by " + why)
	if c.lis.on && c.reportable(foundBlocked, host) {
		if f := (found{foundBlocked, host}); !slices.Contains(c.lis.found, f) {
			c.lis.found = append(c.lis.found, f)
		}
	}
}

// report hands the host the report once it is due, and remembers the day.
func (c *Core) report() {
	if !c.lis.on || c.now().Sub(c.lis.since) < discoverAfter {
		return
	}
	c.lis.on = false
	if len(c.lis.found) > 0 {
		b := []byte(`{"names":[`)
		n := 0
		for _, f := range c.lis.found {
			if !c.reportable(f.kind, f.name) {
				continue // the consent id, known since
			}
			if n == maxFoundNames || len(b)+len(f.kind)+6*len(f.name)+24 > maxFoundBody {
				break
			}
			if n > 0 {
				b = append(b, ',')
			}
			n++
			b = consent.AppendJSONString(append(b, `{"kind":`...), f.kind)
			b = append(consent.AppendJSONString(append(b, `,"name":`...), f.name), '}')
		}
		if n > 0 {
			c.do(Discover{Body: string(append(b, "]}"...))})
		}
	}
	c.lis.found = nil
	c.do(Storage{Area: "local", Key: discoveredKey, Value: c.today()})
}

// reportable reports whether name is one the server takes as kind
// (server/discovery's Name.Validate) and names nothing of the person: not
// the consent id, not an address.
func (c *Core) reportable(kind, name string) bool {
	for _, id := range []string{c.state.ID, c.subject, c.page.Subject} {
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
		if control(r) || r == '@' || kind == foundCookie && (r == '=' || r == ';' || r == ',' || space(r)) {
			return false
		}
	}
	return true
}

// validHost: a lowercase host name, never an IP address (a numeric last
// label, or an IPv6 address's colons).
func validHost(h string) bool {
	if len(h) == 0 || len(h) > 253 || !strings.Contains(h, ".") {
		return false
	}
	labels := strings.Split(h, ".")
	if last := labels[len(labels)-1]; strings.Trim(last, "0123456789") == "" {
		return false
	}
	for _, l := range labels {
		if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			if ch := l[i]; !(ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '-') {
				return false
			}
		}
	}
	return true
}

// blockHosts tells the executor which hosts to block now, when that
// changed: the hosts of every optional category not released, but for a
// host a released or required category declares too; Allow lists the
// hosts of those categories under a blocked one (a blocked baidu.com, an
// allowed map.baidu.com). It comes before the release, so that no gated
// script runs before its refused neighbours are blocked.
func (c *Core) blockHosts() {
	var refused, open []string
	for _, cat := range c.cfg.Site.Categories {
		if !cat.Required && !c.cfg.Site.Releases(&c.cfg.Policies, c.state, cat.ID) {
			refused = append(refused, cat.Hosts...)
		} else {
			open = append(open, cat.Hosts...)
		}
	}
	block, allow := []string{}, []string{}
	for _, h := range refused {
		if !slices.Contains(open, h) && !slices.Contains(block, h) {
			block = append(block, h)
		}
	}
	for _, h := range open {
		for _, b := range block {
			if consent.MatchesHost(b, h) && !slices.Contains(allow, h) {
				allow = append(allow, h)
			}
		}
	}
	if slices.Equal(block, c.lis.block) && slices.Equal(allow, c.lis.allow) && (c.lis.listed || len(block) == 0) {
		return
	}
	c.lis.block, c.lis.allow, c.lis.listed = block, allow, true
	c.do(Block{Hosts: block, Allow: allow})
}

// control and space are unicode.IsControl and unicode.IsSpace, without
// linking the unicode tables into the module.
func control(r rune) bool { return r < 0x20 || r >= 0x7f && r < 0xa0 }

func space(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0x85, 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000:
		return true
	}
	return r >= 0x2000 && r <= 0x200a
}
