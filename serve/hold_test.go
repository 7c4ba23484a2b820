package serve

import (
	"runtime"
	"sync"
	"testing"
	"time"
	"weak"

	"github.com/rovimpact/rovimpact/live"
)

// snapTable is a live.State that remembers, weakly, every snapshot it
// hands out.
type snapTable struct {
	*live.State
	mu    sync.Mutex
	given []weak.Pointer[live.Snapshot]
}

func (s *snapTable) Snapshot() *live.Snapshot {
	sn := s.State.Snapshot()
	s.mu.Lock()
	s.given = append(s.given, weak.Make(sn))
	s.mu.Unlock()
	return sn
}

// alive counts the snapshots handed out that are still reachable, and
// the distinct ones among them.
func (s *snapTable) alive() int {
	runtime.GC()
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[*live.Snapshot]bool{}
	for _, w := range s.given {
		if v := w.Value(); v != nil {
			seen[v] = true
		}
	}
	return len(seen)
}

// TestReportKeepsNoSnapshot: what the API keeps of a table between
// requests is its report and counts, not the snapshot they were built
// from (a full table's is ~110 bytes a path, twice the report); lookups,
// which read a snapshot, share one while they come and let it go a while
// after the last.
func TestReportKeepsNoSnapshot(t *testing.T) {
	st := &snapTable{State: small.state(t)}
	srv := New(Config{Table: st, MaxWait: -1})
	for _, u := range []string{"/metrics", "/api/summary", "/api/invalids", "/api/report", "/api/peers"} {
		if code, _, body := get(t, srv, u); code != 200 {
			t.Fatalf("%s: %d %s", u, code, body)
		}
	}
	if len(st.given) == 0 {
		t.Fatal("no snapshot taken: the test does not test anything")
	}
	if n := st.alive(); n != 0 {
		t.Errorf("%d snapshots alive after report requests, want 0: the server holds the snapshot behind its report", n)
	}

	for range 3 {
		if code, _, body := get(t, srv, "/api/lookup?q=192.0.2.0/24"); code != 200 {
			t.Fatalf("lookup: %d %s", code, body)
		}
	}
	if n := st.alive(); n != 1 {
		t.Errorf("%d snapshots alive after three lookups of one epoch, want 1 (shared)", n)
	}
	// The hold ends (after keepLookup, shortened here to 1 ms).
	srv.recent.hold(st.State.Snapshot(), time.Millisecond)
	deadline := time.Now().Add(10 * time.Second)
	for st.alive() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the lookup snapshot is still held after its hold ended")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
