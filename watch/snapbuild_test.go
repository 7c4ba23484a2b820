package watch

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/rovimpact/rovimpact/collector"
	"github.com/rovimpact/rovimpact/internal/testutil"
	"github.com/rovimpact/rovimpact/internal/testutil/watchfix"
	"github.com/rovimpact/rovimpact/route"
)

// TestSnapshotsBuiltOnlyWhenNeeded: the live table holds its snapshots
// weakly, so the service must not ask for one it does not need: a check
// with nothing new builds none, and neither does the summary line while a
// session loads its initial table (it tells the last check's counts, and
// that check's epoch); once no session loads, a summary of a changed
// table is of the table now.
func TestSnapshotsBuiltOnlyWhenNeeded(t *testing.T) {
	var buf testutil.SyncBuffer
	log := NewLogger(&buf, true)
	st := newLiveForTest(watchfix.VRPs0)
	w := &Service{opts: Options{MaxChangeLogs: 100, EORTimeout: DefaultEORTimeout}, log: log, state: st, sessions: newSessions(log)}
	w.vrps = &vrpFeed{state: st, up: map[string]bool{}}
	builds := func() int64 { return st.Stats().SnapshotBuilds }
	peer := route.PeerKey{AS: 64496, IP: netip.MustParseAddr("192.0.2.5")}
	announce(t, st, peer, watchfix.WrongOrigin, watchfix.Cover)
	w.logChanges()
	if builds() != 1 {
		t.Fatalf("%d snapshot builds after the first check, want 1", builds())
	}
	for range 3 {
		w.logChanges()
	}
	if builds() != 1 {
		t.Errorf("%d snapshot builds after three checks with nothing new, want 1", builds())
	}
	w.logSummary()
	if builds() != 1 {
		t.Errorf("the summary of an unchanged table built a snapshot (%d builds, want 1)", builds())
	}
	summary := func() string {
		t.Helper()
		lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
		last := lines[len(lines)-1]
		if !strings.Contains(last, `"msg":"summary"`) {
			t.Fatalf("last log line is no summary: %s", last)
		}
		return last
	}
	if s, want := summary(), `"paths":2,"routes":2,"valid":1,"invalid":1,"not_found":0,"dropped":1,"unreachable":1`; !strings.Contains(s, want) {
		t.Errorf("summary %s, want %s", s, want)
	}

	// A session loading: the summary tells the last check, not the table
	// now, and builds nothing.
	w.sessions.handler("bgp")(collector.SessionEvent{Peer: route.Peer{AS: 64497, IP: netip.MustParseAddr("192.0.2.6")}, State: collector.SessionEstablished})
	announce(t, st, peer, watchfix.TooSpecific)
	w.logSummary()
	if builds() != 1 {
		t.Errorf("the summary during a load built a snapshot (%d builds, want 1)", builds())
	}
	if s, want := summary(), `"paths":2,"routes":2`; !strings.Contains(s, want) {
		t.Errorf("summary during a load %s, want the last check's %s", s, want)
	}

	// No session loading: a changed table is counted now.
	w.sessions.handler("bgp")(collector.SessionEvent{Peer: route.Peer{AS: 64497, IP: netip.MustParseAddr("192.0.2.6")}, State: collector.SessionEstablished, EndOfRIB: true})
	w.logSummary()
	if builds() != 2 {
		t.Errorf("%d snapshot builds after the summary of a changed table, want 2", builds())
	}
	if s, want := summary(), `"paths":3,"routes":3,"valid":1,"invalid":2`; !strings.Contains(s, want) {
		t.Errorf("summary %s, want %s", s, want)
	}
}
