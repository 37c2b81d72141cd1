package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"

	"workly.ai/consent/server/cookiekey"
)

// serve builds the site, then runs consentd in the foreground with the
// embedded assets and the SQLite store in ./data, signing with the key in
// .cache/consentd (made on the first start: outside the data directory, as
// consentd requires) and vouching for cookies with the development cookie
// key the build baked in (cookiekey.Dev), until interrupted.
func serve(root string, args []string) error {
	fl := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fl.String("addr", ":8080", "listen address")
	data := fl.String("data", "data", "directory of the SQLite store")
	key := fl.String("key", filepath.Join(".cache", "consentd", "signing.key"), "the signing key (made if missing)")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if _, err := buildAll(root, os.Stdout); err != nil {
		return err
	}
	bin, err := buildServer(root)
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, "-addr", *addr, "-data", *data, "-key", *key, "-cookie-key", cookiekey.Dev(root))
	cmd.Dir, cmd.Stdout, cmd.Stderr = root, os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	fmt.Printf("serving on %s (Ctrl-C stops)\n", *addr)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sig
		cmd.Process.Signal(s)
	}()
	return cmd.Wait()
}

// buildServer compiles consentd, with the freshly built assets embedded, into
// .cache/bin and returns its path.
func buildServer(root string) (string, error) {
	bin := filepath.Join(root, ".cache", "bin", "consentd")
	cmd := exec.Command("go", "build", "-o", bin, "./server/cmd/consentd")
	cmd.Dir, cmd.Stdout, cmd.Stderr = root, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build consentd: %w", err)
	}
	return bin, nil
}
