//go:build js && wasm

// Command wasm is the browser module, compiled with GOOS=js GOARCH=wasm and
// loaded by web/loader.js after the first paint. It is the only writer of
// consent state: it applies the clicks the loader queued, writes and clears
// the consent cookie, renders every view after the first, and answers the
// window.consent API. Every call into JavaScript goes through safejs.
package main

func main() {
	takeHandover() // first, synchronously: see vouch_js.go
	cfg, err := fetchConfig()
	if err != nil {
		consoleError("consent: " + err.Error())
		return
	}
	m, err := newModule(cfg)
	if err != nil {
		consoleError("consent: " + err.Error())
		return
	}
	if err := m.start(); err != nil {
		consoleError("consent: " + err.Error())
		return
	}
	select {} // keep serving callbacks
}
