// Package batchgc collects the heap between the phases of a batch run
// without making the rest of the run collect more often.
//
// A batch run (analyze, snapshot) reads its inputs, drops the read's
// scaffolding (on a full table ~50 MB: the replay's path sets, the sort
// array, the VRP loader's buffers) and then allocates its analysis. Left
// to itself the runtime does not collect in between: the heap goal set
// during the read is far enough that the analysis takes fresh pages, and
// on the machines measured the kernel's zeroing of pages touched for the
// first time is the largest single cost of the run (bench/README.md,
// issue 14). Collecting there lets the analysis reuse the freed memory;
// keeping the goal where the read left it means the collection is the
// only extra one, and the heap never grows past where it would have.
package batchgc

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
)

const (
	goalMetric = "/gc/heap/goal:bytes"
	liveMetric = "/gc/heap/live:bytes"
)

// CollectKeepingGoal runs a full collection and raises the GC percent so
// that the next collection starts no earlier than the one the runtime had
// planned before it (its heap goal). It never lowers the percent, and
// changes nothing more when the collection freed little. Call restore once
// the phase that follows is done: it puts back the percent in force
// before, so that a process running several batches in turn (tests,
// benchmarks) does not ratchet the percent up from call to call.
func CollectKeepingGoal() (restore func()) {
	s := []metrics.Sample{{Name: goalMetric}}
	metrics.Read(s)
	goal := sample(s[0])
	runtime.GC()
	s[0].Name = liveMetric
	metrics.Read(s)
	live := sample(s[0])
	before := debug.SetGCPercent(-1)
	debug.SetGCPercent(before)
	restore = func() {}
	if before < 0 || live == 0 || goal <= live {
		return restore
	}
	if p := int((goal - live) * 100 / live); p > before {
		debug.SetGCPercent(p)
		restore = func() { debug.SetGCPercent(before) }
	}
	return restore
}

func sample(s metrics.Sample) uint64 {
	if s.Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s.Value.Uint64()
}
