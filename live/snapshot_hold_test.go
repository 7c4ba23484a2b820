package live

import (
	"runtime"
	"testing"
	"weak"
)

// TestSnapshotHeldWeakly: the State reuses its last snapshot while a
// caller holds it, and does not itself keep a snapshot no one holds (a
// full table's is ~110 bytes a path: watch keeps a DiffBase and the API a
// report, and neither should pay for a copy held for nobody).
func TestSnapshotHeldWeakly(t *testing.T) {
	s := New(Options{})
	r := ann(peerA, "192.0.2.0/24", 0, seq(64501, 65001))
	s.Apply(&r)

	a := s.Snapshot()
	runtime.GC()
	if b := s.Snapshot(); b != a {
		t.Fatal("a snapshot still held and of the current epoch was built again")
	}
	epoch := a.Epoch
	w := weak.Make(a)
	a = nil
	runtime.GC()
	if w.Value() != nil {
		t.Fatal("the State keeps its last snapshot alive when no caller holds it")
	}
	// Built again when asked, with the same content.
	c := s.Snapshot()
	if c.Epoch != epoch || len(c.Analysis.Table.Routes()) != 1 {
		t.Fatalf("snapshot built again: epoch %d (want %d), %d routes", c.Epoch, epoch, len(c.Analysis.Table.Routes()))
	}
	runtime.KeepAlive(c)
}
