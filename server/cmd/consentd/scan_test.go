package main

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// A scan that cannot run exits 2, with the install command when Chromium
// is missing; a scan's findings exit 1 (build/e2e runs real scans).
func TestScanExitCodes(t *testing.T) {
	err := scanCmd([]string{"-chromium", filepath.Join(t.TempDir(), "no-chromium"), "http://127.0.0.1:1/"}, new(bytes.Buffer), new(bytes.Buffer))
	if exitCode(err) != 2 || !strings.Contains(fmt.Sprint(err), "apt-get install chromium") {
		t.Errorf("no Chromium: exit %d, %v", exitCode(err), err)
	}
	if err := scanCmd(nil, new(bytes.Buffer), new(bytes.Buffer)); exitCode(err) != 2 {
		t.Errorf("no URL: exit %d, %v", exitCode(err), err)
	}
	if exitCode(errFound) != 1 {
		t.Error("findings do not exit 1")
	}
}
