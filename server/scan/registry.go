package scan

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"

	"github.com/chromedp/chromedp"

	"workly.ai/consent"
	"workly.ai/consent/catalog"
)

// ReadSite reads a site configuration from a file (web/site.json, or a
// built v1/site.json), expands its services from cat and validates it. For
// errors with line numbers, run the build (go run ./build).
func ReadSite(file string, cat *catalog.Catalog) (*consent.Site, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	s, err := parseSite(data, cat)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return s, nil
}

func parseSite(data []byte, cat *catalog.Catalog) (*consent.Site, error) {
	// The PIPL registry beside the configuration is the build's to check;
	// the scanner needs only what the categories declare.
	var file struct {
		consent.Site
		Registry json.RawMessage `json:"registry"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&file); err != nil {
		return nil, err
	}
	s := &file.Site
	if err := errors.Join(cat.Expand(s), s.Validate()); err != nil {
		return nil, err
	}
	return s, nil
}

// FetchSite fetches what the site at pageURL declares, through the browser
// (so that Options.HostRules apply): the module's server publishes it at
// /v1/site.json, on the page's origin or on the origin its loader.js comes
// from.
func (b *Browser) FetchSite(ctx context.Context, pageURL string, cat *catalog.Catalog) (*consent.Site, error) {
	tab, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	tab, cancelTimeout := context.WithTimeout(tab, b.opts.PageTimeout)
	defer cancelTimeout()
	candidates := []string{}
	if page, err := url.Parse(pageURL); err == nil {
		candidates = append(candidates, page.ResolveReference(&url.URL{Path: "/v1/site.json"}).String())
	}
	if err := chromedp.Do(tab, chromedp.Navigate(pageURL)); err != nil {
		return nil, fmt.Errorf("load %s: %w", pageURL, err)
	}
	loader, err := chromedp.Run(tab, chromedp.Evaluate[string](`(() => { const s = document.querySelector('script[src*="loader.js"]');
		return s ? new URL("/v1/site.json", s.src).href : ""; })()`))
	if err == nil && loader != "" && !slices.Contains(candidates, loader) {
		candidates = append(candidates, loader)
	}
	var errs []error
	for _, c := range candidates {
		resp, err := chromedp.RunResponse(tab, chromedp.Navigate(c))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if resp.Status != 200 {
			errs = append(errs, fmt.Errorf("GET %s: %d", c, resp.Status))
			continue
		}
		body, err := chromedp.Run(tab, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s, err := parseSite([]byte(body), cat)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c, err)
		}
		return s, nil
	}
	return nil, fmt.Errorf("%s publishes no declarations (%w): give the site's configuration with -site web/site.json", pageURL, errors.Join(errs...))
}
