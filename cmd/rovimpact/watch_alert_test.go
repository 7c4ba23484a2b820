package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/osrg/gobgp/v3/pkg/packet/bgp"
	"github.com/osrg/gobgp/v3/pkg/packet/bmp"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/internal/testutil"
	"github.com/rovimpact/rovimpact/internal/testutil/stayrtr"
	"github.com/rovimpact/rovimpact/internal/testutil/watchfix"
	"github.com/rovimpact/rovimpact/route"
)

// TestWatchAlertsCauses drives watch from a BGP peer in the test and
// checks what an HTTP receiver in the test is told, through the config
// file's alerts list: the initial table is one initial_load event after
// the peer's End-of-RIB (RFC 4724 §2) with its counts, not one event per
// invalid; an invalid announced afterwards is one event with its cause
// and deciding VRP; the session going down is one session_down event
// counting the invalids it took, and the log has no invalid_disappeared
// line for them.
func TestWatchAlertsCauses(t *testing.T) {
	var mu sync.Mutex
	var got, mine []map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m struct{ Events []map[string]any }
		if err := json.Unmarshal(b, &m); err != nil {
			t.Errorf("webhook body %q: %v", b, err)
		}
		mu.Lock()
		if r.URL.Path == "/mine" {
			mine = append(mine, m.Events...)
		} else {
			got = append(got, m.Events...)
		}
		mu.Unlock()
	}))
	defer srv.Close()
	events := func(name string) []map[string]any {
		mu.Lock()
		defer mu.Unlock()
		var out []map[string]any
		for _, e := range got {
			if e["event"] == name {
				out = append(out, e)
			}
		}
		return out
	}

	dir := t.TempDir()
	vrpFile := filepath.Join(dir, "vrps.json")
	stayrtr.WriteVRPs(t, vrpFile, watchfix.VRPs0)
	_, bgpPort, _ := net.SplitHostPort(freeLoopback(t))
	cfg := filepath.Join(dir, "watch.yaml")
	doc := fmt.Sprintf(`listen: 127.0.0.1:%s
neighbor: %s:65001
local-as: 64900
router-id: 192.0.2.254
vrps: %s
interval: 100ms
log-format: json
alerts:
  - name: noc
    type: webhook
    url: %s
    filter:
      events: [initial_load, invalid_appeared, session_down]
  - name: my-space
    type: webhook
    url: %s/mine
    filter: {prefixes: [10.2.0.0/16], events: [invalid_appeared]}
`, bgpPort, hostileAddr, vrpFile, srv.URL, srv.URL)
	if err := os.WriteFile(cfg, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	run := startWatch(t, "--config", cfg, "--http", freeLoopback(t))
	peer := route.PeerKey{AS: 65001, IP: netip.MustParseAddr(hostileAddr)}
	p := dialRawPeer(t, bgpPort)
	routes := watchfix.Without(watchfix.Routes0, watchfix.Both)
	for _, r := range routes {
		p.write(t, p.update(t, r, 0))
	}
	want := truth(t, peer, 65001, routes, watchfix.VRPs0)
	run.converges(t, "initial table", want)
	p.write(t, mustBytes(t)(bgp.NewEndOfRib(bgp.RF_IPv4_UC).Serialize()))
	p.write(t, mustBytes(t)(bgp.NewEndOfRib(bgp.RF_IPv6_UC).Serialize()))
	run.logged(t, `"msg":"initial_load"`, 1)
	testutil.Eventually(t, 5*time.Second, "initial_load alert", func() (bool, string) { return len(events("initial_load")) == 1, fmt.Sprint(got) })
	if n := strings.Count(run.logs.String(), `"msg":"invalid_appeared"`); n != 0 || len(events("invalid_appeared")) != 0 {
		t.Errorf("the initial table was told route by route: %d log lines, %d alerts", n, len(events("invalid_appeared")))
	}
	// A receiver watching its own space hears of its route in the load.
	testutil.Eventually(t, 5*time.Second, "my-space alert", func() (bool, string) {
		mu.Lock()
		defer mu.Unlock()
		return len(mine) == 1 && mine[0]["prefix"] == "10.2.0.0/24" && mine[0]["initial_load"] == true && mine[0]["cause"] == "route_announced", fmt.Sprint(mine)
	})
	var unreachable int
	for _, r := range want.Invalids {
		if r.Impact == classify.Unreachable {
			unreachable++
		}
	}
	wantCounts := map[string]any{"routes": float64(want.Summary.Routes), "invalid": float64(want.Summary.Invalid),
		"dropped": float64(want.Summary.Dropped), "unreachable": float64(unreachable)}
	il := events("initial_load")[0]
	if il["cause"] != "end_of_rib" || il["peer"] != "bgp "+hostileAddr+" AS65001" || fmt.Sprint(il["counts"]) != fmt.Sprint(wantCounts) {
		t.Errorf("initial_load: %v, want cause end_of_rib, counts %v", il, wantCounts)
	}

	// After the load, an invalid is told by itself, with cause and VRP.
	p.write(t, p.update(t, watchfix.Both, 0))
	testutil.Eventually(t, 5*time.Second, "invalid_appeared alert", func() (bool, string) { return len(events("invalid_appeared")) == 1, fmt.Sprint(got) })
	ia := events("invalid_appeared")[0]
	if ia["prefix"] != "10.3.7.0/24" || ia["origin"] != "AS64666" || ia["class"] != "both" || ia["impact"] != "unreachable" ||
		ia["cause"] != "route_announced" || ia["vrp"] != "10.3.0.0/16 AS64503" {
		t.Errorf("invalid_appeared: %v", ia)
	}
	run.logged(t, `"cause":"route_announced","vrp":"10.3.0.0/16 AS64503"`, 1)

	// The session goes (a message of unknown type: RFC 4271 §6.1): one
	// event counting the invalids it took.
	held := truth(t, peer, 65001, append(routes, watchfix.Both), watchfix.VRPs0)
	p.write(t, append(append(make([]byte, 0, 19), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), 0, 19, 7))
	testutil.Eventually(t, 5*time.Second, "session_down alert", func() (bool, string) { return len(events("session_down")) == 1, fmt.Sprint(got) })
	run.logged(t, `"msg":"session_down_summary"`, 1)
	sd := events("session_down")[0]
	if c, _ := sd["counts"].(map[string]any); c == nil || c["invalids_gone"] != float64(len(held.Invalids)) {
		t.Errorf("session_down: %v, want invalids_gone %d", sd, len(held.Invalids))
	}
	if n := strings.Count(run.logs.String(), `"msg":"invalid_disappeared"`); n != 0 {
		t.Errorf("%d invalid_disappeared lines for a session going down, want 0 (one session_down_summary)", n)
	}
}

// TestPeersCommand: `rovimpact peers` shows a running watch's sessions
// through /api/peers; without a watch it is an error naming the URL.
func TestPeersCommand(t *testing.T) {
	vrpFile := filepath.Join(t.TempDir(), "vrps.json")
	stayrtr.WriteVRPs(t, vrpFile, watchfix.VRPs0)
	run := startWatch(t, "--bmp", "127.0.0.1:0", "--vrps", vrpFile, "--http", freeLoopback(t), "--interval", "100ms")
	conn, err := net.Dial("tcp", run.w.BMPAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.Write(bmpPeerUp("192.0.2.5", 64496))
	var routes []annRoute
	for _, r := range []annRoute{watchfix.Valid, watchfix.WrongOrigin, watchfix.V6Valid} {
		r.Path = "64496 " + r.Path
		routes = append(routes, r)
		conn.Write(bmpRoute(t, "192.0.2.5", 64496, r, false))
	}
	run.converges(t, "routes", truth(t, route.PeerKey{AS: 64496, IP: netip.MustParseAddr("192.0.2.5")}, 0, routes, watchfix.VRPs0))
	out, _, err := runCLI(t, "peers", "--api", "http://"+run.w.HTTPAddr())
	if err != nil {
		t.Fatal(err)
	}
	want := "│ bmp    │ 192.0.2.5 │ AS64496 │ yes │ 3     │ 2    │ 1    │ 2     │ 1       │ 0         │ 1       │"
	if !strings.Contains(out, want) {
		t.Errorf("peers:\n%s\nwant a row\n%s", out, want)
	}
	for _, line := range strings.Split(out, "\n") {
		if n := len([]rune(line)); n > 120 {
			t.Errorf("line of %d columns: %s", n, line)
		}
	}
	_, _, err = runCLI(t, "peers", "--api", "http://"+freeLoopback(t))
	if exitCodeOf(err) != exitError || !strings.Contains(fmt.Sprint(err), "/api/peers") {
		t.Errorf("no watch: exit %d (%v), want 1 naming /api/peers", exitCodeOf(err), err)
	}
}

// TestWatchAlertSyslogVRPCause: a VRP file change (polled) makes a held
// route invalid; a syslog listener in the test receives exactly one RFC
// 5424 line for it, with cause vrps_changed and the deciding VRP, because
// the receiver's filter watches that space only. The BMP peer sends no
// End-of-RIB: eor-timeout 0 ends its initial load at the first check, so
// the route is held by a loaded session when the VRPs change (a route of
// a session still loading is told in its initial_load, and the check
// waits while a session loads: watch.Service.checkDue).
func TestWatchAlertSyslogVRPCause(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	dir := t.TempDir()
	vrpFile := filepath.Join(dir, "vrps.json")
	stayrtr.WriteVRPs(t, vrpFile, watchfix.VRPs0)
	cfg := filepath.Join(dir, "watch.yaml")
	doc := fmt.Sprintf(`bmp: 127.0.0.1:0
vrps: [%s]
file-poll: 100ms
interval: 100ms
eor-timeout: 0s
log-format: json
alerts:
  - type: syslog
    address: udp://%s
    filter: {prefixes: [10.0.0.0/16], events: [invalid_appeared]}
`, vrpFile, pc.LocalAddr())
	if err := os.WriteFile(cfg, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	run := startWatch(t, "--config", cfg, "--http", freeLoopback(t))
	conn, err := net.Dial("tcp", run.w.BMPAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.Write(bmpPeerUp("192.0.2.5", 64496))
	var routes []annRoute
	for _, r := range []annRoute{watchfix.Valid, watchfix.WrongOrigin, watchfix.Cover} {
		r.Path = "64496 " + r.Path
		routes = append(routes, r)
		conn.Write(bmpRoute(t, "192.0.2.5", 64496, r, false))
	}
	peer := route.PeerKey{AS: 64496, IP: netip.MustParseAddr("192.0.2.5")}
	run.converges(t, "routes", truth(t, peer, 0, routes, watchfix.VRPs0))
	// 10.0.0.0/16 now allows only /16: watchfix.Valid's /24 becomes too_specific.
	vrps := append(watchfix.Without(watchfix.VRPs0, vrpOf("10.0.0.0/16", 24, 64500)), vrpOf("10.0.0.0/16", 16, 64500))
	time.Sleep(20 * time.Millisecond) // a modification time the poll can tell apart
	stayrtr.WriteVRPs(t, vrpFile, vrps)
	run.converges(t, "VRP change", truth(t, peer, 0, routes, vrps))
	run.logged(t, `"msg":"invalid_appeared","prefix":"10.0.1.0/24"`, 1)
	run.logged(t, `"cause":"vrps_changed","vrp_sources":"file:`+vrpFile+`","vrp":"10.0.0.0/16 AS64500"`, 1)
	buf := make([]byte, 2048)
	pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _, err := pc.ReadFrom(buf)
	if err != nil {
		t.Fatalf("no syslog message: %v\n%s", err, tail(run.logs.String(), 20))
	}
	want := regexp.MustCompile(`^<28>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z - rovimpact ` + strconv.Itoa(os.Getpid()) +
		` invalid_appeared - invalid_appeared 10\.0\.1\.0/24 AS64500 class=too_specific impact=unreachable cause=vrps_changed vrp="10\.0\.0\.0/16 AS64500" source=file:` + regexp.QuoteMeta(vrpFile) + `$`)
	if got := string(buf[:n]); !want.MatchString(got) {
		t.Errorf("syslog line:\n%s\nwant %s", got, want)
	}
	// Nothing else: the wrong_origin route outside 10.0.0.0/16 was filtered.
	pc.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	if n, _, err := pc.ReadFrom(buf); err == nil {
		t.Errorf("a second syslog message: %s", buf[:n])
	}
}

// TestWatchBMPInitialLoad: a BMP-monitored peer's initial table, ended by
// its End-of-RIB markers in route monitoring (RFC 7854 §5), is one
// initial_load line, not one invalid_appeared per invalid; a route after
// it is told by itself.
func TestWatchBMPInitialLoad(t *testing.T) {
	vrpFile := filepath.Join(t.TempDir(), "vrps.json")
	stayrtr.WriteVRPs(t, vrpFile, watchfix.VRPs0)
	run := startWatch(t, "--bmp", "127.0.0.1:0", "--vrps", vrpFile, "--http", freeLoopback(t), "--interval", "100ms", "--log-format", "json")
	conn, err := net.Dial("tcp", run.w.BMPAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.Write(bmpPeerUp("192.0.2.5", 64496))
	var routes []annRoute
	for _, r := range watchfix.Without(watchfix.Routes0, watchfix.SameInvalid, watchfix.Both) {
		r.Path, r.ID = "64496 "+r.Path, 0
		routes = append(routes, r)
		conn.Write(bmpRoute(t, "192.0.2.5", 64496, r, false))
	}
	peer := route.PeerKey{AS: 64496, IP: netip.MustParseAddr("192.0.2.5")}
	want := truth(t, peer, 0, routes, watchfix.VRPs0)
	run.converges(t, "initial table", want)
	for _, rf := range []bgp.RouteFamily{bgp.RF_IPv4_UC, bgp.RF_IPv6_UC} {
		conn.Write(bmpMust(bmp.NewBMPRouteMonitoring(bmpPeerHeader("192.0.2.5", 64496), bgp.NewEndOfRib(rf)).Serialize()))
	}
	run.logged(t, fmt.Sprintf(`"msg":"initial_load","peer":"bmp 192.0.2.5 AS64496","cause":"end_of_rib","routes":%d,"invalid":%d`,
		want.Summary.Routes, want.Summary.Invalid), 1)
	if n := strings.Count(run.logs.String(), `"msg":"invalid_appeared"`); n != 0 {
		t.Errorf("the initial table was logged route by route: %d invalid_appeared lines", n)
	}
	r := watchfix.Both
	r.Path = "64496 " + r.Path
	conn.Write(bmpRoute(t, "192.0.2.5", 64496, r, false))
	run.logged(t, `"msg":"invalid_appeared","prefix":"10.3.7.0/24"`, 1)
}
