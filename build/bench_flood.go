package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"workly.ai/consent"
)

// floodResult is one flood against a server with its default quotas.
type floodResult struct {
	Load             string
	Addresses        int     // client addresses used
	Rate             float64 // receipts stored per second
	Refused          float64 // posts refused (429) per second
	DiskPerMinute    float64 // bytes the data directory grew by per minute
	BytesPerReceipt  float64
	ReceiptsAccepted int64
}

// floodLoads are the floods: posts of 50 receipts (the browser's largest),
// each for a new subject unless oneSubject, sent as fast as answered.
var floodLoads = []struct {
	name       string
	addresses  int // 1: one keep-alive client address; more: each post from the next of them
	oneSubject bool
}{
	{"one address, as fast as answered", 1, false},
	{"4,000 addresses (127.0.0.0/8), a new one each post", 4000, false},
	{"4,000 addresses, every receipt for one subject", 4000, true},
}

// benchFlood floods a consentd that keeps its default quotas and disk
// watermark, in a data directory of its own, and measures what it stores.
func benchFlood(bin, tmp string, policy consent.Version, d time.Duration, r *benchReport) error {
	data := filepath.Join(tmp, "flood")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return err
	}
	base, stop, err := startConsentd(bin, data)
	if err != nil {
		return err
	}
	defer stop()
	for _, load := range floodLoads {
		before := dirSize(data)
		res, err := flood(base, policy, load.addresses, load.oneSubject, d)
		if err != nil {
			return fmt.Errorf("flood %s: %w", load.name, err)
		}
		res.Load = load.name
		grown := float64(dirSize(data) - before)
		res.DiskPerMinute = grown / d.Seconds() * 60
		if res.ReceiptsAccepted > 0 {
			res.BytesPerReceipt = grown / float64(res.ReceiptsAccepted)
		}
		r.Flood = append(r.Flood, res)
		fmt.Printf("   flood    %-55s %6.0f receipts/s stored, %6.0f posts/s refused, %5.1f MB/min on disk\n", load.name, res.Rate, res.Refused, res.DiskPerMinute/1e6)
	}
	return nil
}

// flood posts batches of 50 receipts to base from 64 workers for d, from
// one address (keep-alive) or from each of addresses loopback addresses in
// turn (a connection each post), and counts what was stored and refused.
func flood(base string, policy consent.Version, addresses int, oneSubject bool, d time.Duration) (floodResult, error) {
	const workers, batch = 64, 50
	res := floodResult{Addresses: addresses}
	var next atomic.Int64
	tr := &http.Transport{MaxIdleConnsPerHost: workers}
	if addresses > 1 {
		tr = &http.Transport{DisableKeepAlives: true, DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			i := next.Add(1) % int64(addresses)
			local := net.IPv4(127, byte(1+i>>16), byte(i>>8), byte(i))
			return (&net.Dialer{LocalAddr: &net.TCPAddr{IP: local}}).DialContext(ctx, network, addr)
		}}
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var stored, refused, seq atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				recs := make([]consent.Receipt, batch)
				subject := "q83vEjRWeJq83vEjRWeJqw"
				if !oneSubject {
					subject = fmt.Sprintf("flood%017d", seq.Add(1))
				}
				for i := range recs {
					recs[i] = consent.Receipt{ID: fmt.Sprintf("flood%017d", seq.Add(1)), Subject: subject,
						Event: consent.EventConsentGiven, Policy: policy.ID, PolicySHA256: policy.SHA256, Locale: consent.ZhCN,
						Granted: []string{"analytics"}, Time: time.Now(), Method: "banner"}
				}
				req, _ := http.NewRequestWithContext(ctx, "POST", base+"/v1/receipts", bytes.NewReader(consent.EncodeReceipts(recs)))
				req.Header.Set("Content-Type", "text/plain")
				resp, err := client.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						once.Do(func() { firstErr = err })
					}
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				switch resp.StatusCode {
				case 200:
					var a struct{ Stored int64 }
					json.Unmarshal(body, &a)
					stored.Add(a.Stored)
				case 429:
					refused.Add(1)
				default:
					once.Do(func() { firstErr = fmt.Errorf("POST /v1/receipts: %d %s", resp.StatusCode, body) })
					return
				}
			}
		}()
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	res.ReceiptsAccepted = stored.Load()
	res.Rate, res.Refused = float64(stored.Load())/secs, float64(refused.Load())/secs
	return res, firstErr
}

// dirSize is the bytes of the files in dir (the store, its WAL and its key).
func dirSize(dir string) int64 {
	var n int64
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() {
			n += info.Size()
		}
	}
	return n
}
