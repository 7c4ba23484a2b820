package watch

import (
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/internal/testutil"
	"github.com/rovimpact/rovimpact/internal/testutil/gobgpd"
	"github.com/rovimpact/rovimpact/internal/testutil/stayrtr"
	"github.com/rovimpact/rovimpact/internal/testutil/watchfix"
)

// bgpPort is a free loopback port for watch's BGP listener.
func bgpPort(t *testing.T) (addr string, port uint16) {
	addr = testutil.FreeLoopback(t)
	_, p, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(p)
	return addr, uint16(n)
}

// TestScenarioCauses drives every cause of an alert from real peers: a
// Debian gobgpd over BGP and a Debian stayrtr over RPKI-RTR. Three
// receivers (webhook, syslog over UDP, mail over SMTP), all with one
// filter, are each delivered exactly one message per step:
//
//  1. the initial table, sent by gobgpd before its End-of-RIB (RFC 4724
//     §2): one initial_load event with the counts, no event per invalid;
//  2. route_announced: gobgpd announces an invalid route;
//  3. route_withdrawn: it withdraws it;
//  4. vrps_changed: stayrtr serves a changed VRP file (RTR Serial Notify),
//     which makes a held valid route invalid, naming the cache;
//  5. session_down: gobgpd closes the session (Cease, administrative
//     shutdown): one event counting the invalids it took, not one
//     invalid_disappeared each, and a session_down_summary log line.
func TestScenarioCauses(t *testing.T) {
	t.Parallel() // mostly waiting for peers; the reload test's SIGHUP makes the others re-read their VRP files only
	stayrtrBin := testutil.NeedTool(t, "stayrtr", "stayrtr")
	testutil.NeedTool(t, "gobgpd", "gobgpd")
	start := time.Now()
	dir := t.TempDir()
	vrpFile := filepath.Join(dir, "vrps.json")
	stayrtr.WriteVRPs(t, vrpFile, watchfix.VRPs0)
	cache := testutil.FreeLoopback(t)
	stayrtr.Start(t, stayrtrBin, vrpFile, cache)
	listen, port := bgpPort(t)
	hook, sys, mail, rs, text := threeReceivers(t, "{events: [initial_load, invalid_appeared, invalid_disappeared, session_down]}", "")
	run := startService(t, Options{Listen: listen, Neighbors: []string{"127.0.0.1:65001"}, RouterID: "192.0.2.254",
		Classify: classify.Options{LocalAS: 64900}, RTR: []string{cache}, Alerts: rs, AlertsText: text})
	testutil.Eventually(t, 15*time.Second, "the cache's VRPs", func() (bool, string) {
		return len(run.w.VRPUnion()) == len(watchfix.VRPs0), tailLines(run.logs.String(), 20)
	})

	// 1. The initial table: gobgpd holds it before the session opens.
	sp := gobgpd.Start(t, gobgpd.Config{AS: 65001, PeerAS: 64900, PeerPort: port, AdminDown: true, EndOfRIB: true})
	for _, r := range []annRoute{watchfix.Valid, watchfix.Cover, watchfix.TooSpecific, watchfix.WrongOrigin, watchfix.NotFound, watchfix.V6Valid} {
		sp.Announce(t, r.Prefix, 0, r.Path)
	}
	sp.Enable(t)
	lap := time.Now()
	laps := func(step string) { t.Logf("%s: %v", step, time.Since(lap).Round(time.Millisecond)); lap = time.Now() }
	step := "initial table"
	hook.expect(t, run, step, `{"receiver":"noc","time":"<T>","summary":"1 event: 1 initial_load","events":[{"event":"initial_load","time":"<T>","cause":"end_of_rib","peer":"bgp 127.0.0.1 AS65001","counts":{"dropped":2,"invalid":2,"routes":6,"unreachable":1}}]}`)
	sys.expect(t, run, step, syslogLine(5, "initial_load", `initial_load cause=end_of_rib peer="bgp 127.0.0.1 AS65001" dropped=2 invalid=2 routes=6 unreachable=1`))
	mail.expect(t, run, step, mailText("1 event: 1 initial_load", `initial_load cause=end_of_rib peer="bgp 127.0.0.1 AS65001" dropped=2 invalid=2 routes=6 unreachable=1`))
	if n := strings.Count(run.logs.String(), `"msg":"invalid_appeared"`); n != 0 {
		t.Errorf("the initial table was logged route by route: %d invalid_appeared lines", n)
	}

	// 2. An invalid announced after the load: told by itself.
	laps(step)
	step = "route_announced"
	sp.Announce(t, watchfix.Both.Prefix, 0, watchfix.Both.Path)
	hook.expect(t, run, step, `{"receiver":"noc","time":"<T>","summary":"1 event: 1 invalid_appeared","events":[{"event":"invalid_appeared","time":"<T>","cause":"route_announced","prefix":"10.3.7.0/24","origin":"AS64666","class":"both","impact":"unreachable","vrp":"10.3.0.0/16 AS64503","paths":1,"peers":1}]}`)
	sys.expect(t, run, step, syslogLine(4, "invalid_appeared", `invalid_appeared 10.3.7.0/24 AS64666 class=both impact=unreachable cause=route_announced vrp="10.3.0.0/16 AS64503"`))
	mail.expect(t, run, step, mailText("1 event: 1 invalid_appeared", `invalid_appeared 10.3.7.0/24 AS64666 class=both impact=unreachable cause=route_announced vrp="10.3.0.0/16 AS64503"`))

	// 3. ... and withdrawn.
	laps(step)
	step = "route_withdrawn"
	sp.Withdraw(t, watchfix.Both.Prefix, 0)
	hook.expect(t, run, step, `{"receiver":"noc","time":"<T>","summary":"1 event: 1 invalid_disappeared","events":[{"event":"invalid_disappeared","time":"<T>","cause":"route_withdrawn","prefix":"10.3.7.0/24","origin":"AS64666","old_class":"both","old_impact":"unreachable","vrp":"10.3.0.0/16 AS64503","paths":1,"peers":1}]}`)
	sys.expect(t, run, step, syslogLine(5, "invalid_disappeared", `invalid_disappeared 10.3.7.0/24 AS64666 old_class=both old_impact=unreachable cause=route_withdrawn vrp="10.3.0.0/16 AS64503"`))
	mail.expect(t, run, step, mailText("1 event: 1 invalid_disappeared", `invalid_disappeared 10.3.7.0/24 AS64666 old_class=both old_impact=unreachable cause=route_withdrawn vrp="10.3.0.0/16 AS64503"`))

	// 4. The cache's VRPs change: 10.0.0.0/16 now allows only /16, so the
	// held 10.0.1.0/24 from AS64500 becomes too_specific.
	laps(step)
	step = "vrps_changed"
	stayrtr.WriteVRPs(t, vrpFile, append(watchfix.Without(watchfix.VRPs0, vrpOf("10.0.0.0/16", 24, 64500)), vrpOf("10.0.0.0/16", 16, 64500)))
	hook.expect(t, run, step, `{"receiver":"noc","time":"<T>","summary":"1 event: 1 invalid_appeared","events":[{"event":"invalid_appeared","time":"<T>","cause":"vrps_changed","prefix":"10.0.1.0/24","origin":"AS64500","class":"too_specific","impact":"unreachable","vrp":"10.0.0.0/16 AS64500","paths":1,"peers":1,"source":"`+cache+`"}]}`)
	sys.expect(t, run, step, syslogLine(4, "invalid_appeared", `invalid_appeared 10.0.1.0/24 AS64500 class=too_specific impact=unreachable cause=vrps_changed vrp="10.0.0.0/16 AS64500" source=`+cache))
	mail.expect(t, run, step, mailText("1 event: 1 invalid_appeared", `invalid_appeared 10.0.1.0/24 AS64500 class=too_specific impact=unreachable cause=vrps_changed vrp="10.0.0.0/16 AS64500" source=`+cache))

	// 5. The peer closes the session: one event for the three invalids
	// it carried.
	laps(step)
	step = "session_down"
	sp.Disable(t)
	reason := "notification-received code 6(cease) subcode 2(administrative shutdown)"
	hook.expect(t, run, step, `{"receiver":"noc","time":"<T>","summary":"1 event: 1 session_down","events":[{"event":"session_down","time":"<T>","cause":"`+reason+`","peer":"bgp 127.0.0.1 AS65001","counts":{"invalids_gone":3}}]}`)
	sys.expect(t, run, step, syslogLine(4, "session_down", `session_down cause=`+reason+` peer="bgp 127.0.0.1 AS65001" invalids_gone=3`))
	mail.expect(t, run, step, mailText("1 event: 1 session_down", `session_down cause=`+reason+` peer="bgp 127.0.0.1 AS65001" invalids_gone=3`))
	run.logged(t, `"msg":"session_down_summary","peer_ip":"127.0.0.1","peer_as":65001,"invalids_gone":3`, 1)
	if n := strings.Count(run.logs.String(), `"msg":"invalid_disappeared"`); n != 1 {
		t.Errorf("%d invalid_disappeared lines, want 1 (step 3's; the session's invalids are one summary)", n)
	}
	laps(step)
	for _, b := range []*inbox{hook, sys, mail} {
		b.empty(t)
	}
	t.Logf("%v", time.Since(start).Round(time.Millisecond))
	if testing.Verbose() {
		t.Log(run.logs.String())
	}
}

// TestScenarioNoEndOfRIB: a real peer that never sends End-of-RIB (gobgpd
// without graceful restart) has its initial table summed up once
// --eor-timeout has passed (initial_load, cause load_timeout), not held
// back for the default five minutes, and not told route by route; a route
// after it is told by itself.
func TestScenarioNoEndOfRIB(t *testing.T) {
	t.Parallel() // mostly waiting for peers; the reload test's SIGHUP makes the others re-read their VRP files only
	testutil.NeedTool(t, "gobgpd", "gobgpd")
	vrpFile := filepath.Join(t.TempDir(), "vrps.json")
	stayrtr.WriteVRPs(t, vrpFile, watchfix.VRPs0)
	listen, port := bgpPort(t)
	hook, url := webhookInbox(t)
	rs, text := receivers(t, fmt.Sprintf("- {name: noc, type: webhook, url: %q, filter: {events: [initial_load, invalid_appeared]}}", url))
	run := startService(t, Options{Listen: listen, Neighbors: []string{"127.0.0.1:65001"}, RouterID: "192.0.2.254",
		Classify: classify.Options{LocalAS: 64900}, VRPFiles: []string{vrpFile}, EORTimeout: time.Second, Alerts: rs, AlertsText: text})
	sp := gobgpd.Start(t, gobgpd.Config{AS: 65001, PeerAS: 64900, PeerPort: port, AdminDown: true})
	for _, r := range []annRoute{watchfix.Valid, watchfix.WrongOrigin, watchfix.TooSpecific} {
		sp.Announce(t, r.Prefix, 0, r.Path)
	}
	// Taken before the session can come up: the service starts the load's
	// clock when the session comes up, a little before its session_up line
	// reaches the test (taken after that line, d came out 998.8 ms once).
	up := time.Now()
	sp.Enable(t)
	run.logged(t, `"msg":"session_up"`, 1)
	hook.expect(t, run, "initial table", `{"receiver":"noc","time":"<T>","summary":"1 event: 1 initial_load","events":[{"event":"initial_load","time":"<T>","cause":"load_timeout","peer":"bgp 127.0.0.1 AS65001","counts":{"dropped":2,"invalid":2,"routes":3,"unreachable":2}}]}`)
	if d := time.Since(up); d < time.Second {
		t.Errorf("initial_load %v after session_up, before --eor-timeout (1s)", d)
	}
	if n := strings.Count(run.logs.String(), `"msg":"bgp_end_of_rib"`); n != 0 {
		t.Fatalf("gobgpd sent End-of-RIB (%d lines): the test needs a speaker that does not", n)
	}
	sp.Announce(t, watchfix.Both.Prefix, 0, watchfix.Both.Path)
	hook.expect(t, run, "after the load", `{"receiver":"noc","time":"<T>","summary":"1 event: 1 invalid_appeared","events":[{"event":"invalid_appeared","time":"<T>","cause":"route_announced","prefix":"10.3.7.0/24","origin":"AS64666","class":"both","impact":"unreachable","vrp":"10.3.0.0/16 AS64503","paths":1,"peers":1}]}`)
	hook.empty(t)
}
