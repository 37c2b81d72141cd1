package main

import (
	"go/build/constraint"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// deps lists the packages pkg depends on, for GOOS/GOARCH in env.
func deps(t *testing.T, pkg string, env ...string) []string {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", pkg)
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

// The direction of imports (STYLE.md): the domain imports only the standard
// library; the browser module pulls in no server code and none of the
// packages that would cost every visitor hundreds of KB; the server and the
// build tool do not touch browser code.
func TestImportDirection(t *testing.T) {
	for _, d := range deps(t, "workly.ai/consent") {
		if d != "workly.ai/consent" && strings.Contains(strings.SplitN(d, "/", 2)[0], ".") {
			t.Errorf("the domain package depends on %s; it may import only the standard library", d)
		}
	}
	forbidden := map[string]bool{"net/http": true, "encoding/json": true, "database/sql": true,
		"text/template": true, "html/template": true, "crypto/rand": true, "crypto/sha256": true, "crypto/ed25519": true, "regexp": true}
	for _, d := range deps(t, "./wasm", "GOOS=js", "GOARCH=wasm") {
		if forbidden[d] || strings.HasPrefix(d, "workly.ai/consent/server") || strings.HasPrefix(d, "workly.ai/consent/build") {
			t.Errorf("the wasm module depends on %s", d)
		}
	}
	for _, d := range deps(t, "./server/...") {
		if strings.HasPrefix(d, "github.com/hack-pad/safejs") || strings.HasPrefix(d, "workly.ai/consent/wasm") {
			t.Errorf("the server depends on %s", d)
		}
	}
	// Only a main chooses a store: the rest of the server knows stores only
	// through consent.ReceiptStore, and no database driver.
	for _, pkg := range []string{"./server/http", "./server/proof", "./server/storetest", "./server/discovery", "./server/scan"} {
		for _, d := range deps(t, pkg) {
			if strings.HasPrefix(d, "workly.ai/consent/server/sqlite") || strings.HasPrefix(d, "workly.ai/consent/server/postgres") ||
				strings.HasPrefix(d, "modernc.org/sqlite") || strings.HasPrefix(d, "github.com/jackc/pgx") {
				t.Errorf("%s depends on %s; only a main chooses a store", pkg, d)
			}
		}
	}
	// The catalogue is data for the build, the scanner and the server: it
	// builds on the domain alone, and the browser module never carries it
	// (the build expands it into the module's configuration).
	for _, d := range deps(t, "./catalog") {
		if strings.HasPrefix(d, "workly.ai/consent/") && d != "workly.ai/consent/catalog" || strings.Contains(strings.SplitN(d, "/", 2)[0], ".") && !strings.HasPrefix(d, "workly.ai/") {
			t.Errorf("the catalogue depends on %s; it may import only the domain and the standard library", d)
		}
	}
	for _, d := range deps(t, "./wasm", "GOOS=js", "GOARCH=wasm") {
		if d == "workly.ai/consent/catalog" {
			t.Error("the wasm module depends on the catalogue")
		}
	}
	// Driving a browser is the scanner's job: consentd links chromedp for
	// consentd scan (about 2.3 MB of its binary), and no other server
	// package may, so the HTTP side never reaches for it.
	for _, pkg := range []string{"./server/http", "./server/proof", "./server/sqlite", "./server/postgres", "./server/discovery", "./server/groupcommit"} {
		for _, d := range deps(t, pkg) {
			if strings.HasPrefix(d, "github.com/chromedp/") {
				t.Errorf("%s depends on %s; only server/scan drives a browser", pkg, d)
			}
		}
	}
	// The core is plain Go: the domain and the standard library, no
	// JavaScript, so it tests on the host.
	for _, d := range deps(t, "./core") {
		if d == "syscall/js" || strings.HasPrefix(d, "github.com/") || strings.HasPrefix(d, "workly.ai/consent/") && d != "workly.ai/consent/core" {
			t.Errorf("the core depends on %s; it may import only the domain and the standard library", d)
		}
	}
	for _, d := range deps(t, "./build/...") {
		if strings.HasPrefix(d, "workly.ai/consent/wasm") || strings.HasPrefix(d, "github.com/hack-pad/safejs") {
			t.Errorf("the build tool depends on %s", d)
		}
	}
}

// Every file of the browser module says it builds only for the browser, by
// name and by constraint, and none imports syscall/js: all JS access goes
// through safejs.
func TestBrowserFilesAreMarked(t *testing.T) {
	files, err := filepath.Glob("../wasm/*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no wasm files: %v", err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		if !strings.HasSuffix(name, "_js.go") && !strings.HasSuffix(name, "_js_test.go") {
			t.Errorf("%s: a browser-only file must be named *_js.go", name)
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		tagged := false
		for _, line := range strings.Split(string(src), "\n") {
			if constraint.IsGoBuild(line) {
				expr, err := constraint.Parse(line)
				if err != nil {
					t.Errorf("%s: %v", name, err)
					break
				}
				and, ok := expr.(*constraint.AndExpr)
				tagged = ok && and.X.String() == "js" && and.Y.String() == "wasm"
				break
			}
		}
		if !tagged {
			t.Errorf("%s: want //go:build js && wasm", name)
		}
		parsed, err := parser.ParseFile(token.NewFileSet(), f, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range parsed.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p == "syscall/js" {
				t.Errorf("%s imports syscall/js; use github.com/hack-pad/safejs", name)
			}
		}
	}
}

// Every method the executor installs on window.consent (and the loader's
// state and granted) is declared in web/consent.d.ts, the types declare
// nothing the page lacks, and the core answers every method the executor
// forwards.
func TestAPITypesMatchTheModule(t *testing.T) {
	read := func(name string) string {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	executor, loader, coreSrc, dts := read("../web/executor.js"), read("../web/loader.js"), read("../core/core.go"), read("../web/consent.d.ts")
	list := regexp.MustCompile(`\[("[a-zA-Z]+"(?:, "[a-zA-Z]+")+)\]\.forEach\(function \(m\)`).FindStringSubmatch(executor)
	if list == nil {
		t.Fatal("web/executor.js: the list of API methods no longer matches the pattern")
	}
	var forwarded []string
	for _, q := range strings.Split(list[1], ", ") {
		forwarded = append(forwarded, strings.Trim(q, `"`))
	}
	installed := append([]string{}, forwarded...)
	for _, m := range regexp.MustCompile(`api\.([a-z][a-zA-Z]+) = function`).FindAllStringSubmatch(loader, -1) {
		installed = append(installed, m[1])
	}
	var declared []string
	for _, m := range regexp.MustCompile(`(?m)^  ([a-zA-Z]+)\(`).FindAllStringSubmatch(dts, -1) {
		declared = append(declared, m[1])
	}
	for _, m := range installed {
		if !slices.Contains(declared, m) {
			t.Errorf("consent.%s is not declared in web/consent.d.ts", m)
		}
	}
	for _, m := range declared {
		if !slices.Contains(installed, m) {
			t.Errorf("web/consent.d.ts declares consent.%s, which the page does not install", m)
		}
	}
	for _, m := range forwarded {
		if !strings.Contains(coreSrc, "case \""+m+"\":") {
			t.Errorf("the executor forwards consent.%s, which the core does not answer (core/core.go, call)", m)
		}
	}
}
