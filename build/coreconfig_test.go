package main

import (
	"bytes"
	"os"
	"testing"
	"time"
)

// coreFixture is the demo site's module configuration, which the core's host
// tests run against (package core reads no build code).
const coreFixture = "../core/testdata/demo-config.json"

// The core's fixture is what the build writes for the demo site now. Run
// with CONSENT_UPDATE=1 to write it again after changing the site, the
// policies or the views.
func TestCoreFixtureIsCurrent(t *testing.T) {
	// Built as on a fixed day, so that the fixture does not change with the
	// calendar.
	day := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	src, err := readSources("..", day)
	if err != nil {
		t.Fatal(err)
	}
	inForce := src.Manifest.InForce(day)
	cfg, err := moduleConfig(&src.Site, src.Registry, &src.Manifest, &inForce, "assets/module.css")
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("CONSENT_UPDATE") == "1" {
		if err := os.WriteFile(coreFixture, append(cfg, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	have, err := os.ReadFile(coreFixture)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(bytes.TrimSpace(have), cfg) {
		t.Errorf("%s is not what the build writes for the demo site: run CONSENT_UPDATE=1 go test -run TestCoreFixtureIsCurrent ./build", coreFixture)
	}
}
