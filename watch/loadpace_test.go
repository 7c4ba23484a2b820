package watch

import (
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"testing"

	"github.com/rovimpact/rovimpact/alert"
	"github.com/rovimpact/rovimpact/collector"
	"github.com/rovimpact/rovimpact/internal/testutil"
	"github.com/rovimpact/rovimpact/internal/testutil/watchfix"
	"github.com/rovimpact/rovimpact/route"
)

// TestCheckPacedWhileLoading: while a session loads its initial table, the
// interval's check (snapshot, diff, diff base) backs off instead of
// running at every tick (it runs every maxLoadGap-th); the events are the same: the load is one
// initial_load after End-of-RIB counting every route, none of its routes
// is logged one by one, and an invalid a session already loaded announces
// meanwhile is told within maxLoadGap ticks. Once the load ends, every
// tick checks again.
func TestCheckPacedWhileLoading(t *testing.T) {
	var buf testutil.SyncBuffer
	log := NewLogger(&buf, true)
	st := newLiveForTest(watchfix.VRPs0)
	var got captured
	n := alert.New([]alert.Receiver{{Name: "cap", Sender: &got}}, alert.Options{Log: log})
	w := &Service{opts: Options{MaxChangeLogs: 1000, EORTimeout: DefaultEORTimeout}, log: log, state: st, sessions: newSessions(log), alerts: n}
	on := w.sessions.handler("bgp")
	a := route.Peer{AS: 64496, IP: netip.MustParseAddr("192.0.2.5")}
	b := route.Peer{AS: 64497, IP: netip.MustParseAddr("192.0.2.6")}

	// builds counts the checks that built a snapshot and a diff base:
	// each one with something new replaces w.prev.
	builds := 0
	tick := func() {
		before := w.prev
		w.tick()
		if w.prev != before {
			builds++
		}
	}

	// A is loaded before B comes up.
	on(collector.SessionEvent{Peer: a, State: collector.SessionEstablished})
	announce(t, st, route.PeerKey{AS: a.AS, IP: a.IP}, watchfix.Valid)
	on(collector.SessionEvent{Peer: a, State: collector.SessionEstablished, EndOfRIB: true})
	tick()

	// B loads one invalid route a tick for 40 ticks; at tick 10, A
	// announces an invalid of its own.
	on(collector.SessionEvent{Peer: b, State: collector.SessionEstablished})
	const ticks = 40
	builds = 0
	told := -1
	for i := range ticks {
		announce(t, st, route.PeerKey{AS: b.AS, IP: b.IP}, annRoute{Prefix: fmt.Sprintf("10.0.%d.0/24", 100+i), Path: "64999"})
		if i == 10 {
			announce(t, st, route.PeerKey{AS: a.AS, IP: a.IP}, watchfix.WrongOrigin)
		}
		tick()
		if told < 0 && strings.Contains(buf.String(), `"msg":"invalid_appeared","prefix":"10.2.0.0/24"`) {
			told = i
		}
	}
	// Unpaced: one build a tick (40). Paced: every 8th (B's session_up
	// waits too).
	if want := ticks / maxLoadGap; builds != want {
		t.Errorf("%d snapshot builds in %d ticks of B's initial load, want %d", builds, ticks, want)
	}
	if told < 0 || told-10 >= maxLoadGap {
		t.Errorf("A's invalid announced at tick 10 told at tick %d, want within %d ticks", told, maxLoadGap)
	}
	if loading := w.sessions.list(); loading[0].Loading || !loading[1].Loading {
		t.Errorf("sessions %+v: want B loading, A not", loading)
	}

	// B's End-of-RIB: told at the next tick, whole.
	on(collector.SessionEvent{Peer: b, State: collector.SessionEstablished, EndOfRIB: true})
	tick()
	want := `"msg":"initial_load","peer":"bgp 192.0.2.6 AS64497","cause":"end_of_rib","routes":40,"invalid":40`
	if c := countLines(buf.String(), want); c != 1 {
		t.Errorf("%d lines %s, want 1:\n%s", c, want, buf.String())
	}
	if c := countLines(buf.String(), `"msg":"invalid_appeared","prefix":"10.0.1`); c != 0 {
		t.Errorf("%d invalid_appeared lines for B's initial routes, want 0", c)
	}
	if c := countLines(buf.String(), `"msg":"invalid_appeared"`); c != 1 {
		t.Errorf("%d invalid_appeared lines, want 1 (A's)", c)
	}
	for _, s := range w.sessions.list() {
		if s.Loading {
			t.Errorf("session %+v still loading after its End-of-RIB", s)
		}
	}

	// Loaded: every tick with a change checks again.
	builds = 0
	for i := range 3 {
		announce(t, st, route.PeerKey{AS: b.AS, IP: b.IP}, annRoute{Prefix: fmt.Sprintf("10.0.%d.0/24", 200+i), Path: "64999"})
		tick()
	}
	if builds != 3 {
		t.Errorf("%d snapshot builds in 3 ticks with changes and no load, want 3", builds)
	}
	n.Close()
	var loads int
	for _, e := range got.evs {
		if e.Name == "initial_load" {
			loads++
		}
	}
	if loads != 2 {
		t.Errorf("%d initial_load events, want 2 (A, B)", loads)
	}
}

// TestMemoryReleasedAfterInitialLoad: the check that tells a session's
// initial_load hands the heap's free pages back (releaseMemory), once;
// later checks with changes do not.
func TestMemoryReleasedAfterInitialLoad(t *testing.T) {
	var buf testutil.SyncBuffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	st := newLiveForTest(watchfix.VRPs0)
	w := &Service{opts: Options{MaxChangeLogs: 1000, EORTimeout: DefaultEORTimeout}, log: log, state: st, sessions: newSessions(log)}
	on := w.sessions.handler("bgp")
	a := route.Peer{AS: 64496, IP: netip.MustParseAddr("192.0.2.5")}
	on(collector.SessionEvent{Peer: a, State: collector.SessionEstablished})
	announce(t, st, route.PeerKey{AS: a.AS, IP: a.IP}, watchfix.Valid)
	w.tick()
	if c := countLines(buf.String(), `"msg":"memory_released"`); c != 0 {
		t.Fatalf("%d memory_released lines before the End-of-RIB, want 0:\n%s", c, buf.String())
	}
	on(collector.SessionEvent{Peer: a, State: collector.SessionEstablished, EndOfRIB: true})
	w.tick()
	for i := range 3 {
		announce(t, st, route.PeerKey{AS: a.AS, IP: a.IP}, annRoute{Prefix: fmt.Sprintf("10.0.%d.0/24", i), Path: "64999"})
		w.tick()
	}
	if c := countLines(buf.String(), `"msg":"memory_released","after":"initial_load"`); c != 1 {
		t.Errorf("%d memory_released lines after initial_load, want 1:\n%s", c, buf.String())
	}
}
