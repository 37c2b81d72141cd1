// Package discovery is what visitors' browsers report they found undeclared
// (the listener): names of cookies, storage keys, databases and caches, and
// hosts of scripts, iframes and requests, never values, consent ids or
// addresses. The server counts them per name per day (POST /v1/discovered)
// in a Store; consentd discovered prints the counts.
package discovery

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Kind is what a discovered name names.
type Kind string

// The kinds a browser may report. Values are part of the wire format:
// append only.
const (
	Cookie         Kind = "cookie"
	LocalStorage   Kind = "localStorage"
	SessionStorage Kind = "sessionStorage"
	IndexedDB      Kind = "indexedDB"
	Cache          Kind = "cache"
	ScriptHost     Kind = "script-host"
	IframeHost     Kind = "iframe-host"
	RequestHost    Kind = "request-host"
	// BlockedHost is a host the network blocker stopped a request to (one
	// a refused category declares): an SDK still sending after a refusal.
	BlockedHost Kind = "blocked-host"
	// RefusedHost is a host the module refused to load gated content
	// from: its category does not declare it among its sources.
	RefusedHost Kind = "refused-host"
)

// Kinds lists every Kind.
var Kinds = []Kind{Cookie, LocalStorage, SessionStorage, IndexedDB, Cache, ScriptHost, IframeHost, RequestHost, BlockedHost, RefusedHost}

// IsHost reports whether k names hosts rather than stored things.
func (k Kind) IsHost() bool {
	return k == ScriptHost || k == IframeHost || k == RequestHost || k == BlockedHost || k == RefusedHost
}

// Name is one discovered name.
type Name struct {
	Kind Kind   `json:"kind"`
	Name string `json:"name"`
}

// Limits of one batch.
const (
	MaxBody    = 8 << 10 // bytes of a POST /v1/discovered body
	MaxNames   = 100     // names in one batch
	MaxNameLen = 128     // bytes of one name (a host: 253)
)

// Other is the Name.Name under which a store counts, per kind, the names
// of a day beyond its cap. No valid reported name is empty.
const Other = ""

// Decode reads a batch, {"names":[{"kind":"cookie","name":"_ga"}, …]}, and
// returns its names without duplicates, in order. Anything else is an
// error: unknown fields (a value, an id), an unknown kind, an empty, too
// long or malformed name (control characters; for cookies '=', ';', ',' or
// spaces; '@' anywhere), a host that is not a lowercase host name or is an
// IP address, more than MaxNames names, or trailing data.
func Decode(body []byte) ([]Name, error) {
	var batch struct {
		Names []Name `json:"names"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&batch); err != nil {
		return nil, fmt.Errorf("want {\"names\":[{\"kind\":…,\"name\":…}]}: %v", err)
	}
	if dec.More() {
		return nil, errors.New("unexpected data after the batch")
	}
	if batch.Names == nil {
		return nil, errors.New(`want {"names":[…]}`)
	}
	if len(batch.Names) > MaxNames {
		return nil, fmt.Errorf("%d names: at most %d in one batch", len(batch.Names), MaxNames)
	}
	out := make([]Name, 0, len(batch.Names))
	for i, n := range batch.Names {
		if err := n.Validate(); err != nil {
			return nil, fmt.Errorf("names[%d]: %w", i, err)
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out, nil
}

// Validate checks one name as Decode does.
func (n Name) Validate() error {
	if !slices.Contains(Kinds, n.Kind) {
		return fmt.Errorf("kind %q is not one of %v", n.Kind, Kinds)
	}
	if n.Kind.IsHost() {
		if !validHost(n.Name) {
			return fmt.Errorf("%q is not a host name (lowercase, no scheme, port, path or IP address)", n.Name)
		}
		return nil
	}
	if n.Name == "" || len(n.Name) > MaxNameLen || !utf8.ValidString(n.Name) {
		return fmt.Errorf("a name is 1 to %d bytes of UTF-8", MaxNameLen)
	}
	for _, r := range n.Name {
		if unicode.IsControl(r) || r == '@' || n.Kind == Cookie && (r == '=' || r == ';' || r == ',' || unicode.IsSpace(r)) {
			return fmt.Errorf("%q is not a %s name", n.Name, n.Kind)
		}
	}
	return nil
}

func validHost(h string) bool {
	if len(h) == 0 || len(h) > 253 || !strings.Contains(h, ".") {
		return false
	}
	if _, err := netip.ParseAddr(h); err == nil {
		return false
	}
	labels := strings.Split(h, ".")
	if last := labels[len(labels)-1]; strings.Trim(last, "0123456789") == "" {
		return false // 10.0.0.1 written oddly, or a numeric top-level label
	}
	for _, l := range labels {
		if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			if c := l[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// Count is how often one name was reported on one day (UTC), with when it
// was first and last reported that day.
type Count struct {
	Day   string    `json:"day"` // 2006-01-02, UTC
	Kind  Kind      `json:"kind"`
	Name  string    `json:"name"` // Other: the names beyond the day's cap
	Count int64     `json:"count"`
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
}

// Store keeps the counts. Implementations bound their size: at most a cap
// of distinct names per day (the rest counted under Other, per kind), and
// a number of days kept.
type Store interface {
	// Record counts each of names once, at time now (its UTC day).
	Record(ctx context.Context, now time.Time, names []Name) error
	// Counts returns every count, newest day first, then by count,
	// largest first, then by kind and name.
	Counts(ctx context.Context) ([]Count, error)
	Close() error
}
