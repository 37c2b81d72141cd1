// A stand-in for a Google Ads conversion tag (gated by data-consent="marketing"
// and data-consent-separate="google_ads": Google LLC is abroad, so besides
// the marketing category it needs its own separate consent, PIPL art. 39).
(function () {
  document.cookie = "_gcl_au=1.1." + Math.floor(Math.random() * 1e9) + "." + Math.floor(Date.now() / 1000) + "; Path=/; Max-Age=7776000; SameSite=Lax";
  window.demoAdsLoaded = true;
})();
