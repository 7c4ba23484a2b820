package watch

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/internal/testutil"
	"github.com/rovimpact/rovimpact/internal/testutil/bird"
	"github.com/rovimpact/rovimpact/internal/testutil/fixture"
	"github.com/rovimpact/rovimpact/internal/testutil/stayrtr"
	"github.com/rovimpact/rovimpact/internal/testutil/watchfix"
	"github.com/rovimpact/rovimpact/rov"
)

// fakeClock is watch's clock (Options.Now) in a test: the alerts' hold-down
// and rate limit read it, so a test moves time on instead of waiting.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *fakeClock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// birdRoute is an annRoute as bird exports it (bird prepends its AS).
func birdRoute(t *testing.T, r annRoute) bird.Route {
	var path []uint32
	for _, f := range strings.Fields(r.Path) {
		var as uint32
		if _, err := fmt.Sscan(f, &as); err != nil {
			t.Fatalf("path %q: bird routes take AS sequences only", r.Path)
		}
		path = append(path, as)
	}
	return bird.Route{Prefix: r.Prefix, Path: path}
}

func birdRoutes(t *testing.T, rs ...annRoute) []bird.Route {
	var out []bird.Route
	for _, r := range rs {
		out = append(out, birdRoute(t, r))
	}
	return out
}

// birdWatch runs watch (VRPs from a file, the alert receivers rs, the
// clock c) with a Debian bird2 peer exporting routes, and waits for the
// peer's initial load.
func birdWatch(t *testing.T, opts Options, routes ...annRoute) (*svcRun, *bird.Bird) {
	t.Helper()
	testutil.NeedTool(t, "bird", "bird2")
	if len(opts.VRPFiles) == 0 {
		vrpFile := filepath.Join(t.TempDir(), "vrps.json")
		stayrtr.WriteVRPs(t, vrpFile, watchfix.VRPs0)
		opts.VRPFiles = []string{vrpFile}
	}
	listen, port := bgpPort(t)
	opts.Listen, opts.Neighbors, opts.RouterID = listen, []string{"127.0.0.1:64520"}, "192.0.2.254"
	opts.Classify = classify.Options{LocalAS: 64900}
	run := startService(t, opts)
	b := bird.Start(t, bird.Config{AS: 64520, PeerAS: 64900, PeerPort: port, Routes: birdRoutes(t, routes...)})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("bird log:\n%s\n%s\nskipped %v %v", b.Log(), b.Birdc(t, "show", "route", "export", "col", "all"), run.w.routeSkipped(), fmt.Sprintf("%+v", run.w.bgp.Stats()))
		}
	})
	run.logged(t, `"msg":"initial_load","peer":"bgp 127.0.0.1 AS64520","cause":"end_of_rib"`, 1)
	return run, b
}

// invalidAppeared is the default webhook body of one invalid_appeared
// event told by itself (suppressed: the rate limit's count).
func invalidAppeared(receiver, prefix, origin, class, impact, vrp string, suppressed int) string {
	s := ""
	if suppressed > 0 {
		s = fmt.Sprintf(`,"suppressed":%d`, suppressed)
	}
	return fmt.Sprintf(`{"receiver":%q,"time":"<T>","summary":"1 event: 1 invalid_appeared","events":[{"event":"invalid_appeared","time":"<T>","cause":"route_announced","prefix":%q,"origin":%q,"class":%q,"impact":%q,"vrp":%q,"paths":1,"peers":1}]%s}`,
		receiver, prefix, origin, class, impact, vrp, s)
}

// TestScenarioHoldDown: with a hold-down of one minute (watch's clock
// moved by the test), an invalid route a real peer (bird2) announces and
// withdraws within the minute is never told; one that stays is told
// exactly once, when the minute has passed; its withdrawal afterwards is
// told at once.
func TestScenarioHoldDown(t *testing.T) {
	t.Parallel() // mostly waiting for peers; the reload test's SIGHUP makes the others re-read their VRP files only
	hook, url := webhookInbox(t)
	rs, text := receivers(t, fmt.Sprintf("- {name: held, type: webhook, url: %q, hold-down: 1m, filter: {events: [invalid_appeared, invalid_disappeared]}}", url))
	clock := &fakeClock{t: time.Now().UTC()}
	run, b := birdWatch(t, Options{Alerts: rs, AlertsText: text, Now: clock.Now})

	// A flap: announced, withdrawn 30 s later (by watch's clock).
	flap := annRoute{Prefix: "10.2.0.0/24", Path: "64999"}
	b.SetRoutes(t, birdRoutes(t, flap))
	run.logged(t, `"msg":"invalid_appeared","prefix":"10.2.0.0/24"`, 1)
	clock.Add(30 * time.Second)
	b.SetRoutes(t, nil)
	run.logged(t, `"msg":"invalid_disappeared","prefix":"10.2.0.0/24"`, 1)
	clock.Add(2 * time.Minute)

	// A route that stays: told once its minute has passed, and only it.
	stays := annRoute{Prefix: "10.3.7.0/24", Path: "64666"}
	b.SetRoutes(t, birdRoutes(t, stays))
	run.logged(t, `"msg":"invalid_appeared","prefix":"10.3.7.0/24"`, 1)
	clock.Add(time.Minute)
	hook.expect(t, run, "after the hold-down", invalidAppeared("held", "10.3.7.0/24", "AS64666", "both", "unreachable", "10.3.0.0/16 AS64503", 0))
	clock.Add(5 * time.Minute)
	b.SetRoutes(t, nil)
	hook.expect(t, run, "withdrawn after it was told", `{"receiver":"held","time":"<T>","summary":"1 event: 1 invalid_disappeared","events":[{"event":"invalid_disappeared","time":"<T>","cause":"route_withdrawn","prefix":"10.3.7.0/24","origin":"AS64666","old_class":"both","old_impact":"unreachable","vrp":"10.3.0.0/16 AS64503","paths":1,"peers":1}]}`)
	hook.empty(t)
}

// TestScenarioRateLimit: a receiver limited to 2 messages an hour is told
// of the first two invalid routes a real peer (bird2) announces one at a
// time, a minute apart, not of the next two; once half an hour has given a
// message back, the next one is told with the count of the two held back.
func TestScenarioRateLimit(t *testing.T) {
	t.Parallel() // mostly waiting for peers; the reload test's SIGHUP makes the others re-read their VRP files only
	hook, url := webhookInbox(t)
	rs, text := receivers(t, fmt.Sprintf("- {name: limited, type: webhook, url: %q, rate-limit: 2/1h, filter: {events: [invalid_appeared]}}", url))
	clock := &fakeClock{t: time.Now().UTC()}
	run, b := birdWatch(t, Options{Alerts: rs, AlertsText: text, Now: clock.Now})
	var routes []annRoute
	announce := func(i int) {
		r := annRoute{Prefix: fmt.Sprintf("10.3.%d.0/24", i), Path: "64666"}
		routes = append(routes, r)
		b.SetRoutes(t, birdRoutes(t, routes...))
		run.logged(t, fmt.Sprintf(`"msg":"invalid_appeared","prefix":"10.3.%d.0/24"`, i), 1)
	}
	for i := 1; i <= 4; i++ {
		announce(i)
		clock.Add(time.Minute)
	}
	run.logged(t, `"msg":"alert_rate_limited","receiver":"limited","events":1,"suppressed":2`, 1)
	clock.Add(30 * time.Minute)
	announce(5)
	for i, want := range []string{
		invalidAppeared("limited", "10.3.1.0/24", "AS64666", "both", "unreachable", "10.3.0.0/16 AS64503", 0),
		invalidAppeared("limited", "10.3.2.0/24", "AS64666", "both", "unreachable", "10.3.0.0/16 AS64503", 0),
		invalidAppeared("limited", "10.3.5.0/24", "AS64666", "both", "unreachable", "10.3.0.0/16 AS64503", 2),
	} {
		hook.expect(t, run, fmt.Sprintf("message %d", i+1), want)
	}
	hook.empty(t)
}

// reloads is a test's configuration reload (Options.Reload): the running
// options (Reload runs on the service's loop, which owns w.opts) with a
// change applied. A SIGHUP reaches every watch of the test process: tests
// running in parallel reload each other, so a change must give whole
// values (applying it again changes nothing).
type reloads struct {
	svc    atomic.Pointer[Service]
	change atomic.Pointer[func(*Options)]
}

func (r *reloads) reload() (Options, error) {
	s := r.svc.Load()
	if s == nil { // another test's SIGHUP, before this one's service is known
		return Options{}, errors.New("test: service not started yet")
	}
	n := s.opts
	if f := r.change.Load(); f != nil {
		(*f)(&n)
	}
	return n, nil
}

// hup makes change the reload's and sends SIGHUP.
func (r *reloads) hup(t *testing.T, change func(*Options)) {
	t.Helper()
	r.change.Store(&change)
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
}

// TestScenarioReloadKeepsBirdSession: SIGHUP applies a new configuration
// (another VRP file, another alert receiver, another change-log cap) while
// a real peer's session stays up: bird2 still shows it Established since
// the same moment, watch logs no session_down, the new receiver is told of
// a route the peer announces after the reload, judged by the new VRPs.
func TestScenarioReloadKeepsBirdSession(t *testing.T) {
	t.Parallel() // mostly waiting for peers; the reload test's SIGHUP makes the others re-read their VRP files only
	dir := t.TempDir()
	a, bf := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")
	stayrtr.WriteVRPs(t, a, watchfix.VRPs0)
	// b, added by the reload: 10.2.0.0/24 from AS64999 becomes valid,
	// and 10.3.0.0/16 allows /24 from AS64777.
	stayrtr.WriteVRPs(t, bf, []rov.VRP{vrpOf("10.2.0.0/24", 24, 64999), vrpOf("10.3.0.0/16", 24, 64777)})
	oldHook, oldURL := webhookInbox(t)
	newHook, newURL := webhookInbox(t)
	// One receiver, noc, watching the operator's space; the reload
	// moves it to another URL. It keeps its name, so it keeps what it
	// told (alert.Notifier.Adopt): the end of an invalid it told before
	// the reload is told after it.
	filter := "filter: {prefixes: [10.0.0.0/8], events: [invalid_appeared, invalid_disappeared, session_down]}"
	oldRS, oldText := receivers(t, fmt.Sprintf("- {name: noc, type: webhook, url: %q, %s}", oldURL, filter))
	var rl reloads
	opts := Options{VRPFiles: []string{a}, Alerts: oldRS, AlertsText: oldText, Reload: rl.reload}
	run, b := birdWatch(t, opts, watchfix.WrongOrigin)
	rl.svc.Store(run.w)
	before := b.Protocol(t)
	if before.State != "Established" {
		t.Fatalf("bird: %+v, want Established", before)
	}

	// The route of the initial table reached noc: it watches that space.
	oldHook.expect(t, run, "initial load", `{"receiver":"noc","time":"<T>","summary":"1 event: 1 invalid_appeared","events":[{"event":"invalid_appeared","time":"<T>","cause":"route_announced","prefix":"10.2.0.0/24","origin":"AS64999","class":"wrong_origin","impact":"unreachable","vrp":"10.2.0.0/24 AS64502","paths":1,"peers":1,"initial_load":true}]}`)
	newRS, newText := receivers(t, fmt.Sprintf("- {name: noc, type: webhook, url: %q, %s}", newURL, filter))
	rl.hup(t, func(n *Options) {
		n.VRPFiles, n.Alerts, n.AlertsText, n.MaxChangeLogs = []string{a, bf}, newRS, newText, 7
		n.Listen = "127.0.0.1:1" // needs a restart: logged, not applied
	})
	run.logged(t, `"msg":"config_reload_needs_restart","keys":["listen"]`, 1)
	run.logged(t, `"msg":"config_reloaded","changed":["alerts","max-change-logs","vrps"]`, 1)
	// The new VRPs make the held 10.2.0.0/24 valid.
	run.logged(t, `"msg":"invalid_disappeared","prefix":"10.2.0.0/24","origin":"AS64999"`, 1)
	newHook.expect(t, run, "the new VRPs", `{"receiver":"noc","time":"<T>","summary":"1 event: 1 invalid_disappeared","events":[{"event":"invalid_disappeared","time":"<T>","cause":"vrps_changed","prefix":"10.2.0.0/24","origin":"AS64999","old_class":"wrong_origin","old_impact":"unreachable","vrp":"10.2.0.0/24 AS64502","paths":1,"peers":1,"source":"file:`+bf+`"}]}`)
	b.SetRoutes(t, birdRoutes(t, watchfix.WrongOrigin, watchfix.Both))
	newHook.expect(t, run, "announced after the reload", invalidAppeared("noc", "10.3.7.0/24", "AS64666", "wrong_origin", "unreachable", "10.3.0.0/16-24 AS64777", 0))
	if after := b.Protocol(t); !after.Same(before) {
		t.Errorf("bird's session after the reload: %+v, before: %+v", after, before)
	}
	if strings.Contains(run.logs.String(), "session_down") {
		t.Errorf("the reload dropped the session:\n%s", tailLines(run.logs.String(), 30))
	}
	oldHook.empty(t)
	newHook.empty(t)
}

// TestScenarioReloadNeighbors: SIGHUP changes the BGP neighbours live.
// Removing another neighbour leaves a real peer's (bird2) session alone;
// removing the peer's own neighbour closes its session (one session_down
// alert counting its invalid, cause "peer de-configured"); adding it back
// takes it again, without a restart.
func TestScenarioReloadNeighbors(t *testing.T) {
	t.Parallel() // mostly waiting for peers; the reload test's SIGHUP makes the others re-read their VRP files only
	hook, url := webhookInbox(t)
	rs, text := receivers(t, fmt.Sprintf("- {name: noc, type: webhook, url: %q, filter: {events: [session_down]}}", url))
	var rl reloads
	run, b := birdWatch(t, Options{Alerts: rs, AlertsText: text, Reload: rl.reload}, watchfix.WrongOrigin)
	rl.svc.Store(run.w)
	before := b.Protocol(t)
	if before.State != "Established" {
		t.Fatalf("bird: %+v, want Established", before)
	}

	// Another neighbour added and removed: this session is not touched.
	rl.hup(t, func(n *Options) { n.Neighbors = []string{"127.0.0.1:64520", "192.0.2.99:64999"} })
	run.logged(t, `"msg":"config_reloaded","changed":["neighbor"]`, 1)
	rl.hup(t, func(n *Options) { n.Neighbors = []string{"127.0.0.1:64520"} })
	run.logged(t, `"msg":"config_reloaded","changed":["neighbor"]`, 2)
	if after := b.Protocol(t); !after.Same(before) {
		t.Errorf("bird's session after reloads that did not concern it: %+v, before: %+v", after, before)
	}
	if strings.Contains(run.logs.String(), "session_down") || strings.Contains(run.logs.String(), "needs_restart") {
		t.Fatalf("a neighbour change touched the session or wanted a restart:\n%s", tailLines(run.logs.String(), 20))
	}

	// Its own neighbour removed: the session ends, its routes go.
	rl.hup(t, func(n *Options) { n.Neighbors = []string{"192.0.2.99:64999"} })
	run.logged(t, `"msg":"session_down","source":"bgp","peer_ip":"127.0.0.1","peer_as":64520,"state":"idle","reason":"peer de-configured"`, 1)
	hook.expect(t, run, "de-configured", `{"receiver":"noc","time":"<T>","summary":"1 event: 1 session_down","events":[{"event":"session_down","time":"<T>","cause":"peer de-configured","peer":"bgp 127.0.0.1 AS64520","counts":{"invalids_gone":1}}]}`)
	testutil.Eventually(t, 15*time.Second, "bird sees the session closed", func() (bool, string) {
		p := b.Protocol(t)
		return p.State != "Established", fmt.Sprint(p)
	})

	// Back: the peer reconnects and loads its table again.
	rl.hup(t, func(n *Options) { n.Neighbors = []string{"127.0.0.1:64520"} })
	run.logged(t, `"msg":"initial_load","peer":"bgp 127.0.0.1 AS64520","cause":"end_of_rib","routes":1,"invalid":1`, 2)
	if p := b.Protocol(t); p.State != "Established" {
		t.Errorf("bird after the neighbour came back: %+v", p)
	}
	hook.empty(t)
}

// TestScenarioReloadRTRTimers: SIGHUP applies new rtr-retry and
// rtr-timeout by replacing the cache's client (Debian stayrtr): the new
// client's Reset Query brings the same VRPs, so the union never loses the
// cache's VRPs (no vrps_source_removed, no change applied), and the
// settings need no restart.
func TestScenarioReloadRTRTimers(t *testing.T) {
	t.Parallel() // mostly waiting for peers; the reload test's SIGHUP makes the others re-read their VRP files only
	bin := testutil.NeedTool(t, "stayrtr", "stayrtr")
	vrpFile := filepath.Join(t.TempDir(), "vrps.json")
	stayrtr.WriteVRPs(t, vrpFile, watchfix.VRPs0)
	cache := testutil.FreeLoopback(t)
	stayrtr.Start(t, bin, vrpFile, cache)
	var rl reloads
	run := startService(t, Options{BMP: "127.0.0.1:0", RTR: []string{cache}, Reload: rl.reload})
	rl.svc.Store(run.w)
	synced := `"msg":"vrps_updated","source":"` + cache + `","serial":0,`
	run.logged(t, synced, 1)
	rl.hup(t, func(n *Options) { n.RTRRetry, n.RTRTimeout = time.Second, 45*time.Second })
	run.logged(t, `"msg":"config_reloaded","changed":["rtr-retry","rtr-timeout"]`, 1)
	run.logged(t, synced, 2)
	// The new client's Reset brought the cache's 10 VRPs: no change.
	run.logged(t, synced+`"session_id":`, 2)
	// The first sync's change of the union is logged by the VRP feed when
	// it reaches the table, which may be after the lines above: wait for
	// it before counting (under -race it once came after them).
	run.logged(t, `"msg":"vrps_applied"`, 1)
	logs := run.logs.String()
	if !strings.Contains(logs, `"reset":true,"source_announced":10,"source_withdrawn":0,"slurm_removed":0,"announced":0,"withdrawn":0,"union":10}`) {
		t.Errorf("no Reset from the new client that left the union as it was:\n%s", tailLines(logs, 12))
	}
	if strings.Contains(logs, "vrps_source_removed") || strings.Contains(logs, "needs_restart") {
		t.Errorf("the reload dropped the cache's VRPs or wanted a restart:\n%s", tailLines(logs, 20))
	}
	if n := strings.Count(logs, `"msg":"vrps_applied"`); n != 1 {
		t.Errorf("%d changes of the union applied, want 1 (the first sync):\n%s", n, tailLines(logs, 20))
	}
	if u := len(run.w.VRPUnion()); u != len(watchfix.VRPs0) {
		t.Errorf("union of %d VRPs after the reload, want %d", u, len(watchfix.VRPs0))
	}
}

// TestScenarioReloadSLURM: SIGHUP applies changed SLURM files (RFC 8416)
// while a real peer's (bird2) session stays up: an added assertion (§3.4)
// makes a held invalid route valid at once; an added prefix filter (§3.3)
// takes its VRP out of the file source read again, and the route it made
// invalid is not_found; going back to no SLURM makes both invalid again.
func TestScenarioReloadSLURM(t *testing.T) {
	t.Parallel() // mostly waiting for peers; the reload test's SIGHUP makes the others re-read their VRP files only
	dir := t.TempDir()
	none, assert, both := filepath.Join(dir, "none.slurm"), filepath.Join(dir, "assert.slurm"), filepath.Join(dir, "both.slurm")
	fixture.WriteSLURM(t, none, nil, nil)
	fixture.WriteSLURM(t, assert, nil, []rov.VRP{vrpOf("10.2.0.0/24", 24, 64999)})
	fixture.WriteSLURM(t, both, []rov.VRP{vrpOf("10.3.0.0/16", 16, 64503)}, []rov.VRP{vrpOf("10.2.0.0/24", 24, 64999)})
	var rl reloads
	run, b := birdWatch(t, Options{SLURM: []string{none}, Reload: rl.reload}, watchfix.WrongOrigin, watchfix.Both)
	rl.svc.Store(run.w)
	before := b.Protocol(t)

	rl.hup(t, func(n *Options) { n.SLURM = []string{assert} })
	run.logged(t, `"msg":"config_reloaded","changed":["slurm"]`, 1)
	run.logged(t, `"msg":"invalid_disappeared","prefix":"10.2.0.0/24","origin":"AS64999","paths":1,"peers":1,"old_class":"wrong_origin","old_impact":"unreachable","cause":"vrps_changed","vrp_sources":"slurm"`, 1)

	rl.hup(t, func(n *Options) { n.SLURM = []string{both} })
	run.logged(t, `"msg":"config_reloaded","changed":["slurm"]`, 2)
	run.logged(t, `"msg":"invalid_disappeared","prefix":"10.3.7.0/24","origin":"AS64666","paths":1,"peers":1,"old_class":"both","old_impact":"unreachable","cause":"vrps_changed"`, 1)

	rl.hup(t, func(n *Options) { n.SLURM = []string{none} })
	run.logged(t, `"msg":"config_reloaded","changed":["slurm"]`, 3)
	run.logged(t, `"msg":"invalid_appeared","prefix":"10.2.0.0/24","origin":"AS64999","paths":1,"peers":1,"class":"wrong_origin","impact":"unreachable","cause":"vrps_changed"`, 1)
	run.logged(t, `"msg":"invalid_appeared","prefix":"10.3.7.0/24","origin":"AS64666","paths":1,"peers":1,"class":"both","impact":"unreachable","cause":"vrps_changed"`, 1)
	if after := b.Protocol(t); !after.Same(before) {
		t.Errorf("bird's session after the reloads: %+v, before: %+v", after, before)
	}
	if logs := run.logs.String(); strings.Contains(logs, "session_down") || strings.Contains(logs, "needs_restart") {
		t.Errorf("a SLURM reload touched the session or wanted a restart:\n%s", tailLines(logs, 20))
	}
}
