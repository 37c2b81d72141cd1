package main

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"workly.ai/consent"
)

// The two lists (双清单) of every policy version, rendered at build time from
// the registry with the templates web/pages/_collected.html and
// _sharing.html, in every locale (English under en/):
//
//	policies/VERSION/collected.html   已收集个人信息清单 (served at /policies/VERSION/collected)
//	policies/VERSION/sharing.html     第三方信息共享清单
//	policies/collected.html           the current version's, byte for byte
//	policies/sharing.html
//	en/policies/…                     the same in English

// listPage is what the list templates see.
type listPage struct {
	V       archiveVersion
	Current string
	Lang    consent.Locale
	List    string // consent.ListCollected or consent.ListSharing
	Reg     consent.Registry
	// Changes are what the version changed in the lists since the one before.
	Changes   []consent.ListChange
	Collected []collectedRow
	Sharing   []sharingRow
	// Statements are the separate-consent items this list concerns, with
	// the statutory fields a person is shown when asked.
	Statements []statement
}

// statement is one separate-consent item as a person is asked for it: the
// exact fields, and the SHA-256 of their text (consent.Registry.Statement)
// that a receipt of the answer carries.
type statement struct {
	ID, Kind, Title string
	Fields          []consent.StatementField
	SHA256          string
}

// newStatement renders separate-consent item id of reg in l.
func newStatement(reg *consent.Registry, it consent.SeparateItem, l consent.Locale) statement {
	title, fields, text, _ := reg.Statement(it.ID, l)
	sum := sha256.Sum256([]byte(text))
	return statement{ID: it.ID, Kind: it.Kind, Title: title, Fields: fields, SHA256: hex.EncodeToString(sum[:])}
}

// collectedRow is one purpose in the list of collected information.
type collectedRow struct {
	consent.Purpose
	Types    []typeCell
	Basis    string
	Separate []consent.SeparateItem
}

// typeCell is one type of information as a list shows it.
type typeCell struct {
	Name      string
	Sensitive string // the Annex B class's name, "" for other information
}

// sharingRow is one recipient in the sharing list.
type sharingRow struct {
	consent.Recipient
	Types    []typeCell
	Separate []consent.SeparateItem
}

func typeCells(reg *consent.Registry, ids []string, l consent.Locale) []typeCell {
	var out []typeCell
	for _, id := range ids {
		t, _ := reg.Type(id)
		c := typeCell{Name: t.Name.In(l)}
		if t.Sensitive != "" {
			class, _ := consent.SensitiveClass(t.Sensitive)
			c.Sensitive = class.In(l)
		}
		out = append(out, c)
	}
	return out
}

// newListPage is list of version v (with the registry reg holds for it) in l.
func newListPage(v archiveVersion, current string, reg consent.Registry, list string, l consent.Locale) listPage {
	p := listPage{V: v, Current: current, Lang: l, List: list, Reg: reg}
	for _, c := range v.ListChanges {
		if c.List == list {
			p.Changes = append(p.Changes, c)
		}
	}
	for _, pu := range reg.Purposes {
		p.Collected = append(p.Collected, collectedRow{Purpose: pu, Types: typeCells(&reg, pu.Types, l),
			Basis: basisIn(pu.Basis, l), Separate: reg.SeparateForPurpose(pu.ID)})
	}
	for _, rc := range reg.Recipients {
		p.Sharing = append(p.Sharing, sharingRow{Recipient: rc, Types: typeCells(&reg, rc.Types, l), Separate: reg.SeparateForRecipient(rc.ID)})
	}
	for _, it := range reg.Separate {
		if (it.Recipient != "") == (list == consent.ListSharing) {
			p.Statements = append(p.Statements, newStatement(&reg, it, l))
		}
	}
	return p
}

// listPath is the output path of a list page.
func listPath(version, list string, l consent.Locale) string {
	return strings.TrimPrefix(consent.ListURL(version, list, l), "/") + ".html"
}

// listPages renders both lists of every version in every locale, and the
// current version's again at /policies/LIST, and returns them by output path.
func listPages(exec func(string, any) ([]byte, error), a *archive, registry *consent.Registry, m *consent.Manifest) (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, v := range a.Versions {
		reg := registry.At(m, v.ID)
		for _, list := range []string{consent.ListCollected, consent.ListSharing} {
			for _, l := range consent.Locales {
				page, err := exec("_"+list+".html", newListPage(v, a.Current, reg, list, l))
				if err != nil {
					return nil, err
				}
				out[listPath(v.ID, list, l)] = page
				if v.Current {
					out[strings.Replace(listPath(v.ID, list, l), v.ID+"/", "", 1)] = page
				}
			}
		}
	}
	return out, nil
}

// listHashes fills in every version's Lists: where each of its list pages is
// served and the SHA-256 of its built bytes (files, by output path).
func listHashes(m *consent.Manifest, files map[string][]byte) {
	for i, v := range m.Versions {
		m.Versions[i].Lists = nil
		for _, list := range []string{consent.ListCollected, consent.ListSharing} {
			for _, l := range consent.Locales {
				data, ok := files[listPath(v.ID, list, l)]
				if !ok {
					continue
				}
				sum := sha256.Sum256(data)
				m.Versions[i].Lists = append(m.Versions[i].Lists, consent.ListPage{List: list, Locale: l,
					Path: consent.ListURL(v.ID, list, l), SHA256: hex.EncodeToString(sum[:])})
			}
		}
	}
}

func basisIn(id string, l consent.Locale) string {
	t, _ := consent.Basis(id)
	return t.In(l)
}
