//go:build js && wasm

package main

import (
	"time"

	"github.com/hack-pad/safejs"

	"workly.ai/consent"
	"workly.ai/consent/core"
)

// handle decodes one message from the executor (web/messages.d.ts,
// PageMessage), hands it to the core and applies the effects.
func (h *host) handle(msg safejs.Value) {
	var r jsReader
	kind := core.EventKind(r.str(msg, "t"))
	if h.core == nil {
		if kind != core.EvStart {
			return // the executor sends start first
		}
		if err := h.start(msg); err != nil {
			consoleError("consent: " + err.Error())
			return
		}
	}
	if kind == "applied" { // the host's own: the page set the cookie of a refresh
		h.m.pageApplied()
		return
	}
	ev := core.Event{Kind: kind}
	switch kind {
	case core.EvStart:
		ev.Page = readPage(msg)
		ev.Page.Subject = h.m.pendingSubject()
		ev.Jar = h.readJar(r.get(msg, "jar"))
	case core.EvSweep:
		ev.Jar = h.readJar(r.get(msg, "jar"))
	case core.EvClick:
		c := readClick(r.get(msg, "click"))
		ev.Click = &c
		ev.Jar = h.readJar(r.get(msg, "jar"))
	case core.EvCall:
		readCall(msg, &ev)
		ev.Jar = h.readJar(r.get(msg, "jar"))
	case core.EvAnswer:
		ev.Call, ev.Permission, ev.State = r.int(msg, "call"), r.str(msg, "kind"), r.str(msg, "state")
	case core.EvClosed:
		ev.View = r.str(msg, "view")
	case core.EvHide:
	case core.EvDeleted, core.EvFailed:
		ev.Name, ev.Result = r.str(msg, "name"), r.str(msg, "result")
	case core.EvAdded:
	case core.EvSeen:
		for _, x := range r.list(msg, "seen") {
			ev.Seen = append(ev.Seen, core.Resource{Initiator: r.str(x, "i"), Host: r.str(x, "h")})
		}
	case core.EvBlocked:
		ev.Name = r.str(msg, "name")
	case core.EvRefused:
		ev.Name, ev.Result = r.str(msg, "why"), r.str(msg, "host")
	default:
		return
	}
	if r.err != nil {
		consoleError("consent: malformed message " + string(kind) + ": " + r.err.Error())
		return
	}
	h.apply(h.core.Handle(ev))
}

// start loads the configuration and starts delivery.
func (h *host) start(msg safejs.Value) error {
	var r jsReader
	base := r.str(msg, "base")
	// The page's clock is the module's: the worker's is the same machine's,
	// but a page may set its own (the tests freeze it), so the worker's
	// runs the page's skew ahead. (Not the page's Date.now() at sending
	// less the worker's at reading: the worker reads the start message
	// once it has started, up to seconds later, and would run behind the
	// page's clicks by as much.)
	skew := time.Duration(r.int(r.get(msg, "page"), "skew")) * time.Millisecond
	now := func() time.Time { return time.Now().Add(skew) }
	v, err := fetchConfig(r.str(msg, "cfg"), base)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(v, now())
	if err != nil {
		return err
	}
	h.m = &module{cfg: cfg, now: now}
	if err := h.m.startReceipts(base, readStrings(&r, msg, "spilled")); err != nil {
		return err
	}
	h.core = core.New(&cfg.core, core.Env{Now: now, NewID: newID})
	return nil
}

// apply does the host's effects and posts the page's to the executor, in
// order, in one message: a JSON array (core.AppendEffect).
func (h *host) apply(fx []core.Effect) {
	b := []byte{'['}
	for _, e := range fx {
		switch e := e.(type) {
		case core.Receipt:
			h.m.emitReceipt(entry{id: e.ID, subject: e.Subject, wire: e.Wire}, e.Pending)
		case core.OnHide:
			if r := e.Receipt; r.ID != "" {
				// Spilled as the page hides, stored by the next page (migrate).
				e.SpillKey, e.Spill = outboxKey+".hide."+r.ID, string(appendLine(nil, lineOpen, entry{id: r.ID, subject: r.Subject, wire: r.Wire}))
			}
			b = core.AppendEffect(b, e)
		case core.RefreshCookie:
			h.m.pageBehind()
			b = core.Object(b, "refresh").Str("url", h.m.out.cookieURL).Close()
		case core.Discover:
			go h.m.discovered(e.Body)
		case core.DeleteDatabase:
			go h.deleteDatabase(e.Name)
		case core.DeleteCache:
			go deleteCache(e.Name)
		case core.History:
			b = core.Object(b, "settle").Int("call", e.Call).Str("json", h.m.historyJSON()).Close()
		case core.Download:
			b = core.Object(b, "download").Str("name", e.Name).Str("text", h.m.downloadText()).Close()
		default:
			b = core.AppendEffect(b, e)
		}
	}
	if len(b) > 1 {
		post(b)
	}
}

// post sends the executor a list of effects (a JSON array, without its
// closing bracket).
func post(list []byte) {
	safejs.Global().Call("postMessage", string(append(list, ']')))
}

// effect starts a list of one effect of the host's own.
func effect(kind string) core.JSON { return core.Object([]byte{'['}, kind) }

// readTree reads a compact tree back into a view.
func readTree(r *jsReader, v safejs.Value) consent.Node {
	if v.Type() == safejs.TypeString {
		s, _ := v.String()
		return consent.T(s)
	}
	parts := r.list(v, "")
	if len(parts) < 2 {
		return consent.Node{}
	}
	tag, _ := parts[0].String()
	n := consent.Node{Tag: tag}
	attrs := r.list(parts[1], "")
	for i := 0; i+1 < len(attrs); i += 2 {
		name, _ := attrs[i].String()
		value, _ := attrs[i+1].String()
		n.Attrs = append(n.Attrs, consent.Attr{Name: name, Value: value})
	}
	for _, k := range parts[2:] {
		n.Kids = append(n.Kids, readTree(r, k))
	}
	return n
}

func readStrings(r *jsReader, v safejs.Value, key string) []string {
	var out []string
	for _, s := range r.list(v, key) {
		if s.Type() == safejs.TypeString {
			t, _ := s.String()
			out = append(out, t)
		}
	}
	return out
}

func readPage(msg safejs.Value) *core.Page {
	var r jsReader
	p := r.get(msg, "page")
	page := &core.Page{
		Host: r.str(p, "host"), Path: r.str(p, "path"), HTTPS: r.bool(p, "https"),
		Switched: r.str(p, "switched"), Lang: r.str(p, "lang"), Langs: readStrings(&r, p, "langs"),
		GPC: r.bool(p, "gpc"), DNT: r.str(p, "dnt"), Refreshed: r.bool(p, "refreshed"),
		Status: r.bool(p, "status"), Permissions: r.bool(p, "permissions"),
		Answers: r.str(p, "answers"), Separate: r.str(p, "separate"), Started: int64(r.int(p, "started")),
		Shown: r.str(p, "shown"), Hidden: r.bool(p, "hidden"), Vouched: r.bool(p, "vouched"), Browser: map[string]string{},
		Discovered: r.str(p, "discovered"),
	}
	browser := r.get(p, "browser")
	if browser.Type() == safejs.TypeObject {
		for _, k := range readStrings(&r, must(call("Object", "keys", browser)), "") {
			page.Browser[k] = r.str(browser, k)
		}
	}
	for _, q := range r.list(p, "queue") {
		page.Queue = append(page.Queue, readClick(q))
	}
	return page
}

func readClick(v safejs.Value) core.Click {
	var r jsReader
	return core.Click{Action: consent.Action(r.str(v, "a")), Value: r.str(v, "v"), Notice: r.str(v, "n"),
		InView: r.bool(v, "in"), On: readStrings(&r, v, "on"), At: int64(r.int(v, "at"))}
}

// readCall reads a window.consent call: {call, m, args}.
func readCall(msg safejs.Value, ev *core.Event) {
	var r jsReader
	ev.Call, ev.Method = r.int(msg, "call"), r.str(msg, "m")
	args := r.list(msg, "args")
	switch ev.Method {
	case "set":
		if len(args) == 0 || args[0].Type() != safejs.TypeObject {
			ev.BadArgs = "set wants an object such as {analytics: true}"
			return
		}
		ev.Set = map[string]bool{}
		keys, _ := call("Object", "keys", args[0])
		for _, k := range readStrings(&r, keys, "") {
			ev.Set[k] = r.bool(args[0], k)
		}
	case "requestSeparateConsent":
		if len(args) == 0 || args[0].Type() != safejs.TypeString {
			ev.BadArgs = `want an item id such as "location"`
			return
		}
		ev.Item, _ = args[0].String()
	case "requestPermission":
		if len(args) > 0 {
			list := []safejs.Value{args[0]}
			if args[0].Type() == safejs.TypeObject {
				list = r.list(args[0], "")
			}
			for _, v := range list {
				if v.Type() != safejs.TypeString {
					ev.Kinds = nil
					break
				}
				s, _ := v.String()
				ev.Kinds = append(ev.Kinds, s)
			}
		}
		if len(args) > 1 && args[1].Type() == safejs.TypeObject {
			if v := r.get(args[1], "purpose"); !v.IsUndefined() {
				if v.Type() != safejs.TypeString {
					ev.BadArgs = "purpose must be a string"
					return
				}
				ev.Purpose, _ = v.String()
			}
		}
	}
	if r.err != nil {
		ev.BadArgs = r.err.Error()
	}
}

// readJar reads the page's storage and adds the worker's: the names of
// IndexedDB databases and Cache Storage caches (waiting on promises).
func (h *host) readJar(v safejs.Value) *core.Jar {
	var r jsReader
	j := &core.Jar{Cookie: r.str(v, "cookie"), Local: readStrings(&r, v, "local"), Session: readStrings(&r, v, "session")}
	if idb, err := global("indexedDB"); err == nil && idb.Type() == safejs.TypeObject {
		if p, err := idb.Call("databases"); err == nil {
			if list, err := await(p); err == nil {
				for _, db := range r.list(list, "") {
					j.Databases = append(j.Databases, r.str(db, "name"))
				}
			}
		}
	}
	if caches, err := global("caches"); err == nil && caches.Type() == safejs.TypeObject {
		if p, err := caches.Call("keys"); err == nil {
			if keys, err := await(p); err == nil {
				j.Caches = readStrings(&r, keys, "")
			}
		}
	}
	return j
}

// deleteDatabase deletes the IndexedDB database name and tells the core how
// it ended: deleted, blocked (a connection a script of the page holds open:
// the browser deletes it once that closes) or failed.
func (h *host) deleteDatabase(name string) {
	idb, err := global("indexedDB")
	if err != nil {
		return
	}
	req, err := idb.Call("deleteDatabase", name)
	if err != nil {
		h.deleted(name, err.Error())
		return
	}
	answer := make(chan string, 3)
	var funcs []safejs.Func
	for _, ev := range []string{"success", "error", "blocked"} {
		f, err := callback("deleteDatabase", func(safejs.Value, []safejs.Value) any {
			answer <- ev
			return nil
		})
		if err != nil {
			return
		}
		funcs = append(funcs, f)
		req.Set("on"+ev, f)
	}
	switch <-answer {
	case "success":
		h.deleted(name, "deleted")
	case "error":
		var r jsReader
		h.deleted(name, "failed: "+r.str(r.get(req, "error"), "message"))
	default:
		h.deleted(name, "blocked")
		<-answer // the callbacks stay until the browser answers
	}
	for _, f := range funcs {
		f.Release()
	}
}

// deleted hands the end of a deletion to the core, in turn with the
// executor's messages.
func (h *host) deleted(name, result string) {
	h.push(must(safejs.ValueOf(map[string]any{"t": string(core.EvDeleted), "name": name, "result": result})))
}

func deleteCache(name string) {
	if caches, err := global("caches"); err == nil && caches.Type() == safejs.TypeObject {
		if p, err := caches.Call("delete", name); err == nil {
			await(p)
		}
	}
}

// consoleWarn and consoleError go to the page's console (a worker's would
// need devtools attached to the worker to be seen).
func consoleWarn(msg string)  { logTo("warn", msg) }
func consoleError(msg string) { logTo("error", msg) }

// logTo writes to the page's console (tests replace it).
var logTo = func(level, msg string) { post(effect("log").Str("level", level).Str("msg", msg).Close()) }
