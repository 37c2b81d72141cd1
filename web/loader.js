// The loader: the only script on the critical path. It reads the consent
// cookie, compares it with the policy manifest baked in at build time, and
// either paints the notice Go pre-rendered at build time or, for a visitor
// whose consent is current, releases the gated scripts of the granted
// categories at once. Then, after first paint, it loads the executor
// (web/executor.js), which starts the module in a Web Worker.
//
// It never writes consent state and decides no policy: clicks on notice
// controls wait in a queue in memory, for this page only, until the module,
// the only writer, applies them (a queue in storage could be forged by any
// script of the origin).
//
// The build replaces DATA below with JSON.parse of a string holding:
//   v    policy version id in force at build time
//   u    versions published ahead of their date, oldest first: [effective,
//        id, advance] (Unix ms; advance: when the advance note about it
//        starts). From its effective day by this browser's clock a version
//        replaces v (the rule is Manifest.InForce's;
//        testdata/effective-vectors.json pins both), and the notices are
//        then those the module's configuration holds for it (notices[id]),
//        fetched; so is the advance note (notices[v][v]) when it is due
//   c    consent cookie name
//   css  the notices' CSS text
//   x, wk, cfg, vc  hashed URLs of the executor, of the module's worker, of
//               the module's configuration and of its views' stylesheet,
//               relative to this script's URL
//   n    the first-visit banner: n[""] = {k: kind, "zh-CN": tree, en: tree}; a
//        tree is [tag, [name, value, ...], child...] or a text string. The
//        notices for people who acknowledged an older version are in the
//        module's configuration (notices[v][acked]), fetched when needed.
//   p    the versions in force: a cookie naming another is no consent
//   cm   Google Consent Mode: type -> category granting it ("" = always), or null
//   dnt  whether Do Not Track counts like Global Privacy Control
//   o    the optional categories; src: category -> origins its gated content
//        may come from besides the page's
//   k    the server's cookie key (ECDSA P-256, raw, base64url)
//
// A cookie's choice counts only when vouched for: its proof verifies with k
// (the server stored the receipt of that choice), or it is the cookie this
// origin's module wrote last (localStorage consent.written: the person's own
// choice, its receipt not yet acknowledged). Any other cookie (a page
// script's, one tossed from a sibling subdomain) grants nothing: no consent,
// the banner asks again.
//
// What the loader hands the executor, once, through consent._boot(): its
// table, the views it rendered, the queued clicks, and the functions the
// executor shares (web/messages.d.ts, Loader).
(function () {
  "use strict";
  var D = /*DATA*/ null;
  var w = window, doc = document, LKEY = "consent.locale";
  var api = w.consent;
  // An element named "consent" in the page (<form id=consent>) is not the
  // API (DOM clobbering): only a plain object is.
  if (!api || Object.getPrototypeOf(api) !== Object.prototype) api = {};
  else if (api._loader) return; // loaded twice: the first one stands
  api._loader = 1;
  // Page scripts cannot replace the API once it is installed.
  Object.defineProperty(w, "consent", { value: api, enumerable: true });
  // Every view the loader and the module render: their controls act, the
  // page's may only open the preferences (markup cannot choose for a person).
  var views = new WeakSet();
  var base = doc.currentScript && doc.currentScript.src || location.href;

  var resolve, ready = new Promise(function (r) { resolve = r; });
  api.ready = ready;
  // Calls made before the module has loaded wait for it, then run.
  ["acceptAll", "rejectAll", "set", "openPreferences", "acknowledge", "history", "requestPermission", "requestSeparateConsent"].forEach(function (m) {
    api[m] = function () {
      var args = arguments;
      return ready.then(function () { return api[m].apply(api, args); });
    };
  });

  // parse returns the consent state in a cookie value of format 1, or null,
  // and keeps its proof in P (its text, expiry and signature). The rules are
  // DecodeCookie's in cookie.go; testdata/cookie-vectors.json pins both.
  var P;
  function parse(v) {
    var f = v.length <= 1024 && /^1~([\w-]{22})~([a-z0-9](?:[a-z0-9.-]{0,30}[a-z0-9])?)~((?:[a-z][a-z0-9_]{0,31}(?:\.[a-z][a-z0-9_]{0,31})*)?)~([1-9]\d{9})~([1-9]\d{9})(?:~([1-9]\d{9})~([\w-]{86}))?$/.exec(v);
    var g = f && f[3] ? f[3].split(".") : [], t = f ? [f[4], f[5], f[6] || 0].map(function (s) { return s >= 1577836800 && s <= 4102444800 ? +s : 0; }) : [];
    for (var i = 0; i < g.length; i++) if (g.indexOf(g[i]) < i) f = 0;
    if (!f || f[2].indexOf("..") >= 0 || !(t[0] && t[1] && t[0] <= t[1]) || f[6] && !t[2]) return null;
    if (f[6]) P = [v.slice(0, v.lastIndexOf("~")), t[2], f[7]];
    return { id: f[1], policy: f[2], granted: g.sort(), given: t[0], updated: t[1] };
  }

  // cookie returns the value of the first cookie called name, or "".
  function cookie(name) {
    return (("; " + doc.cookie).split("; " + name + "=")[1] || "").split(";")[0];
  }

  var raw = cookie(D.c), state = parse(raw), now = Date.now(), AKEY = "consent.advance", up, next, mine;
  try { mine = localStorage.getItem("consent.written"); } catch (e) {}
  function b64(s) {
    return Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/")), function (c) { return c.charCodeAt(0); });
  }
  var sub = w.crypto && crypto.subtle, EC = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
  // Beside the one this origin wrote last, a cookie that is not it and is
  // no newer (a sibling subdomain restoring a withdrawn choice it saw), or
  // names another consent id (someone else's vouched cookie tossed in),
  // counts for nothing, proof or not.
  var p0 = P, ours = mine && parse(mine), stale = !!state && !!ours && raw.split("~").slice(0, 6).join("~") != mine &&
    (state.updated <= ours.updated || state.id != ours.id);
  P = p0;
  var vouched = Promise.resolve(!!state && !stale && (mine == raw || !!P && !!sub && P[1] * 1000 > now &&
    sub.importKey("raw", b64(D.k), EC, false, ["verify"]).then(function (k) {
      return sub.verify(EC, k, b64(P[2]), new TextEncoder().encode(P[0]));
    }))).catch(function () { return false; });
  // A person who chose before keeps their choice while a newer policy waits
  // for them: nothing newer is assumed, nothing older is taken away.
  // (A version the manifest does not know, or not yet in force, counts as
  // no consent.)
  var known, adv;
  (D.u || []).forEach(function (u) {
    if (now < u[0]) next = next || u;
    else up = D.v = u[1];
  });
  // What the loader knows, once vouched; the module's state once it runs.
  api.granted = function (c) { return !!known && state.granted.indexOf(c) >= 0; };
  api.state = function () { return known === undefined ? null : state; };

  // h builds DOM nodes from a pre-rendered tree: createElement and
  // createTextNode only, never HTML parsing.
  function h(n) {
    if (typeof n == "string") return doc.createTextNode(n);
    var e = doc.createElement(n[0]), a = n[1];
    for (var i = 0; i < a.length; i += 2) e.setAttribute(a[i], a[i + 1]);
    for (i = 2; i < n.length; i++) e.appendChild(h(n[i]));
    return e;
  }

  // The locale: the first supported one of the person's preferences, in
  // order: switched to in this tab, <html lang>, the browser's languages;
  // else the default. The rule is consent.ChooseLocale's;
  // testdata/locale-vectors.json pins both.
  function locale() {
    var l = "";
    try { l = sessionStorage.getItem(LKEY) || ""; } catch (e) {}
    var tags = [l, doc.documentElement.lang].concat(navigator.languages || [navigator.language]);
    for (var i = 0; i < tags.length; i++) {
      var m = /^(zh|en)([-_]|$)/i.exec(tags[i] || "");
      if (m) return /en/i.test(m[1]) ? "en" : "zh-CN";
    }
    return "zh-CN";
  }

  // refuse reports gated content that may not load, with the element and
  // why, and throws: nothing of it is used.
  // Each refusal is also counted by the module (the executor's hook, or
  // queued until it runs): the host of an undeclared source goes to the
  // listener's report.
  var refusals = [], hook = function (r) { refusals.push(r); };
  function refuse(el, why, host) {
    console.warn("consent: refused", el, why);
    hook({ t: "refused", why: why, host: host || "" });
    throw new TypeError(why);
  }
  // from returns the URL u of category c's gated content (no c: the
  // module's own scripts), resolved, when it may load: http(s) only (never
  // javascript: or data:), from the page's origin, the module's, or one the
  // category declares (site.json sources).
  function from(u, c, el) {
    try { u = new URL(u, location.href); } catch (e) {}
    if (!u || !/^https?:$/.test(u.protocol)) refuse(el, "not an http(s) URL");
    if (u.origin != location.origin && u.origin != new URL(base).origin && (D.src[c] || []).indexOf(u.origin) < 0)
      refuse(el, u.origin + " is not a source of " + c, u.hostname);
    return u.href;
  }
  // On a page with a nonce CSP (the loader came with a nonce), a gated script
  // runs only with that nonce: markup injected without it stays inert.
  var nonce = doc.currentScript && doc.currentScript.nonce;
  function nonced(el, v) {
    if (nonce && el.nonce != nonce) refuse(el, "it lacks the page's nonce");
    return v;
  }
  // Trusted Types: the "consent" policy (the page's CSP must allow it:
  // trusted-types consent) passes only what from and nonced allow. It stays
  // in this closure and the executor's (see _boot); the same rules apply
  // where browsers have no Trusted Types.
  var tt = {
    createScriptURL: function (u, c, el) { return c ? nonced(el, from(u, c, el)) : from(u); },
    createScript: function (t, c, el) { return nonced(el, t); }
  };
  try { if (w.trustedTypes) tt = trustedTypes.createPolicy("consent", tt); } catch (e) {}

  // release runs gated scripts and loads gated iframes of the granted
  // optional categories (the rule is Site.Releases'; unknown and required
  // categories gate nothing; testdata/release-vectors.json pins both).
  var gated = 'script[type="text/plain"][data-consent], iframe[data-consent][data-src]';
  function release(granted) {
    var s = doc.querySelectorAll(gated);
    for (var i = 0; i < s.length; i++) {
      var c = s[i].getAttribute("data-consent");
      // Content that also needs a separate consent (data-consent-separate)
      // waits for the module, which knows the statement it was granted for.
      if (granted.indexOf(c) >= 0 && D.o.indexOf(c) >= 0 && !s[i].hasAttribute("data-consent-separate")) run(s[i]);
    }
  }
  // run runs a gated script or loads a gated iframe, unless refused (and
  // reported).
  function run(o) {
    var c = o.getAttribute("data-consent");
    try {
      if (o.tagName == "IFRAME") {
        var v = o.getAttribute("data-src");
        o.removeAttribute("data-src");
        o.src = from(v, c, o);
        return;
      }
      var x = doc.createElement("script");
      for (var j = 0; j < o.attributes.length; j++) {
        var at = o.attributes[j].name, val = o.attributes[j].value;
        if (at == "src") x.src = tt.createScriptURL(val, c, o);
        else if (at != "type" && at != "data-consent" && at != "nonce") x.setAttribute(at, val);
      }
      if (o.nonce) x.nonce = o.nonce;
      x.type = o.getAttribute("data-type") || "text/javascript";
      if (o.text || !o.src) x.text = tt.createScript(o.text, c, o);
      o.parentNode.replaceChild(x, o);
    } catch (e) {} // refused, and reported
  }

  // Google Consent Mode v2: every type denied by default before any tag can
  // run (those of required categories granted), then the person's choice.
  function gtag() { (w.dataLayer = w.dataLayer || []).push(arguments); }
  function modes(granted) {
    var m = {};
    for (var t in D.cm) m[t] = !D.cm[t] || granted.indexOf(D.cm[t]) >= 0 ? "granted" : "denied";
    return m;
  }
  if (D.cm) {
    var dflt = modes([]);
    dflt.wait_for_update = 500;
    gtag("consent", "default", dflt);
  }

  // Global Privacy Control, and Do Not Track where the site honours it
  // (Site.SignalRefuses; testdata/signal-vectors.json pins both).
  var signal = navigator.globalPrivacyControl === true || (D.dnt && navigator.doNotTrack === "1");

  // The stylesheet: a constructed sheet applied before the first paint (no
  // request, allowed by style-src 'self'; every engine since 2023).
  try {
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(D.css);
    doc.adoptedStyleSheets = doc.adoptedStyleSheets.concat(sheet);
  } catch (e) {}

  var notice = null, entry, queue = [];
  // paint shows the notice in locale l, in place of the one shown before.
  function paint(l) {
    var old = notice;
    notice = h(entry[l]);
    notice.setAttribute("data-consent-root", "");
    views.add(notice);
    var gpc = notice.querySelector("[data-consent-gpc]");
    if (gpc && signal) gpc.hidden = false;
    if (old) old.replaceWith(notice); else doc.body.appendChild(notice);
    // A material change blocks the page until acknowledged: Esc does not close it.
    if (notice.showModal) {
      notice.addEventListener("cancel", function (e) { e.preventDefault(); });
      notice.showModal();
    }
  }
  // show paints the notice of notices n for this person, if any.
  function show(n) {
    entry = !state ? n[""] : state.policy == D.v ? adv && n[D.v] : n[state.policy] || n[""];
    if (entry) paint(locale());
  }
  // decided settles once the loader has painted what it paints (after a
  // fetch of the notices, for a returning visitor): the executor tells the
  // module what was shown only then. Its value is whether the cookie is
  // vouched for.
  var decided = vouched.then(function (ok) {
    if (state && !ok) console.warn("consent: the consent cookie has no valid proof from the server: it grants nothing");
    if (!ok) state = null;
    // A person who chose before keeps their choice while a newer policy
    // waits for them: nothing newer is assumed, nothing older is taken
    // away. (A version the manifest does not know, or not yet in force,
    // counts as no consent.)
    known = !!state && (state.policy == D.v || D.p.indexOf(state.policy) >= 0);
    // The advance note, for a person whose consent is current, once due and
    // until dismissed (for good: localStorage consent.advance).
    adv = next && state && state.policy == D.v && now >= next[2] && next[1];
    try { if (localStorage.getItem(AKEY) == adv) adv = 0; } catch (e) {}
    var painted = up || adv || state && state.policy != D.v ?
      fetch(new URL(D.cfg, base)).then(function (r) { return r.json(); }).then(function (c) { show(c.notices[D.v]); }) : show(D.n);
    if (known) {
      if (D.cm) gtag("consent", "update", modes(state.granted));
      release(state.granted);
    }
    return Promise.resolve(painted).then(function () { return ok; }, function () { return ok; });
  });

  // Clicks on the notice's controls (made by the person: isTrusted), until
  // the executor handles them.
  var hides = { "accept-all": 1, "reject-all": 1, save: 1, acknowledge: 1, dismiss: 1 }, live = 0;
  doc.addEventListener("click", function (ev) {
    // The advance note asks for nothing: its dismiss control hides it for
    // good, before and after the module loads.
    var x = ev.target.closest && ev.target.closest("[data-consent-notice=advance]");
    if (x && views.has(x) && ev.target.closest("[data-consent-action=dismiss]")) {
      try { localStorage.setItem(AKEY, adv); } catch (e) {}
      return x.remove();
    }
    if (live || !ev.isTrusted || !ev.target.closest) return; // the executor has taken over
    var sw = ev.target.closest("[data-consent-locale]");
    if (sw && notice && notice.contains(sw)) {
      try { sessionStorage.setItem(LKEY, sw.getAttribute("data-consent-locale")); } catch (e) {}
      paint(locale());
      notice.querySelector("[data-consent-locale]").focus();
      return;
    }
    var el = ev.target.closest("[data-consent-action]");
    if (!el) return;
    var action = el.getAttribute("data-consent-action"), inside = !!notice && notice.contains(el);
    if (action != "open-preferences" && !inside) return;
    var n = el.closest("[data-consent-notice]");
    // The notice it was clicked in, for the receipt's method.
    queue.push({ a: action, v: "", n: n ? n.getAttribute("data-consent-notice") : "", in: inside, at: Date.now() });
    if (hides[action] && inside) {
      if (notice.close) notice.close();
      notice.hidden = true;
    }
  });

  // What the executor takes over, once (web/messages.d.ts, Loader).
  // Only the executor's own script, while it runs, gets it: a page script
  // that calls it first gets nothing (and takes nothing from the module).
  api._boot = function () {
    var me = doc.currentScript;
    if (!me || me.src != new URL(D.x, base).href) return null;
    delete api._boot;
    live = 1;
    return {
      D: D, base: base, views: views, queue: queue, tt: tt, h: h, run: run, gated: gated, ok: decided,
      refused: function (f) { refusals.forEach(f); hook = f; },
      shown: function () { return entry ? (entry.k == "banner" ? "-" : entry.k == "advance" ? D.v : state.policy) : ""; },
      hidden: function () { return !!notice && notice.hidden; },
      set: function (s) { state = s; known = !!s; }, resolve: resolve,
      gtag: D.cm && function (g) { gtag("consent", "update", modes(g)); }
    };
  };

  // The executor, after first paint and off the critical path.
  requestAnimationFrame(function () {
    setTimeout(function () {
      var x = doc.createElement("script");
      x.src = tt.createScriptURL(new URL(D.x, base).href);
      doc.head.appendChild(x);
    }, 0);
  });
})();
