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
	Load            string
	Addresses       int     // client addresses used
	Rate            float64 // receipts stored per second once the first second's bursts are spent
	Refused         float64 // posts refused (429) per second
	Stored          int64   // receipts stored in all, bursts included
	BytesPerReceipt float64 // the store's growth (WAL checkpointed) over Stored
	DiskPerMinute   float64 // BytesPerReceipt × Rate × 60
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
// watermark for 3d, a new one on an empty data directory for each flood, stopped
// after it (which checkpoints the WAL into the store) to weigh the store.
func benchFlood(bin, tmp string, policy consent.Version, d time.Duration, r *benchReport) error {
	emptyStore := func(name string) (string, error) {
		data := filepath.Join(tmp, name)
		return data, os.MkdirAll(data, 0o755)
	}
	data, err := emptyStore("flood-empty")
	if err != nil {
		return err
	}
	key := "-key=" + filepath.Join(tmp, "flood-signing.key") // one key, outside the data directories
	_, stop, err := startConsentd(bin, data, key)
	if err != nil {
		return err
	}
	stop()
	empty := dirSize(data)
	for i, load := range floodLoads {
		data, err := emptyStore(fmt.Sprintf("flood-%d", i))
		if err != nil {
			return err
		}
		base, stop, err := startConsentd(bin, data, key)
		if err != nil {
			return err
		}
		res, err := flood(base, policy, load.addresses, load.oneSubject, 3*d) // one client's quota allows a post every 5 s
		stop()
		if err != nil {
			return fmt.Errorf("flood %s: %w", load.name, err)
		}
		res.Load = load.name
		if res.Stored > 0 {
			res.BytesPerReceipt = float64(dirSize(data)-empty) / float64(res.Stored)
		}
		res.DiskPerMinute = res.BytesPerReceipt * res.Rate * 60
		r.Flood = append(r.Flood, res)
		fmt.Printf("   flood    %-52s %6.0f receipts/s stored, %6.0f posts/s refused, %6.1f MB/min on disk\n", load.name, res.Rate, res.Refused, res.DiskPerMinute/1e6)
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
	d = max(d, 2*time.Second) // the rate is counted after the first second
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var stored, refused, seq atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	afterBursts := make(chan int64, 1)
	time.AfterFunc(time.Second, func() { afterBursts <- stored.Load() })
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
	res.Stored = stored.Load()
	res.Rate = float64(res.Stored-<-afterBursts) / (secs - 1)
	res.Refused = float64(refused.Load()) / secs
	return res, firstErr
}

// dirSize is the bytes of the files in dir (the store, its WAL if any, the key).
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
