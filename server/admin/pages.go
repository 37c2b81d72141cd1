package admin

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"

	"workly.ai/consent"
	"workly.ai/consent/server/discovery"
	"workly.ai/consent/server/proof"
	"workly.ai/consent/server/stats"
	"workly.ai/consent/server/wire"
)

// maxDays is how many days of figures a page shows at most.
const maxDays = 90

type overviewPage struct {
	Frame
	Policy     string
	Days       int
	DayOptions []int
	Versions   []consent.Version
	Categories []consent.Category
	Rows       []stats.Day
	Choices    chart
	Shares     chart
}

func (con *Console) optional() []consent.Category {
	var out []consent.Category
	if con.c.Site != nil {
		for _, c := range con.c.Site.Categories {
			if !c.Required {
				out = append(out, c)
			}
		}
	}
	return out
}

func (con *Console) versionList() []consent.Version {
	if con.c.Policies == nil {
		return nil
	}
	return con.c.Policies.Versions
}

// overview: per day (of one policy version, or all), the banners shown and
// the choices, and the share of choices granting each category.
func (con *Console) overview(w http.ResponseWriter, r *http.Request) {
	p := overviewPage{Frame: con.catchUp(r, "overview"), Policy: r.URL.Query().Get("policy"), Days: 30,
		DayOptions: []int{7, 30, 90}, Versions: con.versionList(), Categories: con.optional()}
	if p.Policy != "" {
		if _, err := con.c.Policies.Lookup(p.Policy); err != nil {
			http.Error(w, "unknown policy version", http.StatusBadRequest)
			return
		}
	}
	if d, err := strconv.Atoi(r.URL.Query().Get("days")); err == nil && d > 0 {
		p.Days = min(d, maxDays)
	}
	rows, err := con.c.Stats.Days(r.Context(), p.Policy, p.Days)
	if err != nil {
		con.fail(w, err)
		return
	}
	p.Rows = rows
	scope := "所有版本 all versions"
	if p.Policy != "" {
		scope = "版本 " + p.Policy
	}
	p.Choices = chart{ID: "choices", Title: "每日横幅与选择 · Banners and choices per day (" + scope + ")",
		Desc: "Grouped bars per day: banners shown, consents given, refused and withdrawn. The table that follows gives every value."}
	p.Shares = chart{ID: "shares", Title: "每日授权各类别的比例 · Share of choices granting each category (" + scope + ")",
		Desc: "One line per category: of the choices made that day (given, refused, withdrawn, acknowledged), the share granting it. The table gives every value.", Percent: true, Lines: true}
	events := []struct {
		e    consent.Event
		name string
	}{{consent.EventBannerShown, "横幅展示 banners shown"}, {consent.EventConsentGiven, "同意 given"},
		{consent.EventConsentRefused, "拒绝 refused"}, {consent.EventWithdrawn, "撤回 withdrawn"}}
	for _, e := range events {
		s := series{Name: e.name}
		for _, d := range rows {
			s.Values = append(s.Values, float64(d.Events[e.e]))
		}
		p.Choices.Series = append(p.Choices.Series, s)
	}
	for _, c := range p.Categories {
		s := series{Name: c.Title.ZhCN + " " + c.Title.En}
		for _, d := range rows {
			s.Values = append(s.Values, share(d.Granted[c.ID], d.Choices))
		}
		p.Shares.Series = append(p.Shares.Series, s)
	}
	for _, d := range rows {
		p.Choices.Labels = append(p.Choices.Labels, d.Day[5:])
	}
	p.Shares.Labels = p.Choices.Labels
	con.page(w, "overview", p)
}

type versionsPage struct {
	Frame
	Rows    []stats.Reach
	Notices chart
	Reach   chart
}

// versions: for each policy version, its notices displayed and
// acknowledged, continued use, and how many of the people seen since it
// took effect have accepted it.
func (con *Console) versions(w http.ResponseWriter, r *http.Request) {
	p := versionsPage{Frame: con.catchUp(r, "versions")}
	rows, err := con.c.Stats.Reaches(r.Context())
	if err != nil {
		con.fail(w, err)
		return
	}
	p.Rows = rows
	p.Notices = chart{ID: "notices", Title: "各版本的通知 · Notices per policy version",
		Desc: "Grouped bars per version: notices displayed, acknowledged, and continued use. The table gives every value."}
	p.Reach = chart{ID: "reach", Title: "各版本的确认进度 · Acceptance since each version took effect",
		Desc: "Per version, the share of the people seen since it took effect who have accepted it. The table gives every value.", Percent: true}
	names := []string{"通知展示 displayed", "确认 acknowledged", "继续使用 continued use"}
	for i, name := range names {
		s := series{Name: name}
		for _, v := range rows {
			s.Values = append(s.Values, float64([]int64{v.Displayed, v.Acks, v.Continued}[i]))
		}
		p.Notices.Series = append(p.Notices.Series, s)
	}
	reach := series{Name: "已接受 accepted"}
	for _, v := range rows {
		p.Notices.Labels = append(p.Notices.Labels, v.Version.ID)
		reach.Values = append(reach.Values, share(v.Accepted, v.Seen))
	}
	p.Reach.Labels, p.Reach.Series = p.Notices.Labels, []series{reach}
	con.page(w, "versions", p)
}

// answerNames names the permission answers in Chinese.
var answerNames = map[string]string{consent.AnswerAllowed: "预提示中继续", consent.AnswerRefused: "预提示中拒绝",
	consent.AnswerGranted: "浏览器已授予", consent.AnswerDenied: "浏览器已拒绝", consent.AnswerReset: "恢复为询问", consent.AnswerOff: "在设置中关闭"}

var separateNames = map[string]string{consent.AnswerGranted: "同意", consent.AnswerRefused: "拒绝", consent.AnswerWithdrawn: "撤回"}

type permissionsPage struct {
	Frame
	Answers     []string
	AnswerNames map[string]string
	Kinds       []string
	Counts      map[string]map[string]int64
	Permissions chart
	// The separate consents' answers, by item.
	SeparateAnswers []string
	SeparateNames   map[string]string
	Items           []string
	ItemCounts      map[string]map[string]int64
	Separate        chart
	Days            []stats.Day
	GPC             chart
}

// permissions: every permission's answers (each asked for separately, at
// the moment of use), and the share of receipts sent with GPC per day.
func (con *Console) permissions(w http.ResponseWriter, r *http.Request) {
	p := permissionsPage{Frame: con.catchUp(r, "permissions"), Answers: consent.PermissionAnswers, AnswerNames: answerNames, Counts: map[string]map[string]int64{},
		SeparateAnswers: consent.SeparateAnswers, SeparateNames: separateNames, ItemCounts: map[string]map[string]int64{}}
	counts, err := con.c.Stats.Permissions(r.Context())
	if err != nil {
		con.fail(w, err)
		return
	}
	for _, c := range counts {
		if item, ok := strings.CutPrefix(c.Permission, stats.SeparatePrefix); ok {
			p.Items = tally(p.ItemCounts, p.Items, item, c)
		} else {
			p.Kinds = tally(p.Counts, p.Kinds, c.Permission, c)
		}
	}
	p.Permissions = answersChart("perms", "浏览器权限的回答 · Browser permission answers", "permission", p.Kinds, p.Answers, answerNames, p.Counts)
	p.Separate = answersChart("separate", "单独同意的回答 · Separate consents answered", "separate-consent item", p.Items, p.SeparateAnswers, separateNames, p.ItemCounts)
	if p.Days, err = con.c.Stats.Days(r.Context(), "", 30); err != nil {
		con.fail(w, err)
		return
	}
	p.GPC = chart{ID: "gpc", Title: "每日发送 GPC、DNT 的比例 · Share of receipts with GPC and DNT",
		Desc: "Two lines: per day, the share of receipts whose browser sent Global Privacy Control, and Do Not Track (recorded where the site honours it). The table gives every value.", Percent: true, Lines: true}
	gpc, dnt := series{Name: "GPC"}, series{Name: "DNT"}
	for _, d := range p.Days {
		p.GPC.Labels = append(p.GPC.Labels, d.Day[5:])
		gpc.Values = append(gpc.Values, share(d.GPC, d.All))
		dnt.Values = append(dnt.Values, share(d.DNT, d.All))
	}
	p.GPC.Series = []series{gpc, dnt}
	con.page(w, "permissions", p)
}

// tally adds c's count under key in counts, and key to keys the first time.
func tally(counts map[string]map[string]int64, keys []string, key string, c stats.PermissionCount) []string {
	if counts[key] == nil {
		counts[key] = map[string]int64{}
		keys = append(keys, key)
	}
	counts[key][c.Answer] = c.N
	return keys
}

// answersChart is grouped bars per key (a permission, an item), one bar per
// answer.
func answersChart(id, title, what string, keys, answers []string, names map[string]string, counts map[string]map[string]int64) chart {
	c := chart{ID: id, Title: title, Labels: keys,
		Desc: "Grouped bars per " + what + ", one bar per answer. The table gives every value."}
	for _, a := range answers {
		s := series{Name: names[a] + " " + a}
		for _, k := range keys {
			s.Values = append(s.Values, float64(counts[k][a]))
		}
		c.Series = append(c.Series, s)
	}
	return c
}

type bucket struct {
	Label string
	N     uint64
}

type counter struct {
	Name, Labels string
	Value        float64
}

type deliveryPage struct {
	Frame
	Lag      []bucket
	LagCount uint64
	LagChart chart
	Rejected chart
	Reasons  []counter
	Counters []counter
	NoMetric bool
}

// delivery: how long receipts waited in browsers' outboxes, and the posts
// refused, from this server's own metrics since it started.
func (con *Console) delivery(w http.ResponseWriter, r *http.Request) {
	p := deliveryPage{Frame: con.catchUp(r, "delivery")}
	var families []*dto.MetricFamily
	if con.c.Metrics != nil {
		var err error
		if families, err = con.c.Metrics.Gather(); err != nil {
			con.fail(w, err)
			return
		}
	} else {
		p.NoMetric = true
	}
	for _, f := range families {
		switch name := f.GetName(); {
		case name == "consent_receipt_outbox_lag_seconds" && len(f.Metric) > 0:
			h := f.Metric[0].GetHistogram()
			p.LagCount = h.GetSampleCount()
			var prev uint64
			for _, b := range h.Bucket {
				p.Lag = append(p.Lag, bucket{Label: "≤ " + duration(b.GetUpperBound()), N: b.GetCumulativeCount() - prev})
				prev = b.GetCumulativeCount()
			}
			p.Lag = append(p.Lag, bucket{Label: "更久 longer", N: h.GetSampleCount() - prev})
		case name == "consent_receipt_posts_rejected_total":
			for _, m := range f.Metric {
				p.Reasons = append(p.Reasons, counter{Name: name, Labels: labels(m), Value: m.GetCounter().GetValue()})
			}
		case strings.HasPrefix(name, "consent_") && f.GetType() == dto.MetricType_COUNTER:
			for _, m := range f.Metric {
				p.Counters = append(p.Counters, counter{Name: name, Labels: labels(m), Value: m.GetCounter().GetValue()})
			}
		}
	}
	p.LagChart = chart{ID: "lag", Title: "记录在浏览器中等待的时间 · Time receipts waited in browsers' outboxes",
		Desc: "Bars: how many receipts waited up to each duration, from the event to its commit here, since this server started. The table gives every value."}
	lag := series{Name: "receipts"}
	for _, b := range p.Lag {
		p.LagChart.Labels = append(p.LagChart.Labels, strings.TrimPrefix(b.Label, "≤ "))
		lag.Values = append(lag.Values, float64(b.N))
	}
	p.LagChart.Series = []series{lag}
	p.Rejected = chart{ID: "rejected", Title: "被拒绝的提交 · Posts refused, by reason",
		Desc: "Bars: posts to /v1/receipts refused since this server started, by reason. The table gives every value."}
	rej := series{Name: "posts"}
	for _, c := range p.Reasons {
		p.Rejected.Labels = append(p.Rejected.Labels, strings.TrimPrefix(c.Labels, "reason="))
		rej.Values = append(rej.Values, c.Value)
	}
	p.Rejected.Series = []series{rej}
	con.page(w, "delivery", p)
}

type discoveredPage struct {
	Frame
	Off    bool
	Days   []discoveredDay
	PerDay chart
	Names  []discoveredName
}

type discoveredDay struct {
	Day            string
	Reports, Names int64
}

// discoveredName is one name's counts over the days kept.
type discoveredName struct {
	Kind        discovery.Kind
	Name        string
	Count, Days int64
	First, Last time.Time
}

// discovered: what visitors' browsers reported undeclared (the listener),
// per day and per name, the most recently seen first.
func (con *Console) discovered(w http.ResponseWriter, r *http.Request) {
	p := discoveredPage{Frame: con.catchUp(r, "discovered"), Off: con.c.Discovered == nil}
	if !p.Off {
		counts, err := con.c.Discovered.Counts(r.Context())
		if err != nil {
			con.fail(w, err)
			return
		}
		p.Days, p.Names = foldDiscovered(counts)
	}
	p.PerDay = chart{ID: "per-day", Title: "每日未声明名称的报告 · Undeclared names reported per day",
		Desc: "Bars per day: how many times visitors' browsers reported an undeclared name. The table gives every value."}
	reports := series{Name: "报告 reports"}
	for _, d := range p.Days {
		p.PerDay.Labels = append(p.PerDay.Labels, d.Day[5:])
		reports.Values = append(reports.Values, float64(d.Reports))
	}
	p.PerDay.Series = []series{reports}
	con.page(w, "discovered", p)
}

// foldDiscovered sums the store's per-day counts by day (oldest first, at
// most maxDays) and by name (the most recently seen first).
func foldDiscovered(counts []discovery.Count) ([]discoveredDay, []discoveredName) {
	days := map[string]*discoveredDay{}
	names := map[discovery.Name]*discoveredName{}
	for _, c := range counts {
		d := days[c.Day]
		if d == nil {
			d = &discoveredDay{Day: c.Day}
			days[c.Day] = d
		}
		d.Reports += c.Count
		d.Names++
		k := discovery.Name{Kind: c.Kind, Name: c.Name}
		n := names[k]
		if n == nil {
			n = &discoveredName{Kind: c.Kind, Name: c.Name, First: c.First, Last: c.Last}
			names[k] = n
		}
		n.Count += c.Count
		n.Days++
		if c.First.Before(n.First) {
			n.First = c.First
		}
		if c.Last.After(n.Last) {
			n.Last = c.Last
		}
	}
	var outDays []discoveredDay
	for _, d := range days {
		outDays = append(outDays, *d)
	}
	slices.SortFunc(outDays, func(a, b discoveredDay) int { return strings.Compare(a.Day, b.Day) })
	outDays = outDays[max(0, len(outDays)-maxDays):]
	var outNames []discoveredName
	for _, n := range names {
		outNames = append(outNames, *n)
	}
	slices.SortFunc(outNames, func(a, b discoveredName) int {
		if c := b.Last.Compare(a.Last); c != 0 {
			return c
		}
		return strings.Compare(string(a.Kind)+a.Name, string(b.Kind)+b.Name)
	})
	return outDays, outNames
}

func labels(m *dto.Metric) string {
	var parts []string
	for _, l := range m.Label {
		parts = append(parts, l.GetName()+"="+l.GetValue())
	}
	return strings.Join(parts, ",")
}

// duration names a histogram bound for people: 0.5 s, 2 s, 8.5 min, 1.5 d.
func duration(s float64) string {
	switch {
	case math.IsInf(s, 1):
		return "∞"
	case s < 60:
		return strconv.FormatFloat(s, 'f', -1, 64) + " s"
	case s < 3600:
		return strconv.FormatFloat(math.Round(s/6)/10, 'f', -1, 64) + " min"
	case s < 86400:
		return strconv.FormatFloat(math.Round(s/360)/10, 'f', -1, 64) + " h"
	}
	return strconv.FormatFloat(math.Round(s/8640)/10, 'f', -1, 64) + " d"
}

// maxPersonReceipts bounds one person's record on a page and in an export.
const maxPersonReceipts = 10000

// entry is one receipt of a person's record, checked against the chain.
type entry struct {
	Receipt  consent.Receipt
	Ack      consent.Ack
	Body     []byte
	Verified bool
	Problem  string
}

type personPage struct {
	Frame
	ID         string
	Invalid    bool
	Entries    []entry
	Truncated  bool
	AllGood    bool
	Pasted     bool   // Entries are of a pasted history, ID its person's ("" for several)
	PasteError string // why a pasted history was not checked
}

// person: every receipt of one consent id, each with its acknowledgement
// and whether its link verifies against the chain (the hash recomputed
// from the previous link, the signature checked with the server's key).
func (con *Console) person(w http.ResponseWriter, r *http.Request) {
	p := personPage{Frame: con.catchUp(r, "person"), ID: strings.TrimSpace(r.URL.Query().Get("id"))}
	if p.ID != "" {
		if !consent.ValidConsentID(p.ID) {
			p.Invalid = true
			w.WriteHeader(http.StatusBadRequest)
		} else {
			con.c.Log.Info("admin: a person's record looked up", "subject", p.ID, "client", con.c.ClientAddr(r))
			var err error
			p.Entries, p.Truncated, err = con.record(r.Context(), p.ID)
			if err != nil {
				con.fail(w, err)
				return
			}
			p.AllGood = true
			for _, e := range p.Entries {
				p.AllGood = p.AllGood && e.Verified
			}
		}
	}
	con.page(w, "person", p)
}

// record reads the receipts of subject, by the figures' index, each checked
// against the chain.
func (con *Console) record(ctx context.Context, subject string) ([]entry, bool, error) {
	seqs, err := con.c.Stats.SubjectReceipts(ctx, subject, maxPersonReceipts+1)
	if err != nil {
		return nil, false, err
	}
	truncated := len(seqs) > maxPersonReceipts
	if truncated {
		seqs = seqs[:maxPersonReceipts]
	}
	var out []entry
	for _, seq := range seqs {
		prev, body, a, err := link(ctx, con.c.Store, seq)
		if err != nil {
			return nil, false, err
		}
		e := entry{Ack: a, Body: body}
		r, err := wire.DecodeReceipt(body)
		if err != nil {
			e.Problem = err.Error()
		} else {
			e.Receipt = r
			if e.Receipt.Subject != subject {
				e.Problem = "the index points at another person's receipt: rebuild the figures"
			} else if err := proof.VerifyLink(con.c.PublicKey, prev, body, a); err != nil {
				e.Problem = err.Error()
			} else if err := wire.Verify(r); err != nil {
				e.Problem = "the browser's signature: " + err.Error()
			} else {
				e.Verified = true
			}
		}
		out = append(out, e)
	}
	return out, truncated, nil
}

var errStop = errors.New("stop")

// link reads link seq of the chain and the hash of the one before ("" for
// the first).
func link(ctx context.Context, store consent.ReceiptStore, seq int64) (prev string, body []byte, a consent.Ack, err error) {
	from := max(seq-1, 1)
	found := false
	err = store.Entries(ctx, from, func(b []byte, ack consent.Ack) error {
		if ack.Seq < seq {
			prev = ack.Hash
			return nil
		}
		if ack.Seq == seq {
			body, a, found = b, ack, true
		}
		return errStop
	})
	if errors.Is(err, errStop) {
		err = nil
	}
	if err == nil && !found {
		err = fmt.Errorf("receipt %d is indexed but not in the chain: rebuild the figures (consentd stats-rebuild)", seq)
	}
	return prev, body, a, err
}

// personExport downloads one person's receipts, in chain order, one a
// line: ?format=jsonl (the default; {"receipt":…,"ack":…} with the receipt
// in its wire form, as consentd export writes them, so the chain can be
// checked from the file alone), kantara or iso27560, as the exports of a
// period write them.
func (con *Console) personExport(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	if !consent.ValidConsentID(id) {
		http.Error(w, "malformed consent id", http.StatusBadRequest)
		return
	}
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "jsonl"
	}
	ext := map[string]string{"iso27560": "jsonld.jsonl", "kantara": "kantara.jsonl", "jsonl": "jsonl"}[format]
	if ext == "" {
		http.Error(w, "format: want jsonl, kantara or iso27560", http.StatusBadRequest)
		return
	}
	con.c.Log.Info("admin: a person's record exported", "subject", id, "format", format, "client", con.c.ClientAddr(r))
	con.catchUp(r, "")
	entries, _, err := con.record(r.Context(), id)
	if err != nil {
		con.fail(w, err)
		return
	}
	opts := proof.Options{Site: con.c.Site, Policies: con.c.Policies, PublicKey: fmt.Sprintf("%x", []byte(con.c.PublicKey))}
	var lines [][]byte
	for _, e := range entries {
		if e.Problem != "" && e.Receipt.ID == "" {
			continue // not a receipt: nothing to export
		}
		line, err := proof.Record(format, e.Receipt, e.Body, e.Ack, opts)
		if err != nil {
			con.fail(w, err)
			return
		}
		lines = append(lines, line)
	}
	w.Header().Set("Content-Type", "application/jsonl; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="consent-`+id+`.`+ext+`"`)
	bw := bufio.NewWriter(w)
	for _, l := range lines {
		bw.Write(l)
		bw.WriteByte('\n')
	}
	bw.Flush()
}

// maxHistoryBytes bounds a pasted history: the module keeps 200 receipts,
// each well under 2 KB with its acknowledgement.
const maxHistoryBytes = 1 << 20

// pasted is one receipt of a history a person downloaded, checked against
// the chain.
type pasted struct {
	entry
	Claimed *consent.Ack // the acknowledgement the person's browser kept; nil while it waited
}

// checkHistory checks a history as consent.history() returns it and the
// preferences centre downloads it ([{wire, ack|null, …}…]): each receipt is
// what the chain holds at its acknowledgement's place, byte for byte, with
// that acknowledgement, the link verifies with the server's key, and the
// browser's signature checks. It returns the subject when every receipt
// names the same one.
func (con *Console) checkHistory(ctx context.Context, text string) ([]pasted, string, error) {
	var items []struct {
		Wire string       `json:"wire"`
		Ack  *consent.Ack `json:"ack"`
	}
	if err := json.Unmarshal([]byte(text), &items); err != nil {
		return nil, "", fmt.Errorf("not a downloaded history (a JSON array of receipts with wire and ack): %v", err)
	}
	if len(items) > maxPersonReceipts {
		return nil, "", fmt.Errorf("%d receipts: at most %d", len(items), maxPersonReceipts)
	}
	var out []pasted
	subject := ""
	for i, it := range items {
		p := pasted{entry: entry{Body: []byte(it.Wire)}, Claimed: it.Ack}
		r, err := wire.DecodeReceipt(p.Body)
		switch {
		case err != nil:
			p.Problem = "receipt " + strconv.Itoa(i+1) + ": " + err.Error()
		case it.Ack == nil:
			p.Receipt = r
			p.Problem = "not acknowledged: it was still waiting in the browser when the history was downloaded"
		default:
			p.Receipt = r
			p.entry = con.checkPasted(ctx, r, p.Body, *it.Ack)
		}
		if i == 0 {
			subject = p.Receipt.Subject
		} else if subject != p.Receipt.Subject {
			subject = ""
		}
		out = append(out, p)
	}
	return out, subject, nil
}

// checkPasted checks one pasted receipt and the acknowledgement claimed for it.
func (con *Console) checkPasted(ctx context.Context, r consent.Receipt, body []byte, claimed consent.Ack) entry {
	e := entry{Receipt: r, Body: body, Ack: claimed}
	if claimed.Seq < 1 {
		e.Problem = "the acknowledgement names no place in the chain"
		return e
	}
	prev, stored, a, err := link(ctx, con.c.Store, claimed.Seq)
	switch {
	case err != nil:
		e.Problem = "the chain has no link " + strconv.FormatInt(claimed.Seq, 10) + ": " + err.Error()
	case !bytes.Equal(stored, body):
		e.Problem = "the chain holds another receipt at link " + strconv.FormatInt(claimed.Seq, 10)
	case a.Hash != claimed.Hash || a.Sig != claimed.Sig || a.Received != claimed.Received || a.ID != claimed.ID:
		e.Problem = "the acknowledgement differs from the chain's"
	default:
		if err := proof.VerifyLink(con.c.PublicKey, prev, body, a); err != nil {
			e.Problem = err.Error()
		} else if err := wire.Verify(r); err != nil {
			e.Problem = "the browser's signature: " + err.Error()
		} else {
			e.Verified = true
		}
	}
	return e
}

// personPasted: POST /admin/person with history, a downloaded history
// pasted: each receipt checked against the chain, and, when they are one
// person's, links to that person's record and exports.
func (con *Console) personPasted(w http.ResponseWriter, r *http.Request) {
	p := personPage{Frame: con.catchUp(r, "person")}
	text := r.PostFormValue("history")
	if len(text) > maxHistoryBytes {
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		p.PasteError = "the history is larger than 1 MiB"
		con.page(w, "person", p)
		return
	}
	p.Pasted = true
	items, subject, err := con.checkHistory(r.Context(), text)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		p.PasteError = err.Error()
		con.page(w, "person", p)
		return
	}
	con.c.Log.Info("admin: a downloaded history checked", "subject", subject, "receipts", len(items), "client", con.c.ClientAddr(r))
	p.ID, p.AllGood = subject, len(items) > 0
	for _, it := range items {
		p.Entries = append(p.Entries, it.entry)
		p.AllGood = p.AllGood && it.Verified
	}
	con.page(w, "person", p)
}

// export downloads the receipts of a period in one of proof's formats
// (?format=iso27560|kantara|jsonl|csv&from=DAY&to=DAY). Large exports are
// for consentd export, which the server's write timeout does not cut.
func (con *Console) export(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	format := q.Get("format")
	var f proof.Filter
	for _, t := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := q.Get(t.name); v != "" {
			d, err := time.Parse(time.DateOnly, v)
			if err != nil {
				http.Error(w, t.name+": want a day as YYYY-MM-DD", http.StatusBadRequest)
				return
			}
			*t.dst = d
		}
	}
	ext := map[string]string{"iso27560": "jsonld.jsonl", "kantara": "kantara.jsonl", "jsonl": "jsonl", "csv": "csv"}[format]
	if ext == "" {
		http.Error(w, "format: want iso27560, kantara, jsonl or csv", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="receipts.`+ext+`"`)
	opts := proof.Options{Site: con.c.Site, Policies: con.c.Policies, PublicKey: fmt.Sprintf("%x", []byte(con.c.PublicKey))}
	if _, err := proof.Export(r.Context(), con.c.Store, w, format, f, opts, nil); err != nil {
		con.c.Log.Error("admin: export", "err", err)
	}
}

func (con *Console) page(w http.ResponseWriter, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	con.render(w, name, data)
}

func (con *Console) fail(w http.ResponseWriter, err error) {
	con.c.Log.Error("admin", "err", err)
	http.Error(w, "internal error", http.StatusInternalServerError)
}
