package serve

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestLoadingSaid: while a route session's initial table is still coming
// (Session.Loading), /api/summary, /healthz and /metrics say so, so a
// half-loaded table is not read as the final answer; once it has come,
// they say it no more.
func TestLoadingSaid(t *testing.T) {
	sessions := []Session{{Source: "bgp", AS: 64500, Up: true}, {Source: "bgp", AS: 64501, Up: true, Loading: true}}
	srv := New(Config{Table: small.state(t), Sessions: func() []Session { return sessions }})
	check := func(step string, want int) {
		t.Helper()
		_, _, body := get(t, srv, "/api/summary")
		var sum struct {
			Summary         json.RawMessage `json:"summary"`
			Loading         bool            `json:"loading"`
			SessionsLoading int             `json:"sessions_loading"`
		}
		if err := json.Unmarshal([]byte(body), &sum); err != nil {
			t.Fatal(err)
		}
		if sum.Loading != (want > 0) || sum.SessionsLoading != want || len(sum.Summary) == 0 {
			t.Errorf("%s: /api/summary loading %v sessions_loading %d, want %v %d: %s", step, sum.Loading, sum.SessionsLoading, want > 0, want, body)
		}
		_, _, body = get(t, srv, "/healthz")
		var h Health
		if err := json.Unmarshal([]byte(body), &h); err != nil {
			t.Fatal(err)
		}
		if h.Loading != (want > 0) || h.SessionsLoading != want {
			t.Errorf("%s: /healthz loading %v sessions_loading %d, want %v %d: %s", step, h.Loading, h.SessionsLoading, want > 0, want, body)
		}
		_, _, body = get(t, srv, "/metrics")
		if line := "\nrovimpact_sessions_loading " + string(rune('0'+want)) + "\n"; !strings.Contains(body, line) {
			t.Errorf("%s: /metrics lacks %q", step, strings.TrimSpace(line))
		}
	}
	check("one session loading", 1)
	sessions[1].Loading = false
	check("loaded", 0)
}
