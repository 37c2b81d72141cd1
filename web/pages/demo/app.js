// The web client stand-in: a single-page app whose routes change with
// history.pushState, whose features ask for browser permissions through
// consent.requestPermission (sharing a location and syncing contacts ask
// their separate consent with consent.requestSeparateConsent first), and
// whose settings hold the privacy section
// the consent module fills ([data-consent-permissions]).
(function () {
  "use strict";
  var doc = document, main = doc.querySelector(".app-main"), call = null;

  function status(text) { doc.querySelector('[data-demo="status"]').textContent = text; }

  // The settings view is made when first shown, as a framework would.
  function settings() {
    var s = doc.createElement("section");
    s.className = "app-view app-settings";
    s.setAttribute("data-view", "settings");
    s.setAttribute("aria-labelledby", "app-settings-title");
    var h = doc.createElement("h2");
    h.id = "app-settings-title";
    h.textContent = "我的-设置-隐私";
    var perms = doc.createElement("div");
    perms.setAttribute("data-consent-permissions", "");
    var p = doc.createElement("p"), b = doc.createElement("button");
    b.type = "button";
    b.className = "linklike";
    b.setAttribute("data-consent-action", "open-preferences");
    b.textContent = "Cookie 设置";
    p.append(b);
    s.append(h, perms, p);
    return s;
  }

  function show(view) {
    var el = main.querySelector('[data-view="' + view + '"]');
    if (!el) main.append(el = settings());
    main.querySelectorAll("[data-view]").forEach(function (v) { v.hidden = v !== el; });
    doc.querySelectorAll("[data-route]").forEach(function (a) {
      if (a.getAttribute("data-route") === view) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
    });
  }
  function route() { show(new URLSearchParams(location.search).get("view") === "settings" ? "settings" : "chat"); }

  doc.addEventListener("click", function (ev) {
    var link = ev.target.closest("[data-route]");
    if (link) {
      ev.preventDefault();
      history.pushState(null, "", link.getAttribute("href"));
      route();
      return;
    }
    var btn = ev.target.closest("[data-demo]");
    if (!btn) return;
    var what = btn.getAttribute("data-demo");
    if (what === "call") {
      consent.requestPermission(["camera", "microphone"], { purpose: "发起与 # 综合 的视频通话" }).then(function (answer) {
        if (answer !== "granted") return status("未开始视频通话（" + answer + "）");
        return navigator.mediaDevices.getUserMedia({ video: true, audio: true }).then(function (stream) {
          call = stream;
          var v = doc.querySelector('[data-demo="video"]');
          v.srcObject = stream;
          v.hidden = false;
          v.play();
          status("视频通话中");
        });
      }).catch(function (e) { status("出错了：" + e.message); });
    } else if (what === "location") {
      // A precise location is sensitive: its separate consent first, then
      // the browser's permission, in one sequence.
      consent.requestSeparateConsent("location").then(function (a) {
        if (a !== "granted") return status("未发送位置（单独同意：" + a + "）");
        return consent.requestPermission("geolocation", { purpose: "把您的当前位置发送到 # 综合" }).then(function (p) { status("位置：" + p); });
      }).catch(function (e) { status("出错了：" + e.message); });
    } else if (what === "contacts") {
      consent.requestSeparateConsent("contacts").then(function (a) {
        status(a === "granted" ? "通讯录已同步" : "未同步通讯录（单独同意：" + a + "）");
      }).catch(function (e) { status("出错了：" + e.message); });
    } else if (what === "notify") {
      consent.requestPermission("notifications", { purpose: "有新消息时提醒您" }).then(function (a) { status("通知：" + a); });
    }
  });

  // A permission switched off in the settings, or revoked in the browser:
  // stop using it at once.
  window.addEventListener("consent:permission", function (ev) {
    if (call && (ev.detail.kind === "camera" || ev.detail.kind === "microphone") && ev.detail.state !== "granted") {
      call.getTracks().forEach(function (t) { t.stop(); });
      call = null;
      doc.querySelector('[data-demo="video"]').hidden = true;
      status("视频通话已结束：" + ev.detail.kind + " 已关闭");
    }
  });
  // A separate consent withdrawn in the settings: stop that processing.
  window.addEventListener("consent:separate", function (ev) {
    status(ev.detail.id === "location" ? "已撤回位置的单独同意" : "已撤回通讯录的单独同意");
  });
  window.addEventListener("popstate", route);
  route();
})();
