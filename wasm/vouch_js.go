//go:build js && wasm

package main

import "github.com/hack-pad/safejs"

// writtenKey is the localStorage key holding the consent cookie this origin's
// module wrote last: the loader believes that cookie without a proof (the
// person's own choice, its receipt not yet acknowledged).
const writtenKey = "consent.written"

// handover is what the loader hands the module once, through consent._hand,
// while go.run starts it: its Trusted Types policy (createScriptURL(url,
// category, element), createScript(text, category, element), which refuse
// undeclared sources and scripts without the page's nonce, reporting them),
// frame(url, category, element), the URL a gated iframe may load, and ok, a
// promise of whether the consent cookie is vouched for. Nobody else can
// reach them: the hand-over exists only during that synchronous start.
var handover struct{ tt, frame, ok safejs.Value }

// takeHandover takes the loader's hand-over. It must run first in main,
// before anything waits: the loader withdraws it when go.run returns.
func takeHandover() {
	api, err := global("consent")
	if err != nil {
		return
	}
	h, err := api.Call("_hand")
	if err != nil || h.Type() != safejs.TypeObject {
		consoleError("consent: the loader's hand-over is missing: gated content stays blocked and no cookie is believed")
		return
	}
	handover.tt, _ = h.Get("tt")
	handover.frame, _ = h.Get("frame")
	handover.ok, _ = h.Get("ok")
}

// cookieVouched reports whether the consent cookie the loader read is
// vouched for: its proof verifies with the server's cookie key, or it is the
// one this origin's module wrote last. Any other cookie grants nothing (no
// consent: the banner asks again). Call it from a goroutine.
func cookieVouched() bool {
	if handover.ok.Type() != safejs.TypeObject {
		return false
	}
	v, err := await(handover.ok)
	return err == nil && truthy(v)
}

// rememberWritten records value as the cookie this origin's module wrote
// last ("" forgets it).
func rememberWritten(value string) {
	if value == "" {
		call("localStorage", "removeItem", writtenKey)
		return
	}
	call("localStorage", "setItem", writtenKey, value)
}

// gatedURL returns what the loader's check allows for gated content of
// category cat at src in element el (check: handover.frame for an iframe,
// the policy's createScriptURL for a script), or ok false when it refused
// (it has reported why, with the element).
func gatedURL(check safejs.Value, src, cat string, el safejs.Value) (safejs.Value, bool) {
	if check.Type() != safejs.TypeFunction && check.Type() != safejs.TypeObject {
		return safejs.Undefined(), false
	}
	u, err := check.Invoke(src, cat, el)
	return u, err == nil
}
