// Command build compiles, pre-renders, minifies, hashes and compresses the
// consent module, and runs the dev server and the tests. Run it from the
// module root:
//
//	go run ./build [all]            build everything into server/assets/dist
//	go run ./build serve [-addr :8080] [-data ./data] [-key .cache/consentd/signing.key]
//	                                build, then run the server with the SQLite store
//	go run ./build test             every test tier: host, wasm (in Chromium), end to end
//	go run ./build bench            measure beside vanilla-cookieconsent, Klaro and nginx
//	go run ./build postgres         a throwaway PostgreSQL for running its tests by hand
//
// It prints every built file's raw, gzip and brotli size beside its budget.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

func main() {
	cmd, args := "all", os.Args[1:]
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	root, err := moduleRoot()
	if err == nil {
		switch cmd {
		case "all", "build":
			err = buildCmd(root, args)
		case "serve":
			err = serve(root, args)
		case "test":
			err = test(root, args)
		case "bench":
			err = bench(root, args)
		case "postgres":
			err = postgresShell()
		case "help", "-h", "--help":
			fmt.Print(usage)
		default:
			err = fmt.Errorf("unknown command %q\n%s", cmd, usage)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "build:", err)
		os.Exit(1)
	}
}

const usage = `usage: go run ./build [command]
  all (default)  build everything into server/assets/dist and print the sizes
                 (-src DIR: another site's web/ directory's parent; -out DIR:
                 write there instead, for consentd -assets DIR; -now DAY:
                 build as on that day)
  serve          build, then serve on :8080 (-addr, -data, -key to change)
  test           run every test tier: host, wasm in Chromium, end to end
  bench          measure the module beside its peers and nginx; write a report
                 (-runs N, -seconds N, -server for the server only,
                 -publish to copy it into testdata/bench)
  postgres       start a throwaway PostgreSQL, print the CONSENT_TEST_POSTGRES
                 to run the PostgreSQL store's tests with; stop it with Ctrl-C
`

// buildCmd is go run ./build [all] [-src DIR] [-out DIR].
func buildCmd(root string, args []string) error {
	fs := flag.NewFlagSet("build", flag.ContinueOnError)
	var o buildOptions
	fs.StringVar(&o.Src, "src", "", "the directory whose web/ holds the site to build (default: this module's)")
	fs.StringVar(&o.Out, "out", "", "where to write the built site (default: server/assets/dist)")
	day := fs.String("now", "", "build as on this day (YYYY-MM-DD), which decides the versions upcoming (default: now)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *day != "" {
		t, err := time.Parse(time.DateOnly, *day)
		if err != nil {
			return fmt.Errorf("-now: want YYYY-MM-DD: %w", err)
		}
		o.Now = t
	}
	_, err := buildSite(root, o, os.Stdout)
	return err
}

// moduleRoot returns the directory of the go.mod this command belongs to.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("run from inside the module (no go.mod found)")
	}
	return filepath.Dir(mod), nil
}
