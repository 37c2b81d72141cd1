package e2e

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// Withdrawing a category deletes what it stored: a third-party script's
// cookie on the parent domain, a cookie on a sub-path, storage keys; and a
// cookie re-created after the withdrawal is removed again on the next page.
func TestWithdrawalClears(t *testing.T) {
	v := newVisitor(t)
	v.do(chromedp.Navigate(siteURL + "/"))
	v.ready()
	v.do(chromedp.Click(chromedp.CSS(`[data-consent-action="accept-all"]`)))
	v.poll(`window.demoAnalyticsLoaded === true`)
	// What the functional category stores, set as a site script would.
	v.do(chromedp.Evaluate[chromedp.Void](`localStorage.setItem("ui.theme", "dark");
		document.cookie = "lang=en; Path=/app; Max-Age=3600; Domain=workly.ai"`))
	everywhere := []string{siteURL + "/", siteURL + "/app/", "http://workly.ai/app/"}
	jar := v.cookies(everywhere...)
	for _, name := range []string{"_ga", "lang", "consent"} {
		if _, ok := jar[name]; !ok {
			t.Fatalf("setup: cookie %s missing from %v", name, jar)
		}
	}

	v.do(chromedp.Click(chromedp.CSS(`footer [data-consent-action="open-preferences"]`)),
		chromedp.WaitVisible(chromedp.CSS(`dialog[data-consent-notice="preferences"]`)),
		chromedp.Click(chromedp.CSS(`#cm-cat-analytics`)),
		chromedp.Click(chromedp.CSS(`#cm-cat-functional`)),
		chromedp.Click(chromedp.CSS(`dialog [data-consent-action="save"]`)),
		chromedp.WaitNotPresent(chromedp.CSS(`dialog[data-consent-notice]`)))
	jar = v.cookies(everywhere...)
	for _, name := range []string{"_ga", "lang"} {
		if _, ok := jar[name]; ok {
			t.Errorf("cookie %s survived the withdrawal of its category", name)
		}
	}
	if _, ok := jar["consent"]; !ok {
		t.Error("the consent cookie itself was deleted")
	}
	if eval[bool](v, `localStorage.getItem("ui.theme") !== null`) {
		t.Error("localStorage ui.theme survived the withdrawal of functional")
	}

	// A script re-creates _ga after the withdrawal: the next page removes it.
	v.do(chromedp.Evaluate[chromedp.Void](`document.cookie = "_ga=GA1.1.again; Path=/; Max-Age=3600; Domain=workly.ai"`))
	v.do(chromedp.Navigate(siteURL + "/app/"))
	v.ready()
	if _, ok := v.cookies(everywhere...)["_ga"]; ok {
		t.Error("a re-created _ga survived the next page load")
	}
	v.noProblems()
}

// "Reject all" from the preferences removes what a third-party script set on
// the parent domain; cookies no category declares are reported in the
// console for the site owner.
func TestRejectAllClearsParentDomainAndReportsUndeclared(t *testing.T) {
	v := newVisitor(t)
	v.do(chromedp.Navigate(siteURL + "/"))
	v.ready()
	v.do(chromedp.Click(chromedp.CSS(`[data-consent-action="accept-all"]`)))
	v.poll(`window.demoAnalyticsLoaded === true`)
	if _, ok := v.cookies("http://workly.ai/")["_ga"]; !ok {
		t.Fatal("setup: the analytics script did not set _ga on the parent domain")
	}
	v.do(chromedp.Evaluate[chromedp.Void](`document.cookie = "mystery=1; Path=/"`))
	v.do(chromedp.Click(chromedp.CSS(`footer [data-consent-action="open-preferences"]`)),
		chromedp.Click(chromedp.CSS(`dialog [data-consent-action="reject-all"]`)),
		chromedp.WaitNotPresent(chromedp.CSS(`dialog[data-consent-notice]`)))
	for _, u := range []string{"http://workly.ai/", siteURL + "/"} {
		if _, ok := v.cookies(u)["_ga"]; ok {
			t.Errorf("_ga survived reject all at %s", u)
		}
	}
	v.do(chromedp.Navigate(siteURL + "/app/"))
	v.ready()
	v.waitWarning("mystery")
	v.noProblems()
}

// A refused category's IndexedDB database that a script keeps open is not
// dropped without a word: its deletion waits, the console says which
// database and why, and it is gone once the script closes it.
func TestBlockedDatabaseDeletionIsReported(t *testing.T) {
	v := newVisitor(t)
	v.open("/")
	v.ready()
	v.do(chromedp.Click(chromedp.CSS(`[data-consent-action="accept-all"]`)))
	v.waitConsentCookie()
	// An analytics SDK holds its database open and ignores versionchange.
	eval[chromedp.Void](v, `new Promise((ok, fail) => { const r = indexedDB.open("yq-analytics");
		r.onsuccess = () => { window.heldDB = r.result; ok(true) }; r.onerror = () => fail(r.error) })`)
	eval[chromedp.Void](v, `consent.set({analytics: false}).then(() => true)`)
	v.waitWarning(`yq-analytics\" of a refused category is held open`)
	if !eval[bool](v, `indexedDB.databases().then(l => l.some(d => d.name == "yq-analytics"))`) {
		t.Fatal("setup: the database was deleted while held open")
	}
	v.do(chromedp.Evaluate[chromedp.Void](`window.heldDB.close()`))
	v.poll(`indexedDB.databases().then(l => !l.some(d => d.name == "yq-analytics")).then(gone => window.dbGone = gone) && window.dbGone`)
	v.noProblems()
}
