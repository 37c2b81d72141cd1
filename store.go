package consent

import "context"

// ReceiptStore stores receipts durably. Implementations: server/sqlite (the
// default) and, for several server processes, server/postgres.
type ReceiptStore interface {
	// Put stores rs durably and returns how many were new. A receipt whose ID
	// is already stored is skipped, not an error: clients resend.
	Put(ctx context.Context, rs []Receipt) (int, error)
	// Count returns how many receipts are stored.
	Count(ctx context.Context) (int64, error)
	// Ping reports whether the store can be reached.
	Ping(ctx context.Context) error
	Close() error
}
