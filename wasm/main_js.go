//go:build js && wasm

// Command wasm is the browser module's host, compiled with GOOS=js
// GOARCH=wasm and run in a dedicated Web Worker that web/executor.js starts
// after the first paint: it runs the core (package core, the one owner of
// consent state) off the page's main thread. Messages from the executor
// become the core's events, one at a time, in order; the core's effects go
// back to the executor in one message per event, except those the worker
// does itself: receipts (the outbox, their signatures and delivery), the
// server's cookie refresh, and deleting IndexedDB databases and caches.
// Every call into JavaScript goes through safejs.
package main

import (
	"sync"

	"github.com/hack-pad/safejs"

	"workly.ai/consent/core"
)

func main() {
	h := &host{wake: make(chan struct{}, 1)}
	onMessage, err := callback("message", func(_ safejs.Value, args []safejs.Value) any {
		if len(args) > 0 {
			data, _ := args[0].Get("data")
			h.push(data)
		}
		return nil
	})
	if err != nil {
		consoleError("consent: " + err.Error())
		return
	}
	if _, err := safejs.Global().Call("addEventListener", "message", onMessage); err != nil {
		consoleError("consent: " + err.Error())
		return
	}
	// Tell the executor the worker listens: it sends start then.
	post(effect("listening").Close())
	h.run()
}

// host runs the core in the worker.
type host struct {
	mu    sync.Mutex
	queue []safejs.Value // messages not handled yet, in order
	wake  chan struct{}

	core *core.Core
	m    *module // the receipts' delivery state
}

// push queues a message from the executor. It never waits: it runs in a JS
// callback.
func (h *host) push(msg safejs.Value) {
	h.mu.Lock()
	h.queue = append(h.queue, msg)
	h.mu.Unlock()
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

func (h *host) next() safejs.Value {
	for {
		h.mu.Lock()
		if len(h.queue) > 0 {
			msg := h.queue[0]
			h.queue = h.queue[1:]
			h.mu.Unlock()
			return msg
		}
		h.mu.Unlock()
		<-h.wake
	}
}

// run handles messages one at a time, in order, for the page's lifetime.
func (h *host) run() {
	for {
		msg := h.next()
		func() {
			defer func() {
				if p := recover(); p != nil {
					consoleError("consent: internal error: " + panicText(p))
				}
			}()
			h.handle(msg)
		}()
	}
}
