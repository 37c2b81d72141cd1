package consent

import "context"

// ReceiptStore stores receipts durably. Implementations: server/sqlite (the
// default) and, for several server processes, server/postgres.
type ReceiptStore interface {
	// Put stores rs durably, each appended to the global chain and signed
	// (see Ack), and returns an Ack for each, in order, and how many were
	// new. A receipt whose ID is already stored with the same content is not
	// stored again and is not an error (clients resend): its Ack is the one
	// it got then. When one of rs has the ID of a stored receipt (or of
	// another of rs) but other content, none of rs is stored and the error
	// wraps ErrConflict. An error means that nothing is acknowledged; when
	// the store cannot be reached for now it wraps ErrUnavailable.
	Put(ctx context.Context, rs []Receipt) (acks []Ack, stored int, err error)
	// Head returns the Ack of the chain's newest link: the latest signed
	// checkpoint. An empty store answers an Ack with Seq 0.
	Head(ctx context.Context) (Ack, error)
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
