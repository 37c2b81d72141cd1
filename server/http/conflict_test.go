package http

import (
	"encoding/json"
	"strings"
	"testing"
)

// A receipt id sent again with other content is answered 409 with a JSON
// error naming it, counted in /metrics, and stores nothing of its batch; the
// same content sent again is still a 200 with the first ack.
func TestIngestConflict(t *testing.T) {
	_, store := ingestServer(t, Ingest{})
	s := newIngestServer(t, Ingest{}, store)
	h := s.Handler()
	first := post(h, receiptBody(id1))
	if first.Code != 200 {
		t.Fatalf("first post: %d %s", first.Code, first.Body)
	}
	changed := strings.Replace(receiptBody(id2, id1), `"consent_given"`, `"withdrawn"`, 2)
	w := post(h, changed)
	var answer struct{ Error string }
	if w.Code != 409 || json.Unmarshal(w.Body.Bytes(), &answer) != nil || !strings.Contains(answer.Error, id1) {
		t.Fatalf("a changed resend: %d %s; want 409 naming %s", w.Code, w.Body, id1)
	}
	if n, _ := store.Count(t.Context()); n != 1 {
		t.Fatalf("%d receipts stored; the refused batch stored something", n)
	}
	again := post(h, receiptBody(id1))
	if again.Code != 200 || again.Body.String() != strings.Replace(first.Body.String(), `"stored":1`, `"stored":0`, 1) {
		t.Fatalf("same-content resend: %d %s; want the first ack %s", again.Code, again.Body, first.Body)
	}
	if m := scrape(t, s); !strings.Contains(m, `consent_receipt_posts_rejected_total{reason="conflict"} 1`) {
		t.Errorf("/metrics does not count the conflict:\n%s", m)
	}
}
