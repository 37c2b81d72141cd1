package main

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"workly.ai/consent"
	"workly.ai/consent/server/admin"
	"workly.ai/consent/server/proof"
	"workly.ai/consent/server/sqlite"
	"workly.ai/consent/server/stats"
)

// consoleResult is the console measured over a store of N receipts.
type consoleResult struct {
	N                      int64
	StoreBytes, StatsBytes int64
	Fill                   time.Duration // adding the Added receipts the store lacked (0: none)
	Added                  int64
	// Rebuild is how long building the figures from the whole chain took,
	// when Rebuilt; else how long catching up with the Behind receipts
	// they had not applied yet took (they follow the chain as it fills).
	Rebuild time.Duration
	Rebuilt bool
	Behind  int64
	Pages   []consolePage
}

// consolePage is one console page's view time, the median of its views.
type consolePage struct {
	Path   string
	Median time.Duration
}

// benchConsole fills a SQLite store in dir with n generated receipts (kept
// there: a later run with the same dir and n reuses it) while the console's
// figures follow the chain, as a server keeps them, or, with rebuild,
// builds them from the whole chain afterwards, as stats-rebuild and a first
// start do; then it times each console page signed in, as a browser asks
// for it. The receipts are the demo site's: people shown the banner who accept,
// refuse or choose, some later shown a newer version's notice who
// acknowledge it, some answering permission prompts, over the versions'
// years.
func benchConsole(built *bundle, dir string, n int64, rebuild bool) (*consoleResult, error) {
	var m consent.Manifest
	f := built.byPath["v1/policies.json"]
	if f == nil {
		return nil, fmt.Errorf("the build wrote no v1/policies.json")
	}
	if err := json.Unmarshal(f.Data, &m); err != nil {
		return nil, err
	}
	var site consent.Site
	if err := json.Unmarshal(built.byPath["v1/site.json"].Data, &site); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	pub, key, err := loadBenchKey(filepath.Join(dir, "signing.key"))
	if err != nil {
		return nil, err
	}
	dbPath := filepath.Join(dir, "consent.db")
	db, err := sqlite.Open(dbPath, proof.Signer(key))
	if err != nil {
		return nil, err
	}
	defer db.Close()
	ctx := context.Background()
	res := &consoleResult{Rebuilt: rebuild}
	statsPath := filepath.Join(dir, stats.FileName)
	if rebuild {
		os.Remove(statsPath)
	}
	st, err := stats.Open(statsPath, db, &m)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	have, err := db.Count(ctx)
	if err != nil {
		return nil, err
	}
	if have < n {
		// As a server does: the figures follow the chain while it grows.
		follow, stop := context.WithCancel(ctx)
		followed := make(chan error, 1)
		if !rebuild {
			go func() {
				for follow.Err() == nil {
					if _, err := st.CatchUp(follow); err != nil && follow.Err() == nil {
						followed <- err
						return
					}
					select {
					case <-follow.Done():
					case <-time.After(2 * time.Second):
					}
				}
				followed <- nil
			}()
		}
		start := time.Now()
		err := fillStore(ctx, db, &m, &site, have, n)
		res.Fill, res.Added = time.Since(start), n-have
		stop()
		if !rebuild {
			if ferr := <-followed; ferr != nil {
				return nil, ferr
			}
		}
		if err != nil {
			return nil, err
		}
	}
	if res.N, err = db.Count(ctx); err != nil {
		return nil, err
	}
	start := time.Now()
	if rebuild {
		_, err = st.Rebuild(ctx)
	} else {
		res.Behind, err = st.CatchUp(ctx)
	}
	if err != nil {
		return nil, err
	}
	res.Rebuild = time.Since(start)
	res.StoreBytes, res.StatsBytes = fileSize(dbPath), fileSize(statsPath)

	token := filepath.Join(dir, admin.TokenFileName)
	secret, err := admin.CreateToken(token)
	if err != nil {
		return nil, err
	}
	h := admin.New(admin.Config{TokenFile: token, Stats: st, Store: db, PublicKey: pub, Site: &site, Policies: &m,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}).Handler()
	const origin = "http://console.bench"
	login := httptest.NewRequest("POST", origin+"/admin/login", strings.NewReader(url.Values{"secret": {secret}}.Encode()))
	login.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	login.Header.Set("Origin", origin)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, login)
	cookies := w.Result().Cookies()
	if w.Code != http.StatusSeeOther || len(cookies) == 0 {
		return nil, fmt.Errorf("console login: HTTP %d", w.Code)
	}
	person, err := someSubject(ctx, db)
	if err != nil {
		return nil, err
	}
	for _, path := range []string{"/admin/", "/admin/versions", "/admin/permissions", "/admin/delivery", "/admin/person?id=" + person} {
		var times []time.Duration
		for range 30 {
			r := httptest.NewRequest("GET", origin+path, nil)
			for _, c := range cookies {
				r.AddCookie(c)
			}
			w := httptest.NewRecorder()
			start := time.Now()
			h.ServeHTTP(w, r)
			times = append(times, time.Since(start))
			if w.Code != http.StatusOK {
				return nil, fmt.Errorf("console %s: HTTP %d", path, w.Code)
			}
		}
		sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
		name, _, _ := strings.Cut(path, "?")
		res.Pages = append(res.Pages, consolePage{name, times[len(times)/2]})
	}
	return res, nil
}

// loadBenchKey loads the bench store's signing key, made once.
func loadBenchKey(path string) (ed25519.PublicKey, ed25519.PrivateKey, error) {
	key, err := proof.LoadKey(path)
	if errors.Is(err, fs.ErrNotExist) {
		key, err = proof.CreateKey(path)
	}
	if err != nil {
		return nil, nil, err
	}
	return key.Public().(ed25519.PublicKey), key, nil
}

// fillStore adds generated receipts to db, from the have-th to the n-th,
// in batches as a busy server stores them.
func fillStore(ctx context.Context, db *sqlite.DB, m *consent.Manifest, site *consent.Site, have, n int64) error {
	rng := rand.New(rand.NewPCG(uint64(have), 17))
	optional := site.Optional()
	id := func() string {
		var b [16]byte
		binary.LittleEndian.PutUint64(b[:], rng.Uint64())
		binary.LittleEndian.PutUint64(b[8:], rng.Uint64())
		return base64.RawURLEncoding.EncodeToString(b[:])
	}
	vs := m.Versions
	span := time.Since(vs[0].Effective)
	var batch []consent.Receipt
	add := func(r consent.Receipt) error {
		batch = append(batch, r)
		have++
		if len(batch) == 1000 || have >= n {
			if _, _, err := db.Put(ctx, batch); err != nil {
				return err
			}
			batch = batch[:0]
			if have%500_000 < 1000 {
				fmt.Printf("   %d receipts stored\n", have)
			}
		}
		return nil
	}
	for have < n {
		at := vs[0].Effective.Add(time.Duration(rng.Int64N(int64(span))))
		v := vs[0]
		for _, x := range vs {
			if !x.Effective.After(at) {
				v = x
			}
		}
		subject, locale := id(), consent.ZhCN
		if rng.IntN(4) == 0 {
			locale = consent.En
		}
		gpc := rng.IntN(20) == 0
		r := consent.Receipt{Subject: subject, Policy: v.ID, PolicySHA256: v.SHA256, Locale: locale, GPC: gpc, Granted: []string{}}
		step := func(ev consent.Event, method string, granted []string) error {
			r.ID, r.Event, r.Method, r.Granted, r.Time = id(), ev, method, granted, at
			at = at.Add(time.Duration(1+rng.IntN(120)) * time.Second)
			return add(r)
		}
		if err := step(consent.EventBannerShown, "banner", []string{}); err != nil {
			return err
		}
		granted := []string{}
		switch k := rng.IntN(10); {
		case k < 5 && !gpc:
			granted = append(granted, optional...)
			if err := step(consent.EventConsentGiven, "banner", granted); err != nil {
				return err
			}
		case k < 8:
			if err := step(consent.EventConsentRefused, "banner", granted); err != nil {
				return err
			}
		default:
			for _, c := range optional {
				if rng.IntN(2) == 0 {
					granted = append(granted, c)
				}
			}
			if err := step(consent.EventConsentGiven, "preferences", granted); err != nil {
				return err
			}
		}
		if rng.IntN(5) == 0 {
			r.Permission, r.Answer = consent.PermissionKinds[rng.IntN(len(consent.PermissionKinds))], consent.PermissionAnswers[rng.IntN(len(consent.PermissionAnswers))]
			if err := step(consent.EventPermissionAnswered, "api", granted); err != nil {
				return err
			}
			r.Permission, r.Answer = "", ""
		}
		// Some come back after a newer version took effect.
		for _, x := range vs {
			if x.Effective.After(at) && x.Effective.Before(time.Now()) && rng.IntN(3) == 0 {
				at = x.Effective.Add(time.Duration(rng.Int64N(int64(90 * 24 * time.Hour))))
				r.Policy, r.PolicySHA256 = x.ID, x.SHA256
				if err := step(consent.EventNoticeDisplayed, "notice", granted); err != nil {
					return err
				}
				if rng.IntN(4) > 0 {
					if err := step(consent.EventAcknowledged, "notice", granted); err != nil {
						return err
					}
				}
			}
		}
	}
	if len(batch) > 0 {
		_, _, err := db.Put(ctx, batch)
		return err
	}
	return nil
}

// someSubject returns the subject of a receipt in the middle of the chain.
func someSubject(ctx context.Context, db *sqlite.DB) (string, error) {
	n, err := db.Count(ctx)
	if err != nil {
		return "", err
	}
	var subject string
	stop := errors.New("found")
	err = db.Entries(ctx, max(1, n/2), func(body []byte, a consent.Ack) error {
		var r struct{ Subject string }
		if err := json.Unmarshal(body, &r); err != nil {
			return err
		}
		subject = r.Subject
		return stop
	})
	if err != stop {
		return "", fmt.Errorf("no receipt to look up: %v", err)
	}
	return subject, nil
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// markdown renders the console's figures.
func (c *consoleResult) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n## Console at %d receipts (SQLite)\n\nStore %.0f MB, figures %.0f MB", c.N, float64(c.StoreBytes)/1e6, float64(c.StatsBytes)/1e6)
	if c.Fill > 0 {
		fmt.Fprintf(&b, "; %d receipts added in %s (%.0f/s)", c.Added, c.Fill.Round(time.Second), float64(c.Added)/c.Fill.Seconds())
	}
	if c.Rebuilt {
		fmt.Fprintf(&b, "; figures built from the whole chain in %s (%.0f receipts/s)", c.Rebuild.Round(time.Second), float64(c.N)/c.Rebuild.Seconds())
	} else {
		fmt.Fprintf(&b, "; the figures followed the chain as it grew, and caught up with the last %d receipts in %s", c.Behind, c.Rebuild.Round(time.Millisecond))
	}
	b.WriteString(". A page view, signed in (median of 30):\n\n| page | view |\n|---|---|\n")
	for _, p := range c.Pages {
		fmt.Fprintf(&b, "| %s | %.2f ms |\n", p.Path, float64(p.Median)/float64(time.Millisecond))
	}
	return b.String()
}
