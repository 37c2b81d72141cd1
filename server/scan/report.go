package scan

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"workly.ai/consent"
	"workly.ai/consent/catalog"
)

// Report is what one scanned URL stores and contacts, against what its site
// declares.
type Report struct {
	URL   string   `json:"url"`
	Pages []string `json:"pages"`
	// Seen is everything seen in any phase, declared or not, by kind and
	// name. Hosts of the site itself (the start URL's host, and
	// cookie.domain with its subdomains) are left out unless a category
	// declares them.
	Seen []Seen `json:"seen"`
	// Undeclared is what no category declares.
	Undeclared []Seen `json:"undeclared"`
	// WithoutConsent is what an optional category declares, present before
	// any choice or after "reject all" (Phases says when).
	WithoutConsent []Seen `json:"withoutConsent"`
	// RefusedHosts are requests to the hosts of an optional category
	// before any choice or after "reject all".
	RefusedHosts []Seen `json:"refusedHosts"`
	// NeverSeen is what the site declares that no phase showed.
	NeverSeen []Declared `json:"neverSeen"`
	// Problems are phases that could not be completed.
	Problems []string `json:"problems"`
}

// OK reports whether nothing is wrong: nothing undeclared, nothing
// optional without consent, no request to a refused category's host, every
// phase completed. Declared items never seen are not wrong.
func (r *Report) OK() bool {
	return len(r.Undeclared) == 0 && len(r.WithoutConsent) == 0 && len(r.RefusedHosts) == 0 && len(r.Problems) == 0
}

// Seen is one thing seen: a cookie, storage key, database, cache, service
// worker or third-party host.
type Seen struct {
	Kind Kind   `json:"kind"`
	Name string `json:"name"`
	// Category declares it, with the declared name or pattern that matched;
	// empty when undeclared.
	Category string `json:"category,omitempty"`
	Declared string `json:"declared,omitempty"`
	// Phases it was seen in, in order, and the first page where it was.
	Phases []Phase `json:"phases"`
	Page   string  `json:"page"`
	// Cookie holds the cookie's attributes when first seen.
	Cookie *CookieSeen `json:"cookie,omitempty"`
	// Lifetime of a cookie as set ("session", "365 days").
	Lifetime string `json:"lifetime,omitempty"`
	// Service is the catalogue's entry for it, when recognised.
	Service *Suggestion `json:"service,omitempty"`
}

// Suggestion is the catalogue's entry for something seen.
type Suggestion struct {
	ID       string       `json:"id"` // the service, for "services": [...] in site.json
	Name     consent.Text `json:"name"`
	Category string       `json:"category"` // the catalogue's suggested category
	Item     consent.Item `json:"item"`     // the item to declare (for a host, only its name)
	Unsure   bool         `json:"unsure,omitempty"`
}

// Declared is one item a category declares.
type Declared struct {
	Category string `json:"category"`
	Kind     Kind   `json:"kind"` // LocalStorage stands for both storages
	Name     string `json:"name"`
}

func (k Kind) declared() consent.ItemKind {
	switch k {
	case Cookie:
		return consent.KindCookie
	case LocalStorage, SessionStorage:
		return consent.KindStorage
	case IndexedDB:
		return consent.KindIndexedDB
	case Cache:
		return consent.KindCache
	case Host:
		return consent.KindHost
	}
	return "" // service workers: site.json has no field for them
}

// Analyze matches the observations of one URL against site (expanded: see
// catalog.Expand) and the catalogue.
func Analyze(site *consent.Site, cat *catalog.Catalog, obs Site) Report {
	r := Report{URL: obs.URL, Pages: []string{}, Seen: []Seen{}, Undeclared: []Seen{}, WithoutConsent: []Seen{},
		RefusedHosts: []Seen{}, NeverSeen: []Declared{}, Problems: []string{}}
	start, _ := url.Parse(obs.URL)
	startHost := ""
	if start != nil {
		startHost = start.Hostname()
	}
	index := map[[2]string]int{}
	add := func(s Seen, ph Phase, page string) {
		k := [2]string{string(s.Kind), s.Name}
		i, ok := index[k]
		if !ok {
			s.Page = page
			r.Seen = append(r.Seen, s)
			i = len(r.Seen) - 1
			index[k] = i
		}
		if !slices.Contains(r.Seen[i].Phases, ph) {
			r.Seen[i].Phases = append(r.Seen[i].Phases, ph)
		}
	}
	for _, v := range obs.Visits {
		if v.Problem != "" {
			r.Problems = append(r.Problems, string(v.Phase)+": "+v.Problem)
		}
		for _, p := range v.Pages {
			if !slices.Contains(r.Pages, p.URL) {
				r.Pages = append(r.Pages, p.URL)
			}
			for _, c := range p.Cookies {
				c := c
				add(Seen{Kind: Cookie, Name: c.Name, Cookie: &c, Lifetime: lifetime(c.Expires, p.Time)}, v.Phase, p.URL)
			}
			for kind, names := range map[Kind][]string{LocalStorage: p.LocalStorage, SessionStorage: p.SessionStorage,
				IndexedDB: p.IndexedDB, Cache: p.Caches, ServiceWorker: p.ServiceWorkers} {
				for _, n := range names {
					add(Seen{Kind: kind, Name: n}, v.Phase, p.URL)
				}
			}
			for _, h := range p.Hosts {
				// The site's own hosts count only where a category
				// declares them (self-hosted analytics, say).
				if _, _, declared := site.Declaring(consent.KindHost, h); declared || !firstParty(h, startHost, site.Cookie.Domain) {
					add(Seen{Kind: Host, Name: strings.ToLower(h)}, v.Phase, p.URL)
				}
			}
		}
	}
	slices.SortStableFunc(r.Seen, func(a, b Seen) int {
		return strings.Compare(string(a.Kind)+"\x00"+a.Name, string(b.Kind)+"\x00"+b.Name)
	})
	for i := range r.Seen {
		s := &r.Seen[i]
		dk := s.Kind.declared()
		if dk == "" {
			continue
		}
		c, item, ok := site.Declaring(dk, s.Name)
		if !ok {
			if svc, e, ok := cat.Recognise(dk, s.Name); ok {
				it := svc.Item(e)
				if dk == consent.KindHost {
					it = consent.Item{Name: e.Name}
				}
				s.Service = &Suggestion{ID: svc.ID, Name: svc.Name, Category: svc.Category, Item: it, Unsure: e.Unsure}
			}
			r.Undeclared = append(r.Undeclared, *s)
			continue
		}
		s.Category, s.Declared = c.ID, item.Name
		if c.Required {
			continue
		}
		var without []Phase
		for _, ph := range s.Phases {
			if ph != Accepted {
				without = append(without, ph)
			}
		}
		if len(without) > 0 {
			w := *s
			w.Phases = without
			if s.Kind == Host {
				r.RefusedHosts = append(r.RefusedHosts, w)
			} else {
				r.WithoutConsent = append(r.WithoutConsent, w)
			}
		}
	}
	for _, c := range site.Categories {
		for _, kind := range []Kind{Cookie, LocalStorage, IndexedDB, Cache, Host} {
			for _, it := range c.Items(kind.declared()) {
				if !r.sawDeclared(kind, it) {
					r.NeverSeen = append(r.NeverSeen, Declared{Category: c.ID, Kind: kind, Name: it.Name})
				}
			}
		}
	}
	return r
}

// sawDeclared reports whether anything seen matches the declared item (a
// storage item: in either storage).
func (r *Report) sawDeclared(kind Kind, it consent.Item) bool {
	for _, s := range r.Seen {
		if s.Kind.declared() != kind.declared() {
			continue
		}
		if kind == Host && consent.MatchesHost(it.Name, s.Name) || kind != Host && it.Matches(s.Name) {
			return true
		}
	}
	return false
}

// lifetime describes a cookie's lifetime as set, seen at now.
func lifetime(expires, now float64) string {
	if expires <= 0 {
		return "session"
	}
	d := time.Duration((expires - now) * float64(time.Second))
	switch {
	case d >= 48*time.Hour:
		return strconv.Itoa(int((d+12*time.Hour)/(24*time.Hour))) + " days"
	case d >= 2*time.Hour:
		return strconv.Itoa(int((d+30*time.Minute)/time.Hour)) + " hours"
	case d > 0:
		return strconv.Itoa(int((d+30*time.Second)/time.Minute)) + " minutes"
	}
	return "expired"
}

// WriteJSON writes the reports as one indented JSON array.
func WriteJSON(w io.Writer, reports []Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(reports)
}

var phaseText = map[Phase]string{Before: "before any choice", Rejected: "after reject all", Accepted: "after accept all"}

func phases(ps []Phase) string {
	var out []string
	for _, p := range ps {
		out = append(out, phaseText[p])
	}
	return strings.Join(out, ", ")
}

// code writes s as a Markdown code span in a table cell.
func code(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	if strings.Contains(s, "`") {
		return "``" + s + "``"
	}
	return "`" + s + "`"
}

// WriteMarkdown writes the report as Markdown: the findings first, then
// what was declared and seen, then what was declared and never seen.
func (r *Report) WriteMarkdown(w io.Writer, site *consent.Site) {
	fmt.Fprintf(w, "# Scan of %s\n\n", r.URL)
	verdict := "**nothing wrong**"
	if n := len(r.Undeclared) + len(r.WithoutConsent) + len(r.RefusedHosts) + len(r.Problems); n > 0 {
		verdict = fmt.Sprintf("**%d problem(s)**", n)
	}
	fmt.Fprintf(w, "%d page(s), each visited before any choice, after \"reject all\" and after \"accept all\": %s.\n\n", len(r.Pages), verdict)
	for _, p := range r.Pages {
		fmt.Fprintf(w, "- %s\n", p)
	}
	if len(r.Problems) > 0 {
		fmt.Fprintf(w, "\n## Problems (%d)\n\n", len(r.Problems))
		for _, p := range r.Problems {
			fmt.Fprintf(w, "- %s\n", p)
		}
	}
	if len(r.Undeclared) > 0 {
		fmt.Fprintf(w, "\n## Seen but undeclared (%d)\n\n| kind | name | seen | first on | what to declare |\n|---|---|---|---|---|\n", len(r.Undeclared))
		for _, s := range r.Undeclared {
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", s.Kind, code(s.Name), phases(s.Phases)+attrs(s), s.Page, suggest(s, site))
		}
	}
	if len(r.WithoutConsent) > 0 {
		fmt.Fprintf(w, "\n## Optional, present without consent (%d)\n\n| kind | name | category | when | first on |\n|---|---|---|---|---|\n", len(r.WithoutConsent))
		for _, s := range r.WithoutConsent {
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", s.Kind, code(s.Name), s.Category, phases(s.Phases), s.Page)
		}
	}
	if len(r.RefusedHosts) > 0 {
		fmt.Fprintf(w, "\n## Requests to a refused category's hosts (%d)\n\n| host | category | when | first on |\n|---|---|---|---|\n", len(r.RefusedHosts))
		for _, s := range r.RefusedHosts {
			fmt.Fprintf(w, "| %s | %s | %s | %s |\n", code(s.Name), s.Category, phases(s.Phases), s.Page)
		}
	}
	var declared, workers []Seen
	for _, s := range r.Seen {
		switch {
		case s.Kind == ServiceWorker:
			workers = append(workers, s)
		case s.Category != "":
			declared = append(declared, s)
		}
	}
	fmt.Fprintf(w, "\n## Declared and seen (%d)\n\n", len(declared))
	if len(declared) > 0 {
		fmt.Fprintf(w, "| kind | name | category (as declared) | seen |\n|---|---|---|---|\n")
		for _, s := range declared {
			fmt.Fprintf(w, "| %s | %s | %s (%s) | %s |\n", s.Kind, code(s.Name), s.Category, code(s.Declared), phases(s.Phases)+attrs(s))
		}
	}
	if len(workers) > 0 {
		fmt.Fprintf(w, "\n## Service workers (%d)\n\nsite.json has no field for them; their caches are declared under `caches`.\n\n", len(workers))
		for _, s := range workers {
			fmt.Fprintf(w, "- %s (%s)\n", s.Name, phases(s.Phases))
		}
	}
	fmt.Fprintf(w, "\n## Declared but never seen (%d)\n\n", len(r.NeverSeen))
	if len(r.NeverSeen) > 0 {
		fmt.Fprintf(w, "Not wrong in itself: the pages visited may not use them, or a declaration may be stale.\n\n| category | kind | name |\n|---|---|---|\n")
		for _, d := range r.NeverSeen {
			kind := string(d.Kind)
			if d.Kind == LocalStorage {
				kind = "storage"
			}
			fmt.Fprintf(w, "| %s | %s | %s |\n", d.Category, kind, code(d.Name))
		}
	}
	fmt.Fprintln(w)
}

// attrs describes a cookie's attributes.
func attrs(s Seen) string {
	if s.Cookie == nil {
		return ""
	}
	c := s.Cookie
	out := "; " + c.Domain + c.Path + ", " + s.Lifetime
	if c.Secure {
		out += ", Secure"
	}
	if c.HTTPOnly {
		out += ", HttpOnly"
	}
	if c.SameSite != "" {
		out += ", SameSite=" + c.SameSite
	}
	return out
}

// suggest says what to declare for an undeclared thing: the catalogue's
// service when it is recognised, else a category's item.
func suggest(s Seen, site *consent.Site) string {
	field := map[Kind]string{Cookie: "cookies", LocalStorage: "storage", SessionStorage: "storage", IndexedDB: "indexedDB", Cache: "caches", Host: "hosts"}[s.Kind]
	if s.Service == nil {
		return "an item under `" + field + "` of its category"
	}
	where := "a category for " + s.Service.Category
	if _, ok := site.Category(s.Service.Category); ok {
		where = "category `" + s.Service.Category + "`"
	}
	unsure := ""
	if s.Service.Unsure {
		unsure = " (the catalogue is unsure of this name: check it)"
	}
	return fmt.Sprintf("%s (%s): `\"services\": [\"%s\"]` in %s%s", s.Service.ID, s.Service.Name.En, s.Service.ID, where, unsure)
}
