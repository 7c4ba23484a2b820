//go:build linux

package live

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// sysMap maps size bytes of zeroed anonymous memory, at a huge-page
// boundary and advised MADV_HUGEPAGE when size is a whole number of huge
// pages. It reports false when the kernel refuses.
func sysMap(size uintptr) (unsafe.Pointer, bool) {
	if size < hugePageSize {
		p, err := unix.MmapPtr(-1, 0, nil, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
		if err != nil {
			return nil, false
		}
		return p, true
	}
	// Over-map by one huge page and cut the ends off, so the mapping starts
	// at a huge-page boundary (the kernel backs only aligned 2 MiB ranges
	// with huge pages).
	p, err := unix.MmapPtr(-1, 0, nil, size+hugePageSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		return nil, false
	}
	head := -uintptr(p) & (hugePageSize - 1) // bytes to the first boundary
	base := unsafe.Add(p, head)
	if head > 0 {
		unix.MunmapPtr(p, head)
	}
	if tail := hugePageSize - head; tail > 0 {
		unix.MunmapPtr(unsafe.Add(base, size), tail)
	}
	// Advice only: without it (THP "never") the mapping still works.
	unix.Madvise(unsafe.Slice((*byte)(base), size), unix.MADV_HUGEPAGE)
	return base, true
}

// sysGrow makes the mapping at base (old bytes) size bytes long, keeping
// its contents: its pages move into a fresh mapping of size bytes (page
// tables move; no byte is copied, no page faulted). It reports the new
// base, or false (the old mapping intact) when the kernel refuses.
func sysGrow(base unsafe.Pointer, old, size uintptr) (unsafe.Pointer, bool) {
	nb, ok := sysMap(size)
	if !ok {
		return nil, false
	}
	// MREMAP_FIXED replaces the first old bytes of the new mapping with
	// the old pages and unmaps the old range.
	p, err := unix.MremapPtr(base, old, nb, old, unix.MREMAP_MAYMOVE|unix.MREMAP_FIXED)
	if err != nil || p != nb {
		sysUnmap(nb, size)
		return nil, false
	}
	return nb, true
}

func sysUnmap(base unsafe.Pointer, size uintptr) { unix.MunmapPtr(base, size) }

// sysRelease gives the n bytes from p (whole small pages of a mapping)
// back to the kernel; they read as zero when next touched. They are also
// advised MADV_NOHUGEPAGE: otherwise khugepaged (max_ptes_none 511 by
// default) would fold the released tail of a huge page back into a whole
// resident one.
func sysRelease(p unsafe.Pointer, n uintptr) {
	b := unsafe.Slice((*byte)(p), n)
	unix.Madvise(b, unix.MADV_DONTNEED)
	unix.Madvise(b, unix.MADV_NOHUGEPAGE)
}

// sysReserve reserves size bytes of address space at a huge-page
// boundary: no memory, nothing readable, until sysCommit.
func sysReserve(size uintptr) (unsafe.Pointer, bool) {
	p, err := unix.MmapPtr(-1, 0, nil, size+hugePageSize, unix.PROT_NONE, unix.MAP_ANON|unix.MAP_PRIVATE|unix.MAP_NORESERVE)
	if err != nil {
		return nil, false
	}
	head := -uintptr(p) & (hugePageSize - 1)
	base := unsafe.Add(p, head)
	if head > 0 {
		unix.MunmapPtr(p, head)
	}
	if tail := hugePageSize - head; tail > 0 {
		unix.MunmapPtr(unsafe.Add(base, size), tail)
	}
	return base, true
}

// sysCommit makes n bytes from p (in a reservation) readable and
// writable, advised MADV_HUGEPAGE; false when the kernel refuses.
func sysCommit(p unsafe.Pointer, n uintptr) bool {
	b := unsafe.Slice((*byte)(p), n)
	if unix.Mprotect(b, unix.PROT_READ|unix.PROT_WRITE) != nil {
		return false
	}
	unix.Madvise(b, unix.MADV_HUGEPAGE)
	return true
}
