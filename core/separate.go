package core

import (
	"strconv"

	"workly.ai/consent"
)

// Separate consent (单独同意, PIPL arts. 23, 25, 29, 39): asked for one item
// at a time, when the person uses the feature that needs it, in the module's
// own dialog with the item's statutory fields; each answer is a receipt
// with the SHA-256 of the statement shown; a refusal holds for the site's
// back-off; a grant holds while the statement is unchanged; the privacy
// settings list what is granted, each with a way to withdraw it. The answers
// are kept like the permissions' (loadAnswers, storeAnswers).

// separateKey is the localStorage key of the answers: lines "ITEM STATE MS
// SHA256", STATE granted, refused or withdrawn, SHA256 the statement's.
const separateKey = "consent.separate"

const separateSel = `dialog[data-consent-notice="separate"]`

type separate struct {
	answers map[string]answer
	open    *askingSeparate
	shown   string // the items granted the privacy settings list, joined
}

// askingSeparate is the open dialog: its item, the calls waiting for the
// answer and the SHA-256 of the statement it shows.
type askingSeparate struct {
	item  string
	calls []int
	hash  string
}

// requestSeparate is consent.requestSeparateConsent(item): it resolves to
// "granted" or "refused", at once when granted under the same statement
// (in either locale) or refused within the back-off, else with the
// person's answer in the dialog.
func (c *Core) requestSeparate(ev Event) {
	fail := func(msg string) { c.do(Settle{Call: ev.Call, Err: "consent.requestSeparateConsent: " + msg}) }
	_, known := c.cfg.Views["separate:"+ev.Item]
	switch {
	case ev.BadArgs != "":
		fail(ev.BadArgs)
		return
	case !known || ev.Item == "":
		fail("unknown item " + strconv.Quote(ev.Item) + " (site.json: registry.separate)")
		return
	}
	if o := c.sep.open; o != nil {
		if o.item == ev.Item {
			o.calls = append(o.calls, ev.Call)
		} else {
			fail("another separate consent is being asked for: ask once it is answered")
		}
		return
	}
	switch a := c.sep.answers[ev.Item]; {
	case c.separateNow(ev.Item):
		c.do(Settle{Call: ev.Call, V: consent.AnswerGranted})
		return
	case a.state == consent.AnswerRefused && c.now().UnixMilli()-a.at < int64(c.cfg.Site.SeparateBackoff())*86400e3:
		c.do(Settle{Call: ev.Call, V: consent.AnswerRefused})
		return
	}
	n, _ := c.view("separate:" + ev.Item)
	c.sep.open = &askingSeparate{ev.Item, []int{ev.Call}, statement(n)}
	c.do(Show{Name: "separate", Tree: n, Where: "body", Modal: true})
}

// separateNow reports whether item is granted under the statement shown now
// (in either locale): a changed statement is asked for again.
func (c *Core) separateNow(item string) bool {
	a, views := c.sep.answers[item], c.cfg.Views["separate:"+item]
	return a.state == consent.AnswerGranted && a.hash != "" && (a.hash == statement(views[consent.ZhCN]) || a.hash == statement(views[consent.En]))
}

// separateGranted lists the items granted now (separateNow), sorted.
func (c *Core) separateGranted() []string {
	out := []string{}
	for item := range c.sep.answers {
		if c.separateNow(item) {
			// In order, by insertion: slices.Sort would link a sort for
			// strings into the module (~2 KB brotli).
			out = append(out, item)
			for i := len(out) - 1; i > 0 && out[i-1] > out[i]; i-- {
				out[i-1], out[i] = out[i], out[i-1]
			}
		}
	}
	return out
}

// statement is the SHA-256 of the statement a separate-consent dialog shows.
func statement(n consent.Node) string {
	h, _ := attrOf(&n, "data-consent-statement")
	return h
}

// answerSeparate answers the open dialog, if any, with ans (granted or
// refused): the receipt, the stored answer, the calls settled, the dialog
// closed (its close event brings focus back and removes it).
func (c *Core) answerSeparate(ans string) {
	o := c.sep.open
	if o == nil {
		return
	}
	c.sep.open = nil
	c.separateAnswered(o.item, ans, o.hash, "prompt")
	for _, call := range o.calls {
		c.do(Settle{Call: call, V: ans})
	}
	c.do(Close{separateSel})
	c.showPermissions()
	c.release() // content that waited for it
}

// withdrawSeparate withdraws item's separate consent, if granted: the site
// stops the processing (consent:separate tells the page) and asks again
// before it starts again.
func (c *Core) withdrawSeparate(item string) {
	a := c.sep.answers[item]
	if a.state != consent.AnswerGranted {
		return
	}
	c.separateAnswered(item, consent.AnswerWithdrawn, a.hash, "preferences")
	c.do(Dispatch{"consent:separate", map[string]any{"id": item, "state": consent.AnswerWithdrawn}})
	c.showPermissions()
}

func (c *Core) separateAnswered(item, ans, hash, method string) {
	c.emit(consent.Receipt{Event: consent.EventSeparateAnswered, Separate: item, Answer: ans, StatementSHA256: hash, Method: method}, c.now())
	c.sep.answers[item] = answer{ans, c.now().UnixMilli(), hash}
	c.storeAnswers(separateKey, c.sep.answers)
}

// listSeparate sets the privacy settings' row e of item (its data-state:
// "on" with the day it was granted, else "off": the stylesheet shows the
// rows on, or the paragraph saying there are none); it returns item and a
// space for granted, else "".
func (c *Core) listSeparate(e *consent.Node, item string) string {
	a := c.sep.answers[item]
	if a.state != consent.AnswerGranted {
		setAttr(e, "data-state", "off")
		return ""
	}
	y, mo, d := consent.CivilDate(a.at / 1000)
	patch(e, "data-consent-date", func(t *consent.Node) {
		t.Kids = []consent.Node{consent.T(consent.FormatDate(y, mo, d, c.locale))}
		setAttr(t, "datetime", consent.ISODate(y, mo, d))
	})
	return item + " "
}
