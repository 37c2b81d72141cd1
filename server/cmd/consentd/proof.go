package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"workly.ai/consent"
	"workly.ai/consent/server/assets"
	"workly.ai/consent/server/proof"
)

func keyPath(key, data string) string {
	if key != "" {
		return key
	}
	return filepath.Join(data, "signing.key")
}

// loadOrCreateKey loads the signing key, creating it on the first start.
func loadOrCreateKey(key, data string, log *slog.Logger) (ed25519.PrivateKey, error) {
	path := keyPath(key, data)
	k, err := proof.LoadKey(path)
	if errors.Is(err, fs.ErrNotExist) {
		log.Info("creating the signing key", "path", path)
		return proof.CreateKey(path)
	}
	return k, err
}

func keygen(args []string) error {
	fl := flag.NewFlagSet("keygen", flag.ContinueOnError)
	key := fl.String("key", filepath.Join("data", "signing.key"), "where to write the key")
	if err := fl.Parse(args); err != nil {
		return err
	}
	k, err := proof.CreateKey(*key)
	if err != nil {
		return err
	}
	fmt.Printf("wrote %s; public key (hex): %x\n", *key, []byte(k.Public().(ed25519.PublicKey)))
	return nil
}

// openStore opens the store of -data, or of -db, with the key of -key, for
// the commands that read it.
func openStore(fl *flag.FlagSet, args []string) (consent.ReceiptStore, ed25519.PrivateKey, error) {
	data := fl.String("data", "data", "directory of the SQLite store")
	dsn := fl.String("db", "", "a PostgreSQL URL (postgres://user@host:5432/db): the store there instead of DATA/consent.db")
	key := fl.String("key", "", "the signing key (default DATA/signing.key)")
	if err := fl.Parse(args); err != nil {
		return nil, nil, err
	}
	k, err := proof.LoadKey(keyPath(*key, *data))
	if err != nil {
		return nil, nil, err
	}
	if *dsn == "" {
		path := filepath.Join(*data, "consent.db")
		if _, err := os.Stat(path); err != nil {
			return nil, nil, fmt.Errorf("no store at %s: %w", path, err)
		}
	}
	db, err := openReceiptStore(*dsn, *data, k)
	return db, k, err
}

func verify(args []string) error {
	db, key, err := openStore(flag.NewFlagSet("verify", flag.ContinueOnError), args)
	if err != nil {
		return err
	}
	defer db.Close()
	n, err := proof.Verify(context.Background(), db, key.Public().(ed25519.PublicKey), func(n int64) {
		fmt.Fprintf(os.Stderr, "verified %d receipts…\n", n)
	})
	if err != nil {
		return fmt.Errorf("verify: %w (after %d good records)", err, max(n-1, 0))
	}
	fmt.Printf("ok: %d receipts, chain and signatures intact\n", n)
	return nil
}

func export(args []string) error {
	fl := flag.NewFlagSet("export", flag.ContinueOnError)
	format := fl.String("format", "jsonl", "jsonl, csv, kantara (Kantara Consent Receipt v1.1) or iso27560 (ISO/IEC TS 27560 consent records, JSON-LD in the W3C DPV profile)")
	assetsDir := fl.String("assets", "", "the built site, for kantara's and iso27560's controller and categories (default: the embedded copy)")
	from := fl.String("from", "", "only receipts at or after this day (2026-01-01) or time (RFC 3339)")
	to := fl.String("to", "", "only receipts before this day or time")
	policy := fl.String("policy", "", "only receipts of this policy version")
	event := fl.String("event", "", "only receipts of this event")
	db, key, err := openStore(fl, args)
	if err != nil {
		return err
	}
	defer db.Close()
	var site fs.FS = assets.FS()
	if *assetsDir != "" {
		site = os.DirFS(*assetsDir)
	}
	opts := proof.Options{PublicKey: fmt.Sprintf("%x", []byte(key.Public().(ed25519.PublicKey)))}
	if data, err := fs.ReadFile(site, "v1/site.json"); err == nil {
		opts.Site = new(consent.Site)
		if err := json.Unmarshal(data, opts.Site); err != nil {
			return fmt.Errorf("export: v1/site.json: %w", err)
		}
	}
	if data, err := fs.ReadFile(site, "v1/policies.json"); err == nil {
		opts.Policies = new(consent.Manifest)
		if err := json.Unmarshal(data, opts.Policies); err != nil {
			return fmt.Errorf("export: v1/policies.json: %w", err)
		}
	}
	f := proof.Filter{Policy: *policy, Event: consent.Event(*event)}
	for _, t := range []struct {
		flag string
		dst  *time.Time
	}{{*from, &f.From}, {*to, &f.To}} {
		if t.flag == "" {
			continue
		}
		if *t.dst, err = time.Parse(time.RFC3339, t.flag); err != nil {
			if *t.dst, err = time.Parse(time.DateOnly, t.flag); err != nil {
				return fmt.Errorf("export: %q is not a day (2026-01-01) or an RFC 3339 time", t.flag)
			}
		}
	}
	n, err := proof.Export(context.Background(), db, os.Stdout, *format, f, opts, func(read, written int64) {
		fmt.Fprintf(os.Stderr, "read %d receipts, exported %d…\n", read, written)
	})
	fmt.Fprintf(os.Stderr, "exported %d receipts\n", n)
	return err
}
