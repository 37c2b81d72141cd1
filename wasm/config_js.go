//go:build js && wasm

package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/hack-pad/safejs"

	"workly.ai/consent"
)

// config is what the module knows of the site and its policies.
type config struct {
	site     consent.Site
	policies consent.Manifest
	// views are the static views pre-rendered by the build from the views in
	// package consent, as trees (see renderTree): views[name][locale].
	views safejs.Value
	// css is the path of the views' stylesheet, relative to the loader.
	css string
	// own is a WeakSet of every view element the module and the loader
	// rendered (the loader's consent._views): controls act only inside them.
	own safejs.Value
}

// fetchConfig fetches the configuration the build wrote for the module
// (assets/config.HASH.json, named by the loader in consent._cfg) and parses it
// with the browser's JSON: encoding/json would add hundreds of KB to the
// module. It waits on promises: call it outside JS callbacks.
func fetchConfig() (safejs.Value, error) {
	var r jsReader
	api := r.get(safejs.Global(), "consent")
	path, base := r.str(api, "_cfg"), r.get(api, "_base")
	if r.err != nil || path == "" {
		return safejs.Undefined(), errors.New("no configuration: load the module with the loader (web/loader.js)")
	}
	ctor, err := global("URL")
	if err != nil {
		return safejs.Undefined(), err
	}
	u, err := ctor.New(path, base)
	if err != nil {
		return safejs.Undefined(), err
	}
	p, err := call("window", "fetch", r.str(u, "href"))
	if err != nil {
		return safejs.Undefined(), err
	}
	resp, err := await(p)
	if err != nil {
		return safejs.Undefined(), fmt.Errorf("fetch configuration: %w", err)
	}
	if !r.bool(resp, "ok") {
		return safejs.Undefined(), fmt.Errorf("fetch configuration: HTTP %d", r.int(resp, "status"))
	}
	p, err = resp.Call("json")
	if err != nil {
		return safejs.Undefined(), err
	}
	return await(p)
}

// loadConfig reads the configuration from its parsed JSON. It does not
// validate again what the build validated: the module carries only the code
// it needs.
func loadConfig(v safejs.Value) (*config, error) {
	if v.Type() != safejs.TypeObject {
		return nil, errors.New("configuration: not an object")
	}
	var r jsReader
	c := &config{}
	site := r.get(v, "site")
	c.site.Name = readText(&r, site, "name")
	cookie := r.get(site, "cookie")
	c.site.Cookie = consent.CookieConfig{Name: r.str(cookie, "name"), Domain: r.str(cookie, "domain"), MaxAgeDays: r.int(cookie, "maxAgeDays")}
	for _, cv := range r.list(site, "categories") {
		cat := consent.Category{
			ID: r.str(cv, "id"), Required: r.bool(cv, "required"),
			Title: readText(&r, cv, "title"), Purpose: readText(&r, cv, "purpose"),
			Cookies: readItems(&r, cv, "cookies"), Storage: readItems(&r, cv, "storage"),
			IndexedDB: readItems(&r, cv, "indexedDB"), Caches: readItems(&r, cv, "caches"),
		}
		c.site.Categories = append(c.site.Categories, cat)
	}
	for _, pv := range r.list(site, "permissions") {
		c.site.Permissions = append(c.site.Permissions, consent.Permission{Kind: r.str(pv, "kind")})
	}
	c.site.PermissionBackoffDays = r.int(site, "permissionBackoffDays")
	c.site.HonorDNT = r.bool(site, "honorDNT")
	for _, iv := range r.list(site, "identifiers") {
		c.site.Identifiers = append(c.site.Identifiers, consent.Identifier{
			Name: r.str(iv, "name"), Category: r.str(iv, "category"), RotateDays: r.int(iv, "rotateDays")})
	}
	c.views = r.get(v, "views")
	c.css = r.str(v, "css")
	for _, vv := range r.list(r.get(v, "policies"), "versions") {
		ver := consent.Version{ID: r.str(vv, "id"), Title: readText(&r, vv, "title"), SHA256: r.str(vv, "sha256"),
			Effective: time.Unix(int64(r.int(vv, "e")), 0)}
		for _, ch := range r.list(vv, "changes") {
			ver.Changes = append(ver.Changes, consent.Change{Kind: consent.Kind(r.str(ch, "kind")), Summary: readText(&r, ch, "summary")})
		}
		c.policies.Versions = append(c.policies.Versions, ver)
	}
	if r.err != nil {
		return nil, fmt.Errorf("configuration: %w", r.err)
	}
	if len(c.site.Categories) == 0 || len(c.policies.Versions) == 0 {
		return nil, errors.New("configuration: no categories or no policy version")
	}
	// Versions published ahead of their date count from that day, by this
	// browser's clock, as the loader counts them.
	c.policies = c.policies.InForce(time.Now())
	return c, nil
}

func readText(r *jsReader, v safejs.Value, key string) consent.Text {
	t := r.get(v, key)
	if t.IsUndefined() {
		return consent.Text{}
	}
	return consent.Text{ZhCN: r.str(t, string(consent.ZhCN)), En: r.str(t, string(consent.En))}
}

func readItems(r *jsReader, v safejs.Value, key string) []consent.Item {
	var out []consent.Item
	for _, it := range r.list(v, key) {
		out = append(out, consent.Item{Name: r.str(it, "name"), Path: r.str(it, "path"), Provider: r.str(it, "provider"),
			Purpose: readText(r, it, "purpose"), Lifetime: readText(r, it, "lifetime")})
	}
	return out
}
