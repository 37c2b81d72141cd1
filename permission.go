package consent

import "strings"

// Permission is a browser permission the site asks for only when the person
// uses the feature that needs it, and only after the module's own
// explanation (the pre-prompt), as the policy promises (section 2, "其他").
type Permission struct {
	// Kind is one of PermissionKinds.
	Kind string `json:"kind"`
	// Title names it for people: "相机".
	Title Text `json:"title"`
	// Purpose says what it is used for, in the policy's words. It may be
	// left out when Uses names a registry purpose: the build fills it in
	// with that purpose's scenario (Site.ResolvePermissions).
	Purpose Text `json:"purpose"`
	// Uses is the registry purpose the permission serves, "" for none.
	Uses string `json:"uses,omitempty"`
}

// PermissionKinds are the permissions the module asks for, named as
// navigator.permissions names them.
var PermissionKinds = []string{"camera", "microphone", "notifications", "geolocation", "persistent-storage"}

// The answers a permission_answered receipt records. Append only.
const (
	AnswerAllowed = "allowed" // the person went on in the pre-prompt
	AnswerRefused = "refused" // the person declined in the pre-prompt
	AnswerGranted = "granted" // the browser's permission became granted
	AnswerDenied  = "denied"  // the browser's permission became denied
	AnswerReset   = "reset"   // the browser's permission went back to asking
	AnswerOff     = "off"     // switched off in the privacy settings
)

// PermissionAnswers lists every answer.
var PermissionAnswers = []string{AnswerAllowed, AnswerRefused, AnswerGranted, AnswerDenied, AnswerReset, AnswerOff}

// PromptSets are the sets of permissions one pre-prompt may ask for
// together, as the keys of their views ("camera,microphone"): each alone,
// and camera with microphone, which a video call needs at once.
func (s *Site) PromptSets() []string {
	var out []string
	for _, p := range s.Permissions {
		out = append(out, p.Kind)
	}
	if _, ok := s.Permission("camera"); ok {
		if _, ok := s.Permission("microphone"); ok {
			out = append(out, "camera,microphone")
		}
	}
	return out
}

// Permission returns the site's permission of kind.
func (s *Site) Permission(kind string) (Permission, bool) {
	for _, p := range s.Permissions {
		if p.Kind == kind {
			return p, true
		}
	}
	return Permission{}, false
}

// BackoffDays is how long the module waits, after a person declined a
// pre-prompt, before it asks again: PermissionBackoffDays, 7 when unset.
func (s *Site) BackoffDays() int {
	if s.PermissionBackoffDays == 0 {
		return 7
	}
	return s.PermissionBackoffDays
}

// SeparateBackoff is how long the module waits, after a person refused a
// separate consent, before it asks again: SeparateBackoffDays, else
// BackoffDays.
func (s *Site) SeparateBackoff() int {
	if s.SeparateBackoffDays == 0 {
		return s.BackoffDays()
	}
	return s.SeparateBackoffDays
}

// The pre-prompt's and the privacy settings' texts.
var (
	textAllowTitle  = Text{"允许使用%s？", "Allow %s?"}
	textAnd         = Text{"和", " and "}
	textPromptWhen  = Text{"我们只在您使用需要它的功能时才请求此权限。继续后，浏览器会请您确认；您可以随时在“我的-设置-隐私”中关闭。", "We ask only when you use a feature that needs it. If you continue, your browser will ask you to confirm; you can switch it off at any time in Me › Settings › Privacy."}
	textContinue    = Text{"继续", "Continue"}
	textNotNow      = Text{"暂不", "Not now"}
	textPermsTitle  = Text{"权限", "Permissions"}
	textPermsIntro  = Text{"这些权限只在您使用相应功能时请求。关闭后我们不再使用它；浏览器本身的授权可在浏览器的网站设置中撤销。", "These are asked for only when you use the feature that needs them. Once you switch one off we stop using it; the browser's own grant can be revoked in its site settings."}
	textStateOn     = Text{"已开启", "On"}
	textStateOff    = Text{"未开启", "Off"}
	textStateDenied = Text{"已在浏览器中阻止", "Blocked in the browser"}
	textSwitchOff   = Text{"关闭", "Switch off"}
)

// PermissionPromptView is the pre-prompt for the permissions of set (a key
// of PromptSets): what each is for, in the policy's words, and continue or
// not now. A purpose given by the page that asks goes in its
// [data-consent-purpose] paragraph, as text.
func PermissionPromptView(s *Site, set string, l Locale) Node {
	var titles []string
	var purposes []Node
	for _, kind := range strings.Split(set, ",") {
		p, _ := s.Permission(kind)
		titles = append(titles, p.Title.In(l))
		purposes = append(purposes, El("p", nil, El("strong", nil, T(p.Title.In(l))), T(" — "+p.Purpose.In(l))))
	}
	body := []Node{
		El("div", A("class", "cm-head"), El("h2", A("class", "cm-title", "id", "cm-perm-title"),
			T(strings.Replace(textAllowTitle.In(l), "%s", strings.Join(titles, textAnd.In(l)), 1)))),
		El("p", A("data-consent-purpose", "", "hidden", "")),
	}
	body = append(body, purposes...)
	body = append(body, El("p", A("class", "cm-muted"), T(textPromptWhen.In(l))),
		El("div", A("class", "cm-actions"),
			button(string(ActionRefusePermission), textNotNow.In(l)),
			button(string(ActionAllowPermission), textContinue.In(l))))
	return El("dialog", A("class", "cm cm-notice cm-perm", "lang", string(l), "aria-labelledby", "cm-perm-title",
		"data-consent-notice", "permission", "data-consent-permission", set), body...)
}

// PermissionsView is the privacy settings' list of permissions: each with
// its purpose, its state and a switch-off control. The module sets each
// row's data-state ("on", "off" or "denied"); the stylesheet shows the
// matching label and the control only when on.
func PermissionsView(s *Site, l Locale) Node {
	var rows []Node
	for _, p := range s.Permissions {
		rows = append(rows, El("li", A("class", "cm-perm-row", "data-consent-permission", p.Kind, "data-state", "off"),
			El("strong", nil, T(p.Title.In(l))),
			El("span", A("class", "cm-perm-state", "data-label", "on"), T(textStateOn.In(l))),
			El("span", A("class", "cm-perm-state", "data-label", "off"), T(textStateOff.In(l))),
			El("span", A("class", "cm-perm-state", "data-label", "denied"), T(textStateDenied.In(l))),
			El("button", A("type", "button", "class", "cm-link", "data-consent-action", string(ActionPermissionOff), "data-consent-permission", p.Kind),
				T(textSwitchOff.In(l))),
			El("p", A("class", "cm-cat-purpose"), T(p.Purpose.In(l)))))
	}
	return El("section", A("class", "cm cm-perms", "lang", string(l), "aria-labelledby", "cm-perms-title"),
		El("h2", A("class", "cm-title", "id", "cm-perms-title"), T(textPermsTitle.In(l))),
		El("p", nil, T(textPermsIntro.In(l))),
		El("ul", nil, rows...))
}
