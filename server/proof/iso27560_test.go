package proof_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/piprate/json-gold/ld"

	"workly.ai/consent"
	. "workly.ai/consent/server/proof"
	"workly.ai/consent/server/sqlite"
)

const (
	dpv  = "https://w3id.org/dpv#"
	dct  = "http://purl.org/dc/terms/"
	pipl = LocalNamespace
)

// isoSite is a site with two optional categories and the geolocation
// permission.
func isoSite() *consent.Site {
	txt := consent.Text{ZhCN: "x", En: "x"}
	return &consent.Site{Name: txt, Cookie: consent.CookieConfig{Domain: "workly.ai", MaxAgeDays: 365},
		Controller: consent.Controller{Name: "北京青云科技股份有限公司", URL: "https://support.workly.ai/privacy"},
		Categories: []consent.Category{{ID: "necessary", Required: true, Title: txt, Purpose: txt},
			{ID: "analytics", Title: consent.Text{ZhCN: "统计", En: "Analytics"}, Purpose: consent.Text{ZhCN: "统计访问", En: "Count visits"}},
			{ID: "marketing", Title: txt, Purpose: txt}},
		Permissions: []consent.Permission{{Kind: "geolocation", Title: consent.Text{ZhCN: "位置", En: "Location"}, Purpose: txt}}}
}

// The known receipts of the ISO 27560 test, in chain order, and the consent
// status each must get.
var isoCases = []struct {
	r      consent.Receipt
	status string
}{
	{consent.Receipt{Event: consent.EventBannerShown, Method: "banner", Granted: []string{}}, "ConsentRequested"},
	{consent.Receipt{Event: consent.EventConsentGiven, Method: "banner", Granted: []string{"analytics"}}, "ConsentGiven"},
	{consent.Receipt{Event: consent.EventConsentRefused, Method: "banner", Granted: []string{}}, "ConsentRefused"},
	{consent.Receipt{Event: consent.EventWithdrawn, Method: "preferences", Granted: []string{}}, "ConsentWithdrawn"},
	{consent.Receipt{Event: consent.EventAcknowledged, Method: "notice", Granted: []string{"analytics", "marketing"}}, "ConsentGiven"},
	{consent.Receipt{Event: consent.EventContinuedUse, Method: "notice", Granted: []string{"analytics"}}, "ConsentGiven"},
	{consent.Receipt{Event: consent.EventPermissionAnswered, Method: "browser", Granted: []string{}, Permission: "geolocation", Answer: consent.AnswerGranted}, "ConsentGiven"},
	{consent.Receipt{Event: consent.EventPermissionAnswered, Method: "prompt", Granted: []string{}, Permission: "geolocation", Answer: consent.AnswerRefused}, "ConsentRefused"},
	{consent.Receipt{Event: consent.EventPermissionAnswered, Method: "page", Granted: []string{}, Permission: "geolocation", Answer: consent.AnswerOff}, "ConsentWithdrawn"},
	{consent.Receipt{Event: consent.EventSeparateAnswered, Method: "prompt", Granted: []string{}, Separate: "location", Answer: consent.AnswerGranted, StatementSHA256: strings.Repeat("5", 64)}, "ConsentGiven"},
	{consent.Receipt{Event: consent.EventSeparateAnswered, Method: "prompt", Granted: []string{}, Separate: "location", Answer: consent.AnswerRefused, StatementSHA256: strings.Repeat("5", 64)}, "ConsentRefused"},
	{consent.Receipt{Event: consent.EventSeparateAnswered, Method: "preferences", Granted: []string{}, Separate: "location", Answer: consent.AnswerWithdrawn, StatementSHA256: strings.Repeat("5", 64)}, "ConsentWithdrawn"},
}

// Every record of the iso27560 export is JSON-LD that a JSON-LD 1.1
// processor expands without dropping anything: a dpv:ConsentRecord with an
// absolute @id, the subject, the status, the notice (the exact text's hash),
// the purposes granted and refused, the PIPL extension, and the receipt
// itself byte for byte.
func TestExportISO27560(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(nil)
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "consent.db"), Signer(key))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	m := &consent.Manifest{Versions: []consent.Version{{ID: "2022-01-01", Effective: time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)}}}
	for i, c := range isoCases {
		r := c.r
		r.ID, r.Subject = fmt.Sprintf("r%021d", i), "q83vEjRWeJq83vEjRWeJqw"
		r.Policy, r.PolicySHA256, r.Locale = "2022-01-01", strings.Repeat("b", 64), consent.En
		r.Time = time.Date(2026, 3, 1, 10, i, 0, 0, time.UTC)
		if _, _, err := db.Put(context.Background(), []consent.Receipt{r}); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	n, err := Export(context.Background(), db, &out, "iso27560", Filter{}, Options{Site: isoSite(), Policies: m, PublicKey: "ab"}, nil)
	if err != nil || n != int64(len(isoCases)) {
		t.Fatalf("Export = %d, %v", n, err)
	}
	proc := ld.NewJsonLdProcessor()
	opts := ld.NewJsonLdOptions("")
	opts.DocumentLoader = refuseLoading{} // the context is inline: nothing is fetched
	sc := bufio.NewScanner(&out)
	sc.Buffer(nil, 1<<20)
	for i := 0; sc.Scan(); i++ {
		c := isoCases[i]
		var doc map[string]any
		if err := json.Unmarshal(sc.Bytes(), &doc); err != nil {
			t.Fatalf("record %d is not JSON: %v", i, err)
		}
		expanded, err := proc.Expand(doc, opts)
		if err != nil {
			t.Fatalf("record %d does not expand as JSON-LD: %v\n%s", i, err, sc.Bytes())
		}
		if len(expanded) != 1 {
			t.Fatalf("record %d expands to %d nodes", i, len(expanded))
		}
		node := expanded[0].(map[string]any)
		// Every key of the record expanded to an absolute IRI: a key whose
		// prefix the context did not define would have been dropped.
		if got, want := len(node), len(doc)-1; got != want { // less @context
			t.Errorf("record %d: %d properties after expansion, %d before: some were dropped", i, got, want)
		}
		checkIRIs(t, fmt.Sprint("record ", i), node)
		if id, _ := node["@id"].(string); id != fmt.Sprintf("tag:workly.ai,2022-01-01:receipt/r%021d", i) {
			t.Errorf("record %d @id %q", i, id)
		}
		if !hasType(node, dpv+"ConsentRecord") {
			t.Errorf("record %d types %v", i, node["@type"])
		}
		if got := firstID(node, dpv+"hasConsentStatus"); got != dpv+c.status {
			t.Errorf("record %d (%s %s): status %s, want dpv:%s", i, c.r.Event, c.r.Answer, got, c.status)
		}
		if got := firstID(node, dpv+"hasDataSubject"); got != "tag:workly.ai,2022-01-01:subject/q83vEjRWeJq83vEjRWeJqw" {
			t.Errorf("record %d subject %s", i, got)
		}
		if got := firstID(node, dpv+"hasJurisdiction"); got != "https://w3id.org/dpv/loc#CN" {
			t.Errorf("record %d jurisdiction %s", i, got)
		}
		notice := node[dpv+"hasNotice"].([]any)[0].(map[string]any)
		if notice["@id"] != "tag:workly.ai,2022-01-01:policies/2022-01-01" || value(notice, pipl+"textSHA256") != strings.Repeat("b", 64) {
			t.Errorf("record %d notice %v", i, notice)
		}
		var purposes []string
		for _, p := range list(node, dpv+"hasPurpose") {
			purposes = append(purposes, p.(map[string]any)["@id"].(string))
		}
		var want []string
		for _, g := range c.r.Granted {
			want = append(want, "tag:workly.ai,2022-01-01:purpose/"+g)
		}
		if c.r.Answer == consent.AnswerGranted && c.r.Permission != "" {
			want = append(want, "tag:workly.ai,2022-01-01:purpose/permission-geolocation")
		}
		if c.r.Answer == consent.AnswerGranted && c.r.Separate != "" {
			want = append(want, "tag:workly.ai,2022-01-01:purpose/separate-location")
		}
		if strings.Join(purposes, " ") != strings.Join(want, " ") {
			t.Errorf("record %d purposes %v, want %v", i, purposes, want)
		}
		separate := c.r.Permission != "" || c.r.Separate != ""
		if got := value(node, pipl+"separateConsent"); (got == true) != separate {
			t.Errorf("record %d separate consent %v", i, got)
		}
		if got := value(node, pipl+"sensitivePersonalInformation"); (got == "location") != (c.r.Answer == consent.AnswerGranted && c.r.Permission != "") {
			t.Errorf("record %d sensitive %v", i, got)
		}
		if c.r.Event == consent.EventConsentGiven && firstID(node, pipl+"refusedPurpose") != "tag:workly.ai,2022-01-01:purpose/marketing" {
			t.Errorf("record %d refused %v", i, node[pipl+"refusedPurpose"])
		}
		// The receipt rides along as a JSON literal, whole.
		lit := node[pipl+"receipt"].([]any)[0].(map[string]any)
		if lit["@type"] != "@json" || lit["@value"].(map[string]any)["id"] != fmt.Sprintf("r%021d", i) {
			t.Errorf("record %d receipt %v", i, lit)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
}

type refuseLoading struct{}

func (refuseLoading) LoadDocument(u string) (*ld.RemoteDocument, error) {
	return nil, fmt.Errorf("the test loads no documents (asked for %s)", u)
}

func list(node map[string]any, key string) []any { l, _ := node[key].([]any); return l }

func firstID(node map[string]any, key string) string {
	if l := list(node, key); len(l) > 0 {
		id, _ := l[0].(map[string]any)["@id"].(string)
		return id
	}
	return ""
}

func value(node map[string]any, key string) any {
	if l := list(node, key); len(l) > 0 {
		return l[0].(map[string]any)["@value"]
	}
	return nil
}

func hasType(node map[string]any, typ string) bool {
	for _, t := range list(node, "@type") {
		if t == typ {
			return true
		}
	}
	return false
}

// checkIRIs fails for any property of an expanded node, at any depth, that
// is not an http(s) IRI: an undefined prefix ("pipl:x") expands to itself.
func checkIRIs(t *testing.T, where string, v any) {
	switch v := v.(type) {
	case []any:
		for _, e := range v {
			checkIRIs(t, where, e)
		}
	case map[string]any:
		for k, e := range v {
			if k == "@value" {
				continue
			}
			if !strings.HasPrefix(k, "@") && !strings.HasPrefix(k, "https://") && !strings.HasPrefix(k, "http://") {
				t.Errorf("%s: property %q is not an IRI", where, k)
			}
			checkIRIs(t, where, e)
		}
	}
}
