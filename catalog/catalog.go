// Package catalog is the catalogue of third-party services a site may use
// (analytics, ads, captchas, SDKs): what each stores and which hosts it
// contacts. It is shipped as services.json, embedded here, so that the
// build can expand a category's "services" into items, and the scanner and
// the discovery report can recognise what they find and suggest the entry
// to declare.
//
// # Format of services.json
//
//	{"format": 1, "services": [{
//	  "id": "baidu-tongji",                          // a–z, 0–9, '-'; unique; append only
//	  "name": {"zh-CN": "百度统计", "en": "Baidu Tongji"},
//	  "provider": "百度统计",                         // shown as each item's provider
//	  "category": "analytics",                        // suggested: necessary, functional, analytics or marketing
//	  "purpose": {"zh-CN": "…", "en": "…"},
//	  "cookies":   [{"name": "Hm_lvt_*", "purpose": {…}, "lifetime": {…}, "unsure": false}],
//	  "storage":   [ … ],                             // localStorage and sessionStorage keys
//	  "indexedDB": [ … ], "caches": [ … ],
//	  "hosts": [{"host": "hm.baidu.com", "unsure": false}],  // the host and its subdomains
//	  "note": "…"                                      // optional, for whoever maintains the site
//	}]}
//
// Names are exact or a prefix ending in "*", as in site.json. "unsure"
// marks a fact taken from how the service is known to behave rather than
// checked against its documentation: check it with consentd scan before
// relying on it. A lifetime the catalogue does not know reads "As set by
// the provider" and is marked unsure.
package catalog

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"workly.ai/consent"
)

//go:embed services.json
var servicesJSON []byte

// Categories are the categories a service may suggest, named as the demo
// site names its own.
var Categories = []string{"necessary", "functional", "analytics", "marketing"}

// Catalog is the parsed catalogue.
type Catalog struct {
	Format   int       `json:"format"`
	Services []Service `json:"services"`
}

// Service is one third-party service.
type Service struct {
	ID        string       `json:"id"`
	Name      consent.Text `json:"name"`
	Provider  string       `json:"provider"`
	Category  string       `json:"category"`
	Purpose   consent.Text `json:"purpose"`
	Cookies   []Entry      `json:"cookies,omitempty"`
	Storage   []Entry      `json:"storage,omitempty"`
	IndexedDB []Entry      `json:"indexedDB,omitempty"`
	Caches    []Entry      `json:"caches,omitempty"`
	Hosts     []Host       `json:"hosts,omitempty"`
	Note      string       `json:"note,omitempty"`
}

// Entry is one cookie, storage key, database or cache of a service.
type Entry struct {
	Name     string       `json:"name"`
	Purpose  consent.Text `json:"purpose"`
	Lifetime consent.Text `json:"lifetime"`
	Unsure   bool         `json:"unsure,omitempty"`
}

// Host is a host a service contacts; it covers its subdomains too.
type Host struct {
	Host   string `json:"host"`
	Unsure bool   `json:"unsure,omitempty"`
}

// Entries returns what s declares of kind (consent.KindHost: one entry per
// host, with only its Name).
func (s *Service) Entries(kind consent.ItemKind) []Entry {
	switch kind {
	case consent.KindCookie:
		return s.Cookies
	case consent.KindStorage:
		return s.Storage
	case consent.KindIndexedDB:
		return s.IndexedDB
	case consent.KindCache:
		return s.Caches
	case consent.KindHost:
		out := make([]Entry, len(s.Hosts))
		for i, h := range s.Hosts {
			out[i] = Entry{Name: h.Host, Unsure: h.Unsure}
		}
		return out
	}
	return nil
}

// Item returns e as a category's item of s.
func (s *Service) Item(e Entry) consent.Item {
	return consent.Item{Name: e.Name, Provider: s.Provider, Purpose: e.Purpose, Lifetime: e.Lifetime}
}

// Default returns the catalogue shipped with the project. It is checked by
// the package's tests, so it cannot fail at run time.
func Default() *Catalog {
	c, err := Parse(servicesJSON)
	if err != nil {
		panic("catalog: services.json: " + err.Error()) // the tests parse it: cannot happen
	}
	return c
}

// Parse reads a catalogue in the format above, rejecting unknown fields,
// and validates it: every problem is returned, joined, each naming the
// service's index and id.
func Parse(data []byte) (*Catalog, error) {
	var c Catalog
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	if dec.More() {
		return nil, errors.New("parse: unexpected data after the catalogue")
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// Validate checks every entry: ids valid and unique, names and texts
// present, names exact or "prefix*", hosts valid, categories known.
func (c *Catalog) Validate() error {
	var errs []error
	if c.Format != 1 {
		errs = append(errs, fmt.Errorf("format %d: want 1", c.Format))
	}
	seen := map[string]bool{}
	for i, s := range c.Services {
		bad := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf("services[%d] %q: %s", i, s.ID, fmt.Sprintf(format, args...)))
		}
		switch {
		case !ValidID(s.ID):
			bad("id is not a service id (a–z, 0–9, '-'; at most 40)")
		case seen[s.ID]:
			bad("duplicate id")
		}
		seen[s.ID] = true
		if s.Name.ZhCN == "" || s.Name.En == "" {
			bad("name needs zh-CN and en")
		}
		if s.Purpose.ZhCN == "" || s.Purpose.En == "" {
			bad("purpose needs zh-CN and en")
		}
		if s.Provider == "" {
			bad("missing provider")
		}
		if !slices.Contains(Categories, s.Category) {
			bad("category %q is not one of %s", s.Category, strings.Join(Categories, ", "))
		}
		if len(s.Cookies)+len(s.Storage)+len(s.IndexedDB)+len(s.Caches)+len(s.Hosts) == 0 {
			bad("declares nothing: no cookie, storage, database, cache or host")
		}
		for _, kind := range []consent.ItemKind{consent.KindCookie, consent.KindStorage, consent.KindIndexedDB, consent.KindCache} {
			names := map[string]bool{}
			for j, e := range s.Entries(kind) {
				if !ValidPattern(e.Name) {
					bad("%s[%d]: %q is not a name or a prefix ending in '*'", kind, j, e.Name)
				}
				if names[e.Name] {
					bad("%s[%d]: %q listed twice", kind, j, e.Name)
				}
				names[e.Name] = true
				if e.Purpose.ZhCN == "" || e.Purpose.En == "" {
					bad("%s[%d] %q: purpose needs zh-CN and en", kind, j, e.Name)
				}
				if e.Lifetime.ZhCN == "" || e.Lifetime.En == "" {
					bad("%s[%d] %q: lifetime needs zh-CN and en", kind, j, e.Name)
				}
			}
		}
		for j, h := range s.Hosts {
			if !consent.ValidHost(h.Host) {
				bad("hosts[%d]: %q is not a host name such as hm.baidu.com", j, h.Host)
			}
		}
	}
	return errors.Join(errs...)
}

// ValidID reports whether id is a service id: a lowercase letter, then
// lowercase letters, digits and '-', at most 40 characters.
func ValidID(id string) bool {
	if id == "" || len(id) > 40 || id[0] < 'a' || id[0] > 'z' {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// ValidPattern reports whether p is a name or a prefix ending in "*", as
// site.json accepts them: not empty, not "*" alone, no '*' elsewhere, no
// space, ';', ',' or '='.
func ValidPattern(p string) bool {
	return p != "" && p != "*" && !strings.ContainsAny(p, " ;,=") && !strings.Contains(strings.TrimSuffix(p, "*"), "*")
}

// Service returns the service with id.
func (c *Catalog) Service(id string) (*Service, bool) {
	for i := range c.Services {
		if c.Services[i].ID == id {
			return &c.Services[i], true
		}
	}
	return nil, false
}

// Recognise returns the service that name (of kind) belongs to and its
// entry: an exact name wins over a prefix, a longer prefix over a shorter
// one; for hosts the longest matching host wins (consent.MatchesHost).
func (c *Catalog) Recognise(kind consent.ItemKind, name string) (*Service, Entry, bool) {
	var best *Service
	var bestEntry Entry
	rank := 0
	for i := range c.Services {
		s := &c.Services[i]
		for _, e := range s.Entries(kind) {
			r := 0
			switch {
			case kind == consent.KindHost:
				if consent.MatchesHost(e.Name, name) {
					r = len(e.Name)
				}
			case e.Name == name:
				r = 1 << 20
			case (consent.Item{Name: e.Name}).Matches(name):
				r = len(e.Name)
			}
			if r > rank {
				best, bestEntry, rank = s, e, r
			}
		}
	}
	return best, bestEntry, best != nil
}

// Expand replaces each category's Services with the catalogue's items:
// cookies, storage, databases, caches and hosts, after the category's own,
// skipping any name the category already declares (its own item wins).
// It empties Services. An unknown or repeated id is a
// *consent.SiteFieldError naming "categories[i].services[j]".
func (c *Catalog) Expand(site *consent.Site) error {
	var errs []error
	for i := range site.Categories {
		cat := &site.Categories[i]
		used := map[string]bool{}
		for j, id := range cat.Services {
			field := "categories[" + strconv.Itoa(i) + "].services[" + strconv.Itoa(j) + "]"
			s, ok := c.Service(id)
			switch {
			case !ok:
				errs = append(errs, &consent.SiteFieldError{Field: field, Msg: "unknown service " + strconv.Quote(id) + " (the catalogue has " + strings.Join(c.ids(), ", ") + ")"})
				continue
			case used[id]:
				errs = append(errs, &consent.SiteFieldError{Field: field, Msg: "service " + strconv.Quote(id) + " included twice"})
				continue
			}
			used[id] = true
			for _, kind := range []consent.ItemKind{consent.KindCookie, consent.KindStorage, consent.KindIndexedDB, consent.KindCache} {
				dst := itemsOf(cat, kind)
				for _, e := range s.Entries(kind) {
					if !declares(*dst, e.Name) {
						*dst = append(*dst, s.Item(e))
					}
				}
			}
			for _, h := range s.Hosts {
				if !slices.Contains(cat.Hosts, h.Host) {
					cat.Hosts = append(cat.Hosts, h.Host)
				}
			}
		}
		cat.Services = nil
	}
	return errors.Join(errs...)
}

func (c *Catalog) ids() []string {
	ids := make([]string, len(c.Services))
	for i, s := range c.Services {
		ids[i] = s.ID
	}
	return ids
}

func itemsOf(c *consent.Category, kind consent.ItemKind) *[]consent.Item {
	switch kind {
	case consent.KindCookie:
		return &c.Cookies
	case consent.KindStorage:
		return &c.Storage
	case consent.KindIndexedDB:
		return &c.IndexedDB
	}
	return &c.Caches
}

func declares(items []consent.Item, name string) bool {
	for _, it := range items {
		if it.Name == name {
			return true
		}
	}
	return false
}
