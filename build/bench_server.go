package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"workly.ai/consent"
)

// benchServer measures consentd serving the built files beside nginx serving
// the same files (same machine, same load generator, one after the other),
// and the receipt stores: SQLite, and PostgreSQL when one can be had. With
// ingestOnly, only the receipt stores.
func benchServer(root, site string, d time.Duration, ingestOnly bool, r *benchReport) error {
	bin := benchConsentd
	if bin == "" {
		var err error
		if bin, err = buildServer(root); err != nil {
			return err
		}
	}
	tmp, err := os.MkdirTemp("", "consent-bench-server-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	ours, stop, err := startConsentd(bin, filepath.Join(tmp, "data"), append([]string{"-key", filepath.Join(tmp, "signing.key")}, quotasOff...)...)
	if err != nil {
		return err
	}
	defer stop()
	wasm := ""
	for _, e := range mustGlob(filepath.Join(site, "assets", "consent.*.wasm")) {
		wasm = "/assets/" + filepath.Base(e)
	}
	paths := []string{"/loader.js", wasm}
	if ingestOnly {
		paths = nil
	}
	nginx, stopNginx, err := "", func() {}, error(nil)
	if !ingestOnly {
		nginx, stopNginx, err = startNginx(site, tmp)
	}
	if err != nil {
		r.Notes = append(r.Notes, "nginx could not be started, so static serving was not compared: "+err.Error())
	} else {
		defer stopNginx()
	}
	for _, p := range paths {
		for _, s := range []struct{ name, base string }{{"consentd", ours}, {"nginx", nginx}} {
			if s.base == "" {
				continue
			}
			rate, mbps, err := load(s.base+p, 32, d)
			if err != nil {
				return fmt.Errorf("%s %s: %w", s.name, p, err)
			}
			r.Static = append(r.Static, staticResult{s.name, p, rate, mbps})
			fmt.Printf("   %-8s %-40s %8.0f req/s %7.1f MB/s\n", s.name, p, rate, mbps)
		}
	}
	policy, err := currentPolicyOf(site)
	if err != nil {
		return err
	}
	for _, load := range ingestLoads {
		res, err := ingest([]string{ours}, policy, 64, load.batch, load.perSecond, d)
		if err != nil {
			return err
		}
		r.Ingest = append(r.Ingest, res)
	}
	if !ingestOnly {
		if err := benchFlood(bin, tmp, policy, d, r); err != nil {
			return err
		}
	}
	if benchNoPostgres {
		r.Notes = append(r.Notes, "PostgreSQL ingest was not measured (-no-postgres).")
	} else if err := benchPostgres(bin, tmp, policy, d, r); err != nil {
		r.Notes = append(r.Notes, "PostgreSQL ingest was not measured: "+err.Error())
		fmt.Println("   PostgreSQL ingest not measured:", err)
	}
	for i, x := range r.Ingest {
		fmt.Printf("   ingest   %s\n            SQLite:     %6.0f receipts/s, p50 %s, p99 %s\n", x.Load, x.Rate, x.P50.Round(10*time.Microsecond), x.P99.Round(10*time.Microsecond))
		if i < len(r.IngestPostgres) {
			y := r.IngestPostgres[i]
			fmt.Printf("            PostgreSQL: %6.0f receipts/s, p50 %s, p99 %s\n", y.Rate, y.P50.Round(10*time.Microsecond), y.P99.Round(10*time.Microsecond))
		}
	}
	for _, y := range r.IngestPostgres[min(len(r.IngestPostgres), len(ingestLoads)):] {
		fmt.Printf("   ingest   %s\n            PostgreSQL: %6.0f receipts/s, p50 %s, p99 %s\n", y.Load, y.Rate, y.P50.Round(10*time.Microsecond), y.P99.Round(10*time.Microsecond))
	}
	return nil
}

// benchConsentd is the consentd binary to measure (bench -consentd), ""
// to build this tree's.
var benchConsentd string

// benchNoPostgres skips the PostgreSQL ingest (bench -no-postgres).
var benchNoPostgres bool

// quotasOff are consentd's flags that lift its quotas, for measuring what
// the store can take (the flood measures them kept).
var quotasOff = []string{"-rate", "0", "-subject-quota", "0", "-global-rate", "0"}

// ingestLoads are the receipt loads, each measured on every store: one
// receipt a post and ten, as fast as answered, and 5,000 posts/s paced.
var ingestLoads = []struct {
	batch     int
	perSecond float64
}{{1, 0}, {10, 0}, {1, 5000}}

// benchPostgres measures the same loads on the PostgreSQL store: one server,
// then two servers on one database (the clients split between them), which
// shows what the chain's lock costs. It uses the server of
// CONSENT_TEST_POSTGRES, or a throwaway cluster.
func benchPostgres(bin, tmp string, policy consent.Version, d time.Duration, r *benchReport) error {
	admin, stopPostgres, err := startPostgres()
	if err != nil {
		return err
	}
	defer stopPostgres()
	psql := "psql"
	if b := postgresBin(); b != "" {
		psql = filepath.Join(b, "psql")
	}
	name := fmt.Sprintf("consent_bench_%d", os.Getpid())
	for _, sql := range []string{"DROP DATABASE IF EXISTS " + name, "CREATE DATABASE " + name} {
		if out, err := exec.Command(psql, "-X", "-q", "-d", admin, "-c", sql).CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %w\n%s", sql, err, out)
		}
	}
	defer exec.Command(psql, "-X", "-q", "-d", admin, "-c", "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)").Run()
	u, err := url.Parse(admin)
	if err != nil {
		return err
	}
	u.Path = "/" + name
	dsn := u.String()
	key := filepath.Join(tmp, "pg-signing.key")
	if out, err := exec.Command(bin, "keygen", "-key", key).CombinedOutput(); err != nil {
		return fmt.Errorf("keygen: %w\n%s", err, out)
	}
	flags := append([]string{"-db", dsn, "-key", key}, quotasOff...)
	one, stop, err := startConsentd(bin, filepath.Join(tmp, "pg-one"), flags...)
	if err != nil {
		return err
	}
	defer stop()
	for _, load := range ingestLoads {
		res, err := ingest([]string{one}, policy, 64, load.batch, load.perSecond, d)
		if err != nil {
			return err
		}
		r.IngestPostgres = append(r.IngestPostgres, res)
	}
	two, stopTwo, err := startConsentd(bin, filepath.Join(tmp, "pg-two"), flags...)
	if err != nil {
		return err
	}
	defer stopTwo()
	for _, batch := range []int{1, 10} {
		res, err := ingest([]string{one, two}, policy, 64, batch, 0, d)
		if err != nil {
			return err
		}
		res.Load = "two servers, " + res.Load
		r.IngestPostgres = append(r.IngestPostgres, res)
	}
	return nil
}

func mustGlob(pattern string) []string {
	m, _ := filepath.Glob(pattern)
	return m
}

// startConsentd runs the built server on a free port.
func startConsentd(bin, data string, flags ...string) (base string, stop func(), err error) {
	cmd := exec.Command(bin, append([]string{"-addr", "127.0.0.1:0", "-data", data}, flags...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop = func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() }
	defer func() {
		if err == nil {
			serverPIDs.Store(base, cmd.Process.Pid)
		}
	}()
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if _, after, ok := strings.Cut(sc.Text(), "addr=http://"); ok {
				found <- "http://" + strings.Fields(after)[0]
			}
		}
	}()
	select {
	case base = <-found:
		return base, stop, nil
	case <-time.After(20 * time.Second):
		stop()
		return "", nil, fmt.Errorf("consentd did not start")
	}
}

// startNginx serves dir with nginx (installed with apt-get when missing, as
// root), with its gzip_static and brotli_static modules so it sends the same
// precompressed files.
func startNginx(dir, tmp string) (base string, stop func(), err error) {
	const brotliModule = "/usr/lib/nginx/modules/ngx_http_brotli_static_module.so"
	if _, err := exec.LookPath("nginx"); err != nil || !exists(brotliModule) {
		if os.Geteuid() != 0 {
			return "", nil, fmt.Errorf("install it with: sudo apt-get install -y nginx libnginx-mod-http-brotli-static")
		}
		fmt.Println("== installing nginx")
		cmd := exec.Command("sh", "-c", "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx libnginx-mod-http-brotli-static")
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			return "", nil, err
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	conf := fmt.Sprintf(`load_module %s;
worker_processes 2;
daemon off;
pid %s/nginx.pid;
error_log %s/nginx-error.log;
events { worker_connections 4096; }
http {
  include /etc/nginx/mime.types;
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  gzip_static on;
  brotli_static on;
  client_body_temp_path %s;
  proxy_temp_path %s;
  fastcgi_temp_path %s;
  uwsgi_temp_path %s;
  scgi_temp_path %s;
  server {
    listen %s;
    root %s;
    location / { try_files $uri $uri.html $uri/index.html =404; add_header Cache-Control no-cache; add_header Vary Accept-Encoding; }
    location /assets/ { add_header Cache-Control "public, max-age=31536000, immutable"; add_header Vary Accept-Encoding; }
  }
}
`, brotliModule, tmp, tmp, tmp, tmp, tmp, tmp, tmp, addr, dir)
	path := filepath.Join(tmp, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		return "", nil, err
	}
	cmd := exec.Command("nginx", "-c", path, "-p", tmp)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop = func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() }
	base = "http://" + addr
	for i := 0; i < 100; i++ {
		if resp, err := http.Get(base + "/loader.js"); err == nil {
			resp.Body.Close()
			return base, stop, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	return "", nil, fmt.Errorf("nginx did not answer")
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

// load sends GET url with Accept-Encoding: br from conns keep-alive
// connections for d and returns the requests and megabytes per second.
func load(url string, conns int, d time.Duration) (float64, float64, error) {
	tr := &http.Transport{MaxIdleConnsPerHost: conns, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var n, bytes atomic.Int64
	var firstErr error
	var once sync.Once
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
				req.Header.Set("Accept-Encoding", "br")
				resp, err := client.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						once.Do(func() { firstErr = err })
					}
					return
				}
				m, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "br" {
					once.Do(func() {
						firstErr = fmt.Errorf("status %d, encoding %q", resp.StatusCode, resp.Header.Get("Content-Encoding"))
					})
					return
				}
				n.Add(1)
				bytes.Add(m)
			}
		}()
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	return float64(n.Load()) / secs, float64(bytes.Load()) / secs / 1e6, firstErr
}

// currentPolicyOf reads the current policy version from the built manifest.
func currentPolicyOf(site string) (consent.Version, error) {
	data, err := os.ReadFile(filepath.Join(site, "v1", "policies.json"))
	if err != nil {
		return consent.Version{}, err
	}
	var m consent.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return consent.Version{}, err
	}
	return m.Current(), nil
}

// benchReceipts numbers the bench's receipts across every load, so that no
// id is sent twice: a load after another would otherwise resend its ids
// with other times (409 now; before, resends acknowledged without storing).
var benchReceipts atomic.Int64

// benchSigner is the one browser key the bench's receipts are signed with:
// they all name one subject, and a subject is bound to the key of its first
// signed receipt (a key per load was refused, 403, from the second on).
var benchSigner = sync.OnceValues(newReceiptSigner)

// maxIngestRate bounds the receipts per second the bench signs ahead for a
// load that posts as fast as answered: a load that has sent them all before
// its time is up ends there (its rate is still what it stored per second).
const maxIngestRate = 30000

// ingest posts batches of batch receipts to POST /v1/receipts from conns
// clients for d: as fast as they are answered (perSecond 0), or at a steady
// perSecond posts in all, each client on its own schedule; client c posts to
// bases[c % len(bases)]. It returns the
// receipts stored per second and the latency of each post, which is answered
// only once its receipts are committed.
//
// Every receipt is signed as a browser signs it, so the figures include the
// server's check of each signature; but all of them are signed and encoded
// before the clock starts, on every core, so that the load generator, which
// shares the machine's cores, does not spend the time it measures signing.
func ingest(bases []string, policy consent.Version, conns, batch int, perSecond float64, d time.Duration) (ingestResult, error) {
	res := ingestResult{Load: fmt.Sprintf("%d clients, %d receipt(s) a post, as fast as answered", conns, batch), Batch: batch}
	posts := int(maxIngestRate*d.Seconds())/batch + conns
	if perSecond > 0 {
		res.Load = fmt.Sprintf("%.0f posts/s of %d receipt(s), %d clients", perSecond, batch, conns)
		posts = int(perSecond*d.Seconds()*1.1) + conns
	}
	t0 := time.Now()
	bodies, err := signedBatches(policy, posts, batch)
	if err != nil {
		return res, err
	}
	fmt.Printf("   %s: %d posts signed in %s; posting for %s\n", res.Load, posts, time.Since(t0).Round(time.Millisecond), d)
	var sent atomic.Int64
	cpu0 := serversCPU(bases)
	tr := &http.Transport{MaxIdleConnsPerHost: conns}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var mu sync.Mutex
	var lat []time.Duration
	var firstErr error
	var wg sync.WaitGroup
	start := time.Now()
	interval := time.Duration(0)
	if perSecond > 0 {
		interval = time.Duration(float64(conns) / perSecond * float64(time.Second))
	}
	for c := 0; c < conns; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			var mine []time.Duration
			defer func() { mu.Lock(); lat = append(lat, mine...); mu.Unlock() }()
			next := start.Add(interval * time.Duration(c) / time.Duration(conns))
			for ctx.Err() == nil {
				if interval > 0 {
					time.Sleep(time.Until(next))
					next = next.Add(interval)
				}
				i := sent.Add(1) - 1
				if i >= int64(len(bodies)) {
					return
				}
				t := time.Now()
				resp, err := client.Post(bases[c%len(bases)]+"/v1/receipts", "text/plain", bytes.NewReader(bodies[i]))
				if err != nil {
					if ctx.Err() == nil {
						mu.Lock()
						if firstErr == nil {
							firstErr = err
						}
						mu.Unlock()
					}
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("POST /v1/receipts: status %d", resp.StatusCode)
					}
					mu.Unlock()
					return
				}
				mine = append(mine, time.Since(t))
			}
		}(c)
	}
	wg.Wait()
	if firstErr != nil {
		return res, firstErr
	}
	elapsed := time.Since(start)
	cpu := serversCPU(bases) - cpu0
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	if sent.Load() > int64(len(bodies)) {
		fmt.Printf("   (%s: all %d signed posts sent in %s)\n", res.Load, len(bodies), elapsed.Round(time.Millisecond))
	}
	res.Posts = float64(len(lat)) / elapsed.Seconds()
	res.Rate = res.Posts * float64(batch)
	if n := len(lat) * batch; n > 0 && cpu > 0 {
		res.CPU = cpu / time.Duration(n)
	}
	if len(lat) > 0 {
		res.P50, res.P99 = lat[len(lat)/2], lat[len(lat)*99/100]
	}
	return res, nil
}

// signedBatches makes posts bodies of batch receipts each, every receipt
// new (benchReports), for one subject, signed with benchSigner: on every
// core, before any is sent.
func signedBatches(policy consent.Version, posts, batch int) ([][]byte, error) {
	signer, err := benchSigner()
	if err != nil {
		return nil, err
	}
	bodies := make([][]byte, posts)
	first := benchReceipts.Add(int64(posts*batch)) - int64(posts*batch)
	now := time.Now()
	var next atomic.Int64
	errs := make(chan error, runtime.GOMAXPROCS(0))
	for w := 0; w < cap(errs); w++ {
		go func() {
			for {
				p := int(next.Add(1) - 1)
				if p >= posts {
					errs <- nil
					return
				}
				recs := make([]consent.Receipt, batch)
				for i := range recs {
					var err error
					recs[i], err = signer.sign(consent.Receipt{ID: fmt.Sprintf("bench%017d", first+int64(p*batch+i)+1), Subject: "q83vEjRWeJq83vEjRWeJqw",
						Event: consent.EventConsentGiven, Policy: policy.ID, PolicySHA256: policy.SHA256, Locale: consent.ZhCN,
						Granted: []string{"analytics"}, Time: now, Method: "banner"})
					if err != nil {
						errs <- err
						return
					}
				}
				bodies[p] = consent.EncodeReceipts(recs)
			}
		}()
	}
	for w := 0; w < cap(errs); w++ {
		if e := <-errs; e != nil && err == nil {
			err = e
		}
	}
	return bodies, err
}

// serverPIDs maps the base URL of each consentd the bench started to its
// process id.
var serverPIDs sync.Map

// serversCPU is the CPU time (user and system) the consentd processes at
// bases have used so far, read from /proc (0 where it cannot be read).
func serversCPU(bases []string) time.Duration {
	var total time.Duration
	for _, b := range bases {
		pid, ok := serverPIDs.Load(b)
		if !ok {
			continue
		}
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// Fields after the command's closing parenthesis; utime and stime
		// are the 14th and 15th of the line, in clock ticks (100 a second).
		f := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
		if len(f) < 13 {
			continue
		}
		var u, s int64
		fmt.Sscan(f[11], &u)
		fmt.Sscan(f[12], &s)
		total += time.Duration(u+s) * 10 * time.Millisecond
	}
	return total
}
