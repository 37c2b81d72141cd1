package consent

// ListChange is one change to the registry between two policy versions, as
// the two lists show it, computed by Compare. Kind is the material kind of
// change it makes (KindPurposes for a new purpose, a new type of information
// or newly sensitive information; KindRecipients for a new recipient, new
// information or a new method of sharing, or a changed cross-border
// transfer; KindRights for a changed way to exercise rights), KindMinor for
// the rest (something removed, a wording changed).
type ListChange struct {
	// List is the list it shows on: "collected" or "sharing".
	List string `json:"list"`
	// Entry is the registry id of the purpose, recipient or separate-consent
	// item that changed ("" for the storage and rights notes).
	Entry   string `json:"entry"`
	Kind    Kind   `json:"kind"`
	Summary Text   `json:"summary"`
}

// The two lists.
const (
	ListCollected = "collected" // 已收集个人信息清单
	ListSharing   = "sharing"   // 第三方信息共享清单
)

// Texts of the computed changes; %s is the entry's name.
var (
	textNewPurpose       = Text{"新增处理目的：%s", "New purpose: %s"}
	textGonePurpose      = Text{"不再为此目的处理：%s", "No longer processed for: %s"}
	textPurposeTypes     = Text{"“%s”新增收集的信息：", "%s now also uses: "}
	textPurposeLessTypes = Text{"“%s”不再使用的信息：", "%s no longer uses: "}
	textPurposeBasis     = Text{"“%s”的法律依据改为：", "The legal basis of %s is now: "}
	textPurposeWording   = Text{"“%s”的说明（场景或保存期限）有修改", "The description of %s (scenario or retention) has changed"}
	textNewSensitive     = Text{"以下信息现作为个人敏感信息处理：%s", "Now handled as sensitive personal information: %s"}
	textNewRecipient     = Text{"新增第三方：%s", "New third party: %s"}
	textGoneRecipient    = Text{"不再向其提供信息的第三方：%s", "No longer receives information: %s"}
	textRecipientTypes   = Text{"“%s”新增获取的信息：", "%s now also receives: "}
	textRecipientLess    = Text{"“%s”不再获取的信息：", "%s no longer receives: "}
	textRecipientMethod  = Text{"“%s”的目的或共享方式有变化", "The purpose or the method of sharing of %s has changed"}
	textRecipientCountry = Text{"“%s”的处理地点改为：", "%s now processes the information in: "}
	textRecipientWording = Text{"“%s”的说明有修改", "The description of %s has changed"}
	textNewSeparate      = Text{"新增需要您单独同意的事项：%s", "New item that needs your separate consent: %s"}
	textGoneSeparate     = Text{"不再需要单独同意的事项：%s", "No longer needs separate consent: %s"}
	textSeparateChanged  = Text{"需要单独同意的事项“%s”的说明有变化，我们会再次征求您的同意", "The statement of %s, which needs your separate consent, has changed: we will ask you again"}
	textStorageChanged   = Text{"个人信息的存储地点有变化", "Where personal information is stored has changed"}
	textRightsChanged    = Text{"行使权利的方式或答复期限有变化", "How to exercise your rights, or how soon we answer, has changed"}
)

// recipientName names a recipient by its product and company.
func recipientName(rc Recipient, l Locale) string {
	return rc.Product.In(l) + textNameSep.In(l) + rc.Company.In(l)
}

var textNameSep = Text{"，", ", "}

// named fills text's %s with each locale's name.
func named(t Text, name func(Locale) string) Text {
	return Text{fill(t.ZhCN, name(ZhCN)), fill(t.En, name(En))}
}

// Compare returns what changed from registry a to registry b (those of two
// policy versions, as At gives them): purposes first, then recipients, then
// separate-consent items, storage and rights, each in b's order (removed
// entries in a's).
func Compare(a, b Registry) []ListChange {
	var out []ListChange
	add := func(list, entry string, kind Kind, summary Text) {
		out = append(out, ListChange{List: list, Entry: entry, Kind: kind, Summary: summary})
	}
	typeNames := func(r Registry, ids []string) Text {
		return Text{r.TypeNames(ids, ZhCN), r.TypeNames(ids, En)}
	}
	join := func(head, tail Text) Text { return Text{head.ZhCN + tail.ZhCN, head.En + tail.En} }

	for _, p := range b.Purposes {
		name := func(l Locale) string { return p.Title.In(l) }
		old, ok := a.Purpose(p.ID)
		if !ok {
			add(ListCollected, p.ID, KindPurposes, named(textNewPurpose, name))
			continue
		}
		if more := missingFrom(old.Types, p.Types); len(more) > 0 {
			add(ListCollected, p.ID, KindPurposes, join(named(textPurposeTypes, name), typeNames(b, more)))
		}
		if less := missingFrom(p.Types, old.Types); len(less) > 0 {
			add(ListCollected, p.ID, KindMinor, join(named(textPurposeLessTypes, name), typeNames(a, less)))
		}
		if old.Basis != p.Basis {
			add(ListCollected, p.ID, KindPurposes, join(named(textPurposeBasis, name), basisText(p.Basis)))
		}
		if old.Scenario != p.Scenario || old.Retention != p.Retention || old.Title != p.Title {
			add(ListCollected, p.ID, KindMinor, named(textPurposeWording, name))
		}
	}
	for _, p := range a.Purposes {
		if _, ok := b.Purpose(p.ID); !ok {
			add(ListCollected, p.ID, KindMinor, named(textGonePurpose, func(l Locale) string { return p.Title.In(l) }))
		}
	}
	var sensitive []string
	for _, t := range b.Types {
		if old, ok := a.Type(t.ID); ok && old.Sensitive == "" && t.Sensitive != "" {
			sensitive = append(sensitive, t.ID)
		}
	}
	if len(sensitive) > 0 {
		names := typeNames(b, sensitive)
		add(ListCollected, "", KindPurposes, named(textNewSensitive, func(l Locale) string { return names.In(l) }))
	}

	for _, rc := range b.Recipients {
		name := func(l Locale) string { return recipientName(rc, l) }
		old, ok := a.Recipient(rc.ID)
		if !ok {
			add(ListSharing, rc.ID, KindRecipients, named(textNewRecipient, name))
			continue
		}
		if more := missingFrom(old.Types, rc.Types); len(more) > 0 {
			add(ListSharing, rc.ID, KindRecipients, join(named(textRecipientTypes, name), typeNames(b, more)))
		}
		if less := missingFrom(rc.Types, old.Types); len(less) > 0 {
			add(ListSharing, rc.ID, KindMinor, join(named(textRecipientLess, name), typeNames(a, less)))
		}
		if old.Country != rc.Country {
			add(ListSharing, rc.ID, KindRecipients, join(named(textRecipientCountry, name), Text{rc.Country, rc.Country}))
		}
		if old.Purpose != rc.Purpose || old.Method != rc.Method || old.Company != rc.Company {
			add(ListSharing, rc.ID, KindRecipients, named(textRecipientMethod, name))
		} else if old.Product != rc.Product || old.Scenario != rc.Scenario || old.Contact != rc.Contact || old.URL != rc.URL || old.Platform != rc.Platform || old.SDK != rc.SDK {
			add(ListSharing, rc.ID, KindMinor, named(textRecipientWording, name))
		}
	}
	for _, rc := range a.Recipients {
		if _, ok := b.Recipient(rc.ID); !ok {
			add(ListSharing, rc.ID, KindMinor, named(textGoneRecipient, func(l Locale) string { return recipientName(rc, l) }))
		}
	}

	for _, s := range b.Separate {
		name := func(l Locale) string { return s.Title.In(l) }
		list, kind := ListCollected, KindPurposes
		if s.Recipient != "" {
			list, kind = ListSharing, KindRecipients
		}
		// The statement is what the person was shown: any change in it
		// (its recipient's contact, say) means asking again.
		_, _, now, _ := b.Statement(s.ID, ZhCN)
		_, _, nowEn, _ := b.Statement(s.ID, En)
		_, _, before, existed := a.Statement(s.ID, ZhCN)
		_, _, beforeEn, _ := a.Statement(s.ID, En)
		switch {
		case !existed:
			add(list, s.ID, kind, named(textNewSeparate, name))
		case before != now || beforeEn != nowEn:
			add(list, s.ID, kind, named(textSeparateChanged, name))
		}
	}
	for _, s := range a.Separate {
		if _, _, _, ok := b.Statement(s.ID, ZhCN); !ok {
			list := ListCollected
			if s.Recipient != "" {
				list = ListSharing
			}
			add(list, s.ID, KindMinor, named(textGoneSeparate, func(l Locale) string { return s.Title.In(l) }))
		}
	}
	if a.Storage != b.Storage {
		add(ListSharing, "", KindRecipients, textStorageChanged)
	}
	if a.Rights != b.Rights {
		add(ListCollected, "", KindRights, textRightsChanged)
	}
	return out
}

// missingFrom returns the ids of b that a lacks, in b's order.
func missingFrom(a, b []string) []string {
	var out []string
	for _, id := range b {
		if !containsString(a, id) {
			out = append(out, id)
		}
	}
	return out
}

// ListChanges computes, for every version of m after the first, what its
// registry changed since the version before, and stores it in the version's
// ListChanges; the first version's is empty.
func (r *Registry) ListChanges(m *Manifest) {
	for i := range m.Versions {
		m.Versions[i].ListChanges = nil
		if i > 0 {
			m.Versions[i].ListChanges = Compare(r.At(m, m.Versions[i-1].ID), r.At(m, m.Versions[i].ID))
		}
	}
}

func basisText(id string) Text { t, _ := Basis(id); return t }
