package consent

import (
	"errors"
	"strconv"
	"strings"
)

// Site is one site's consent configuration: its name, where its policy lives,
// the consent cookie's attributes and its categories. The build reads it from
// web/site.json and validates it; the browser module and the server read the
// built copy.
type Site struct {
	Name Text `json:"name"`
	// Cookie sets the consent cookie's attributes.
	Cookie CookieConfig `json:"cookie"`
	// Categories lists the categories in display order. The first must be the
	// required ("strictly necessary") one.
	Categories []Category `json:"categories"`
	// HonorDNT treats Do Not Track like Global Privacy Control: the optional
	// categories are refused until the person chooses otherwise. GPC is always
	// honoured.
	HonorDNT bool `json:"honorDNT,omitempty"`
	// ConsentMode maps each Google Consent Mode v2 type (ConsentModeTypes) to
	// the category that grants it; a type mapped to a required category is
	// always granted. Empty: the module sends no consent-mode signals.
	ConsentMode map[string]string `json:"consentMode,omitempty"`
	// Identifiers are the anonymous identifiers (匿名标识符) the module manages.
	Identifiers []Identifier `json:"identifiers,omitempty"`
	// Permissions are the browser permissions the site asks for through the
	// module's pre-prompt, in display order.
	Permissions []Permission `json:"permissions,omitempty"`
	// PermissionBackoffDays is how long to wait before asking again after a
	// person declined a pre-prompt (see BackoffDays).
	PermissionBackoffDays int `json:"permissionBackoffDays,omitempty"`
	// SeparateBackoffDays is how long to wait before asking again after a
	// person refused a separate consent (see SeparateBackoff).
	SeparateBackoffDays int `json:"separateBackoffDays,omitempty"`
	// AdvanceNoticeDays is how many days before a version published ahead
	// of its effective date the people whose consent is current see the
	// advance note about it (0: from its publication; see Manifest.Announced).
	AdvanceNoticeDays int `json:"advanceNoticeDays,omitempty"`
	// Controller is who is responsible for the personal information, as the
	// policy's contact section names them; exports of receipts carry it.
	Controller Controller `json:"controller"`
	// Discovery switches on POST /v1/discovered: visitors' browsers report
	// the names (never values) of what they find undeclared, and the server
	// counts them per day. Off by default.
	Discovery bool `json:"discovery,omitempty"`
}

// Controller is the personal information controller.
type Controller struct {
	Name    string `json:"name"`
	Address string `json:"address"`
	Email   string `json:"email"`
	Phone   string `json:"phone"`
	URL     string `json:"url"`
}

// ConsentModeTypes are the seven consent types of Google Consent Mode v2.
var ConsentModeTypes = []string{"ad_storage", "ad_user_data", "ad_personalization", "analytics_storage",
	"functionality_storage", "personalization_storage", "security_storage"}

// Identifier is an anonymous identifier: a cookie holding 128 random bits,
// created only once its category is granted, replaced every RotateDays,
// resettable by the person, and deleted when the category is withdrawn.
type Identifier struct {
	// Name is the cookie's name; the category must declare it among its cookies.
	Name       string `json:"name"`
	Category   string `json:"category"`
	RotateDays int    `json:"rotateDays"`
}

// CookieConfig sets the consent cookie's attributes.
type CookieConfig struct {
	// Name defaults to CookieName.
	Name string `json:"name,omitempty"`
	// Domain, when set (e.g. "example.com"), shares one consent across the
	// site and its subdomains. Empty means a host-only cookie.
	Domain string `json:"domain,omitempty"`
	// MaxAgeDays is the cookie's lifetime; browsers cap it at 400 days.
	MaxAgeDays int `json:"maxAgeDays"`
	// PublicKey is the public half of consentd's cookie key (-cookie-key):
	// an ECDSA P-256 point, uncompressed, base64url (87 characters). The
	// loader and the module believe a cookie's grants only with its proof
	// (see CookieProofText). When site.json has none, the build uses (and
	// makes) the development key in .cache/consentd/cookie.key.
	PublicKey string `json:"publicKey,omitempty"`
}

// Category is a purpose people can grant or refuse, with what it stores.
type Category struct {
	// ID is written into cookies and receipts (see ValidCategoryID): append only.
	ID string `json:"id"`
	// Required categories are strictly necessary: always on, never refusable.
	Required bool   `json:"required,omitempty"`
	Title    Text   `json:"title"`
	Purpose  Text   `json:"purpose"`
	Cookies  []Item `json:"cookies,omitempty"`
	// Storage lists localStorage and sessionStorage keys the category uses.
	Storage []Item `json:"storage,omitempty"`
	// IndexedDB and Caches list the IndexedDB databases and Cache Storage
	// caches the category uses; they are deleted when it is refused.
	IndexedDB []Item `json:"indexedDB,omitempty"`
	Caches    []Item `json:"caches,omitempty"`
	// Hosts are the hosts the category's scripts, iframes, pixels and
	// requests go to. A host matches itself and its subdomains (MatchesHost):
	// "baidu.com" covers hm.baidu.com.
	Hosts []string `json:"hosts,omitempty"`
	// Sources are the origins (scheme, host and port, e.g.
	// "https://hm.baidu.com") the category's gated scripts and iframes may
	// be loaded from, besides the page's own origin, which is always
	// allowed. Content gated by the category from anywhere else is refused,
	// with a console warning.
	Sources []string `json:"sources,omitempty"`
	// Services names entries of the services catalogue (package catalog,
	// e.g. "baidu-tongji") instead of repeating them. The build expands each
	// into its cookies, storage, databases, caches and hosts (an item the
	// category declares itself wins) and leaves Services empty, so the
	// built configuration lists only items.
	Services []string `json:"services,omitempty"`
}

// Item is one cookie or storage key a category uses, as the preferences
// centre lists it.
type Item struct {
	// Name is the exact name, or a prefix ending in "*" (e.g. "_ga_*").
	Name string `json:"name"`
	// Path, for a cookie set on a path other than "/" (e.g. "/app"): a page
	// elsewhere cannot see it, but can delete it when it knows the path.
	Path     string `json:"path,omitempty"`
	Provider string `json:"provider"`
	Purpose  Text   `json:"purpose"`
	Lifetime Text   `json:"lifetime"`
	// Recipient, when the provider is a third party, is its id in the
	// registry's recipients.
	Recipient string `json:"recipient,omitempty"`
}

// Optional returns the ids of the categories people can grant or refuse.
func (s *Site) Optional() []string {
	var ids []string
	for _, c := range s.Categories {
		if !c.Required {
			ids = append(ids, c.ID)
		}
	}
	return ids
}

// Releases reports whether content gated by category runs for st: st is a
// choice under a version m publishes, and category is an optional category
// of the site that st grants. Content gated by an unknown or a required
// category never runs (it is a mistake in the page). The loader decides the
// same way; testdata/release-vectors.json pins both.
func (s *Site) Releases(m *Manifest, st State, category string) bool {
	if st.IsZero() || !st.Has(category) {
		return false
	}
	if _, err := m.Lookup(st.Policy); err != nil {
		return false
	}
	c, ok := s.Category(category)
	return ok && !c.Required
}

// SignalRefuses reports whether a browser's privacy signals refuse the
// optional categories by default (and the banner says so): Global Privacy
// Control always, Do Not Track (navigator.doNotTrack "1") where the site
// honours it. An explicit choice overrides either. The loader decides the
// same way; testdata/signal-vectors.json pins both.
func (s *Site) SignalRefuses(gpc bool, doNotTrack string) bool {
	return gpc || s.HonorDNT && doNotTrack == "1"
}

// Category returns the category with id and whether it exists.
func (s *Site) Category(id string) (Category, bool) {
	for _, c := range s.Categories {
		if c.ID == id {
			return c, true
		}
	}
	return Category{}, false
}

// CookieName returns the consent cookie's name.
func (s *Site) CookieName() string {
	if s.Cookie.Name != "" {
		return s.Cookie.Name
	}
	return CookieName
}

// SiteFieldError is a problem with one field of the site configuration. Field
// is a path such as "categories[2].title"; the build maps it to a line.
type SiteFieldError struct {
	Field string
	Msg   string
}

func (e *SiteFieldError) Error() string { return e.Field + ": " + e.Msg }

// Unwrap makes every SiteFieldError match ErrInvalid.
func (e *SiteFieldError) Unwrap() error { return ErrInvalid }

// Validate checks s and returns every problem found, joined; each is a
// *SiteFieldError.
func (s *Site) Validate() error {
	var errs []error
	bad := func(field, msg string) { errs = append(errs, &SiteFieldError{Field: field, Msg: msg}) }
	if l := s.Name.missing(); l != "" {
		bad("name", "missing "+string(l)+" name")
	}
	if c := s.Controller; c.Name == "" || c.Address == "" || c.Email == "" || c.Phone == "" || c.URL == "" {
		bad("controller", "name, address, email, phone and url of the controller are all required (the policy's contact section)")
	}
	if s.Cookie.Name != "" && !ValidCategoryID(s.Cookie.Name) {
		bad("cookie.name", strconv.Quote(s.Cookie.Name)+" is not a plain cookie name (a–z, 0–9, '_')")
	}
	if d := s.Cookie.Domain; d != "" && (strings.HasPrefix(d, ".") || strings.ContainsAny(d, " ;,/:") || !strings.Contains(d, ".")) {
		bad("cookie.domain", strconv.Quote(d)+" is not a registrable domain such as example.com")
	}
	if k := s.Cookie.PublicKey; k != "" && !validBase64URL(k, ReceiptKeyLen) {
		bad("cookie.publicKey", "not an ECDSA P-256 public key (65 bytes, base64url): use the line consentd keygen -cookie writes")
	}
	if s.Cookie.MaxAgeDays < 1 || s.Cookie.MaxAgeDays > 400 {
		bad("cookie.maxAgeDays", "want 1 to 400 (browsers cap cookies at 400 days)")
	}
	if len(s.Categories) == 0 || !s.Categories[0].Required {
		bad("categories", "the first category must be the required (strictly necessary) one")
	}
	seen := map[string]bool{}
	for i, c := range s.Categories {
		field := "categories[" + strconv.Itoa(i) + "]"
		switch {
		case !ValidCategoryID(c.ID):
			bad(field+".id", strconv.Quote(c.ID)+" is not a category id (a lowercase letter, then a–z, 0–9, '_'; at most 32)")
		case seen[c.ID]:
			bad(field+".id", "duplicate category "+strconv.Quote(c.ID))
		}
		seen[c.ID] = true
		if l := c.Title.missing(); l != "" {
			bad(field+".title", "missing "+string(l)+" title")
		}
		if l := c.Purpose.missing(); l != "" {
			bad(field+".purpose", "missing "+string(l)+" purpose")
		}
		for kind, items := range map[string][]Item{"cookies": c.Cookies, "storage": c.Storage, "indexedDB": c.IndexedDB, "caches": c.Caches} {
			for j, it := range items {
				f := field + "." + kind + "[" + strconv.Itoa(j) + "]"
				if it.Name == "" || it.Name == "*" || strings.ContainsAny(it.Name, " ;,=") || strings.Contains(strings.TrimSuffix(it.Name, "*"), "*") {
					bad(f+".name", strconv.Quote(it.Name)+" is not a name or a prefix ending in '*'")
				}
				if it.Path != "" && (kind != "cookies" || !strings.HasPrefix(it.Path, "/") || strings.ContainsAny(it.Path, " ;,")) {
					bad(f+".path", strconv.Quote(it.Path)+" is not a cookie path such as /app")
				}
				if it.Provider == "" {
					bad(f+".provider", "missing provider")
				}
				if l := it.Purpose.missing(); l != "" {
					bad(f+".purpose", "missing "+string(l)+" purpose")
				}
				if l := it.Lifetime.missing(); l != "" {
					bad(f+".lifetime", "missing "+string(l)+" lifetime")
				}
			}
		}
		for j, h := range c.Hosts {
			if !ValidHost(h) {
				bad(field+".hosts["+strconv.Itoa(j)+"]", strconv.Quote(h)+" is not a host name such as hm.baidu.com (no scheme, port or path)")
			}
		}
		for j, o := range c.Sources {
			if !ValidOrigin(o) {
				bad(field+".sources["+strconv.Itoa(j)+"]", strconv.Quote(o)+" is not an origin such as https://hm.baidu.com (http or https, a lowercase host, an optional port, no path)")
			}
		}
		for j, id := range c.Services {
			bad(field+".services["+strconv.Itoa(j)+"]", "service "+strconv.Quote(id)+" was not expanded: the build replaces services with the catalogue's items")
		}
	}
	for k, cat := range s.ConsentMode {
		if !containsString(ConsentModeTypes, k) {
			bad("consentMode."+k, strconv.Quote(k)+" is not a Consent Mode v2 type ("+strings.Join(ConsentModeTypes, ", ")+")")
		} else if _, ok := s.Category(cat); !ok {
			bad("consentMode."+k, "unknown category "+strconv.Quote(cat))
		}
	}
	if len(s.ConsentMode) > 0 {
		for _, k := range ConsentModeTypes {
			if _, ok := s.ConsentMode[k]; !ok {
				bad("consentMode", "missing "+k+": map all seven types")
			}
		}
	}
	for i, id := range s.Identifiers {
		f := "identifiers[" + strconv.Itoa(i) + "]"
		cat, ok := s.Category(id.Category)
		switch {
		case !ok || cat.Required:
			bad(f+".category", strconv.Quote(id.Category)+" is not an optional category")
		case !declaresCookie(cat, id.Name):
			bad(f+".name", "category "+strconv.Quote(id.Category)+" does not declare the cookie "+strconv.Quote(id.Name))
		}
		if id.RotateDays < 1 || id.RotateDays > 400 {
			bad(f+".rotateDays", "want 1 to 400")
		}
	}
	kinds := map[string]bool{}
	for i, p := range s.Permissions {
		f := "permissions[" + strconv.Itoa(i) + "]"
		switch {
		case !containsString(PermissionKinds, p.Kind):
			bad(f+".kind", strconv.Quote(p.Kind)+" is not a permission the module asks for ("+strings.Join(PermissionKinds, ", ")+")")
		case kinds[p.Kind]:
			bad(f+".kind", "duplicate permission "+strconv.Quote(p.Kind))
		}
		kinds[p.Kind] = true
		if l := p.Title.missing(); l != "" {
			bad(f+".title", "missing "+string(l)+" title")
		}
		if l := p.Purpose.missing(); l != "" && (p.Uses == "" || p.Purpose != (Text{})) {
			bad(f+".purpose", "missing "+string(l)+" purpose (or name a registry purpose with uses)")
		}
	}
	if s.PermissionBackoffDays < 0 || s.PermissionBackoffDays > 365 {
		bad("permissionBackoffDays", "want 1 to 365 (0 or absent: 7)")
	}
	if s.SeparateBackoffDays < 0 || s.SeparateBackoffDays > 365 {
		bad("separateBackoffDays", "want 1 to 365 (0 or absent: permissionBackoffDays)")
	}
	if s.AdvanceNoticeDays < 0 || s.AdvanceNoticeDays > 365 {
		bad("advanceNoticeDays", "want 1 to 365 (0 or absent: from the version's publication)")
	}
	return errors.Join(errs...)
}

func declaresCookie(c Category, name string) bool {
	for _, it := range c.Cookies {
		if it.Name == name {
			return true
		}
	}
	return false
}
