package postgres

import (
	"testing"

	"workly.ai/consent/server/discovery"
	"workly.ai/consent/server/discovery/discoverytest"
	"workly.ai/consent/server/postgres/pgtest"
)

func TestDiscovered(t *testing.T) {
	discoverytest.Run(t, func(t *testing.T) discoverytest.Opener {
		dsn := pgtest.Database(t)
		return func(t *testing.T, maxPerDay, keepDays int) discovery.Store {
			d, err := OpenDiscovered(t.Context(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			d.MaxPerDay, d.KeepDays = maxPerDay, keepDays
			return d
		}
	})
}
