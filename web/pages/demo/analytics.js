// A stand-in for a third-party analytics tag (gated by data-consent="analytics").
// Like the real ones it sets first-party cookies on the parent domain.
(function () {
  var host = location.hostname, ip = /^[0-9.]+$|:/.test(host);
  var parent = ip ? "" : host.split(".").slice(-2).join(".");
  var id = "GA1.1." + Math.floor(Math.random() * 1e9) + "." + Math.floor(Date.now() / 1000);
  document.cookie = "_ga=" + id + "; Path=/; Max-Age=34560000; SameSite=Lax" + (parent.indexOf(".") > 0 ? "; Domain=" + parent : "");
  window.demoAnalyticsLoaded = true;
})();
