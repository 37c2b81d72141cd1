package consent

// The server keeps every stored receipt in one global hash chain and signs
// each link, so that the proof cannot be edited afterwards without it showing:
//
//	hash(n) = SHA-256(hash(n-1) || body(n))     (hash(0) is empty)
//	sig(n)  = Ed25519(server key, hash(n))
//
// where body(n) is the receipt's wire form (AppendReceiptJSON) and hashes are
// the 32 raw bytes, written as hex. Every store computes the chain the same
// way, with server/proof's ChainHash; consentd verify recomputes it. (Hashing
// and signing live there, not here: Go's crypto packages would add ~40 KB
// brotli to the browser module, which hashes with WebCrypto when it must.)

// Ack is the server's acknowledgement of one stored receipt: its place in the
// global chain, the chain hash there and the server's signature of it. The
// browser keeps it as the person's proof.
type Ack struct {
	ID   string `json:"id"`
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
	Sig  string `json:"sig"`
}
