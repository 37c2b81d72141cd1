package http

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"workly.ai/consent"
	"workly.ai/consent/server/proof"
	"workly.ai/consent/server/sqlite"
)

// BenchmarkIngest is POST /v1/receipts in process, on a SQLite store with
// its checkpoint file (as consentd serves it), from 32 goroutines a core, each post of 1 or 10 receipts signed by one browser beforehand:
// its receipts/s and the CPU the handler and the store take, without the
// network or a load generator's. go test -run X -bench Ingest ./server/http
func BenchmarkIngest(b *testing.B) {
	for _, n := range []int{1, 10} {
		b.Run(fmt.Sprintf("%d-a-post", n), func(b *testing.B) {
			dir := b.TempDir()
			pub, key, _ := ed25519.GenerateKey(nil)
			db, err := sqlite.Open(filepath.Join(dir, "consent.db"), proof.Signer(key))
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			cps, err := proof.OpenCheckpointFile(filepath.Join(dir, "consent.checkpoint"), pub)
			if err != nil {
				b.Fatal(err)
			}
			defer cps.Close()
			h := ingestServerWith(b, Ingest{}, proof.Witness(db, cps))
			browser := newBrowserKey(b)
			bodies := make([]string, b.N)
			for i := range bodies {
				rs := make([]consent.Receipt, n)
				for j := range rs {
					var id [16]byte
					binary.BigEndian.PutUint64(id[8:], uint64(i*n+j))
					rs[j] = browser.sign(b, testReceiptFor(base64.RawURLEncoding.EncodeToString(id[:]), "q83vEjRWeJq83vEjRWeJqw"))
				}
				bodies[i] = batch(rs...)
			}
			var next int64
			b.SetParallelism(32) // 64 posts at once on 2 cores, as the bench's clients
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := atomicAdd(&next)
					if w := post(h, bodies[i]); w.Code != 200 {
						b.Fatalf("%d %s", w.Code, w.Body.String())
					}
				}
			})
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "receipts/s")
		})
	}
}

func atomicAdd(p *int64) int64 { return atomic.AddInt64(p, 1) - 1 }
