// Package hugepage asks Linux to back the Go heap with transparent huge
// pages (2 MiB instead of 4 KiB) before a run fills it.
//
// Why: on the virtual machines rovimpact is measured on, a first touch of a
// 4 KiB page costs ~14 µs (a guest page fault plus the hypervisor's), so a
// full-table study that grows a 300 MB heap spent about a third of its CPU
// in page faults (bench/README.md). With the kernel's THP mode at
// "madvise" (the Debian and Ubuntu default) the Go runtime does not ask for
// huge pages itself (Go 1.21.1 stopped calling MADV_HUGEPAGE), so this
// package maps a region of heap ahead of use, advises it MADV_HUGEPAGE
// while it is still untouched, and frees it: the runtime then carves the
// run's allocations out of that region, and the kernel backs them 512
// pages per fault.
//
// It changes no result, only how memory is backed; ROVIMPACT_HUGEPAGES=0
// turns it off. Only batch commands that fill a big heap call it: a
// long-running process with a heap that churns (watch) must not, since a
// huge page stays resident while any of its 512 small pages is in use, so
// the memory the Go scavenger returns is not given back, and khugepaged
// (with the default max_ptes_none of 511) collapses sparse 2 MiB ranges
// into whole huge pages again; the faults saved are a one-time cost at
// start. Measured on watch holding a full table: see bench/README.md.
package hugepage

import "os"

// Env is the variable that turns Reserve off when set to "0".
const Env = "ROVIMPACT_HUGEPAGES"

// Outcome says what Reserve did, for a debug line or a test.
type Outcome struct {
	// Advised is the number of heap bytes advised MADV_HUGEPAGE (0 when
	// nothing was done).
	Advised uintptr
	// Reason says why nothing was done, when Advised is 0.
	Reason string
}

// Reserve maps up to n bytes of Go heap and advises them for huge pages.
// Call it once, early (before the heap grows), from a process that will
// allocate a large heap. It never fails the caller: where huge pages are
// unavailable (not Linux, THP "never", turned off by Env) it does nothing
// and says why.
func Reserve(n uintptr) Outcome {
	if os.Getenv(Env) == "0" {
		return Outcome{Reason: Env + "=0"}
	}
	return reserve(n)
}
