//go:build linux

package hugepage

import (
	"bytes"
	"os"
	"runtime"
	"sync"
	"syscall"
	"unsafe"
)

const (
	hugePageSize = 2 << 20
	// madvHugepage and madvNoHugepage are MADV_HUGEPAGE and
	// MADV_NOHUGEPAGE (linux/mman.h); package syscall does not name them.
	madvHugepage   = 14
	madvNoHugepage = 15
)

// advised are the regions Reserve advised ([beg, end)), for Release.
var advised struct {
	mu      sync.Mutex
	regions [][2]uintptr
}

// thpPath holds the kernel's THP mode: "always [madvise] never".
var thpPath = "/sys/kernel/mm/transparent_hugepage/enabled"

func reserve(n uintptr) Outcome {
	mode, err := os.ReadFile(thpPath)
	switch {
	case err != nil:
		return Outcome{Reason: "no transparent huge pages: " + err.Error()}
	case bytes.Contains(mode, []byte("[never]")):
		return Outcome{Reason: "transparent huge pages are off ([never])"}
	case bytes.Contains(mode, []byte("[always]")):
		return Outcome{Reason: "transparent huge pages are always on: nothing to advise"}
	}
	// Never ask for more than a quarter of the machine: the region is
	// virtual until touched, but heuristic overcommit refuses a mapping
	// far beyond RAM, and the runtime would throw.
	var si syscall.Sysinfo_t
	if syscall.Sysinfo(&si) == nil {
		if limit := uintptr(si.Totalram) * uintptr(si.Unit) / 4; n > limit {
			n = limit
		}
	}
	if n < 2*hugePageSize {
		return Outcome{Reason: "region too small for huge pages"}
	}
	// A large allocation on a fresh heap comes from newly mapped arena
	// memory that the runtime knows is zero, so it is not touched here;
	// the advice must reach the pages before anything faults them in.
	region := make([]byte, n)
	p := uintptr(unsafe.Pointer(unsafe.SliceData(region)))
	beg := (p + hugePageSize - 1) &^ (hugePageSize - 1)
	end := (p + n) &^ (hugePageSize - 1)
	_, _, errno := syscall.Syscall(syscall.SYS_MADVISE, beg, end-beg, madvHugepage)
	runtime.KeepAlive(region)
	// Return the region to the heap now, so the run's first allocations
	// are carved out of it.
	runtime.GC()
	if errno != 0 {
		return Outcome{Reason: "madvise: " + errno.Error()}
	}
	advised.mu.Lock()
	advised.regions = append(advised.regions, [2]uintptr{beg, end})
	advised.mu.Unlock()
	return Outcome{Advised: end - beg}
}

// release advises the regions Reserve advised MADV_NOHUGEPAGE. They are
// Go heap (the runtime never unmaps arena memory), so the calls are on
// memory the process still maps; Advised says how much was withdrawn.
func release() Outcome {
	advised.mu.Lock()
	defer advised.mu.Unlock()
	if len(advised.regions) == 0 {
		return Outcome{Reason: "nothing was advised"}
	}
	var n uintptr
	for _, r := range advised.regions {
		if _, _, errno := syscall.Syscall(syscall.SYS_MADVISE, r[0], r[1]-r[0], madvNoHugepage); errno != 0 {
			return Outcome{Advised: n, Reason: "madvise: " + errno.Error()}
		}
		n += r[1] - r[0]
		advised.regions = advised.regions[1:]
	}
	return Outcome{Advised: n}
}
