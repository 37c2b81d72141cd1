//go:build js && wasm

package main

import (
	"strconv"

	"github.com/hack-pad/safejs"
)

const discoveredPath = "/v1/discovered"

// discovered posts the listener's report, body (core.Discover), to POST
// /v1/discovered on the loader's origin: as text/plain (no preflight), and
// without credentials, so that not even the consent cookie goes with it.
// A refusal is said in the console; the report is not sent again (once a
// day at most).
func (m *module) discovered(body string) {
	u, err := newJS("URL", discoveredPath, m.out.url)
	if err != nil {
		return
	}
	var r jsReader
	p, err := safejs.Global().Call("fetch", r.str(u, "href"), map[string]any{
		"method": "POST", "body": body, "keepalive": true, "credentials": "omit", // a string: text/plain, no preflight
	})
	if err != nil {
		return
	}
	resp, err := await(p)
	if err != nil {
		consoleWarn("consent: the listener's report was not delivered: " + err.Error())
		return
	}
	if status := r.int(resp, "status"); status != 200 {
		consoleWarn("consent: the server did not take the listener's report (HTTP " + strconv.Itoa(status) +
			"): is \"discovery\": true in the server's site.json too?")
	}
}
