package core

import "workly.ai/consent"

// The messages between the page and the core, declared once: these types,
// and web/messages.d.ts for the JavaScript side (the loader and the executor),
// which the wasm host translates to and from. TestMessagesMatchTypeScript
// keeps the two in step: every Event and Effect kind here is declared there.

// Event is one thing that happened, handed to Core.Handle. Kind says which;
// the other fields are those its kind uses.
type Event struct {
	Kind EventKind

	// start: the page as the executor found it, and what it read.
	Page *Page
	// start, sweep, click, call: what the page stores now.
	Jar *Jar

	// click: a control of one of the module's views, or of the page.
	Click *Click

	// call: a window.consent method. Call is its number, settled by a
	// Settle effect with the same number.
	Call   int
	Method string
	// Set is set({category: bool})'s argument; Kinds and Purpose are
	// requestPermission's. BadArgs says what is wrong with the arguments, if
	// anything (the host reads them; the core answers).
	Set     map[string]bool
	Kinds   []string
	Purpose string
	// Item is requestSeparateConsent's argument.
	Item    string
	BadArgs string

	// answer: the browser's answer to an AskBrowser effect (Call), or a
	// change of a permission (Call 0): Kind of permission, State.
	Permission string
	State      string

	// closed: the person closed the view named View (Esc, the close button).
	View string

	// seen: the hosts the page contacted (the listener's; see Observe).
	Seen []Resource

	// blocked: Name is a host the executor blocked a request to (Block).
	// deleted: a DeleteDatabase effect ended with Result "deleted", "blocked"
	// or an error message. failed: the effect of kind Name failed with the
	// error Result.
	Name, Result string
}

// EventKind names an event.
type EventKind string

const (
	EvStart   EventKind = "start"   // the module has loaded
	EvClick   EventKind = "click"   // a trusted click on a control
	EvCall    EventKind = "call"    // a window.consent method was called
	EvSweep   EventKind = "sweep"   // cookies or storage may have changed
	EvAdded   EventKind = "added"   // the page added empty privacy settings ([data-consent-permissions])
	EvAnswer  EventKind = "answer"  // a browser permission answer or change
	EvClosed  EventKind = "closed"  // a dialog of the module was closed
	EvHide    EventKind = "hide"    // the page is being hidden (pagehide)
	EvDeleted EventKind = "deleted" // a database deletion ended
	EvFailed  EventKind = "failed"  // the executor could not apply an effect
	EvSeen    EventKind = "seen"    // the page contacted hosts (resource timing)
	EvBlocked EventKind = "blocked" // the executor blocked a request to a host
	EvRefused EventKind = "refused" // the loader refused gated content (Name: why; Result: the undeclared source's host, if any)
)

// Resource is a host the page contacted, with the resource timing's
// initiator type ("script", "iframe", "fetch", "img", …): never a URL.
type Resource struct{ Initiator, Host string }

// Page is what the executor reads of the page once, at start.
type Page struct {
	Host, Path string // location.hostname, pathname
	HTTPS      bool   // location.protocol is https:
	// Locale preferences, in order: switched to in this tab (sessionStorage),
	// <html lang>, navigator.languages.
	Switched string
	Lang     string
	Langs    []string
	GPC      bool   // navigator.globalPrivacyControl
	DNT      string // navigator.doNotTrack
	// Refreshed: the server set the consent cookie again in this browser
	// session already (sessionStorage consent.refreshed).
	Refreshed bool
	// Status, Permissions: the page has [data-consent-status] or
	// [data-consent-permissions] elements.
	Status, Permissions bool
	// Browser is navigator.permissions' state of each of the site's
	// permissions ("granted", "denied", "prompt"; missing where it cannot
	// tell). Answers is the stored answers (localStorage consent.permissions).
	Browser map[string]string
	Answers string
	// Separate is the stored answers to separate consents (localStorage
	// consent.separate).
	Separate string
	// Queue is the clicks the loader held before the module loaded, in order.
	Queue []Click
	// Started is when this page started loading (performance.timeOrigin, Unix
	// ms): queued clicks are never older.
	Started int64
	// Subject is the consent id the outbox holds for receipts made before a
	// first choice (the host reads it from the outbox), "" for none.
	Subject string
	// Shown is the view the loader painted: "" for none, else the version the
	// notice was painted for ("-" for the first-visit banner), and Hidden
	// whether a queued click hid it.
	Shown  string
	Hidden bool
	// Vouched: the consent cookie's proof verifies with the server's cookie
	// key, or it is the cookie this origin's module wrote last (the loader
	// checks; see web/loader.js). Any other cookie grants nothing.
	Vouched bool
	// Discovered is the UTC day this browser last reported what it found
	// undeclared (localStorage consent.discovered), "" for never.
	Discovered string
}

// Jar is what the page stores now: document.cookie, the keys of
// localStorage and sessionStorage, and (filled by the host, in the worker)
// the names of IndexedDB databases and Cache Storage caches.
type Jar struct {
	Cookie            string
	Local, Session    []string
	Databases, Caches []string
}

// Click is a click on a control: Action (data-consent-action, or the hooks
// "locale", "grant", "reset"), Value the control's argument (the locale, the
// category, the identifier, the permission kind), Notice the
// data-consent-notice of the view it sits in ("" for the page), InView
// whether it sits in a view the module or the loader rendered, On the
// categories switched on in the open preferences centre, At its time (Unix
// ms).
type Click struct {
	Action consent.Action
	Value  string
	Notice string
	InView bool
	On     []string
	At     int64
}

// Click hooks other than data-consent-action.
const (
	HookLocale consent.Action = "locale" // data-consent-locale
	HookGrant  consent.Action = "grant"  // data-consent-grant (a placeholder's)
	HookReset  consent.Action = "reset"  // data-consent-reset (an identifier's)
)

// Effect is one thing for the page or the host to do. Page effects go to the
// executor on the main thread, in order; host effects (Receipt, Discover,
// DeleteDatabase, DeleteCache, History) are done by the wasm host in the
// worker.
type Effect interface{ effect() string }

// SetCookie sets document.cookie to V (a cookie, or a deletion).
type SetCookie struct{ V string }

// Storage sets Key in Area ("local" or "session") to Value, or removes it
// when Remove.
type Storage struct {
	Area, Key, Value string
	Remove           bool
}

// Show shows a view. Where is "root" (in place of the module's notice, else
// appended to the body), "body" (appended), or a selector whose elements
// each get a copy as their only child. Name is the view's name (its
// data-consent-view), Modal opens a dialog with showModal, Hold keeps Esc
// from closing it, Focus a selector inside it to focus.
type Show struct {
	Name  string
	Tree  consent.Node
	Where string
	Modal bool
	Hold  bool
	Focus string
}

// Remove removes every element matching Sel; Close closes the dialogs
// matching Sel (their close event follows).
type Remove struct{ Sel string }

// SetAttr sets attribute Name to Value on every element matching Sel.
type SetAttr struct{ Sel, Name, Value string }

// Release applies consent to the page's gated content: scripts and iframes
// of Granted categories run and load; iframes of the other Known categories
// show Placeholders[category]; elements of unknown categories are left
// alone with one warning. It applies again to content added later.
type Release struct {
	Granted, Known []string
	Placeholders   map[string]consent.Node
	// Separate lists the separate-consent items granted under the
	// statement shown now: content that also names one
	// (data-consent-separate) runs only once it is granted.
	Separate []string
}

// ConsentMode tells Google Consent Mode the granted categories (the loader's
// table maps them to types).
type ConsentMode struct{ Granted []string }

// Dispatch dispatches CustomEvent Name on window with Detail.
type Dispatch struct {
	Name   string
	Detail any
}

// StateNow is the state window.consent.state() and granted() answer from
// now on (nil for no consent), and the first one resolves consent.ready.
type StateNow struct{ V map[string]any }

// Settle settles the promise of call Call with V, or rejects it with Err.
type Settle struct {
	Call int
	V    any
	Err  string
}

// Log writes Msg to the console at Level ("warn" or "error").
type Log struct{ Level, Msg string }

// OnHide is what the executor does as the page hides, prepared in advance
// (a worker may be stopped before it hears of the hide): set Cookie (the
// continued-use acknowledgement) if not "", remember its value, Written, as
// the cookie this origin's module wrote last, and keep Spill in
// localStorage at SpillKey, for the next page's outbox. Receipt is the
// continued-use receipt; the host turns it into Spill, its stored form, and
// the core makes the same receipt (same id) when it hears of the hide, so
// the outbox keeps one.
type OnHide struct {
	Cookie, Written string
	Receipt         Receipt
	SpillKey, Spill string
}

// AskBrowser asks the browser for Kinds (getUserMedia, Notification,
// geolocation, storage.persist); the answer comes back as an answer event
// with Call.
type AskBrowser struct {
	Call  int
	Kinds []string
}

// Download saves History's JSON as a file; the host fills the text.
type Download struct{ Name string }

// Receipt puts a receipt in the outbox: its ID, Subject and Wire form
// (consent.AppendReceiptJSON). Pending is the consent id the outbox keeps
// for receipts made before a first choice ("" once there is a choice). (The
// wire form, not a consent.Receipt: a time.Time in an interface value would
// link Go's time formatting into the module, ~12 KB brotli.)
type Receipt struct {
	ID, Subject, Wire string
	Pending           string
}

// RefreshCookie asks the server to set the consent cookie again (POST
// /v1/cookie; the host gives the URL). The executor sends it after the
// cookie effects before it: the request carries the cookie as just written.
type RefreshCookie struct{}

// DeleteDatabase and DeleteCache delete an IndexedDB database and a Cache
// Storage cache (in the worker).
type DeleteDatabase struct{ Name string }
type DeleteCache struct{ Name string }

// History settles call Call with the person's history (the host has it).
type History struct{ Call int }

func (SetCookie) effect() string      { return "cookie" }
func (Storage) effect() string        { return "storage" }
func (Show) effect() string           { return "show" }
func (Remove) effect() string         { return "remove" }
func (Close) effect() string          { return "close" }
func (SetAttr) effect() string        { return "attr" }
func (Release) effect() string        { return "release" }
func (ConsentMode) effect() string    { return "mode" }
func (Dispatch) effect() string       { return "dispatch" }
func (StateNow) effect() string       { return "state" }
func (Settle) effect() string         { return "settle" }
func (Log) effect() string            { return "log" }
func (OnHide) effect() string         { return "onhide" }
func (AskBrowser) effect() string     { return "ask" }
func (Download) effect() string       { return "download" }
func (Receipt) effect() string        { return "receipt" }
func (RefreshCookie) effect() string  { return "refresh" }
func (DeleteDatabase) effect() string { return "deletedb" }
func (DeleteCache) effect() string    { return "deletecache" }
func (History) effect() string        { return "history" }

// Block makes the page's fetch, XMLHttpRequest, sendBeacon, image and
// WebSocket requests fail when the longest of Hosts and Allow that their
// host is or falls under is only in Hosts (refused categories' hosts;
// Allow: the others'); never the module's own (its origin's), nor paths
// on the page's origin. Each host blocked is told once (a blocked event).
// It replaces the Block before.
type Block struct{ Hosts, Allow []string }

// Observe starts the listener on the page: the hosts of the resources it
// loaded and loads (seen events), and one sweep After ms from now.
type Observe struct{ After int }

// Discover posts Body to POST /v1/discovered (the host does, without
// credentials).
type Discover struct{ Body string }

func (Block) effect() string    { return "block" }
func (Observe) effect() string  { return "observe" }
func (Discover) effect() string { return "discover" }

// Close closes the dialogs matching Sel.
type Close struct{ Sel string }

// Kind is an effect's name in messages.
func Kind(e Effect) string { return e.effect() }
