package http

import (
	"encoding/json"
	"net/http"
	"time"

	"workly.ai/consent"
)

// versionAt is the answer of GET /v1/policies/at.
type versionAt struct {
	Version   string `json:"version"`
	Effective string `json:"effective"` // YYYY-MM-DD
	SHA256    string `json:"sha256"`
	URL       string `json:"url"` // the version's page in the archive
}

// inForce returns the version of m in force on day: the newest whose
// effective date is not after it. ok is false before the first version.
func inForce(m *consent.Manifest, day time.Time) (v consent.Version, ok bool) {
	for _, w := range m.Versions {
		if w.Effective.After(day) {
			break
		}
		v, ok = w, true
	}
	return v, ok
}

// policyAt answers GET /v1/policies/at?date=YYYY-MM-DD with the version in
// force on that day (a version takes effect at 00:00 UTC of its effective
// date), as JSON {version, effective, sha256, url}: 400 for a missing or
// malformed date, 404 for a day before the first version. A version
// published ahead of its effective date is answered only from that date on.
func (s *Server) policyAt(w http.ResponseWriter, r *http.Request) {
	if s.policies == nil {
		jsonError(w, http.StatusNotFound, "no policy versions are built")
		return
	}
	day, err := time.Parse(time.DateOnly, r.URL.Query().Get("date"))
	if err != nil {
		jsonError(w, http.StatusBadRequest, "date: want a day as YYYY-MM-DD, e.g. ?date=2024-03-01")
		return
	}
	v, ok := inForce(s.policies, day)
	if !ok {
		jsonError(w, http.StatusNotFound, "no policy version was in force on "+day.Format(time.DateOnly)+
			": the first took effect on "+s.policies.Versions[0].Effective.Format(time.DateOnly))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	// The answer for a past day never changes; today's may, when a version
	// takes effect at midnight, so it is not cached for long.
	w.Header().Set("Cache-Control", "public, max-age=300")
	json.NewEncoder(w).Encode(versionAt{Version: v.ID, Effective: v.Effective.Format(time.DateOnly), SHA256: v.SHA256,
		URL: consent.PolicyURL(v.ID)})
}
