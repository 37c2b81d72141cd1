package consent

import "time"

// Decide returns the state after a person's choice. granted is the full set
// of optional categories they grant now; ids the site does not know, and
// required categories, are dropped. The choice acknowledges policy. A first
// choice (prev is zero) takes a new consent id from newID and sets Given; a
// later one keeps both. Times are truncated to seconds, as the cookie holds
// them.
func Decide(prev State, site *Site, granted []string, policy string, now time.Time, newID func() string) State {
	now = time.Unix(now.Unix(), 0).UTC()
	next := State{ID: prev.ID, Policy: policy, Given: prev.Given, Updated: now}
	if prev.IsZero() {
		next.ID = newID()
		next.Given = now
	}
	if next.Given.After(now) {
		next.Given = now
	}
	for _, id := range site.Optional() {
		if containsString(granted, id) {
			next.Granted = append(next.Granted, id)
		}
	}
	return next
}

// Withdrawn returns the categories granted in prev and not in next: those
// whose cookies and storage must now be cleared.
func Withdrawn(prev, next State) []string {
	var out []string
	for _, c := range prev.Granted {
		if !next.Has(c) {
			out = append(out, c)
		}
	}
	return out
}

// ChoiceEvent is what the receipt of a choice that turned prev into next
// records: withdrawn when a category granted before is refused now;
// acknowledged when only the policy version changed; otherwise consent given
// when anything optional is granted, refused when nothing is. The receipt's
// Granted list says which categories.
func ChoiceEvent(prev, next State) Event {
	switch {
	case len(Withdrawn(prev, next)) > 0:
		return EventWithdrawn
	case !prev.IsZero() && prev.Policy != next.Policy && len(prev.Granted) == len(next.Granted):
		return EventAcknowledged // nothing withdrawn and as many granted: the same set
	case len(next.Granted) > 0:
		return EventConsentGiven
	}
	return EventConsentRefused
}

// Action is a notice control's action, as markup names it in
// data-consent-action.
type Action string

// The actions of DESIGN's DOM hooks.
const (
	ActionAcceptAll       Action = "accept-all"
	ActionRejectAll       Action = "reject-all"
	ActionSave            Action = "save"
	ActionOpenPreferences Action = "open-preferences"
	ActionAcknowledge     Action = "acknowledge"
	ActionDismiss         Action = "dismiss"
	// ActionDownloadHistory saves the person's receipts, with the server's
	// signatures, as a JSON file.
	ActionDownloadHistory Action = "download-history"
	// The permission pre-prompt's answers, and switching a permission off in
	// the privacy settings.
	ActionAllowPermission  Action = "allow-permission"
	ActionRefusePermission Action = "refuse-permission"
	ActionPermissionOff    Action = "permission-off"
	// The separate-consent dialog's answers (单独同意), and withdrawing a
	// separate consent in the privacy settings.
	ActionAllowSeparate    Action = "allow-separate"
	ActionRefuseSeparate   Action = "refuse-separate"
	ActionWithdrawSeparate Action = "withdraw-separate"
)
