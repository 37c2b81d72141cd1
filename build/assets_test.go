package main

import (
	"strings"
	"testing"
)

// A file over its brotli budget fails the build, naming the file; one at its
// budget does not.
func TestOverBudgetFails(t *testing.T) {
	b := bundle{files: []*file{
		{Path: "loader.js", Budget: 10, br: make([]byte, 10)},
		{Path: "assets/consent.wasm", Budget: 10, br: make([]byte, 11)},
		{Path: "index.html", br: make([]byte, 1000)},
	}}
	err := b.overBudget()
	if err == nil || !strings.Contains(err.Error(), "assets/consent.wasm") || strings.Contains(err.Error(), "loader.js") {
		t.Fatalf("overBudget() = %v, want the wasm named alone", err)
	}
	b.files = b.files[:1]
	if err := b.overBudget(); err != nil {
		t.Fatalf("a file at its budget: %v", err)
	}
}
