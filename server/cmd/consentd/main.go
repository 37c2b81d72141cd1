// Command consentd is the consent module's server: it serves the built site
// and the policy archive, and stores receipts as signed, chained proof.
//
//	consentd [-addr :8080] [-data ./data] [-db postgres://…] [-key FILE] [-assets DIR] [-origins URL,…]
//	         [-rate N] [-burst N] [-subject-quota N] [-global-rate N] [-trusted-proxies CIDR,…]
//	         [-min-free SIZE] [-max-conns N] [-metrics-addr ADDR]
//	consentd keygen [-key FILE]
//	consentd verify [-data ./data] [-db postgres://…] [-key FILE]
//	consentd export [-data ./data] [-db postgres://…] [-format jsonl|csv|kantara|iso27560] [-from DATE] [-to DATE] [-policy V] [-event E]
//	consentd admin-token [-data ./data]
//	consentd stats-rebuild [-data ./data] [-db postgres://…] [-key FILE]
//	consentd discovered [-data ./data] [-db postgres://…]
//	consentd scan [-json FILE] [-pages N] [-site FILE] [-host-rules RULES] URL…
//
// Receipts are stored in DATA/consent.db (SQLite), or with -db in a
// PostgreSQL database that several servers share. The signing key defaults
// to DATA/signing.key; serving with SQLite creates it the first time, while
// with -db it must exist (consentd keygen), the same file on every server. The server stops gracefully on SIGTERM or SIGINT: it stops accepting
// connections, lets requests in flight finish (up to 10 s), then closes the
// store.
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
	"syscall"
	"time"

	"workly.ai/consent"
	"workly.ai/consent/server/assets"
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
		case "admin-token":
			err = adminToken(args)
		case "stats-rebuild":
			err = statsRebuild(args)
		case "discovered":
			err = discovered(args, os.Stdout)
		case "scan":
			err = scanCmd(args, os.Stdout, os.Stderr)
		default:
			err = fmt.Errorf("unknown command %q (want keygen, verify, export, admin-token, stats-rebuild, discovered or scan, or flags to serve)", cmd)
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
// SQLite store in dataDir, signing with key. This is where the store is
// chosen.
func openReceiptStore(dsn, dataDir string, key ed25519.PrivateKey) (consent.ReceiptStore, error) {
	if dsn != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return postgres.Open(ctx, dsn, proof.Signer(key))
	}
	return sqlite.Open(filepath.Join(dataDir, "consent.db"), proof.Signer(key))
}

// run runs the server until SIGTERM or SIGINT. listening, if not nil, is
// called with the address once the server accepts connections.
func run(args []string, listening func(addr string)) error {
	fl := flag.NewFlagSet("consentd", flag.ContinueOnError)
	addr := fl.String("addr", ":8080", "listen address")
	dataDir := fl.String("data", "data", "directory of the SQLite store (and of the signing key by default)")
	dsn := fl.String("db", "", "a PostgreSQL URL (postgres://user@host:5432/db): store receipts there, shared by several servers, instead of in DATA/consent.db")
	keyFile := fl.String("key", "", "the Ed25519 signing key (default DATA/signing.key, created if missing)")
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
	var key ed25519.PrivateKey
	if *dsn != "" {
		if _, err := postgres.ParseDSN(*dsn); err != nil {
			return fmt.Errorf("-db: %w", err)
		}
		// Every server on one database must sign with the same key: never
		// make one here, where each would make its own.
		key, err = proof.LoadKey(keyPath(*keyFile, *dataDir))
		if errors.Is(err, fs.ErrNotExist) {
			err = fmt.Errorf("%w: with -db, every server signs with the same key: make it once with consentd keygen and give each server -key", err)
		}
	} else {
		key, err = loadOrCreateKey(*keyFile, *dataDir, log)
	}
	if err != nil {
		return err
	}
	store, err := openReceiptStore(*dsn, *dataDir, key)
	if err != nil {
		return err
	}
	defer store.Close()
	log.Info("receipt store", "store", fmt.Sprint(store))
	var allowed []string
	for _, o := range strings.Split(*origins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			allowed = append(allowed, o)
		}
	}
	ingest := consenthttp.Ingest{Origins: allowed, Rate: *rate, Burst: *burst, SubjectPerDay: *subjectQuota,
		GlobalRate: *globalRate, TrustedProxies: trusted, PublicKey: key.Public().(ed25519.PublicKey)}
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

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	handler, closeConsole, err := withConsole(ctx, srv, store, key, *dataDir, log)
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

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}
