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
}
