package serve

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rovimpact/rovimpact/live"
)

// TestHealth: /healthz answers 503 with the reasons whenever ROV cannot be
// trusted (Health's four checks), 200 otherwise; rovimpact_healthy agrees.
func TestHealth(t *testing.T) {
	now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	synced := now.Add(-time.Minute)
	cache := func(last time.Time, expired bool) VRPSource {
		return VRPSource{Name: "cache", Kind: "rtr", Up: !last.IsZero(), LastUpdate: last, Expire: 10 * time.Minute, Expired: expired, VRPs: 1}
	}
	file := VRPSource{Name: "file:x", Kind: "file", Up: true, LastUpdate: synced, VRPs: 1}
	up := []Session{{Source: "bgp", AS: 64500, Up: true}, {Source: "bmp", AS: 64501}}
	down := []Session{{Source: "bgp", AS: 64500}}
	tests := []struct {
		name     string
		sources  []VRPSource
		union    int
		sessions []Session // nil: no route source wired
		want     []string  // reason prefixes; none: 200
	}{
		{"healthy", []VRPSource{cache(synced, false)}, 10, up, nil},
		{"healthy, one of two sources expired", []VRPSource{cache(synced.Add(-time.Hour), true), file}, 10, up, nil},
		{"no VRP source has delivered data (cache never answered)", []VRPSource{cache(time.Time{}, false)}, 0, up,
			[]string{"no VRP source has delivered data", "the VRP union is empty"}},
		{"union empty though synced (the cache serves nothing)", []VRPSource{cache(synced, false)}, 0, up,
			[]string{"the VRP union is empty"}},
		{"every source expired (dropped)", []VRPSource{cache(synced, true)}, 0, up,
			[]string{"the VRP union is empty", "every VRP source is past its expire interval"}},
		{"every source past Expire, not yet dropped", []VRPSource{cache(now.Add(-11*time.Minute), false)}, 5, up,
			[]string{"every VRP source is past its expire interval"}},
		{"SLURM alone is not a VRP source", []VRPSource{{Name: "slurm", Kind: "slurm", Up: true, VRPs: 3}, cache(time.Time{}, false)}, 0, up,
			[]string{"no VRP source has delivered data", "the VRP union is empty"}},
		{"no route session up", []VRPSource{cache(synced, false)}, 10, down, []string{"no route session is up (1 known)"}},
		{"no route session known yet", []VRPSource{cache(synced, false)}, 10, []Session{}, []string{"no route session is up (0 known)"}},
		{"no route source wired: VRPs only", []VRPSource{cache(synced, false)}, 10, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{Table: live.New(live.Options{}), Now: func() time.Time { return now },
				Sources: func() []VRPSource { return tt.sources }, Union: func() int { return tt.union }}
			if tt.sessions != nil {
				cfg.Sessions = func() []Session { return tt.sessions }
			}
			srv := New(cfg)
			code, _, body := get(t, srv, "/healthz")
			var h Health
			if err := json.Unmarshal([]byte(body), &h); err != nil {
				t.Fatal(err)
			}
			wantCode, wantStatus := http.StatusOK, "ok"
			if len(tt.want) > 0 {
				wantCode, wantStatus = http.StatusServiceUnavailable, "unhealthy"
			}
			if code != wantCode || h.Status != wantStatus {
				t.Errorf("got %d %q, want %d %q: %s", code, h.Status, wantCode, wantStatus, body)
			}
			var got []string
			for i, r := range h.Reasons {
				if i < len(tt.want) && strings.HasPrefix(r, tt.want[i]) {
					got = append(got, tt.want[i])
				} else {
					got = append(got, r)
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("reasons %q, want %q", h.Reasons, tt.want)
			}
			_, _, metrics := get(t, srv, "/metrics")
			healthy := "rovimpact_healthy 1"
			if len(tt.want) > 0 {
				healthy = "rovimpact_healthy 0"
			}
			if !strings.Contains(metrics, healthy+"\n") {
				t.Errorf("metrics lack %q", healthy)
			}
		})
	}
}

// TestSourceMetrics: per source the last successful sync as a Unix time,
// expiry and session counters; the union's size.
func TestSourceMetrics(t *testing.T) {
	last := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
	srv := New(Config{Table: live.New(live.Options{}), Now: func() time.Time { return last.Add(time.Minute) },
		Union: func() int { return 723 },
		Sources: func() []VRPSource {
			return []VRPSource{
				{Name: "127.0.0.1:3323", Kind: "rtr", Up: true, Connected: true, LastUpdate: last, Expire: 10 * time.Minute, VRPs: 700, Timeouts: 2, CacheResets: 3, ProtocolErrors: 4, Expirations: 5},
				{Name: "127.0.0.1:3324", Kind: "rtr", Connected: true},
				{Name: "file:a.json", Kind: "file", Up: true, LastUpdate: last, VRPs: 23},
			}
		}})
	_, _, body := get(t, srv, "/metrics")
	for _, want := range []string{
		`rovimpact_vrp_source_last_sync_timestamp_seconds{source="127.0.0.1:3323"} 1.7961984e+09`,
		`rovimpact_vrp_source_last_sync_timestamp_seconds{source="file:a.json"} 1.7961984e+09`,
		`rovimpact_vrp_source_expired{source="127.0.0.1:3323"} 0`,
		`rovimpact_vrp_union 723`,
		`rovimpact_rtr_up{source="127.0.0.1:3324"} 0`,
		`rovimpact_rtr_connected{source="127.0.0.1:3324"} 1`,
		`rovimpact_rtr_timeouts_total{source="127.0.0.1:3323"} 2`,
		`rovimpact_rtr_cache_resets_total{source="127.0.0.1:3323"} 3`,
		`rovimpact_rtr_protocol_errors_total{source="127.0.0.1:3323"} 4`,
		`rovimpact_rtr_expirations_total{source="127.0.0.1:3323"} 5`,
		`rovimpact_vrps{source="file:a.json"} 23`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(body, `rovimpact_vrp_source_last_sync_timestamp_seconds{source="127.0.0.1:3324"}`) {
		t.Error("a last-sync time for a source that never synced")
	}
}
