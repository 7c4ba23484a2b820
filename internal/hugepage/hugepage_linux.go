//go:build linux

package hugepage

import (
	"bytes"
	"os"
	"runtime"
	"syscall"
	"unsafe"
)

const (
	hugePageSize = 2 << 20
	// madvHugepage is MADV_HUGEPAGE (linux/mman.h); package syscall does
	// not name it.
	madvHugepage = 14
)

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
	return Outcome{Advised: end - beg}
}
