package sqlite

import (
	"path/filepath"
	"testing"

	"workly.ai/consent/server/discovery"
	"workly.ai/consent/server/discovery/discoverytest"
)

func TestDiscovered(t *testing.T) {
	discoverytest.Run(t, func(t *testing.T) discoverytest.Opener {
		path := filepath.Join(t.TempDir(), "discovered.db")
		return func(t *testing.T, maxPerDay, keepDays int) discovery.Store {
			d, err := OpenDiscovered(path)
			if err != nil {
				t.Fatal(err)
			}
			d.MaxPerDay, d.KeepDays = maxPerDay, keepDays
			return d
		}
	})
}

func TestDiscoveredReadOnlyNeedsTheFile(t *testing.T) {
	if _, err := OpenDiscoveredReadOnly(filepath.Join(t.TempDir(), "none.db")); err == nil {
		t.Error("opened counts that do not exist")
	}
}
