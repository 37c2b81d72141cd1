// The messages between the loader, the executor (main thread) and the
// module's worker (the core, package core, and its wasm host), declared once.
// core/messages.go is the Go side; TestMessagesMatchTypeScript keeps every
// event and effect kind of the two in step.

/** A view in compact form: [tag, [name, value, ...], child...] or a text. */
export type Tree = string | [string, string[], ...Tree[]];

/** What the loader hands the executor, once, through consent._boot(). */
export interface Loader {
  /** The build's table: x, wk, cfg, vc (URLs), v, c, n, cm, dnt, o, css, cssUrl. */
  D: Record<string, unknown>;
  /** The loader's URL: the module's files are relative to it. */
  base: string;
  /** Every view the loader and the executor rendered: only their controls choose. */
  views: WeakSet<Element>;
  /** Clicks on the notice before the executor took over, in order. */
  queue: Click[];
  /** The Trusted Types policy for the module's and gated scripts' URLs. */
  tt: { createScriptURL(s: string): unknown; createScript(s: string): unknown };
  /** Renders a tree with createElement and createTextNode only. */
  h(t: Tree): Element;
  /** Runs a gated script, or loads a gated iframe. */
  run(el: Element): void;
  /** The selector of gated content. */
  gated: string;
  /** The notice painted: "" none, "-" the first-visit banner, else the version acknowledged. */
  shown(): string;
  /** A queued click hid the notice. */
  hidden(): boolean;
  /** Settles once the loader has painted what it paints (shown() is final then), to whether the
   *  consent cookie is vouched for (its proof verifies, or this origin's module wrote it). */
  ok: Promise<boolean>;
  /** Hands f every refusal of gated content so far, then each later one, as it happens. */
  refused(f: (m: { t: "refused"; why: string; host: string }) => void): void;
  /** Sets what consent.state() and granted() answer. */
  set(state: State | null): void;
  /** Resolves consent.ready. */
  resolve(state: State | null): void;
  /** Google Consent Mode update for the granted categories, where the site uses it. */
  gtag: false | ((granted: string[]) => void);
}

export interface State {
  id: string; policy: string; current: boolean; granted: string[]; given: number; updated: number;
}

/** A click on a control of the module's views or of the page. */
export interface Click {
  /** data-consent-action, or the hooks "locale", "grant", "reset". */
  a: string;
  /** The control's argument: locale, category, identifier, permission kind or separate-consent item. */
  v: string;
  /** data-consent-notice of the view it sits in; "" on the page. */
  n: string;
  /** It sits in a view the loader or the executor rendered. */
  in: boolean;
  /** categories switched on in the open preferences centre (save). */
  on?: string[];
  /** Unix ms. */
  at: number;
}

export interface Jar { cookie: string; local: string[]; session: string[] }

export interface Page {
  host: string; path: string; https: boolean;
  switched: string; lang: string; langs: string[];
  gpc: boolean; dnt: string; refreshed: boolean;
  status: boolean; permissions: boolean;
  browser: Record<string, PermissionState>; answers: string;
  /** localStorage consent.separate: the answers to separate consents. */
  separate: string;
  queue: Click[]; started: number; shown: string; hidden: boolean; vouched: boolean;
  /** The UTC day this browser last reported to POST /v1/discovered (localStorage consent.discovered). */
  discovered: string;
  /** How far the page's clock (Date.now()) is ahead of the machine's (ms; a page, or a test, may set its
   *  own): the worker's clock moved by it is the core's, the one policy dates are read by. (Not the page's
   *  time itself: the worker reads the message later, after it starts.) */
  skew: number;
}

/** Executor → worker: the core's events (core.EventKind). */
export type Event =
  | { t: "start"; cfg: string; base: string; page: Page; jar: Jar; spilled: string[] }
  /** The host's own: the page has applied a refresh effect and the cookie effects before it. */
  | { t: "applied" }
  | { t: "click"; click: Click; jar: Jar }
  | { t: "call"; call: number; m: string; args: unknown[]; jar: Jar }
  | { t: "sweep"; jar: Jar }
  | { t: "added" }
  | { t: "answer"; call: number; kind?: string; state: string }
  | { t: "closed"; view: string }
  | { t: "hide" }
  | { t: "failed"; name: string; result: string }
  /** Hosts the page contacted (resource timing), host names only; after an observe effect. */
  | { t: "seen"; seen: { i: string; h: string }[] }
  /** A request to this host was blocked (told once per host). */
  | { t: "blocked"; name: string }
  | { t: "refused"; why: string; host: string };
// The host's own event, not sent by the executor: { t: "deleted"; name; result }.

/** Worker → executor: a list of effects, applied in order. */
export type Effect =
  | { t: "listening" }
  | { t: "cookie"; v: string }
  | { t: "storage"; area: "local" | "session"; key: string; value: string; remove: boolean }
  | { t: "show"; name: string; tree: Tree; where: string; modal: boolean; hold: boolean; focus: string }
  | { t: "remove"; sel: string }
  | { t: "close"; sel: string }
  | { t: "attr"; sel: string; name: string; value: string }
  | { t: "release"; granted: string[]; known: string[]; separate: string[]; placeholders: Record<string, Tree> }
  | { t: "mode"; granted: string[] }
  | { t: "dispatch"; name: string; detail: unknown }
  | { t: "state"; v: State | null }
  | { t: "settle"; call: number; v?: unknown; json?: string; err?: string }
  | { t: "log"; level: "warn" | "error"; msg: string }
  | { t: "onhide"; cookie: string; written: string; spillKey: string; spill: string }
  | { t: "beacon"; url: string; body: string }
  | { t: "refresh"; url: string }
  | { t: "spilled" }
  | { t: "ask"; call: number; kinds: string[] }
  | { t: "download"; name: string; text: string }
  /** Block the page's requests to hosts (and subdomains) but allow's, never the module's origin. */
  | { t: "block"; hosts: string[]; allow: string[] }
  /** Start the listener: report resource hosts (seen), sweep once after ms. */
  | { t: "observe"; after: number };
// Done by the host in the worker, never posted: receipt, deletedb,
// deletecache, history, discover.
