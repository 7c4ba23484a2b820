package batchgc

import (
	"runtime"
	"runtime/debug"
	"testing"
)

var keep [][]byte

// After a collection that frees most of the heap, the next collection must
// wait for the goal the runtime had set before, not come at twice the
// (now small) live heap; and the percent is never lowered.
func TestCollectKeepingGoalKeepsTheGoal(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	runtime.GC()
	keep = make([][]byte, 0, 64)
	for range 64 {
		keep = append(keep, make([]byte, 1<<20))
	}
	runtime.GC() // live ~64 MiB: the goal is now ~128 MiB
	clear(keep[4:])
	keep = keep[:4]
	restore := CollectKeepingGoal()
	after := debug.SetGCPercent(-1)
	debug.SetGCPercent(after)
	// live ~4 MiB against a goal of ~128 MiB: the percent must be well
	// above 100 (about 3000), or the next cycle would come at ~8 MiB.
	if after < 1000 {
		t.Errorf("GC percent after the collection is %d, want >= 1000 (goal kept)", after)
	}
	restore()
	if p := debug.SetGCPercent(100); p != 100 {
		t.Errorf("GC percent after restore is %d, want 100 (the one in force before)", p)
	}
	runtime.KeepAlive(keep)

	// Nothing freed: the percent stays.
	debug.SetGCPercent(100)
	runtime.GC()
	CollectKeepingGoal()()
	if p := debug.SetGCPercent(100); p < 100 {
		t.Errorf("GC percent lowered to %d", p)
	}
}
