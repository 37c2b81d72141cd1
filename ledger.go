package consent

// The server keeps every stored receipt in one global hash chain and signs
// each link, so that the proof cannot be edited afterwards without it showing:
//
//	hash(n) = SHA-256(hash(n-1) || SHA-256(body(n)) || be64(received(n)))   (hash(0) is empty)
//	sig(n)  = Ed25519(server key, "consent checkpoint v1\n" || be64(n) || hash(n) || be64(received(n)))
//
// where body(n) is the receipt's wire form (AppendReceiptJSON), received(n)
// the server's clock when it stored it (Unix milliseconds), be64 an 8-byte
// big-endian integer, and hashes the 32 raw bytes, written as hex. Every
// store computes the chain the same way, with server/proof; consentd verify
// recomputes it. (Hashing and signing live there, not here: Go's crypto
// packages would add ~40 KB brotli to the browser module, which hashes with
// WebCrypto when it must.)

// Ack is the server's acknowledgement of one stored receipt: its place in the
// global chain, the chain hash there, the server's time of storing it and
// the server's signature of those (a signed checkpoint of the chain at that
// place). The browser keeps it as the person's proof.
type Ack struct {
	ID       string `json:"id"`
	Seq      int64  `json:"seq"`
	Hash     string `json:"hash"`
	Received int64  `json:"received"` // Unix milliseconds, the server's clock
	Sig      string `json:"sig"`
}
