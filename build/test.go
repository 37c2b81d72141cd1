package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// testTools are pinned in build/tools/go.mod, a module of their own (see
// build/tools/doc.go), and built into .cache/bin.
var testTools = []string{"github.com/agnivade/wasmbrowsertest", "github.com/hack-pad/safejs/jsguard/cmd/jsguard"}

// npmPackages are the npm packages only the tests use, pinned, installed
// into .cache/npm (axe-core: the accessibility checks of the end-to-end tests).
var npmPackages = []string{"axe-core@4.14.1"}

// debianPackages are installed with apt-get when missing, each known by a
// file it installs (a glob).
var debianPackages = map[string]string{
	"chromium":       "/usr/bin/chromium",                                      // the browser tiers
	"fonts-noto-cjk": "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", // screenshots show the Chinese notices
	"postgresql":     "/usr/lib/postgresql/*/bin/initdb",                       // the PostgreSQL store's tests
	// Tier 4, the other engines: Firefox, WebKitGTK's WebDriver (with its
	// MiniBrowser) and an X server for it (WebKitGTK has no headless mode).
	"firefox-esr":       "/usr/bin/firefox-esr",
	"webkit2gtk-driver": "/usr/bin/WebKitWebDriver",
	"xvfb":              "/usr/bin/Xvfb",
}

// test runs every tier and fails on the first that fails:
//
//  1. host: go vet (host and GOOS=js), jsguard, go test of every package but
//     the end-to-end one (against a throwaway PostgreSQL it starts, see
//     startPostgres), and the fuzz targets for a bounded time;
//  2. wasm: GOOS=js GOARCH=wasm go test ./wasm/... inside headless Chromium;
//  3. end to end: build, start the real server, drive Chromium;
//  4. other engines: the same server, a visitor's journey in Firefox and
//     WebKitGTK (build/engines).
func test(root string, args []string) error {
	if err := ensureDebian(); err != nil {
		return err
	}
	if err := ensureNPM(root); err != nil {
		return err
	}
	bin := filepath.Join(root, ".cache", "bin")
	build := exec.Command("go", append([]string{"build", "-o", bin + string(filepath.Separator)}, testTools...)...)
	build.Dir, build.Stdout, build.Stderr = filepath.Join(root, "build", "tools"), os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build test tools: %w", err)
	}
	// A real PostgreSQL for the PostgreSQL store's tests, for this run only.
	pg, stopPostgres, err := startPostgres()
	if err != nil {
		return fmt.Errorf("postgres for the tests: %w", err)
	}
	defer stopPostgres()
	fmt.Printf("== PostgreSQL for the tests: %s=%s\n", postgresEnv, pg)
	pkgs, err := output(root, nil, "go", "list", "./...")
	if err != nil {
		return err
	}
	var host []string
	for _, p := range strings.Fields(pkgs) {
		if !strings.HasSuffix(p, "/build/e2e") && !strings.HasSuffix(p, "/build/engines") {
			host = append(host, p)
		}
	}
	js := []string{"GOOS=js", "GOARCH=wasm"}
	verbose := []string{}
	for _, a := range args {
		if a == "-v" {
			verbose = append(verbose, "-v")
		}
	}
	steps := []struct {
		name string
		env  []string
		argv []string
	}{
		{"vet (host)", nil, []string{"go", "vet", "./..."}},
		{"vet (GOOS=js GOARCH=wasm)", js, []string{"go", "vet", "./wasm/..."}},
		{"jsguard (no raw syscall/js)", js, []string{filepath.Join(bin, "jsguard"), "./wasm/..."}},
		{"tier 1: host tests", nil, append(append([]string{"go", "test", "-count=1"}, verbose...), host...)},
		{"fuzz: cookie codec (15 s)", nil, []string{"go", "test", "-run", "^$", "-fuzz", "^FuzzDecodeCookie$", "-fuzztime", "15s", "."}},
		{"fuzz: receipt codec (15 s)", nil, []string{"go", "test", "-run", "^$", "-fuzz", "^FuzzDecodeBatch$", "-fuzztime", "15s", "./server/wire"}},
		{"fuzz: receipt ingest (15 s)", nil, []string{"go", "test", "-run", "^$", "-fuzz", "^FuzzIngest$", "-fuzztime", "15s", "./server/http"}},
		{"tier 2: wasm tests in Chromium", js, append(append([]string{"go", "test", "-count=1", "-exec=" + filepath.Join(bin, "wasmbrowsertest")}, verbose...), "./wasm/...")},
		{"tier 3: end to end in Chromium", nil, append(append([]string{"go", "test", "-count=1", "-timeout=20m"}, verbose...), "./build/e2e/...")},
		{"tier 4: a visitor's journey in Firefox and WebKit", nil, append(append([]string{"go", "test", "-count=1", "-timeout=10m"}, verbose...), "./build/engines/...")},
	}
	for _, s := range steps {
		start := time.Now()
		fmt.Printf("== %s\n", s.name)
		cmd := exec.Command(s.argv[0], s.argv[1:]...)
		cmd.Dir, cmd.Stdout, cmd.Stderr = root, os.Stdout, os.Stderr
		cmd.Env = append(append(os.Environ(), postgresEnv+"="+pg), s.env...)
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		fmt.Printf("== %s: ok (%s)\n", s.name, time.Since(start).Round(100*time.Millisecond))
	}
	return nil
}

// ensureDebian installs missing Debian packages with apt-get when running as
// root, and otherwise fails with the exact command to run.
func ensureDebian() error {
	var missing []string
	for pkg, file := range debianPackages {
		if found, _ := filepath.Glob(file); len(found) == 0 {
			missing = append(missing, pkg)
		}
	}
	sort.Strings(missing)
	if len(missing) == 0 {
		return nil
	}
	install := "apt-get install -y " + strings.Join(missing, " ")
	if os.Geteuid() != 0 {
		return fmt.Errorf("missing %s; install with: sudo apt-get update && sudo %s", strings.Join(missing, ", "), install)
	}
	fmt.Printf("== installing %s\n", strings.Join(missing, ", "))
	for _, c := range []string{"apt-get update -qq", "DEBIAN_FRONTEND=noninteractive " + install + " -qq"} {
		cmd := exec.Command("sh", "-c", c)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s: %w", c, err)
		}
	}
	return nil
}

// ensureNPM installs the tests' npm packages into .cache/npm unless there.
func ensureNPM(root string) error {
	return npmInstall(filepath.Join(root, ".cache", "npm"), npmPackages)
}

func output(dir string, env []string, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return "", fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, ee.Stderr)
	}
	return string(out), err
}
