package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"workly.ai/consent"
	"workly.ai/consent/server/admin"
	"workly.ai/consent/server/assets"
	"workly.ai/consent/server/discovery"
	consenthttp "workly.ai/consent/server/http"
	"workly.ai/consent/server/stats"
)

// adminToken makes the console's secret: it prints it once and keeps only
// its hash, in DATA/admin-token (not in the receipt database).
func adminToken(args []string) error {
	fl := flag.NewFlagSet("admin-token", flag.ContinueOnError)
	data := fl.String("data", "data", "the data directory: the secret's hash goes to DATA/"+admin.TokenFileName)
	if err := fl.Parse(args); err != nil {
		return err
	}
	path := filepath.Join(*data, admin.TokenFileName)
	secret, err := admin.CreateToken(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote the secret's SHA-256 to %s; sessions opened with an earlier secret have ended.\n"+
		"The console's secret (shown this once; keep it in a password manager):\n", path)
	fmt.Println(secret)
	return nil
}

// statsRebuild rebuilds the console's figures (DATA/stats.db) from the chain.
func statsRebuild(args []string) error {
	fl := flag.NewFlagSet("stats-rebuild", flag.ContinueOnError)
	assetsDir := fl.String("assets", "", "the built site, for the policy versions (default: the embedded copy)")
	db, _, err := readStore(fl, args)
	if err != nil {
		return err
	}
	defer db.Close()
	_, policies, err := builtConfig(*assetsDir)
	if err != nil {
		return err
	}
	data := fl.Lookup("data").Value.String()
	st, err := stats.Open(filepath.Join(data, stats.FileName), db, policies)
	if err != nil {
		return err
	}
	defer st.Close()
	start := time.Now()
	n, err := st.Rebuild(context.Background())
	if err != nil {
		return err
	}
	fmt.Printf("rebuilt the figures from %d receipts in %s\n", n, time.Since(start).Round(time.Millisecond))
	return nil
}

// builtConfig reads the built site configuration and policy manifest.
func builtConfig(assetsDir string) (*consent.Site, *consent.Manifest, error) {
	var site fs.FS = assets.FS()
	if assetsDir != "" {
		site = os.DirFS(assetsDir)
	}
	var s consent.Site
	var m consent.Manifest
	for name, dst := range map[string]any{"v1/site.json": &s, "v1/policies.json": &m} {
		data, err := fs.ReadFile(site, name)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w (build first: go run ./build)", name, err)
		}
		if err := json.Unmarshal(data, dst); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	return &s, &m, nil
}

// withConsole serves the console under /admin/ beside srv's handler, with
// its figures in DATA/stats.db kept up to date in the background until ctx
// ends or the returned func is called. The console stays closed until consentd admin-token has made a
// secret.
func withConsole(ctx context.Context, srv *consenthttp.Server, store consent.ReceiptStore, discovered discovery.Store, key ed25519.PrivateKey,
	dataDir string, log *slog.Logger) (http.Handler, func(), error) {
	st, err := stats.Open(filepath.Join(dataDir, stats.FileName), store, srv.Policies())
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		st.Run(ctx, 5*time.Second, func(err error) { log.Error("console figures", "err", err) })
	}()
	con := admin.New(admin.Config{TokenFile: filepath.Join(dataDir, admin.TokenFileName), Stats: st, Store: store,
		PublicKey: key.Public().(ed25519.PublicKey), Site: srv.Site(), Policies: srv.Policies(), Metrics: srv.Metrics(), Log: log,
		Discovered: discovered,
		ClientAddr: srv.ClientAddr, Scheme: srv.Scheme})
	mux := http.NewServeMux()
	mux.Handle(admin.Prefix, con.Handler())
	mux.Handle("/", srv.Handler())
	return mux, func() { cancel(); <-done; st.Close() }, nil
}
