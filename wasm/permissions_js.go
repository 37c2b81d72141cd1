//go:build js && wasm

package main

import (
	"errors"
	"strconv"
	"strings"
	"sync"

	"github.com/hack-pad/safejs"

	"workly.ai/consent"
)

// Browser permissions are asked for only when the person uses the feature
// that needs them, after the module's own explanation (the pre-prompt); each
// answer is a receipt; a person who declines is not asked again for the
// site's back-off days; the privacy settings ([data-consent-permissions])
// list every permission with its state and a way to switch it off.

// permissionsKey is the localStorage key of the person's answers: lines
// "KIND STATE MS", STATE "refused" (declined the pre-prompt at MS), "off"
// (switched off in the privacy settings) or "granted" (by the browser: what
// counts where navigator.permissions cannot tell, as in Firefox for the
// camera).
const permissionsKey = "consent.permissions"

type permissions struct {
	mu       sync.Mutex
	asking   map[string]safejs.Value // the promise of the set being asked for
	answer   chan consent.Action     // the open pre-prompt's answer
	statuses map[string]safejs.Value // the PermissionStatus followed, by kind: live, and kept so its listener lives
	browser  map[string]string       // the browser's answer last recorded, by kind
}

// requestPermission is consent.requestPermission(kind, {purpose}): kind is a
// permission, or a list of them asked for in one pre-prompt (a video call's
// camera and microphone). It resolves to "granted", "denied" (by the
// browser) or "refused" (declined in the pre-prompt, now or within the
// back-off). Bad arguments reject; asking again while asking returns the
// same promise: there is never a second prompt.
func (m *module) requestPermission(args []safejs.Value) (any, error) {
	set, purpose, err := m.permissionArgs(args)
	m.perm.mu.Lock()
	defer m.perm.mu.Unlock()
	if p, ok := m.perm.asking[set]; ok && err == nil {
		return p, nil
	}
	if err == nil && len(m.perm.asking) > 0 {
		err = errors.New("another permission request is open: ask once it is answered")
	}
	if err != nil {
		return promise(func() (any, error) { return nil, errors.New("consent.requestPermission: " + err.Error()) })
	}
	p, err := promise(func() (any, error) {
		defer func() {
			m.perm.mu.Lock()
			delete(m.perm.asking, set)
			m.perm.mu.Unlock()
		}()
		return m.askPermission(set, purpose)
	})
	if err == nil {
		if m.perm.asking == nil {
			m.perm.asking = map[string]safejs.Value{}
		}
		m.perm.asking[set] = p
	}
	return p, err
}

// permissionArgs reads (kind or [kinds], {purpose}) into a set of
// PromptSets and the purpose.
func (m *module) permissionArgs(args []safejs.Value) (set, purpose string, err error) {
	var r jsReader
	var kinds []string
	if len(args) > 0 {
		list := []safejs.Value{args[0]}
		if args[0].Type() == safejs.TypeObject {
			list = r.list(args[0], "")
		}
		for _, v := range list {
			s, _ := v.String()
			if v.Type() != safejs.TypeString {
				kinds = nil
				break
			}
			kinds = append(kinds, s)
		}
	}
	if len(kinds) == 0 {
		return "", "", errors.New("want a permission name such as \"camera\", or a list of them")
	}
	var known []string
	for _, p := range m.cfg.site.Permissions {
		known = append(known, p.Kind)
		if containsStr(kinds, p.Kind) {
			set += "," + p.Kind
		}
	}
	for _, k := range kinds {
		if !containsStr(known, k) {
			return "", "", errors.New("unknown permission " + strconv.Quote(k) + " (this site asks for " + strings.Join(known, ", ") + ")")
		}
	}
	set = strings.TrimPrefix(set, ",")
	if !containsStr(m.cfg.site.PromptSets(), set) {
		return "", "", errors.New("ask for " + set + " one at a time")
	}
	if len(args) > 1 && args[1].Type() == safejs.TypeObject {
		if v := r.get(args[1], "purpose"); !v.IsUndefined() {
			if v.Type() != safejs.TypeString {
				return "", "", errors.New("purpose must be a string")
			}
			purpose, _ = v.String()
		}
	}
	return set, purpose, r.err
}

// containsStr is slices.Contains for strings, without a generic
// instantiation in the module.
func containsStr(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// askPermission asks for the permissions of set: at once when the browser
// already grants them all (and none is switched off), never when it blocks
// one or the person declined within the back-off, else with the pre-prompt
// first and the browser's prompt only after "continue".
func (m *module) askPermission(set, purpose string) (any, error) {
	kinds := strings.Split(set, ",")
	stored := storedPermissions()
	now := m.now().UnixMilli()
	granted := true
	for _, k := range kinds {
		switch m.browserPermission(k) {
		case "denied":
			return consent.AnswerDenied, nil
		case "granted":
			granted = granted && stored[k].state != consent.AnswerOff
		case "prompt":
			granted = false
		default: // the browser cannot tell (Firefox, for the camera): the last answer recorded here
			granted = granted && stored[k].state == consent.AnswerGranted
		}
		if e := stored[k]; e.state == consent.AnswerRefused && now-e.at < int64(m.cfg.site.BackoffDays())*86400e3 {
			return consent.AnswerRefused, nil
		}
	}
	if granted {
		return consent.AnswerGranted, nil
	}
	answer := consent.AnswerRefused
	if m.prePrompt(set, purpose) == consent.ActionAllowPermission {
		answer = consent.AnswerAllowed
	}
	m.permissionAnswered(kinds, answer, "prompt")
	if answer == consent.AnswerRefused {
		return answer, nil
	}
	result, err := askBrowser(kinds)
	if err != nil {
		return nil, err
	}
	m.permissionAnswered(kinds, result, "browser")
	m.watchPermissions(kinds)
	m.showPermissions()
	return result, nil
}

// permissionAnswered records answer for each of kinds, as a receipt and in
// storage (where a refusal starts the back-off and a grant ends "off").
func (m *module) permissionAnswered(kinds []string, answer, method string) {
	stored := storedPermissions()
	for _, k := range kinds {
		if method == "browser" {
			// The answer to the browser's prompt also comes as a change
			// event: one receipt for one answer.
			if m.perm.browser[k] == answer {
				continue
			}
			if m.perm.browser == nil {
				m.perm.browser = map[string]string{}
			}
			m.perm.browser[k] = answer
		}
		m.emitReceipt(consent.Receipt{Event: consent.EventPermissionAnswered, Permission: k, Answer: answer, Method: method}, m.current(), m.now())
		switch answer {
		case consent.AnswerRefused, consent.AnswerOff, consent.AnswerGranted:
			stored[k] = permissionEntry{answer, m.now().UnixMilli()}
		case consent.AnswerDenied, consent.AnswerReset:
			delete(stored, k)
		}
	}
	var text []byte
	for k, e := range stored {
		text = append(append(append(append(append(text, k...), ' '), e.state...), ' '), strconv.FormatInt(e.at, 10)...)
		text = append(text, '\n')
	}
	store(permissionsKey, string(text))
}

type permissionEntry struct {
	state string
	at    int64 // Unix ms
}

func storedPermissions() map[string]permissionEntry {
	out := map[string]permissionEntry{}
	for _, line := range strings.Split(storedText(permissionsKey), "\n") {
		if f := strings.Fields(line); len(f) == 3 {
			at, _ := strconv.ParseInt(f[2], 10, 64)
			out[f[0]] = permissionEntry{f[1], at}
		}
	}
	return out
}

// prePrompt shows the pre-prompt for set and returns the person's answer:
// ActionAllowPermission, or ActionRefusePermission (also for Esc).
func (m *module) prePrompt(set, purpose string) consent.Action {
	<-m.styled
	el, err := m.cfg.view("permission:"+set, locale())
	if err != nil {
		consoleError("consent: " + err.Error())
		return consent.ActionRefusePermission
	}
	if p, err := el.Call("querySelector", "[data-consent-purpose]"); err == nil && purpose != "" {
		p.Set("textContent", purpose)
		p.Set("hidden", false)
	}
	ch := make(chan consent.Action, 1)
	m.perm.answer = ch
	closed, err := callback("close", func(safejs.Value, []safejs.Value) any {
		m.answerPrompt(consent.ActionRefusePermission)
		return nil
	})
	if err == nil {
		defer closed.Release()
		el.Call("addEventListener", "close", closed)
	}
	var r jsReader
	r.get(must(global("document")), "body").Call("append", el)
	el.Call("showModal")
	a := <-ch
	m.perm.answer = nil
	el.Call("remove")
	return a
}

// answerPrompt answers the open pre-prompt, if any. It never waits.
func (m *module) answerPrompt(a consent.Action) {
	select {
	case m.perm.answer <- a:
	default:
	}
}

// browserPermission is the browser's state of kind ("granted", "denied",
// "prompt"), "" where it cannot tell: the followed PermissionStatus's, else
// a query, which waits on a promise.
func (m *module) browserPermission(kind string) string {
	status, ok := m.perm.statuses[kind]
	if !ok {
		status, ok = permissionStatus(kind)
	}
	if !ok {
		return ""
	}
	return (&jsReader{}).str(status, "state")
}

// permissionStatus is navigator.permissions.query({name: kind}); false
// where the browser cannot tell. It waits on a promise.
func permissionStatus(kind string) (safejs.Value, bool) {
	var r jsReader
	q, err := r.get(r.get(safejs.Global(), "navigator"), "permissions").Call("query", map[string]any{"name": kind})
	if err != nil {
		return safejs.Undefined(), false
	}
	status, err := await(q)
	return status, err == nil && status.Type() == safejs.TypeObject
}

// askBrowser calls the browser API that asks for kinds and returns
// AnswerGranted or AnswerDenied.
func askBrowser(kinds []string) (string, error) {
	var r jsReader
	nav := r.get(safejs.Global(), "navigator")
	var p safejs.Value
	var err error
	switch kinds[0] {
	case "camera", "microphone":
		p, err = r.get(nav, "mediaDevices").Call("getUserMedia", map[string]any{
			"video": containsStr(kinds, "camera"), "audio": containsStr(kinds, "microphone")})
	case "notifications":
		p, err = call("Notification", "requestPermission")
	case "persistent-storage":
		p, err = r.get(nav, "storage").Call("persist")
	case "geolocation":
		return askGeolocation(r.get(nav, "geolocation"))
	}
	if err != nil {
		return "", err
	}
	v, err := await(p)
	if err != nil {
		if strings.Contains(err.Error(), "NotAllowed") {
			return consent.AnswerDenied, nil
		}
		return "", err
	}
	switch v.Type() {
	case safejs.TypeObject: // a media stream: the page asked for the permission, not for the stream
		for _, t := range r.list(must(v.Call("getTracks")), "") {
			t.Call("stop")
		}
	case safejs.TypeString: // Notification.requestPermission
		if s, _ := v.String(); s != "granted" {
			return consent.AnswerDenied, nil
		}
	case safejs.TypeBoolean: // storage.persist
		if !truthy(v) {
			return consent.AnswerDenied, nil
		}
	}
	return consent.AnswerGranted, nil
}

// must drops the error of a call whose failure leaves v undefined, which
// the caller's next use handles (a jsReader or a Call returns an error).
func must(v safejs.Value, _ error) safejs.Value { return v }

// askGeolocation asks for a position once: an error other than
// PERMISSION_DENIED (1) still means the permission was granted.
func askGeolocation(geo safejs.Value) (string, error) {
	ch := make(chan string, 1)
	ok, err := callback("position", func(safejs.Value, []safejs.Value) any { ch <- consent.AnswerGranted; return nil })
	if err != nil {
		return "", err
	}
	defer ok.Release()
	fail, err := callback("position", func(_ safejs.Value, args []safejs.Value) any {
		if len(args) > 0 && (&jsReader{}).int(args[0], "code") == 1 {
			ch <- consent.AnswerDenied
		} else {
			ch <- consent.AnswerGranted
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	defer fail.Release()
	if _, err := geo.Call("getCurrentPosition", ok, fail); err != nil {
		return "", err
	}
	return <-ch, nil
}

// watchPermissions follows later changes of kinds in the browser (a person
// revoking the camera in its site settings, say): each becomes a receipt, the
// privacy settings show it, and consent:permission tells the page.
func (m *module) watchPermissions(kinds []string) {
	for _, k := range kinds {
		if _, ok := m.perm.statuses[k]; ok {
			continue
		}
		status, ok := permissionStatus(k)
		if !ok {
			continue
		}
		kind := k
		fn, err := callback("change", func(this safejs.Value, _ []safejs.Value) any {
			answer := map[string]string{"granted": consent.AnswerGranted, "denied": consent.AnswerDenied}[(&jsReader{}).str(this, "state")]
			if answer == "" {
				answer = consent.AnswerReset
			}
			m.permissionAnswered([]string{kind}, answer, "browser")
			m.announceEvent("consent:permission", map[string]any{"kind": kind, "state": answer})
			go m.showPermissions()
			return nil
		})
		if err != nil {
			continue
		}
		m.funcs = append(m.funcs, fn)
		status.Call("addEventListener", "change", fn)
		if m.perm.statuses == nil {
			m.perm.statuses = map[string]safejs.Value{}
		}
		m.perm.statuses[k] = status
	}
}

// switchOff records that the person switched kind off in the privacy
// settings: the site stops using it (consent:permission says so) and asks
// with the pre-prompt before using it again.
func (m *module) switchOff(kind string) {
	m.permissionAnswered([]string{kind}, consent.AnswerOff, "preferences")
	m.announceEvent("consent:permission", map[string]any{"kind": kind, "state": consent.AnswerOff})
	m.showPermissions()
}

// showPermissions fills every [data-consent-permissions] element (the
// privacy settings) with the permissions and their states: "on" when the
// browser grants it and the person has not switched it off, "denied" when
// the browser blocks it, else "off". It waits on promises.
func (m *module) showPermissions() {
	slots, _ := querySelectorAll("[data-consent-permissions]")
	if len(slots) == 0 {
		return
	}
	stored := storedPermissions()
	state := map[string]string{}
	for _, p := range m.cfg.site.Permissions {
		switch m.browserPermission(p.Kind) {
		case "granted":
			state[p.Kind] = "on"
			if stored[p.Kind].state == consent.AnswerOff {
				state[p.Kind] = "off"
			}
		case "denied":
			state[p.Kind] = "denied"
		case "prompt":
			state[p.Kind] = "off"
		default: // the browser cannot tell: the last answer recorded here
			state[p.Kind] = map[bool]string{true: "on", false: "off"}[stored[p.Kind].state == consent.AnswerGranted]
		}
	}
	l := locale()
	var r jsReader
	for _, slot := range slots {
		if r.str(slot, "lang") != string(l) || r.int(slot, "childElementCount") == 0 {
			el, err := m.cfg.view("permissions", l)
			if err != nil {
				consoleError("consent: " + err.Error())
				return
			}
			slot.Call("replaceChildren", el)
			slot.Set("lang", string(l))
		}
		rows, _ := slot.Call("querySelectorAll", "li[data-consent-permission]")
		for _, row := range r.list(rows, "") {
			kind, _ := row.Call("getAttribute", "data-consent-permission")
			k, _ := kind.String()
			row.Call("setAttribute", "data-state", state[k])
		}
	}
}
