package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rovimpact/rovimpact/internal/testutil/fixture"
	"github.com/rovimpact/rovimpact/internal/testutil/watchfix"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/internal/testutil"
	"github.com/rovimpact/rovimpact/internal/testutil/gobgpd"
	"github.com/rovimpact/rovimpact/internal/testutil/stayrtr"
	"github.com/rovimpact/rovimpact/reports"
	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
	"github.com/rovimpact/rovimpact/table"
	"github.com/rovimpact/rovimpact/watch"
)

// --- harness -----------------------------------------------------------

func freeLoopback(t testing.TB) string { return testutil.FreeLoopback(t) }

// watchRun is a watch running in-process.
type watchRun struct {
	w    *watch.Service
	logs *testutil.SyncBuffer
	stop func() error
}

// startWatch parses args as the watch command does and runs it until the
// test ends (or stop).
func startWatch(t *testing.T, args ...string) *watchRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &testutil.SyncBuffer{}
	ready := make(chan *watch.Service, 1)
	done := make(chan error, 1)
	go func() { done <- runWatch(ctx, args, logs, func(w *watch.Service) { ready <- w }) }()
	run := &watchRun{logs: logs}
	var once sync.Once
	var err error
	run.stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				err = fmt.Errorf("watch did not stop within 10 s")
			}
		})
		return err
	}
	t.Cleanup(func() {
		if err := run.stop(); err != nil {
			t.Errorf("watch: %v\n%s", err, logs)
		}
	})
	select {
	case run.w = <-ready:
	case err := <-done:
		t.Fatalf("watch ended before it was ready: %v\n%s", err, logs)
	case <-time.After(10 * time.Second):
		t.Fatalf("watch not ready within 10 s\n%s", logs)
	}
	return run
}

func (r *watchRun) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + r.w.HTTPAddr() + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func (r *watchRun) invalids(t *testing.T) []reports.Invalid {
	t.Helper()
	code, body := r.get(t, "/api/invalids")
	if code != 200 {
		t.Fatalf("/api/invalids: %d %s", code, body)
	}
	var doc struct{ Invalids []reports.Invalid }
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Invalids
}

// metric returns the value of one exposition line's sample ("name{labels}").
func (r *watchRun) metric(t *testing.T, sample string) (float64, bool) {
	t.Helper()
	_, body := r.get(t, "/metrics")
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, sample+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("metric %s: %v", line, err)
			}
			return f, true
		}
	}
	return 0, false
}

// logged waits until the log holds at least n lines containing s.
func (r *watchRun) logged(t *testing.T, s string, n int) {
	t.Helper()
	testutil.Eventually(t, 5*time.Second, "log "+s, func() (bool, string) {
		return strings.Count(r.logs.String(), s) >= n, tail(r.logs.String(), 40)
	})
}

// --- the truth ---------------------------------------------------------

// annRoute is one path a test speaker announces (watchfix.Route).
type annRoute = watchfix.Route

// truth is what analyze says about routes (from one peer) and vrps: the
// oracle every converged state must equal.
func truth(t testing.TB, peer route.PeerKey, prepend uint32, routes []annRoute, vrps []rov.VRP) reports.Report {
	t.Helper()
	tab := table.New()
	pi := tab.Peer(peer)
	var pre []uint32
	if prepend != 0 {
		pre = append(pre, prepend)
	}
	for _, r := range routes {
		path := fixture.ParsePath(t, r.Path, pre...)
		var set []uint32
		if last := path[len(path)-1]; last.Type == rov.ASSet {
			set = last.ASNs
		}
		tab.Add(netip.MustParsePrefix(r.Prefix), rov.OriginOf(path), pi, set)
	}
	return reports.Build(classify.Analyze(tab, rov.NewIndex(vrps), classify.Options{}), reports.Meta{})
}

func jsonOf(t testing.TB, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// converges waits until /api/invalids equals the truth's invalids and the
// route gauges its summary.
func (r *watchRun) converges(t *testing.T, what string, want reports.Report) {
	t.Helper()
	start := time.Now()
	defer func() { t.Logf("%s: converged in %v", what, time.Since(start).Round(time.Millisecond)) }()
	wantJSON := jsonOf(t, want.Invalids)
	testutil.Eventually(t, 20*time.Second, what, func() (bool, string) {
		got := jsonOf(t, r.invalids(t))
		if got != wantJSON {
			return false, fmt.Sprintf("/api/invalids:\n%s\nwant:\n%s\nlog:\n%s", got, wantJSON, tail(r.logs.String(), 30))
		}
		return true, ""
	})
	for state, n := range map[string]int{"valid": want.Summary.Valid, "invalid": want.Summary.Invalid, "not_found": want.Summary.NotFound} {
		if v, ok := r.metric(t, `rovimpact_routes{state="`+state+`"}`); !ok || int(v) != n {
			t.Errorf("%s: rovimpact_routes{state=%q} = %v (present %v), want %d", what, state, v, ok, n)
		}
	}
	for class, n := range map[string]int{"too_specific": want.Summary.Classes.TooSpecific, "wrong_origin": want.Summary.Classes.WrongOrigin,
		"both": want.Summary.Classes.Both, "too_short": want.Summary.Classes.TooShort, "as_set": want.Summary.Classes.ASSet} {
		if v, _ := r.metric(t, `rovimpact_invalids{class="`+class+`"}`); int(v) != n {
			t.Errorf("%s: rovimpact_invalids{class=%q} = %v, want %d", what, class, v, n)
		}
	}
	if v, _ := r.metric(t, `rovimpact_dropped{impact="unreachable"}`); int(v) != want.Summary.Impact.Unreachable {
		t.Errorf("%s: rovimpact_dropped{impact=unreachable} = %v, want %d", what, v, want.Summary.Impact.Unreachable)
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// --- real peers --------------------------------------------------------

// speaker is a Debian gobgpd peering with the watch's collector (AS
// 64900), driven by the gobgp CLI.
type speaker struct{ *gobgpd.Speaker }

func startSpeaker(t *testing.T, as uint32, collectorPort string) *speaker {
	t.Helper()
	port, err := strconv.ParseUint(collectorPort, 10, 16)
	if err != nil {
		t.Fatal(err)
	}
	return &speaker{gobgpd.Start(t, gobgpd.Config{AS: as, PeerAS: 64900, PeerPort: uint16(port), AddPath: true})}
}

func (s *speaker) run(args ...string) ([]byte, error) { return s.Run(args...) }

func (s *speaker) announce(t *testing.T, routes ...annRoute) {
	t.Helper()
	for _, r := range routes {
		if out, err := s.run(s.ribArgs("add", r)...); err != nil {
			t.Fatalf("gobgp add %v: %v\n%s", r, err, out)
		}
	}
}

func (s *speaker) withdraw(t *testing.T, routes ...annRoute) {
	t.Helper()
	for _, r := range routes {
		args := s.ribArgs("del", r)
		// "del" takes the prefix and identifier only.
		if i := indexOf(args, "aspath"); i >= 0 {
			args = args[:i]
		}
		if out, err := s.run(args...); err != nil {
			t.Fatalf("gobgp del %v: %v\n%s", r, err, out)
		}
	}
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

func (s *speaker) ribArgs(verb string, r annRoute) []string {
	fam, nh := "ipv4", "127.0.0.1"
	if strings.Contains(r.Prefix, ":") {
		fam, nh = "ipv6", "::1"
	}
	args := []string{"global", "rib", verb, "-a", fam, r.Prefix}
	if r.ID != 0 {
		args = append(args, "identifier", strconv.Itoa(r.ID))
	}
	return append(args, "aspath", r.Path, "nexthop", nh)
}

func (s *speaker) stop() { s.Stop() }

func vrpOf(p string, maxLen int, asn uint32) rov.VRP { return watchfix.VRP(p, maxLen, asn) }

// TestWatchRealPeers runs watch against Debian stayrtr (RPKI-RTR) and
// Debian gobgpd (BGP with ADD-PATH), and holds it to analyze's answer (the
// truth, computed from the routes announced and the VRPs served) after
// each change: the first sync, a VRP file change arriving over RTR, route
// withdrawals, the cache going away and coming back with other data, the
// BGP session going down and up again. Nothing stale may remain.
func TestWatchRealPeers(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: about 15 s of real BGP sessions (gobgp retries a connection every 5 s at best)")
	}
	stayrtrBin := testutil.NeedTool(t, "stayrtr", "stayrtr")
	testutil.NeedTool(t, "gobgpd", "gobgpd")
	dir := t.TempDir()
	vrpFile := filepath.Join(dir, "vrps.json")
	stayrtr.WriteVRPs(t, vrpFile, watchfix.VRPs0)
	rtrAddr := freeLoopback(t)
	stopCache := stayrtr.Start(t, stayrtrBin, vrpFile, rtrAddr)
	_, bgpPort, _ := net.SplitHostPort(freeLoopback(t))
	dumpDir := filepath.Join(dir, "dumps")

	run := startWatch(t, "--listen", "127.0.0.1:"+bgpPort, "--neighbor", "127.0.0.1:65001", "--local-as", "64900",
		"--router-id", "192.0.2.254", "--rtr", rtrAddr, "--rtr-retry", "200ms", "--http", freeLoopback(t),
		"--interval", "100ms", "--log-format", "json", "--dump", dumpDir)
	sp := startSpeaker(t, 65001, bgpPort)
	sp.announce(t, watchfix.Routes0...)
	peer := route.PeerKey{AS: 65001, IP: netip.MustParseAddr("127.0.0.1")}

	// 1. First sync: every class and impact.
	want := truth(t, peer, 65001, watchfix.Routes0, watchfix.VRPs0)
	if c := want.Summary.Classes; c.TooSpecific != 2 || c.WrongOrigin != 3 || c.Both != 1 || c.TooShort != 1 || c.ASSet != 1 {
		t.Fatalf("fixture does not cover every class: %+v", c)
	}
	if im := want.Summary.Impact; im.SamePrefix != 1 || im.Covered != 2 || im.MoreSpecifics != 1 || im.Unreachable < 1 {
		t.Fatalf("fixture does not cover every impact: %+v", im)
	}
	run.converges(t, "first sync", want)
	for _, m := range []struct {
		sample string
		want   float64
	}{
		{`rovimpact_rtr_up{source="` + rtrAddr + `"}`, 1},
		{`rovimpact_vrps{source="` + rtrAddr + `"}`, float64(len(watchfix.VRPs0))},
		{`rovimpact_bgp_sessions{state="up"}`, 1},
		{`rovimpact_paths`, 15},
		{`rovimpact_peer_paths{peer_as="65001",peer_ip="127.0.0.1"}`, 15},
	} {
		if v, ok := run.metric(t, m.sample); !ok || v != m.want {
			t.Errorf("%s = %v (present %v), want %v", m.sample, v, ok, m.want)
		}
	}

	// 2. The VRP file changes; stayrtr re-reads it and the change arrives
	// by RTR: 10.2.0.0/24 from AS64999 becomes valid, and without the
	// 10.1.0.0/16 VRP its routes become not_found.
	vrps1 := append(watchfix.Without(watchfix.VRPs0, vrpOf("10.1.0.0/16", 16, 64501)), vrpOf("10.2.0.0/24", 24, 64999))
	stayrtr.WriteVRPs(t, vrpFile, vrps1)
	run.converges(t, "VRP change by RTR", truth(t, peer, 65001, watchfix.Routes0, vrps1))
	run.logged(t, `"msg":"invalid_disappeared","prefix":"10.2.0.0/24"`, 1)

	// 3. Withdrawals, one of them an ADD-PATH path.
	sp.withdraw(t, watchfix.Both, watchfix.SameInvalid)
	routes1 := watchfix.Without(watchfix.Routes0, watchfix.Both, watchfix.SameInvalid)
	run.converges(t, "withdrawals", truth(t, peer, 65001, routes1, vrps1))

	// 4. The cache goes away (its VRPs are kept until they expire, RFC
	// 8210 §6), comes back with other data and a new session.
	stopCache()
	testutil.Eventually(t, 10*time.Second, "cache down", func() (bool, string) {
		v, _ := run.metric(t, `rovimpact_rtr_up{source="`+rtrAddr+`"}`)
		return v == 0, tail(run.logs.String(), 10)
	})
	run.converges(t, "cache down, VRPs kept", truth(t, peer, 65001, routes1, vrps1))
	vrps2 := append(vrps1, vrpOf("172.16.0.0/16", 16, 64999)) // 172.16.0.0/24 from AS64510 becomes invalid
	stayrtr.WriteVRPs(t, vrpFile, vrps2)
	stayrtr.Start(t, stayrtrBin, vrpFile, rtrAddr)
	run.converges(t, "cache back", truth(t, peer, 65001, routes1, vrps2))
	run.logged(t, `"msg":"cache_down"`, 1)
	run.logged(t, `"msg":"cache_up"`, 2)

	// 5. The BGP session goes down: every path of the peer goes with it.
	sp.stop()
	run.converges(t, "session down", truth(t, peer, 65001, nil, vrps2))
	if v, _ := run.metric(t, "rovimpact_paths"); v != 0 {
		t.Errorf("rovimpact_paths = %v after the session went down, want 0", v)
	}
	// ... and comes back with another table.
	routes2 := append(watchfix.Without(routes1, watchfix.AS0, watchfix.TooSpecific), annRoute{Prefix: "192.168.0.0/24", Path: "64999"})
	sp2 := startSpeaker(t, 65001, bgpPort)
	sp2.announce(t, routes2...)
	final := truth(t, peer, 65001, routes2, vrps2)
	run.converges(t, "session back", final)
	run.logged(t, `"msg":"session_down"`, 1)
	run.logged(t, `"msg":"session_up"`, 2)

	// 6. Stop: the last dump, read by analyze with the same VRPs, gives the
	// invalids the API gave.
	if err := run.stop(); err != nil {
		t.Fatal(err)
	}
	dumps, _ := filepath.Glob(filepath.Join(dumpDir, "rib.*.mrt.gz"))
	if len(dumps) != 1 {
		t.Fatalf("dumps %v, want one", dumps)
	}
	out, _, err := runCLI(t, "analyze", "--vrps", vrpFile, "--format", "json", dumps[0])
	if err != nil {
		t.Fatalf("analyze the dump: %v", err)
	}
	var rep reports.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if got, want := jsonOf(t, rep.Invalids), jsonOf(t, final.Invalids); got != want {
		t.Errorf("analyze of the dump:\n%s\nwant:\n%s", got, want)
	}
}

// TestWatchBMPSessionWithoutRoutes: a monitored peer that sends no route
// is up as soon as its Peer Up arrives, and down as soon as the router's
// connection closes, in the log and in rovimpact_bgp_sessions.
func TestWatchBMPSessionWithoutRoutes(t *testing.T) {
	dir := t.TempDir()
	vrpFile := filepath.Join(dir, "vrps.json")
	stayrtr.WriteVRPs(t, vrpFile, watchfix.VRPs0)
	run := startWatch(t, "--bmp", "127.0.0.1:0", "--vrps", vrpFile, "--http", freeLoopback(t), "--log-format", "json",
		"--interval", "1h") // no periodic work: the session events alone must do it
	conn, err := net.Dial("tcp", run.w.BMPAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.Write(bmpPeerUp("192.0.2.5", 64496))
	run.logged(t, `"msg":"session_up","source":"bmp","peer_ip":"192.0.2.5","peer_as":64496`, 1)
	if v, _ := run.metric(t, `rovimpact_bgp_sessions{state="up"}`); v != 1 {
		t.Errorf(`rovimpact_bgp_sessions{state="up"} = %v, want 1`, v)
	}
	conn.Close()
	run.logged(t, `"reason":"router connection closed"`, 1)
	if v, _ := run.metric(t, `rovimpact_bgp_sessions{state="down"}`); v != 1 {
		t.Errorf(`rovimpact_bgp_sessions{state="down"} = %v, want 1`, v)
	}
}
