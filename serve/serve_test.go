package serve

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/live"
	"github.com/rovimpact/rovimpact/reports"
	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
	"github.com/rovimpact/rovimpact/rtr"
	"github.com/rovimpact/rovimpact/table"
)

// fixture is a small table with one route of each kind the API reports.
type fixture struct {
	vrps   []rov.VRP
	routes []fixRoute
}

type fixRoute struct {
	peer   int
	prefix string
	path   []uint32
}

var fixPeers = []route.Peer{
	{AS: 65000, IP: netip.MustParseAddr("10.0.0.1")},
	{AS: 65001, IP: netip.MustParseAddr("2001:db8::1")},
}

func vrp(p string, maxLen int, asn uint32) rov.VRP {
	return rov.VRP{Prefix: netip.MustParsePrefix(p), MaxLen: uint8(maxLen), ASN: asn}
}

var small = fixture{
	vrps: []rov.VRP{vrp("192.0.2.0/24", 24, 64500), vrp("198.51.100.0/22", 22, 64501), vrp("2001:db8:100::/40", 48, 64510)},
	routes: []fixRoute{
		{0, "192.0.2.0/24", []uint32{65000, 64500}},          // valid
		{1, "192.0.2.0/24", []uint32{65001, 64500}},          // valid, second peer
		{0, "192.0.2.128/25", []uint32{65000, 64500}},        // too_specific, covered by the valid /24
		{0, "198.51.100.0/22", []uint32{65000, 64999}},       // wrong_origin, unreachable
		{1, "203.0.113.0/24", []uint32{65001, 64502}},        // not_found
		{1, "2001:db8:100::/48", []uint32{65001, 64510}},     // valid (maxLength 48)
		{1, "2001:db8:100:100::/56", []uint32{65001, 64666}}, // both, covered by the valid /48
	},
}

func (f fixture) state(t testing.TB) *live.State {
	t.Helper()
	s := live.New(live.Options{})
	s.SetVRPs(f.vrps)
	for _, r := range f.routes {
		rt := route.Route{Kind: route.Announce, Peer: fixPeers[r.peer], Prefix: netip.MustParsePrefix(r.prefix),
			Path: []rov.Segment{{Type: rov.ASSequence, ASNs: r.path}}, RPKIState: route.RPKIAbsent}
		rt.Origin = rov.OriginOf(rt.Path)
		s.Apply(&rt)
	}
	return s
}

// truth is what analyze reports for the same routes and VRPs.
func (f fixture) truth() reports.Report {
	t := table.New()
	for _, r := range f.routes {
		p := t.Peer(route.PeerKey{AS: fixPeers[r.peer].AS, IP: fixPeers[r.peer].IP})
		t.Add(netip.MustParsePrefix(r.prefix), rov.Origin{Kind: rov.OriginAS, ASN: r.path[len(r.path)-1]}, p, nil)
	}
	return reports.Build(classify.Analyze(t, rov.NewIndex(f.vrps), classify.Options{}), reports.Meta{})
}

func get(t *testing.T, h http.Handler, url string) (int, http.Header, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, url, nil))
	body, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, rec.Result().Header, string(body)
}

// TestInvalidsMatchAnalyze: /api/invalids, /api/summary and /api/report are
// the analyze JSON of the same routes and VRPs (the schema is shared, the
// verdicts must be too).
func TestInvalidsMatchAnalyze(t *testing.T) {
	st := small.state(t)
	srv := New(Config{Table: st})
	want := small.truth()
	if len(want.Invalids) != 3 {
		t.Fatalf("fixture: %d invalids, want 3 (too_specific, wrong_origin, both)", len(want.Invalids))
	}

	code, hdr, body := get(t, srv, "/api/invalids")
	if code != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "application/json") {
		t.Fatalf("status %d, content type %q", code, hdr.Get("Content-Type"))
	}
	var inv struct{ Invalids []reports.Invalid }
	if err := json.Unmarshal([]byte(body), &inv); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(inv.Invalids, want.Invalids) {
		t.Errorf("invalids:\n got %+v\nwant %+v", inv.Invalids, want.Invalids)
	}
	if hdr.Get("X-Rovimpact-Epoch") == "" {
		t.Error("no X-Rovimpact-Epoch header")
	}

	_, _, body = get(t, srv, "/api/summary")
	var sum struct{ Summary reports.Summary }
	if err := json.Unmarshal([]byte(body), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Summary.Valid != want.Summary.Valid || sum.Summary.Invalid != want.Summary.Invalid ||
		sum.Summary.NotFound != want.Summary.NotFound || sum.Summary.Impact != want.Summary.Impact || sum.Summary.Classes != want.Summary.Classes {
		t.Errorf("summary:\n got %+v\nwant %+v", sum.Summary, want.Summary)
	}

	_, _, body = get(t, srv, "/api/report")
	var rep reports.Report
	if err := json.Unmarshal([]byte(body), &rep); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rep.Origins, want.Origins) {
		t.Errorf("origins:\n got %+v\nwant %+v", rep.Origins, want.Origins)
	}
}

// TestInvalidFilters: each filter selects the rows analyze's JSON would
// show after the same jq select; a bad value is a 400 with a JSON error.
func TestInvalidFilters(t *testing.T) {
	srv := New(Config{Table: small.state(t)})
	tests := []struct {
		query string
		code  int
		want  []string // prefixes
	}{
		{"", 200, []string{"192.0.2.128/25", "198.51.100.0/22", "2001:db8:100:100::/56"}},
		{"?class=too_specific", 200, []string{"192.0.2.128/25"}},
		{"?impact=unreachable", 200, []string{"198.51.100.0/22"}},
		{"?impact=covered", 200, []string{"192.0.2.128/25", "2001:db8:100:100::/56"}},
		{"?origin=AS64999", 200, []string{"198.51.100.0/22"}},
		{"?origin=64500&class=too_specific", 200, []string{"192.0.2.128/25"}},
		{"?origin=none", 200, []string{}},
		{"?dropped=false", 200, []string{}},
		{"?class=bogus", 400, nil},
		{"?impact=gone", 400, nil},
		{"?origin=ASX", 400, nil},
		{"?dropped=maybe", 400, nil},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			code, _, body := get(t, srv, "/api/invalids"+tt.query)
			if code != tt.code {
				t.Fatalf("status %d, want %d: %s", code, tt.code, body)
			}
			if code != 200 {
				var e struct{ Error string }
				if json.Unmarshal([]byte(body), &e) != nil || e.Error == "" {
					t.Errorf("error body %q: want {\"error\": ...}", body)
				}
				return
			}
			var inv struct{ Invalids []reports.Invalid }
			if err := json.Unmarshal([]byte(body), &inv); err != nil {
				t.Fatal(err)
			}
			got := []string{}
			for _, r := range inv.Invalids {
				got = append(got, r.Prefix.String())
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestLookup: /api/lookup answers as `lookup --format json` does; bad
// queries are 400 with a JSON error.
func TestLookup(t *testing.T) {
	st := small.state(t)
	srv := New(Config{Table: st})
	snap := st.Snapshot()
	tests := []struct {
		url    string
		code   int
		query  []string
		origin *uint32
	}{
		{"/api/lookup?q=192.0.2.0/24", 200, []string{"192.0.2.0/24"}, nil},
		{"/api/lookup?q=198.51.100.7&q=AS64500", 200, []string{"198.51.100.7", "AS64500"}, nil},
		{"/api/lookup?q=203.0.113.0/24&origin=AS64502", 200, []string{"203.0.113.0/24"}, ptr(uint32(64502))},
		{"/api/lookup", 400, nil, nil},
		{"/api/lookup?q=192.0.2.1/24", 400, nil, nil}, // host bits set
		{"/api/lookup?q=nonsense", 400, nil, nil},
		{"/api/lookup?q=192.0.2.0/24&origin=xyz", 400, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			code, _, body := get(t, srv, tt.url)
			if code != tt.code {
				t.Fatalf("status %d, want %d: %s", code, tt.code, body)
			}
			if code != 200 {
				if !strings.Contains(body, `"error"`) {
					t.Errorf("error body %q", body)
				}
				return
			}
			var answers []reports.Answer
			for _, q := range tt.query {
				pq, err := reports.ParseQuery(q)
				if err != nil {
					t.Fatal(err)
				}
				answers = append(answers, reports.Lookup(snap.Analysis, pq, tt.origin))
			}
			// Field for field the lookup JSON (the page adds "answer",
			// "next_cursor" and "limit").
			var want strings.Builder
			if err := reports.WriteLookupJSON(&want, answers); err != nil {
				t.Fatal(err)
			}
			if got, exp := decodeAnswers(t, body), decodeAnswers(t, want.String()); !reflect.DeepEqual(got, exp) {
				t.Errorf("body:\n%s\nwant:\n%s", body, want.String())
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestMetrics: the route gauges equal the analyze summary; per-peer,
// per-source and session metrics come from the Config functions.
func TestMetrics(t *testing.T) {
	st := small.state(t)
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	srv := New(Config{
		Table: st,
		Now:   func() time.Time { return now },
		Sources: func() []VRPSource {
			return []VRPSource{
				{Name: "cache-a", Kind: "rtr", Up: true, VRPs: 3, HasSerial: true, Serial: 42, LastUpdate: now.Add(-90 * time.Second)},
				{Name: "cache-b", Kind: "rtr", Up: false, VRPs: 0},
			}
		},
		Disagreements: func() []rtr.Disagreement { return make([]rtr.Disagreement, 2) },
		Sessions: func() []Session {
			return []Session{{Source: "bgp", AS: 65000, Up: true}, {Source: "bgp", AS: 65001, Up: true}, {Source: "bmp", AS: 65002}}
		},
		Skipped: func() map[string]map[string]int64 {
			return map[string]map[string]int64{"bgp": {"treat_as_withdraw": 4}}
		},
	})
	want := `
# HELP rovimpact_routes Routes (unique prefix and origin) by RFC 6811 validation state.
# TYPE rovimpact_routes gauge
rovimpact_routes{state="invalid"} 3
rovimpact_routes{state="not_found"} 1
rovimpact_routes{state="unvalidated"} 0
rovimpact_routes{state="valid"} 2
# HELP rovimpact_invalids Invalid routes by class.
# TYPE rovimpact_invalids gauge
rovimpact_invalids{class="as_set"} 0
rovimpact_invalids{class="both"} 1
rovimpact_invalids{class="too_short"} 0
rovimpact_invalids{class="too_specific"} 1
rovimpact_invalids{class="wrong_origin"} 1
# HELP rovimpact_dropped Routes ROV drops, by impact.
# TYPE rovimpact_dropped gauge
rovimpact_dropped{impact="covered"} 2
rovimpact_dropped{impact="more_specifics"} 0
rovimpact_dropped{impact="same_prefix"} 0
rovimpact_dropped{impact="unreachable"} 1
# HELP rovimpact_rtr_serial Serial of the RTR source's last completed sync.
# TYPE rovimpact_rtr_serial gauge
rovimpact_rtr_serial{source="cache-a"} 42
# HELP rovimpact_rtr_last_update_age_seconds Seconds since the source's last update (RTR End of Data, file load).
# TYPE rovimpact_rtr_last_update_age_seconds gauge
rovimpact_rtr_last_update_age_seconds{source="cache-a"} 90
# HELP rovimpact_rtr_up 1 while the source is up (RTR session established, file read).
# TYPE rovimpact_rtr_up gauge
rovimpact_rtr_up{source="cache-a"} 1
rovimpact_rtr_up{source="cache-b"} 0
# HELP rovimpact_bgp_sessions Route sessions (BGP neighbours, BMP-monitored peers) by state.
# TYPE rovimpact_bgp_sessions gauge
rovimpact_bgp_sessions{state="down"} 1
rovimpact_bgp_sessions{state="up"} 2
# HELP rovimpact_vrp_disagreements VRPs some sources hold and others lack.
# TYPE rovimpact_vrp_disagreements gauge
rovimpact_vrp_disagreements 2
# HELP rovimpact_paths Paths held (peer, prefix, path id).
# TYPE rovimpact_paths gauge
rovimpact_paths 7
# HELP rovimpact_vrps_effective VRPs in use: the union of the sources with SLURM applied.
# TYPE rovimpact_vrps_effective gauge
rovimpact_vrps_effective 3
# HELP rovimpact_peer_routes Routes each peer carries, by validation state.
# TYPE rovimpact_peer_routes gauge
rovimpact_peer_routes{peer_as="65000",peer_ip="10.0.0.1",state="invalid"} 2
rovimpact_peer_routes{peer_as="65000",peer_ip="10.0.0.1",state="not_found"} 0
rovimpact_peer_routes{peer_as="65000",peer_ip="10.0.0.1",state="unvalidated"} 0
rovimpact_peer_routes{peer_as="65000",peer_ip="10.0.0.1",state="valid"} 1
rovimpact_peer_routes{peer_as="65001",peer_ip="2001:db8::1",state="invalid"} 1
rovimpact_peer_routes{peer_as="65001",peer_ip="2001:db8::1",state="not_found"} 1
rovimpact_peer_routes{peer_as="65001",peer_ip="2001:db8::1",state="unvalidated"} 0
rovimpact_peer_routes{peer_as="65001",peer_ip="2001:db8::1",state="valid"} 2
# HELP rovimpact_skipped_total Route events not applied, by source and reason.
# TYPE rovimpact_skipped_total counter
rovimpact_skipped_total{reason="treat_as_withdraw",source="bgp"} 4
# HELP rovimpact_events_total Route events applied, by kind.
# TYPE rovimpact_events_total counter
rovimpact_events_total{kind="announce"} 7
rovimpact_events_total{kind="peer_down"} 0
rovimpact_events_total{kind="withdraw"} 0
`
	// The HTTP endpoint serves the registry, with the Go and process
	// collectors; every expected sample line appears verbatim, with its
	// HELP and TYPE.
	code, _, body := get(t, srv, "/metrics")
	if code != 200 || !strings.Contains(body, "go_goroutines") || !strings.Contains(body, "process_") {
		t.Errorf("/metrics: status %d, no go_ or process_ families:\n%.2000s", code, body)
	}
	for _, line := range strings.Split(strings.TrimSpace(want), "\n") {
		if !strings.Contains(body, line+"\n") {
			t.Errorf("/metrics lacks %q", line)
		}
	}
	if strings.Contains(body, `rovimpact_rtr_serial{source="cache-b"}`) {
		t.Error("rovimpact_rtr_serial for a source without a completed sync")
	}
}

// TestReportBuiltOncePerEpoch: scrapes and API calls on an unchanged table
// share one report build; a change (a withdrawal) makes the next request
// build again and see it.
func TestReportBuiltOncePerEpoch(t *testing.T) {
	st := small.state(t)
	srv := New(Config{Table: st, MaxWait: -1}) // read back at once, whatever the machine's load
	for range 3 {
		get(t, srv, "/api/invalids")
		get(t, srv, "/metrics")
		get(t, srv, "/api/summary")
	}
	if srv.builds.Load() != 1 {
		t.Errorf("%d report builds for one epoch, want 1", srv.builds.Load())
	}
	w := route.Route{Kind: route.Withdraw, Peer: fixPeers[0], Prefix: netip.MustParsePrefix("198.51.100.0/22")}
	st.Apply(&w)
	_, _, body := get(t, srv, "/api/invalids?impact=unreachable")
	if srv.builds.Load() != 2 {
		t.Errorf("%d report builds after a change, want 2", srv.builds.Load())
	}
	if strings.Contains(body, "198.51.100.0/22") {
		t.Errorf("withdrawn route still listed:\n%s", body)
	}
}

// TestReadOnlyAndHealth: the API refuses writes (405), answers /healthz
// with the VRP and session state (503 here: no VRPs, no session up), and
// /api/caches with the sources.
func TestReadOnlyAndHealth(t *testing.T) {
	srv := New(Config{
		Table:    live.New(live.Options{}),
		Sessions: func() []Session { return []Session{{Source: "bgp", AS: 65000, Up: false}} },
		Sources:  func() []VRPSource { return []VRPSource{{Name: "file:x.json", Kind: "file", Up: true}} },
		Disagreements: func() []rtr.Disagreement {
			return []rtr.Disagreement{{VRP: vrp("192.0.2.0/24", 24, 1), In: []string{"a"}, Missing: []string{"b"}}}
		},
	})
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest(m, "/api/invalids", nil))
		if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
			t.Errorf("%s: status %d, Allow %q", m, rec.Code, rec.Header().Get("Allow"))
		}
	}
	code, _, body := get(t, srv, "/healthz")
	var h Health
	if err := json.Unmarshal([]byte(body), &h); err != nil || code != http.StatusServiceUnavailable {
		t.Fatalf("healthz %d %s: %v", code, body, err)
	}
	if h.VRPsLoaded || h.Sessions != 1 || h.SessionsUp != 0 || h.Sources != 1 || h.SourcesUp != 1 || h.Status != "unhealthy" || len(h.Reasons) == 0 {
		t.Errorf("healthz %+v", h)
	}
	_, _, body = get(t, srv, "/api/caches")
	var c Caches
	if err := json.Unmarshal([]byte(body), &c); err != nil {
		t.Fatal(err)
	}
	if len(c.Sources) != 1 || c.Disagreements != 1 || len(c.Sample) != 1 || c.Sample[0].Missing[0] != "b" {
		t.Errorf("caches %+v", c)
	}
	if code, _, _ := get(t, srv, "/nope"); code != 404 {
		t.Errorf("/nope: %d, want 404", code)
	}
}

// TestListenLoopbackOnly: binding beyond loopback needs the explicit flag.
func TestListenLoopbackOnly(t *testing.T) {
	tests := []struct {
		addr   string
		public bool
		ok     bool
	}{
		{"127.0.0.1:0", false, true},
		{"[::1]:0", false, true},
		{"0.0.0.0:0", false, false},
		{"192.0.2.1:0", false, false},
		{"localhost:8323", false, false}, // names are refused: resolve and check is racy
	}
	for _, tt := range tests {
		ln, err := Listen(tt.addr, tt.public)
		if (err == nil) != tt.ok {
			t.Errorf("Listen(%q, %v): %v, want ok=%v", tt.addr, tt.public, err, tt.ok)
		}
		if ln != nil {
			ln.Close()
		}
	}
	srv := NewHTTPServer("127.0.0.1:0", http.NotFoundHandler())
	if srv.ReadHeaderTimeout == 0 || srv.ReadTimeout == 0 || srv.WriteTimeout == 0 || srv.IdleTimeout == 0 {
		t.Errorf("http.Server without timeouts: %+v", srv)
	}
}
