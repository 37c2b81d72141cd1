//go:build js && wasm

package main

import (
	"errors"
	"strconv"
	"time"

	"github.com/hack-pad/safejs"

	"workly.ai/consent"
	"workly.ai/consent/core"
)

// config is what the module knows of the site and its policies: the core's
// configuration, and where the views' stylesheet is.
type config struct {
	core core.Config
	site *consent.Site
	// policies is the core's manifest.
	policies *consent.Manifest
}

// fetchConfig fetches the configuration the build wrote for the module
// (assets/config.HASH.json: path, relative to the loader's URL base) and
// parses it with the browser's JSON: encoding/json would add hundreds of KB
// to the module. It waits on promises.
func fetchConfig(path, base string) (safejs.Value, error) {
	if path == "" {
		return safejs.Undefined(), errors.New("no configuration: load the module with the loader (web/loader.js)")
	}
	u, err := newJS("URL", path, base)
	if err != nil {
		return safejs.Undefined(), err
	}
	var r jsReader
	p, err := safejs.Global().Call("fetch", r.str(u, "href"))
	if err != nil {
		return safejs.Undefined(), err
	}
	resp, err := await(p)
	if err != nil {
		return safejs.Undefined(), errors.New("fetch configuration: " + err.Error())
	}
	if !r.bool(resp, "ok") {
		return safejs.Undefined(), errors.New("fetch configuration: HTTP " + strconv.Itoa(r.int(resp, "status")))
	}
	p, err = resp.Call("json")
	if err != nil {
		return safejs.Undefined(), err
	}
	return await(p)
}

// loadConfig reads the configuration from its parsed JSON: what the core
// decides by (names and paths to match, categories, versions and their
// kinds of change), not the texts, which the views the build pre-rendered
// carry. It does not validate again what the build validated: the module
// carries only the code it needs.
func loadConfig(v safejs.Value, now time.Time) (*config, error) {
	if v.Type() != safejs.TypeObject {
		return nil, errors.New("configuration: not an object")
	}
	var r jsReader
	c := &config{}
	c.site, c.policies = &c.core.Site, &c.core.Policies
	site := r.get(v, "site")
	cookie := r.get(site, "cookie")
	c.core.Site.Cookie = consent.CookieConfig{Name: r.str(cookie, "name"), Domain: r.str(cookie, "domain"), MaxAgeDays: r.int(cookie, "maxAgeDays")}
	for _, cv := range r.list(site, "categories") {
		cat := consent.Category{
			ID: r.str(cv, "id"), Required: r.bool(cv, "required"),
			Cookies: readItems(&r, cv, "cookies"), Storage: readItems(&r, cv, "storage"),
			IndexedDB: readItems(&r, cv, "indexedDB"), Caches: readItems(&r, cv, "caches"),
			Hosts: readStrings(&r, cv, "hosts"),
		}
		c.core.Site.Categories = append(c.core.Site.Categories, cat)
	}
	for _, pv := range r.list(site, "permissions") {
		c.core.Site.Permissions = append(c.core.Site.Permissions, consent.Permission{Kind: r.str(pv, "kind")})
	}
	c.core.Site.PermissionBackoffDays = r.int(site, "permissionBackoffDays")
	c.core.Site.SeparateBackoffDays = r.int(site, "separateBackoffDays")
	c.core.Site.HonorDNT = r.bool(site, "honorDNT")
	c.core.Site.Discovery = r.bool(site, "discovery")
	for _, iv := range r.list(site, "identifiers") {
		c.core.Site.Identifiers = append(c.core.Site.Identifiers, consent.Identifier{
			Name: r.str(iv, "name"), Category: r.str(iv, "category"), RotateDays: r.int(iv, "rotateDays")})
	}
	views := r.get(v, "views")
	c.core.Views = map[string]map[consent.Locale]consent.Node{}
	if views.Type() == safejs.TypeObject {
		for _, name := range readStrings(&r, must(call("Object", "keys", views)), "") {
			c.core.Views[name] = map[consent.Locale]consent.Node{}
			for _, l := range consent.Locales {
				if t := r.get(r.get(views, name), string(l)); !t.IsUndefined() {
					c.core.Views[name][l] = readTree(&r, t)
				}
			}
		}
	}
	for _, vv := range r.list(r.get(v, "policies"), "versions") {
		ver := consent.Version{ID: r.str(vv, "id"), SHA256: r.str(vv, "sha256"),
			Effective: time.Unix(int64(r.int(vv, "e")), 0)}
		for _, ch := range r.list(vv, "changes") {
			ver.Changes = append(ver.Changes, consent.Change{Kind: consent.Kind(r.str(ch, "kind"))})
		}
		c.core.Policies.Versions = append(c.core.Policies.Versions, ver)
	}
	if r.err != nil {
		return nil, errors.New("configuration: " + r.err.Error())
	}
	if len(c.core.Site.Categories) == 0 || len(c.core.Policies.Versions) == 0 {
		return nil, errors.New("configuration: no categories or no policy version")
	}
	// Versions published ahead of their date count from that day, by this
	// browser's clock, as the loader counts them; their notices are under
	// notices[the version in force].
	c.core.Policies = c.core.Policies.InForce(now)
	cur := r.get(v, "notices")
	if cur.Type() == safejs.TypeObject {
		cur = r.get(cur, c.core.Policies.Current().ID)
	}
	if cur.Type() == safejs.TypeObject {
		for _, acked := range readStrings(&r, must(call("Object", "keys", cur)), "") {
			c.core.Views["notice:"+acked] = map[consent.Locale]consent.Node{}
			for _, l := range consent.Locales {
				c.core.Views["notice:"+acked][l] = readTree(&r, r.get(r.get(cur, acked), string(l)))
			}
		}
	}
	return c, r.err
}

func readItems(r *jsReader, v safejs.Value, key string) []consent.Item {
	var out []consent.Item
	for _, it := range r.list(v, key) {
		out = append(out, consent.Item{Name: r.str(it, "name"), Path: r.str(it, "path")})
	}
	return out
}
