// Command consentd is the consent module's server: it serves the built site
// and the policy archive, and stores receipts as signed, chained proof.
//
//	consentd -key FILE [-addr :8080] [-data ./data] [-db postgres://…] [-checkpoint FILE] [-assets DIR] [-origins URL,…]
//	         [-rate N] [-burst N] [-subject-quota N] [-global-rate N] [-trusted-proxies CIDR,…]
//	         [-min-free SIZE] [-max-conns N] [-metrics-addr ADDR]
//	consentd keygen -key FILE
//	consentd verify -pub KEY [-data ./data] [-db postgres://…] [-against FILE…]
//	consentd export [-pub KEY] [-data ./data] [-db postgres://…] [-format jsonl|csv|kantara|iso27560] [-from DATE] [-to DATE] [-policy V] [-event E]
//	consentd redact [-data ./data] [-db postgres://…] -id RECEIPT -reason TEXT
//	consentd admin-token [-data ./data]
//	consentd stats-rebuild [-data ./data] [-db postgres://…]
//	consentd discovered [-data ./data] [-db postgres://…]
//	consentd scan [-json FILE] [-pages N] [-site FILE] [-host-rules RULES] URL…
//
// Receipts are stored in DATA/consent.db (SQLite), or with -db in a
// PostgreSQL database that several servers share. The signing key is -key,
// which must not be inside -data: whoever can write the receipts must not
// also hold what re-signs them. Serving with SQLite creates it the first
// time; with -db it must exist (consentd keygen), the same file on every
// server. verify and export need only the public key. The server keeps the
// newest checkpoint it acknowledged in DATA/consent.checkpoint and refuses
// to start on a store behind it. The server stops gracefully on SIGTERM or
// SIGINT: it stops accepting connections, lets requests in flight finish (up
// to 10 s), then closes the store.
package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"workly.ai/consent"
	"workly.ai/consent/server/assets"
	"workly.ai/consent/server/cookiekey"
	consenthttp "workly.ai/consent/server/http"
	"workly.ai/consent/server/postgres"
	"workly.ai/consent/server/proof"
	"workly.ai/consent/server/sqlite"
)

func main() {
	args := os.Args[1:]
	var err error
	switch cmd := ""; {
	case len(args) > 0 && !strings.HasPrefix(args[0], "-"):
		cmd, args = args[0], args[1:]
		switch cmd {
		case "keygen":
			err = keygen(args)
		case "verify":
			err = verify(args)
		case "export":
			err = export(args)
		case "redact":
			err = redact(args)
		case "admin-token":
			err = adminToken(args)
		case "stats-rebuild":
			err = statsRebuild(args)
		case "discovered":
			err = discovered(args, os.Stdout)
		case "scan":
			err = scanCmd(args, os.Stdout, os.Stderr)
		default:
			err = fmt.Errorf("unknown command %q (want keygen, verify, export, redact, admin-token, stats-rebuild, discovered or scan, or flags to serve)", cmd)
		}
	default:
		err = run(args, nil)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "consentd:", err)
		os.Exit(exitCode(err))
	}
}

// openReceiptStore opens the PostgreSQL store at dsn when given, else the
// SQLite store in dataDir, signing with sign (nil: to read only). This is
// where the store is chosen.
func openReceiptStore(ctx context.Context, dsn, dataDir string, sign proof.SignFunc) (consent.ReceiptStore, error) {
	if dsn != "" {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		return postgres.Open(ctx, dsn, sign)
	}
	return sqlite.Open(filepath.Join(dataDir, "consent.db"), sign)
}

// run runs the server until SIGTERM or SIGINT. listening, if not nil, is
// called with the address once the server accepts connections.
func run(args []string, listening func(addr string)) error {
	fl := flag.NewFlagSet("consentd", flag.ContinueOnError)
	addr := fl.String("addr", ":8080", "listen address")
	dataDir := fl.String("data", "data", "directory of the SQLite store and of the server's last checkpoint")
	dsn := fl.String("db", "", "a PostgreSQL URL (postgres://user@host:5432/db): store receipts there, shared by several servers, instead of in DATA/consent.db")
	keyFile := fl.String("key", "", "the Ed25519 signing key, outside -data (required; with SQLite created if missing)")
	cookieKeyFile := fl.String("cookie-key", "", "the ECDSA P-256 key that vouches for consent cookies (consentd keygen -cookie); its public half must be the built site's cookie.publicKey (go run ./build serve passes .cache/consentd/cookie.key)")
	checkpointFile := fl.String("checkpoint", "", "where the server keeps its last checkpoint (default DATA/consent.checkpoint)")
	assetsDir := fl.String("assets", "", "serve the built site from this directory instead of the embedded copy")
	origins := fl.String("origins", "", "comma-separated origins (https://www.example.com) whose pages may post receipts, besides this server's own")
	rate := fl.Float64("rate", 10, "receipts per second one client may send (an IPv4 address or an IPv6 /64), after a burst of -burst (0: no limit)")
	burst := fl.Int("burst", 500, "receipts one client may send at once before -rate applies (a full browser outbox)")
	subjectQuota := fl.Int("subject-quota", 200, "receipts stored per subject (consent id) per UTC day, from all clients (0: no limit)")
	globalRate := fl.Float64("global-rate", 1000, "receipts per second stored from all clients together, with a burst of twice that (0: no limit)")
	proxies := fl.String("trusted-proxies", "", "comma-separated CIDRs of the load balancers in front: from them X-Forwarded-For names the client and X-Forwarded-Proto the scheme (otherwise both are ignored)")
	minFree := byteSize(1 << 30)
	fl.Var(&minFree, "min-free", "bytes that must stay free on the data directory's disk (SQLite): below, receipts are refused with 503 and /healthz is 503 (0: not watched)")
	maxConns := fl.Int("max-conns", 4096, "connections served at once on -addr; 16 more are kept for /healthz and /livez (0: no limit)")
	metricsAddr := fl.String("metrics-addr", "", "listen address of the operator's listener, serving /metrics, /healthz and /livez (e.g. 127.0.0.1:9090; default: none, /metrics not served)")
	if err := fl.Parse(args); err != nil {
		return err
	}
	trusted, err := parseProxies(*proxies)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))

	var site fs.FS = assets.FS()
	if *assetsDir != "" {
		if _, err := os.Stat(filepath.Join(*assetsDir, "index.html")); err != nil {
			return fmt.Errorf("-assets %s: %w (build first: go run ./build)", *assetsDir, err)
		}
		site = os.DirFS(*assetsDir)
	}
	if *dsn != "" {
		if _, err := postgres.ParseDSN(*dsn); err != nil {
			return fmt.Errorf("-db: %w", err)
		}
	}
	key, err := serverKey(*keyFile, *dataDir, *dsn, log)
	if err != nil {
		return err
	}
	pub := key.Public().(ed25519.PublicKey)
	if *checkpointFile == "" {
		*checkpointFile = filepath.Join(*dataDir, "consent.checkpoint")
	}
	if err := os.MkdirAll(filepath.Dir(*checkpointFile), 0o755); err != nil {
		return err
	}
	checkpoints, err := proof.OpenCheckpointFile(*checkpointFile, pub)
	if err != nil {
		return err
	}
	defer checkpoints.Close()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	// The store: opened now, or, when PostgreSQL cannot be reached yet, in
	// the background while the site is served and receipts are answered 503.
	fatal := make(chan error, 1)
	opening := &pendingStore{}
	defer opening.Close()
	open := func() (consent.ReceiptStore, error) {
		s, err := openServing(ctx, *dsn, *dataDir, key, checkpoints)
		if err == nil {
			log.Info("receipt store", "store", fmt.Sprint(s), "checkpoint", checkpoints.Last().Seq)
		}
		return s, err
	}
	s, err := open()
	switch {
	case err == nil:
		opening.set(s)
	case *dsn != "" && errors.Is(err, consent.ErrUnavailable):
		log.Error("the receipt store cannot be reached: serving the site, answering 503 for receipts, and trying again", "err", err)
		opening.fail(err)
		go func() {
			for wait := time.Second; ; wait = min(2*wait, 30*time.Second) {
				select {
				case <-ctx.Done():
					return
				case <-time.After(wait):
				}
				s, err := open()
				if err == nil {
					opening.set(s)
					return
				}
				if !errors.Is(err, consent.ErrUnavailable) {
					fatal <- err
					return
				}
				opening.fail(err)
				log.Error("the receipt store still cannot be reached", "err", err, "retry_in", min(2*wait, 30*time.Second))
			}
		}()
	default:
		return err
	}
	var store consent.ReceiptStore = opening
	var allowed []string
	for _, o := range strings.Split(*origins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			allowed = append(allowed, o)
		}
	}
	ingest := consenthttp.Ingest{Origins: allowed, Rate: *rate, Burst: *burst, SubjectPerDay: *subjectQuota,
		GlobalRate: *globalRate, TrustedProxies: trusted, PublicKey: pub}
	if *cookieKeyFile != "" {
		if ingest.CookieKey, err = cookiekey.Load(*cookieKeyFile); err != nil {
			return fmt.Errorf("-cookie-key: %w", err)
		}
	}
	if *dsn == "" { // with -db the receipts are not on this disk
		ingest.MinFree, ingest.FreeSpace = uint64(minFree), freeSpace(*dataDir)
	}
	if on, err := discoveryOn(site); err != nil {
		return err
	} else if on {
		// The listener's counts, apart from the receipts: in the shared
		// database with -db, else in a small file of their own in -data.
		d, err := openDiscovered(*dsn, *dataDir, false)
		if err != nil {
			return err
		}
		defer d.Close()
		ingest.Discovered = d
		log.Info("discovery on")
	}
	srv, err := consenthttp.New(site, store, log, ingest)
	if err != nil {
		return err
	}

	handler, closeConsole, err := withConsole(ctx, srv, store, ingest.Discovered, key, *dataDir, log)
	if err != nil {
		return err
	}
	defer closeConsole()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	hs := srv.HTTPServer()
	hs.Handler = handler // the site and the console
	errc := make(chan error, 2)
	go func() { errc <- hs.Serve(srv.LimitListener(ln, *maxConns)) }()
	if *metricsAddr != "" {
		mln, err := net.Listen("tcp", *metricsAddr)
		if err != nil {
			return fmt.Errorf("-metrics-addr: %w", err)
		}
		admin := &http.Server{Handler: srv.AdminHandler(), ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 30 * time.Second}
		defer admin.Close()
		go func() { errc <- admin.Serve(mln) }()
		log.Info("metrics", "url", "http://"+mln.Addr().String()+"/metrics")
	}
	// The line a caller (the build's serve, the tests) waits for.
	log.Info("listening", "addr", "http://"+ln.Addr().String())
	if listening != nil {
		listening(ln.Addr().String())
	}

	var failed error
	select {
	case err := <-errc:
		return err
	case failed = <-fatal:
		log.Error("stopping", "err", failed)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return failed
}

// serverKey loads the signing key of -key, creating it with SQLite when
// missing. It refuses none given, and a key inside the data directory.
func serverKey(keyFile, dataDir, dsn string, log *slog.Logger) (ed25519.PrivateKey, error) {
	if keyFile == "" {
		return nil, errors.New("-key FILE is required: the signing key, kept outside -data " +
			"(consentd keygen -key FILE makes one; go run ./build serve passes .cache/consentd/signing.key)")
	}
	if inside(keyFile, dataDir) {
		return nil, fmt.Errorf("-key %s is inside -data %s: whoever can write the receipts could re-sign them with it; keep the key elsewhere", keyFile, dataDir)
	}
	key, err := proof.LoadKey(keyFile)
	if errors.Is(err, fs.ErrNotExist) {
		if dsn != "" {
			// Every server on one database must sign with the same key:
			// never make one here, where each would make its own.
			return nil, fmt.Errorf("%w: with -db, every server signs with the same key: make it once with consentd keygen and give each server -key", err)
		}
		log.Info("creating the signing key", "path", keyFile)
		key, err = proof.CreateKey(keyFile)
		if err == nil {
			err = os.WriteFile(keyFile+".pub", proof.PublicKeyJSON(key.Public().(ed25519.PublicKey)), 0o644)
		}
	}
	return key, err
}

// inside reports whether path is in dir (or is dir).
func inside(path, dir string) bool {
	p, err1 := filepath.Abs(path)
	d, err2 := filepath.Abs(dir)
	if err1 != nil || err2 != nil {
		return false
	}
	rel, err := filepath.Rel(d, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// openServing opens the store a server writes to (openReceiptStore), checks
// it (startCheck) and has every acknowledgement witnessed by checkpoints.
func openServing(ctx context.Context, dsn, dataDir string, key ed25519.PrivateKey, checkpoints *proof.CheckpointFile) (consent.ReceiptStore, error) {
	s, err := openReceiptStore(ctx, dsn, dataDir, proof.Signer(key))
	if err != nil {
		return nil, err
	}
	if err := startCheck(ctx, s, key.Public().(ed25519.PublicKey), checkpoints); err != nil {
		s.Close()
		return nil, fmt.Errorf("%v: %w", s, err)
	}
	return proof.Witness(s, checkpoints), nil
}

// startCheck is what a server checks before it stores anything: that the
// store is still signed with this key (its newest link verifies), and that
// it holds the last checkpoint this server acknowledged.
func startCheck(ctx context.Context, s consent.ReceiptStore, pub ed25519.PublicKey, checkpoints *proof.CheckpointFile) error {
	head, err := s.Head(ctx)
	if err != nil {
		return err
	}
	if head.Seq > 0 {
		if err := proof.CheckpointOf(head).Verify(pub); err != nil {
			return fmt.Errorf("its newest record (%d) was not signed with this key: %w; start with the key that signed it", head.Seq, err)
		}
	}
	if err := proof.CheckAgainst(ctx, s, checkpoints.Last(), "this server's last checkpoint"); err != nil {
		return fmt.Errorf("refusing to start: %w", err)
	}
	return nil
}

// pendingStore is the receipt store once it is open; until then every call
// fails with consent.ErrUnavailable and why, so that the site is served and
// receipts are answered 503 while PostgreSQL cannot be reached.
type pendingStore struct {
	mu     sync.RWMutex
	store  consent.ReceiptStore
	err    error
	closed bool
}

// set makes s the store; after Close, it closes s.
func (p *pendingStore) set(s consent.ReceiptStore) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		s.Close()
		return
	}
	p.store = s
}

func (p *pendingStore) fail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.err = err
}

func (p *pendingStore) get() (consent.ReceiptStore, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.store == nil {
		return nil, fmt.Errorf("%w: not open yet: %v", consent.ErrUnavailable, p.err)
	}
	return p.store, nil
}

func (p *pendingStore) Put(ctx context.Context, rs []consent.Receipt) ([]consent.Ack, int, error) {
	s, err := p.get()
	if err != nil {
		return nil, 0, err
	}
	return s.Put(ctx, rs)
}

func (p *pendingStore) Head(ctx context.Context) (consent.Ack, error) {
	s, err := p.get()
	if err != nil {
		return consent.Ack{}, err
	}
	return s.Head(ctx)
}

func (p *pendingStore) Count(ctx context.Context) (int64, error) {
	s, err := p.get()
	if err != nil {
		return 0, err
	}
	return s.Count(ctx)
}

func (p *pendingStore) Entries(ctx context.Context, from int64, fn func([]byte, consent.Ack) error) error {
	s, err := p.get()
	if err != nil {
		return err
	}
	return s.Entries(ctx, from, fn)
}

func (p *pendingStore) Keys(ctx context.Context, subject string) ([]consent.KeyBinding, error) {
	s, err := p.get()
	if err != nil {
		return nil, err
	}
	return s.Keys(ctx, subject)
}

func (p *pendingStore) Bind(ctx context.Context, b consent.KeyBinding) ([]consent.KeyBinding, error) {
	s, err := p.get()
	if err != nil {
		return nil, err
	}
	return s.Bind(ctx, b)
}

func (p *pendingStore) Ping(ctx context.Context) error {
	s, err := p.get()
	if err != nil {
		return err
	}
	return s.Ping(ctx)
}

func (p *pendingStore) String() string {
	if s, err := p.get(); err == nil {
		return fmt.Sprint(s)
	}
	return "a store not open yet"
}

// Close closes the store, if it was opened.
func (p *pendingStore) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	if p.store == nil {
		return nil
	}
	return p.store.Close()
}
