// The executor: the module's hands on the page's main thread. The loader
// loads it after the first paint; it starts the module (the core, in Go) in
// a Web Worker, forwards what happens on the page as events and applies the
// effects the core sends back, in order. It decides nothing: every rule is
// the core's. What only a page can do is here: document.cookie,
// localStorage and sessionStorage, the DOM, sendBeacon while the page
// hides, and the browser's permission prompts. The messages are declared in
// web/messages.d.ts.
(function () {
  "use strict";
  var w = window, doc = document, api = w.consent;
  var L = api && api._boot && api._boot();
  if (!L) return;
  var D = L.D, views = L.views, kinds = ["camera", "microphone", "geolocation", "notifications", "persistent-storage"];
  var nav = navigator, F = w.fetch, B = nav.sendBeacon && nav.sendBeacon.bind(nav); // the module's own: never blocked

  var worker;
  try {
    worker = new Worker(L.tt.createScriptURL(new URL(D.wk, L.base).href));
  } catch (e) {
    // A loader from another origin: the worker script comes through a blob:
    // URL (the page's CSP must allow worker-src blob:).
    worker = new Worker(URL.createObjectURL(new Blob(["importScripts(" + JSON.stringify(new URL(D.wk, L.base).href) + ")"])));
  }
  var listening = false, started = false, early = [];
  function send(m) {
    if (listening) worker.postMessage(m); else early.push(m);
  }

  function keys(area) {
    try { return Object.keys(w[area]); } catch (e) { return []; }
  }
  function jar() { return { cookie: doc.cookie, local: keys("localStorage"), session: keys("sessionStorage") }; }
  function stored(area, key) {
    try { return w[area].getItem(key); } catch (e) { return null; }
  }
  // What localStorage holds of receipts: an older module's outbox and
  // history, and what a page spilled as it hid. The worker stores them.
  var spilled = keys("localStorage").filter(function (k) { return /^consent\.(outbox|receipts)(\.|$)/.test(k); });

  // The page as it is now, and the permissions' states (where the browser
  // can tell), followed from now on.
  var browser = {};
  Promise.all([L.ok].concat(kinds.map(function (k) {
    return navigator.permissions ? navigator.permissions.query({ name: k }).then(function (s) {
      browser[k] = s.state;
      s.onchange = function () { send({ t: "answer", call: 0, kind: k, state: s.state }); };
    }, function () {}) : 0;
  }))).then(function (all) {
    var html = doc.documentElement, nav = navigator;
    early.unshift({
      t: "start", cfg: D.cfg, base: L.base, jar: jar(), spilled: spilled.map(function (k) { return stored("localStorage", k); }), page: {
        host: location.hostname, path: location.pathname, https: location.protocol == "https:",
        switched: stored("sessionStorage", "consent.locale") || "", lang: html.lang, langs: nav.languages || [nav.language],
        gpc: nav.globalPrivacyControl === true, dnt: nav.doNotTrack || "", refreshed: !!stored("sessionStorage", "consent.refreshed"),
        status: !!doc.querySelector("[data-consent-status]"), permissions: !!doc.querySelector("[data-consent-permissions]"),
        browser: browser, answers: stored("localStorage", "consent.permissions") || "", separate: stored("localStorage", "consent.separate") || "",
        queue: L.queue, started: Math.round(performance.timeOrigin), skew: Date.now() - Math.round(performance.timeOrigin + performance.now()), shown: L.shown(), hidden: L.hidden(), vouched: all[0],
        discovered: stored("localStorage", "consent.discovered") || ""
      }
    });
    started = true;
    if (listening) flush();
  });
  // Gated content the loader refused, before and from now on (counted by
  // the core).
  L.refused(send);
  function flush() {
    var m = early;
    early = [];
    m.forEach(function (x) { worker.postMessage(x); });
  }

  // owned reports whether el sits in a view the loader or the module rendered.
  function owned(el) {
    for (; el; el = el.parentElement) if (views.has(el)) return true;
    return false;
  }

  doc.addEventListener("click", function (ev) {
    var t = ev.target;
    if (!ev.isTrusted || !t.closest) return;
    var el = t.closest("[data-consent-locale],[data-consent-grant],[data-consent-reset],[data-consent-action]");
    if (!el) return;
    var n = el.closest("[data-consent-notice]"), c = { in: owned(el), n: n ? n.getAttribute("data-consent-notice") : "", at: Date.now(), v: "" };
    ["locale", "grant", "reset"].forEach(function (k) {
      if (!c.a && el.hasAttribute("data-consent-" + k)) {
        c.a = k;
        c.v = el.getAttribute("data-consent-" + k);
      }
    });
    if (!c.a) {
      c.a = el.getAttribute("data-consent-action");
      c.v = el.getAttribute("data-consent-permission") || el.getAttribute("data-consent-separate") || "";
      if (c.in || c.a == "open-preferences") ev.preventDefault();
    }
    if (c.a == "save") {
      c.on = [].map.call(doc.querySelectorAll('dialog[data-consent-notice="preferences"] input[data-consent-category]:checked'), function (b) {
        return b.getAttribute("data-consent-category");
      });
    }
    send({ t: "click", click: c, jar: jar() });
  });

  // The API: each method is a call the core answers with a settle effect.
  var calls = {}, seq = 0;
  ["acceptAll", "rejectAll", "set", "openPreferences", "acknowledge", "history", "requestPermission", "requestSeparateConsent"].forEach(function (m) {
    api[m] = function () {
      var id = ++seq, args = [].slice.call(arguments);
      return new Promise(function (resolve, reject) {
        calls[id] = [resolve, reject];
        try {
          JSON.stringify(args); // what structured cloning would refuse
          send({ t: "call", call: id, m: m, args: JSON.parse(JSON.stringify(args)), jar: jar() });
        } catch (e) {
          delete calls[id];
          reject(new Error("consent." + m + ": arguments must be plain data"));
        }
      });
    };
  });

  // Content added later (single-page apps): the last release applies to it;
  // empty privacy settings are the core's to fill.
  var last = null;
  new MutationObserver(function () {
    if (last) release(last);
    if (doc.querySelector("[data-consent-permissions]:empty")) send({ t: "added" });
  }).observe(doc.documentElement, { childList: true, subtree: true });
  function sweep() { send({ t: "sweep", jar: jar() }); }
  if (w.cookieStore) cookieStore.addEventListener("change", sweep);
  else setInterval(sweep, 3000);

  // As the page hides: what the core prepared (the continued-use cookie and
  // receipt) and the beacon with the receipts that wait, without waiting for the worker.
  var onhide = {}, beacon = null;
  function leaving(ev) {
    if (ev.type == "pagehide") {
      if (onhide.cookie) {
        doc.cookie = onhide.cookie;
        try {
          localStorage.setItem("consent.written", onhide.written);
          // The receipt too: this page's worker may be stopped before it
          // stores it; the next page's stores it once.
          localStorage.setItem(onhide.spillKey, onhide.spill);
        } catch (e) {}
      }
      send({ t: "hide" });
    } else if (doc.visibilityState != "hidden") return;
    // A string body goes as text/plain: no preflight, even cross-origin.
    if (beacon) B(beacon.url, beacon.body);
  }
  w.addEventListener("pagehide", leaving);
  w.addEventListener("visibilitychange", leaving);

  function release(r) {
    var s = doc.querySelectorAll(L.gated);
    for (var i = 0; i < s.length; i++) {
      var o = s[i], c = o.getAttribute("data-consent");
      if (r.known.indexOf(c) < 0) {
        if (!o.hasAttribute("data-consent-unknown")) {
          o.setAttribute("data-consent-unknown", "");
          console.warn("consent: ignoring content gated by unknown category " + JSON.stringify(c));
        }
      } else if (r.granted.indexOf(c) >= 0) {
        // Content that also needs a separate consent waits for it.
        var sep = o.getAttribute("data-consent-separate");
        if (sep && r.separate.indexOf(sep) < 0) continue;
        if (o.tagName == "IFRAME") {
          o.hidden = false;
          var ph = o.previousElementSibling;
          if (ph && ph.hasAttribute("data-consent-placeholder")) ph.remove();
        }
        L.run(o);
      } else if (o.tagName == "IFRAME" && !o.hidden && r.placeholders[c]) {
        var p = own(L.h(r.placeholders[c]));
        ["width", "height"].forEach(function (d) {
          var v = o.getAttribute(d);
          if (v) p.style.setProperty(d, /^\d+$/.test(v) ? v + "px" : v);
        });
        o.hidden = true;
        o.before(p);
      }
    }
  }

  function own(el) {
    views.add(el);
    return el;
  }
  function all(sel, fn) { [].forEach.call(doc.querySelectorAll(sel), fn); }

  function show(f) {
    var make = function () {
      var el = own(L.h(f.tree));
      el.setAttribute("data-consent-view", f.name);
      return el;
    };
    var el;
    if (f.where == "root" || f.where == "body") {
      el = make();
      var old = [].filter.call(doc.querySelectorAll("[data-consent-root]"), owned)[0];
      if (f.where == "root" && old) old.replaceWith(el); else doc.body.appendChild(el);
    } else {
      all(f.where, function (slot) { slot.replaceChildren(el = make()); });
    }
    if (!el) return;
    if (el.showModal) {
      var before = doc.activeElement;
      if (f.hold) el.addEventListener("cancel", function (e) { e.preventDefault(); });
      el.addEventListener("close", function () {
        send({ t: "closed", view: f.name });
        if (before && before.focus) before.focus();
      });
      if (f.modal) el.showModal();
    }
    var focus = f.focus && el.querySelector(f.focus);
    if (focus) focus.focus();
  }

  // ask asks the browser for kinds; it resolves to "granted", "denied" or an
  // error message.
  function ask(k) {
    var nav = navigator, p;
    if (k[0] == "camera" || k[0] == "microphone") {
      p = nav.mediaDevices.getUserMedia({ video: k.indexOf("camera") >= 0, audio: k.indexOf("microphone") >= 0 }).then(function (s) {
        s.getTracks().forEach(function (t) { t.stop(); }); // the page asked for the permission, not for the stream
        return true;
      });
    } else if (k[0] == "notifications") {
      p = Notification.requestPermission().then(function (s) { return s == "granted"; });
    } else if (k[0] == "persistent-storage") {
      p = nav.storage.persist();
    } else {
      // Any error but PERMISSION_DENIED (1) still means the permission was granted.
      p = new Promise(function (ok) {
        nav.geolocation.getCurrentPosition(function () { ok(true); }, function (e) { ok(e.code != 1); });
      });
    }
    return p.then(function (ok) { return ok ? "granted" : "denied"; }, function (e) {
      return e && e.name == "NotAllowedError" ? "denied" : String(e);
    });
  }

  // The network blocker: a request of the page fails when the longest
  // host the core listed that its host is or falls under is only among the
  // blocked; the module's origin's never do. Each host blocked is told once.
  var blocked = [], allowed = [], told = {}, wrapped, base = new URL(L.base).origin;
  function longest(l, h) {
    for (var n = 0, i = 0, d; i < l.length; i++) {
      d = l[i];
      if (d.length > n && (h == d || h.slice(-d.length - 1) == "." + d)) n = d.length;
    }
    return n;
  }
  function stop(u) {
    if (!blocked.length) return false;
    u = String(u && u.url || u);
    // This page's paths and the module's origin are never blocked; a plain
    // host name needs no URL parser (which costs most); anything else is
    // parsed as the browser will.
    if (/^\/(?![\/\\])[^\t\n\r]*$/.test(u) || u.lastIndexOf(base + "/", 0) == 0) return false;
    var h = /^(?:https?|wss?):\/\/([a-z0-9.-]+)(?::\d*)?(?:[\/?#]|$)/.exec(u);
    if (h) h = h[1];
    else try {
      u = new URL(u, location.href);
      if (u.origin == base) return false;
      h = u.hostname;
    } catch (e) { return false; }
    h = h.replace(/\.$/, "");
    if (longest(blocked, h) <= longest(allowed, h)) return false;
    if (!told[h]) send({ t: "blocked", name: told[h] = h });
    return true;
  }
  function wrap() {
    wrapped = 1;
    var X = XMLHttpRequest.prototype, open = X.open, xs = X.send, no = new WeakSet(), I = HTMLImageElement.prototype,
      src = Object.getOwnPropertyDescriptor(I, "src"), sa = I.setAttribute, WS = w.WebSocket;
    w.fetch = function (r) {
      return stop(r) ? Promise.reject(new TypeError("consent: blocked")) : F.apply(this, arguments);
    };
    if (B) nav.sendBeacon = function (u) { return !stop(u) && B.apply(0, arguments); };
    X.open = function (m, u) {
      no[stop(u) ? "add" : "delete"](this);
      return open.apply(this, arguments);
    };
    X.send = function () {
      var x = this;
      if (!no.has(x)) return xs.apply(x, arguments);
      setTimeout(function () { x.dispatchEvent(new ProgressEvent("error")); });
    };
    Object.defineProperty(I, "src", { get: src.get, set: function (v) { if (!stop(v)) src.set.call(this, v); }, configurable: true });
    I.setAttribute = function (n, v) { if (String(n).toLowerCase() != "src" || !stop(v)) sa.apply(this, arguments); };
    w.WebSocket = function (u, p) {
      if (stop(u)) throw new DOMException("consent: blocked", "SecurityError");
      return new WS(u, p);
    };
    w.WebSocket.prototype = WS.prototype;
    Object.setPrototypeOf(w.WebSocket, WS);
  }

  var effects = {
    block: function (f) {
      blocked = f.hosts;
      allowed = f.allow;
      if (!wrapped && blocked.length) wrap();
    },
    // The listener: the hosts of what the page loads, never their URLs,
    // until the sweep the core reports at.
    observe: function (f) {
      var had = {}, o = new PerformanceObserver(seen);
      function seen(l) {
        var s = [];
        (l.getEntries ? l.getEntries() : l).forEach(function (e) {
          var h = "";
          try { h = new URL(e.name).hostname; } catch (x) {}
          if (h && !had[e.initiatorType + h]) s.push({ i: e.initiatorType, h: h }), had[e.initiatorType + h] = 1;
        });
        if (s.length) send({ t: "seen", seen: s });
      }
      o.observe({ type: "resource", buffered: true });
      setTimeout(function () {
        seen(o.takeRecords());
        o.disconnect();
        sweep();
      }, f.after);
    },
    listening: function () {
      listening = true;
      if (started) flush();
    },
    cookie: function (f) { doc.cookie = f.v; },
    storage: function (f) {
      var s = w[f.area + "Storage"];
      if (f.remove) s.removeItem(f.key); else s.setItem(f.key, f.value);
    },
    show: show,
    remove: function (f) { all(f.sel, function (e) { e.remove(); }); },
    close: function (f) { all(f.sel, function (e) { if (e.close) e.close(); }); },
    attr: function (f) { all(f.sel, function (e) { e.setAttribute(f.name, f.value); }); },
    release: function (f) { release(last = f); },
    mode: function (f) { if (L.gtag) L.gtag(f.granted); },
    dispatch: function (f) { w.dispatchEvent(new CustomEvent(f.name, { detail: f.detail })); },
    state: function (f) {
      L.set(f.v);
      L.resolve(f.v);
    },
    settle: function (f) {
      var c = calls[f.call];
      delete calls[f.call];
      if (c) {
        if (f.err) c[1](new Error(f.err));
        else c[0]("json" in f ? JSON.parse(f.json) : f.v);
      }
    },
    log: function (f) { console[f.level](f.msg); },
    onhide: function (f) { onhide = f; },
    beacon: function (f) { beacon = f.body ? f : null; },
    spilled: function () { spilled.forEach(function (k) { localStorage.removeItem(k); }); },
    // After the cookie effects before it: the request carries the new cookie.
    refresh: function (f) {
      F(f.url, { method: "POST", credentials: "include", keepalive: true }).catch(function () {});
      send({ t: "applied" }); // the receipts' post may go now: it carries the new cookie
    },
    ask: function (f) {
      ask(f.kinds).then(function (s) { send({ t: "answer", call: f.call, state: s }); });
    },
    download: function (f) {
      var a = doc.createElement("a"), href = URL.createObjectURL(new Blob([f.text], { type: "application/json" }));
      a.href = href;
      a.download = f.name;
      a.click();
      URL.revokeObjectURL(href);
    }
  };

  // The views' stylesheet: a view is shown only once it applies (or failed).
  var link = doc.createElement("link"), styled = new Promise(function (done) {
    link.onload = link.onerror = done;
  });
  link.rel = "stylesheet";
  link.href = new URL(D.vc, L.base);
  doc.head.appendChild(link);

  var chain = Promise.resolve();
  worker.onmessage = function (e) {
    var list = JSON.parse(e.data);
    chain = chain.then(function () {
      return list.some(function (f) { return f.t == "show"; }) ? styled : 0;
    }).then(function () {
      list.forEach(function (f) {
        // An effect that fails is reported to the core, never dropped.
        try { effects[f.t](f); } catch (err) { send({ t: "failed", name: f.t, result: String(err) }); }
      });
    });
  };
  worker.onerror = function (e) { console.error("consent: the module's worker failed: " + (e.message || e)); };
})();
