package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"workly.ai/consent"
	"workly.ai/consent/server/assets"
	"workly.ai/consent/server/cookiekey"
	"workly.ai/consent/server/proof"
)

func keygen(args []string) error {
	fl := flag.NewFlagSet("keygen", flag.ContinueOnError)
	key := fl.String("key", "", "where to write the key (required; outside the data directory); the public key goes to KEY.pub")
	cookie := fl.Bool("cookie", false, "make the cookie key (-cookie-key) instead: ECDSA P-256, its public half for site.json's cookie.publicKey")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if *key == "" {
		return errors.New("keygen: -key FILE is required")
	}
	if *cookie {
		k, err := cookiekey.Generate(*key)
		if err != nil {
			return err
		}
		fmt.Printf("wrote %s and %s.pub; in site.json: \"cookie\": {…, \"publicKey\": %q}\n", *key, *key, k.PublicKey())
		return nil
	}
	k, err := proof.CreateKey(*key)
	if err != nil {
		return err
	}
	pub := k.Public().(ed25519.PublicKey)
	if err := os.WriteFile(*key+".pub", proof.PublicKeyJSON(pub), 0o644); err != nil {
		return err
	}
	fmt.Printf("wrote %s and %s.pub; public key (hex): %x\n", *key, *key, []byte(pub))
	return nil
}

// readStore opens the store of -data, or of -db, to read only, for the
// commands that check or export it: they need no signing key. It parses fl
// with args, and returns the public key of -pub (nil when not given).
func readStore(fl *flag.FlagSet, args []string) (consent.ReceiptStore, ed25519.PublicKey, error) {
	data := fl.String("data", "data", "directory of the SQLite store")
	dsn := fl.String("db", "", "a PostgreSQL URL (postgres://user@host:5432/db): the store there instead of DATA/consent.db")
	pubArg := fl.String("pub", "", "the server's public key: hex, or a file holding GET /v1/key's answer (or KEY.pub, or a PEM public key)")
	if err := fl.Parse(args); err != nil {
		return nil, nil, err
	}
	var pub ed25519.PublicKey
	if *pubArg != "" {
		var err error
		if pub, err = proof.ParsePublicKey(*pubArg); err != nil {
			return nil, nil, err
		}
	}
	if *dsn == "" {
		path := filepath.Join(*data, "consent.db")
		if _, err := os.Stat(path); err != nil {
			return nil, nil, fmt.Errorf("no store at %s: %w", path, err)
		}
	}
	db, err := openReceiptStore(context.Background(), *dsn, *data, nil)
	return db, pub, err
}

func verify(args []string) error {
	fl := flag.NewFlagSet("verify", flag.ContinueOnError)
	var against []string
	fl.Func("against", "a checkpoint (GET /v1/checkpoint's answer), a person's download from the preferences centre, or the JSON of consent.history(), "+
		"that the store must still hold; repeat it, or list more files after the flags", func(f string) error {
		against = append(against, f)
		return nil
	})
	db, pub, err := readStore(fl, args)
	if err != nil {
		return err
	}
	defer db.Close()
	if pub == nil {
		return errors.New("verify: -pub KEY is required: the public key to check against, pinned from a source you trust (GET /v1/key, KEY.pub)")
	}
	if len(against) > 0 {
		against = append(against, fl.Args()...)
	} else if fl.NArg() > 0 {
		return fmt.Errorf("verify: unexpected arguments %q (files to check against follow -against)", fl.Args())
	}
	var expect []proof.Expectation
	for _, f := range against {
		es, err := proof.ReadExpectations(f)
		if err != nil {
			return fmt.Errorf("verify: -against %w", err)
		}
		expect = append(expect, es...)
	}
	rep, err := proof.Verify(context.Background(), db, pub, expect, func(n int64) {
		fmt.Fprintf(os.Stderr, "verified %d receipts…\n", n)
	})
	if errors.Is(err, proof.ErrNotVerified) {
		for _, p := range rep.Problems {
			fmt.Fprintln(os.Stderr, "verify:", p)
		}
		return fmt.Errorf("verify: FAILED: %d problems; %s", len(rep.Problems), rep.Summary())
	}
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	fmt.Printf("ok: %s; chain and signatures intact", rep.Summary())
	if len(expect) > 0 {
		fmt.Printf("; holds all %d checkpoints and receipts of %d files", len(expect), len(against))
	}
	fmt.Println()
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
	db, pub, err := readStore(fl, args)
	if err != nil {
		return err
	}
	defer db.Close()
	var site fs.FS = assets.FS()
	if *assetsDir != "" {
		site = os.DirFS(*assetsDir)
	}
	opts := proof.Options{}
	if pub != nil {
		opts.PublicKey = fmt.Sprintf("%x", []byte(pub))
	}
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

func redact(args []string) error {
	fl := flag.NewFlagSet("redact", flag.ContinueOnError)
	id := fl.String("id", "", "the receipt id whose body to replace by its tombstone (required)")
	reason := fl.String("reason", "", "why, kept in the tombstone (required: spam, a court order, …)")
	db, _, err := readStore(fl, args)
	if err != nil {
		return err
	}
	defer db.Close()
	if *id == "" || *reason == "" {
		return errors.New("redact: -id and -reason are required")
	}
	r, ok := db.(proof.Redactor)
	if !ok {
		return fmt.Errorf("redact: %v cannot redact", db)
	}
	seq, err := r.Redact(context.Background(), *id, *reason)
	if err != nil {
		return err
	}
	fmt.Printf("record %d (receipt %s): its body is now a tombstone (%s); the chain still verifies, and verify counts it\n", seq, *id, *reason)
	return nil
}
