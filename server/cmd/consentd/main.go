// Command consentd is the consent module's server: it serves the built site
// and the policy archive, and stores receipts as signed, chained proof.
//
//	consentd [-addr :8080] [-data ./data] [-key FILE] [-assets DIR] [-origins URL,…] [-rate N]
//	consentd keygen [-key FILE]
//	consentd verify [-data ./data] [-key FILE]
//	consentd export [-data ./data] [-format jsonl|csv|kantara] [-from DATE] [-to DATE] [-policy V] [-event E]
//
// The signing key defaults to DATA/signing.key; serving creates it the first
// time. The server stops gracefully on SIGTERM or SIGINT: it stops accepting
// connections, lets requests in flight finish (up to 10 s), then closes the
// store.
package main

import (
	"context"
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

	"workly.ai/consent/server/assets"
	consenthttp "workly.ai/consent/server/http"
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
		default:
			err = fmt.Errorf("unknown command %q (want keygen, verify or export, or flags to serve)", cmd)
		}
	default:
		err = run(args, nil)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "consentd:", err)
		os.Exit(1)
	}
}

// run runs the server until SIGTERM or SIGINT. listening, if not nil, is
// called with the address once the server accepts connections.
func run(args []string, listening func(addr string)) error {
	fl := flag.NewFlagSet("consentd", flag.ContinueOnError)
	addr := fl.String("addr", ":8080", "listen address")
	dataDir := fl.String("data", "data", "directory of the SQLite store")
	keyFile := fl.String("key", "", "the Ed25519 signing key (default DATA/signing.key, created if missing)")
	assetsDir := fl.String("assets", "", "serve the built site from this directory instead of the embedded copy")
	origins := fl.String("origins", "", "comma-separated origins (https://www.example.com) whose pages may post receipts, besides this server's own")
	rate := fl.Float64("rate", 20, "receipt posts per second allowed per client address, with a burst of twice that (0: no limit)")
	if err := fl.Parse(args); err != nil {
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
	key, err := loadOrCreateKey(*keyFile, *dataDir, log)
	if err != nil {
		return err
	}
	store, err := sqlite.Open(filepath.Join(*dataDir, "consent.db"), proof.Signer(key))
	if err != nil {
		return err
	}
	defer store.Close()
	var allowed []string
	for _, o := range strings.Split(*origins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			allowed = append(allowed, o)
		}
	}
	srv, err := consenthttp.New(site, store, log, consenthttp.Ingest{Origins: allowed, Rate: *rate})
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    32 << 10,
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
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
