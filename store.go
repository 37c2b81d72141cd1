package consent

import "context"

// ReceiptStore stores receipts durably. Implementations: server/sqlite (the
// default) and, for several server processes, server/postgres.
type ReceiptStore interface {
	// Put stores rs durably, each appended to the global chain and signed
	// (see ChainHash), and returns an Ack for each, in order, and how many
	// were new. A receipt whose ID is already stored is not stored again and
	// is not an error (clients resend): its Ack is the one it got then. An
	// error means that nothing is acknowledged; when the store cannot be
	// reached for now it wraps ErrUnavailable.
	Put(ctx context.Context, rs []Receipt) (acks []Ack, stored int, err error)
	// Count returns how many receipts are stored.
	Count(ctx context.Context) (int64, error)
	// Entries calls fn with each stored receipt's wire form and Ack, in chain
	// order, from sequence number from on. An error from fn stops it and is
	// returned.
	Entries(ctx context.Context, from int64, fn func(body []byte, a Ack) error) error
	// Ping reports whether the store can be reached.
	Ping(ctx context.Context) error
	Close() error
	SubjectKeys
}

// KeyBinding allows one browser key to sign a subject's receipts: the key
// (Receipt.Key) of the browser's storage for one origin. An origin has more
// than one when its browser lost its storage (Safari deletes a site's
// script-written storage after 7 days without a visit, while the server's
// cookies stay) and enrolled a new key; a binding is never changed or
// removed.
type KeyBinding struct {
	Subject string
	// Origin is the origin of the page that posted the receipt which bound
	// the key (the request's Origin header), "" when the request named none.
	Origin string
	Key    string
	// Token is the SHA-256 (hex) of the subject's enrolment token: the
	// secret, held by the person's browser in an HttpOnly cookie, that lets
	// a second origin of the same site enrol its key. Set on the subject's
	// first binding, and copied to later ones.
	Token string
}

// SubjectKeys records which browser keys may sign each subject's receipts.
type SubjectKeys interface {
	// Keys returns the keys bound to subject, oldest first; none if it has
	// none.
	Keys(ctx context.Context, subject string) ([]KeyBinding, error)
	// Bind adds b, atomically with respect to every other Bind: when the
	// subject has no key yet, b is its first; else b is added only if
	// b.Token equals the subject's token (the request carried the enrolment
	// cookie). It returns the subject's keys afterwards, so the caller sees
	// whether b, or a binding made at the same moment, won.
	Bind(ctx context.Context, b KeyBinding) ([]KeyBinding, error)
}
