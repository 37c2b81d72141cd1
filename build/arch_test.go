package main

import (
	"go/build/constraint"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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

// Every method the module installs on window.consent is declared in
// web/consent.d.ts, and the types declare nothing the module lacks.
func TestAPITypesMatchTheModule(t *testing.T) {
	src, err := os.ReadFile("../wasm/api_js.go")
	if err != nil {
		t.Fatal(err)
	}
	dts, err := os.ReadFile("../web/consent.d.ts")
	if err != nil {
		t.Fatal(err)
	}
	installed := regexp.MustCompile(`(?m)^\s+"([a-zA-Z]+)":\s+func`).FindAllStringSubmatch(string(src), -1)
	declared := regexp.MustCompile(`(?m)^  ([a-zA-Z]+)\(`).FindAllStringSubmatch(string(dts), -1)
	if len(installed) < 5 {
		t.Fatalf("found only %d methods in api_js.go: the pattern no longer matches", len(installed))
	}
	has := func(list [][]string, name string) bool {
		for _, m := range list {
			if m[1] == name {
				return true
			}
		}
		return false
	}
	for _, m := range installed {
		if !has(declared, m[1]) {
			t.Errorf("consent.%s is not declared in web/consent.d.ts", m[1])
		}
	}
	for _, m := range declared {
		if !has(installed, m[1]) {
			t.Errorf("web/consent.d.ts declares consent.%s, which the module does not install", m[1])
		}
	}
}
