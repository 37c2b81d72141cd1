package proof

import (
	"testing"

	"workly.ai/consent"
)

// A permission allowed or granted is a Kantara purpose of its own; location
// is sensitive; a refusal grants nothing.
func TestKantaraPermission(t *testing.T) {
	txt := consent.Text{ZhCN: "位置", En: "location"}
	site := &consent.Site{Name: txt, Permissions: []consent.Permission{{Kind: "geolocation", Title: txt, Purpose: consent.Text{ZhCN: "发送位置", En: "Share your location"}}}}
	r := consent.Receipt{ID: "r1", Subject: "s1", Event: consent.EventPermissionAnswered, Locale: consent.En, Method: "browser",
		Permission: "geolocation", Answer: consent.AnswerGranted, Granted: []string{}}
	k := kantara(site, r, consent.AppendReceiptJSON(nil, r), consent.Ack{}, "")
	if ps := k.Services[0].Purposes; len(ps) != 1 || ps[0].PurposeCategory[0] != "permission:geolocation" || ps[0].Purpose != "Share your location" || !k.Sensitive || len(k.SPICat) != 1 {
		t.Fatalf("granted: purposes %+v, sensitive %v %v", k.Services[0].Purposes, k.Sensitive, k.SPICat)
	}
	r.Answer = consent.AnswerRefused
	if k := kantara(site, r, consent.AppendReceiptJSON(nil, r), consent.Ack{}, ""); len(k.Services[0].Purposes) != 0 || k.Sensitive {
		t.Fatalf("refused: purposes %+v", k.Services[0].Purposes)
	}
}

// A separate consent granted is a Kantara purpose of its own; refused or
// withdrawn, none.
func TestKantaraSeparate(t *testing.T) {
	site := &consent.Site{Name: consent.Text{ZhCN: "亿洽", En: "Yiqia"}}
	r := consent.Receipt{ID: "r1", Subject: "s1", Event: consent.EventSeparateAnswered, Locale: consent.En, Method: "prompt",
		Separate: "location", Answer: consent.AnswerGranted, Granted: []string{}}
	k := kantara(site, r, consent.AppendReceiptJSON(nil, r), consent.Ack{}, "")
	if ps := k.Services[0].Purposes; len(ps) != 1 || ps[0].PurposeCategory[0] != "separate:location" || ps[0].ConsentType != "EXPLICIT" {
		t.Fatalf("granted: purposes %+v", ps)
	}
	for _, ans := range []string{consent.AnswerRefused, consent.AnswerWithdrawn} {
		r.Answer = ans
		if k := kantara(site, r, consent.AppendReceiptJSON(nil, r), consent.Ack{}, ""); len(k.Services[0].Purposes) != 0 {
			t.Errorf("%s: purposes %+v", ans, k.Services[0].Purposes)
		}
	}
}
