package consent

// ItemKind is a kind of thing a category declares: what a page stores, or
// the hosts it contacts.
type ItemKind string

// The kinds of declared items, named as site.json's fields are.
const (
	KindCookie    ItemKind = "cookies"
	KindStorage   ItemKind = "storage" // localStorage and sessionStorage keys
	KindIndexedDB ItemKind = "indexedDB"
	KindCache     ItemKind = "caches"
	KindHost      ItemKind = "hosts"
)

// Items returns what c declares of kind; for KindHost, an item per host
// with only its Name.
func (c *Category) Items(kind ItemKind) []Item {
	switch kind {
	case KindCookie:
		return c.Cookies
	case KindStorage:
		return c.Storage
	case KindIndexedDB:
		return c.IndexedDB
	case KindCache:
		return c.Caches
	case KindHost:
		items := make([]Item, len(c.Hosts))
		for i, h := range c.Hosts {
			items[i] = Item{Name: h}
		}
		return items
	}
	return nil
}

// Declaring returns the category that declares name (a cookie or storage
// name, or a host for KindHost) and the item that matches it. An exact
// name wins over a "prefix*" pattern wherever each is declared; among
// equals, the first category in display order wins. Hosts match with
// MatchesHost, the longest declared host first.
func (s *Site) Declaring(kind ItemKind, name string) (*Category, Item, bool) {
	var best *Category
	var bestItem Item
	rank := 0 // 0: none; for names 1 prefix, 2 exact; for hosts the declared host's length
	for i := range s.Categories {
		c := &s.Categories[i]
		for _, it := range c.Items(kind) {
			r := 0
			switch {
			case kind == KindHost:
				if MatchesHost(it.Name, name) {
					r = len(it.Name)
				}
			case it.Name == name:
				r = 2
			case it.Matches(name):
				r = 1
			}
			if r > rank {
				best, bestItem, rank = c, it, r
			}
		}
	}
	return best, bestItem, best != nil
}
