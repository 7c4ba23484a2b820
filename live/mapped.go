package live

import (
	"runtime"
	"sync/atomic"
	"unsafe"
)

// The table's large arrays (routes, peer bits, deciding-VRP references,
// route chain heads, the IPv4 and IPv6 prefix indexes, a full-table
// peer's paths and their presence bits, ASPA counts) live outside the Go
// heap once they pass mapMin bytes, each in its own anonymous mapping
// that Linux is asked to back with transparent huge pages
// (MADV_HUGEPAGE), and that grows with mremap: the pages move, nothing is
// copied.
//
// Why: on the virtual machines rovimpact is measured on, the first touch
// of a 4 KiB page costs ~10-15 µs, and a full table from bird2 touches
// ~330 bytes of fresh memory a path (the arrays doubling on the Go heap:
// each doubling copies into pages never touched). Those faults were a
// quarter to a third of watch's CPU per path, and bird's hash order (one
// path per UPDATE, every prefix far from the last) added a TLB miss to
// each index lookup (bench/README.md, issue 11 session 10). A huge page
// is one fault for 512 small ones and one TLB entry for 2 MiB. The Go
// heap as a whole is not backed by huge pages in watch (internal/hugepage
// says why: a churning heap keeps sparse huge pages resident); these
// arrays are dense, grow only at their end and are freed whole, so that
// concern does not apply to them, and off the heap they do not count in
// the GC's heap goal either (GOGC 50 let the heap grow to 1.5 times them).
//
// Safety rests on ownership: every mapped array belongs to one State (its
// mapped set), is read and written only under the State's lock, and is
// never shared: snapshots and dump views copy from it under the lock
// (the prefix keys, words and IPv6 addresses, which they read without
// it, never move: see stableRoom; the sorted view stays on the Go heap). Growing moves the
// array; the old slice must not be used after bigRoom, as with append. When the State is no longer reachable, a
// cleanup unmaps what is left. A failed mmap or mremap falls back to the
// Go heap, so a limit on address space costs speed, never a result.

// mapMin is the array size (bytes) from which an array moves off the Go
// heap: one huge page. Tests lower it to exercise mapped arrays on small
// tables.
var mapMin uintptr = hugePageSize

const hugePageSize = 2 << 20

// refuse, when set (tests), makes the kernel's answer to a map, grow,
// reserve or commit "no" whenever it returns true, to exercise the
// fall-backs to the Go heap.
var refuse func() bool

func refused() bool { return refuse != nil && refuse() }

func sysMapAsked(size uintptr) (unsafe.Pointer, bool) {
	if refused() {
		return nil, false
	}
	return sysMap(size)
}

func sysGrowAsked(base unsafe.Pointer, old, size uintptr) (unsafe.Pointer, bool) {
	if refuseGrow != nil {
		ok := true
		refuseGrow(func() { ok = !refused() })
		if !ok {
			return nil, false
		}
	}
	if refused() {
		return nil, false
	}
	return sysGrow(base, old, size)
}

// refuseGrow, when set (tests), runs its argument with refuse answering
// for a growth only, to tell a refused mremap from a refused mmap.
var refuseGrow func(check func())

// bigMem is the set of a State's mapped arrays: base address -> bytes
// mapped. Guarded by the State's lock.
type bigMem struct {
	regs map[unsafe.Pointer]uintptr
	// stable are stableRoom's reservations, by base.
	stable map[unsafe.Pointer]stableReg
	// bytes is the total mapped, readable without the lock (tests, Stats).
	bytes atomic.Int64
	// heapFalls counts arrays put on the Go heap because the kernel
	// refused a mapping, a growth or a commit, or a stable array outgrew
	// its reservation; copies counts growths that copied the array into a
	// new mapping because mremap refused to move it (Linux before 6.17
	// does for an array split into several VMAs, bench/README.md). Both
	// cost speed or memory, never a result: Stats reports them so an
	// operator sees it.
	heapFalls, copies atomic.Int64
}

// newMapped returns an empty set whose arrays are unmapped once owner is
// unreachable.
func newMapped[T any](owner *T) *bigMem {
	m := &bigMem{regs: map[unsafe.Pointer]uintptr{}, stable: map[unsafe.Pointer]stableReg{}}
	runtime.AddCleanup(owner, func(m *bigMem) { m.freeAll() }, m)
	return m
}

func (m *bigMem) freeAll() {
	for base, size := range m.regs {
		m.unmap(base, size)
	}
	for base, r := range m.stable {
		sysUnmap(base, r.reserved)
		delete(m.stable, base)
		m.bytes.Add(-int64(r.committed))
	}
}

func (m *bigMem) add(base unsafe.Pointer, size uintptr) {
	m.regs[base] = size
	m.bytes.Add(int64(size))
}

func (m *bigMem) unmap(base unsafe.Pointer, size uintptr) {
	sysUnmap(base, size)
	delete(m.regs, base)
	m.bytes.Add(-int64(size))
}

// baseOf is the address of s's backing array (0 for a nil or
// zero-capacity slice).
func baseOf[S ~[]E, E any](s S) unsafe.Pointer {
	if cap(s) == 0 {
		return nil
	}
	return unsafe.Pointer(unsafe.SliceData(s))
}

// isMapped reports whether s's backing array is one of m's mappings.
func (m *bigMem) isMapped(base unsafe.Pointer) bool {
	if m == nil || base == nil {
		return false
	}
	_, ok := m.regs[base]
	return ok
}

// bigRoom is room for the table's large arrays: s with capacity for n
// more elements, off the Go heap (in m) once the array reaches mapMin
// bytes. E must hold no pointers. The returned slice replaces s (s must
// not be used again: its mapping may have moved). A nil m means the Go
// heap, always.
func bigRoom[S ~[]E, E any](m *bigMem, s S, n int) S {
	if cap(s)-len(s) >= n {
		return s
	}
	var zero E
	sz := unsafe.Sizeof(zero)
	want := uintptr(max(2*cap(s), len(s)+n)) * sz
	base := baseOf(s)
	wasMapped := m.isMapped(base)
	if !wasMapped && (m == nil || want < mapMin) {
		return room(s, n)
	}
	size := roundMapping(want)
	if wasMapped {
		old := m.regs[base]
		if nb, ok := sysGrowAsked(base, old, size); ok {
			delete(m.regs, base)
			m.bytes.Add(-int64(old))
			m.add(nb, size)
			return unsafe.Slice((*E)(nb), size/sz)[:len(s)]
		}
	}
	var t S
	if nb, ok := sysMapAsked(size); ok {
		m.add(nb, size)
		t = unsafe.Slice((*E)(nb), size/sz)[:len(s)]
		copy(t, s)
		if wasMapped {
			m.copies.Add(1)
		}
	} else {
		t = room(s, n)
		m.heapFalls.Add(1)
	}
	if wasMapped {
		m.unmap(base, m.regs[base])
	}
	return t
}

// bigExtend is extend for bigRoom's arrays: s lengthened by n zero
// elements. Only the old capacity is cleared: whatever bigRoom adds past
// it is zero already (fresh pages, or make's), and clearing a new
// mapping would only fault its pages in early.
func bigExtend[S ~[]E, E any](m *bigMem, s S, n int) S {
	k, old := len(s), cap(s)
	s = bigRoom(m, s, n)[:k+n]
	clear(s[k:min(k+n, old)])
	return s
}

// bigMake returns a zeroed array of n elements (capacity at least n), off
// the heap when large.
func bigMake[S ~[]E, E any](m *bigMem, n int) S {
	return bigExtend(m, S(nil), n)
}

// release frees s's mapping when it has one (s must not be used again);
// a heap array is left to the GC.
func release[S ~[]E, E any](m *bigMem, s S) {
	base := baseOf(s)
	if m.isMapped(base) {
		m.unmap(base, m.regs[base])
	}
}

// roundMapping rounds a mapping's size up to whole huge pages (whole
// small pages below one).
func roundMapping(n uintptr) uintptr {
	if n >= hugePageSize {
		return (n + hugePageSize - 1) &^ (hugePageSize - 1)
	}
	return (n + 4095) &^ 4095
}

// stableReg is one stable array's reservation: bytes of address space,
// and of those the bytes made usable from its start.
type stableReg struct {
	reserved, committed uintptr
}

// stableElems is how many elements a stable array reserves room for:
// 2^26 (67 million prefixes: 512 MiB of address space for the 8-byte key
// words, 1 GiB for the 16-byte IPv6 addresses (prefixKeys); index4's
// slots hold ids that wide too), ~50 times the IPv4 and IPv6 tables
// together. Not 2^32 (96 GiB): a reservation is address space
// that a limit on it (ulimit -v, systemd's LimitAS) counts, and with 96
// GiB taken a limit that left watch ~40 times what it needs was reached
// by the Go heap after a full table's load, which is fatal (runtime: out
// of memory). Past the reservation the keys fall back to the Go heap
// (stableRoom, counted in Stats), so this bounds nothing else.
// A variable so that tests can lower it; it must not change while a
// State lives.
var stableElems = 1 << 26

// stableRoom is bigRoom for an append-only array that others read without
// the State's lock (the prefix keys: snapshot builds and dumps read the
// prefix of it they copied the slice header of): once past mapMin it
// lives in a reservation of address space for stableElems elements
// (512 MiB for 8-byte key words: address space only; memory is committed as
// the array grows, in whole huge pages), so it never moves and an old
// slice header stays valid for as long as the State lives. The State's
// methods keep it alive while they read such a header. Past the
// reservation, or where the kernel refuses one, the array goes back to
// the Go heap (the reservation stays until the State goes, for the old
// headers).
func stableRoom[S ~[]E, E any](m *bigMem, s S, n int) S {
	if cap(s)-len(s) >= n {
		return s
	}
	var zero E
	sz := unsafe.Sizeof(zero)
	need := uintptr(len(s)+n) * sz
	want := uintptr(max(2*cap(s), len(s)+n)) * sz
	base := baseOf(s)
	if r, ok := m.stableOf(base); ok {
		c := min(roundMapping(want), r.reserved)
		if c >= need && !refused() && sysCommit(unsafe.Add(base, r.committed), c-r.committed) {
			m.bytes.Add(int64(c - r.committed))
			r.committed = c
			m.stable[base] = r
			return unsafe.Slice((*E)(base), c/sz)[:len(s)]
		}
		m.heapFalls.Add(1)
		return room(s, n)
	}
	if m == nil || want < mapMin || ^uintptr(0)>>32 == 0 {
		return room(s, n) // (a 32-bit address space has no room to reserve)
	}
	reserved := roundMapping(uintptr(uint64(stableElems) * uint64(sz)))
	// Never commit past the reservation's end: that is someone else's
	// address space (mprotect fails where nothing is mapped, and where
	// something is, the array would overlap it). A heap array whose
	// doubling is past a reservation gets all of one; one that needs
	// more than a reservation holds stays on the heap.
	c := min(roundMapping(want), reserved)
	if c < need || refused() {
		m.heapFalls.Add(1)
		return room(s, n)
	}
	p, ok := sysReserve(reserved)
	if !ok {
		m.heapFalls.Add(1)
		return room(s, n)
	}
	if !sysCommit(p, c) {
		sysUnmap(p, reserved)
		m.heapFalls.Add(1)
		return room(s, n)
	}
	m.stable[p] = stableReg{reserved, c}
	m.bytes.Add(int64(c))
	t := unsafe.Slice((*E)(p), c/sz)[:len(s)]
	copy(t, s)
	return t
}

func (m *bigMem) stableOf(base unsafe.Pointer) (stableReg, bool) {
	if m == nil || base == nil {
		return stableReg{}, false
	}
	r, ok := m.stable[base]
	return r, ok
}

// trimTail gives back to the kernel the pages of s's mapping past its
// length: a huge page is resident whole once touched, so each array's
// last one holds up to 2 MiB of capacity nothing uses. The elements past
// len(s) then read as zero, which nothing relies on (bigExtend clears
// what it adds). It returns the bytes released.
func trimTail[S ~[]E, E any](m *bigMem, s S) uintptr {
	base := baseOf(s)
	var end uintptr
	if size, ok := m.regsOf(base); ok {
		end = size
	} else if r, ok := m.stableOf(base); ok {
		end = r.committed
	} else {
		return 0
	}
	var zero E
	used := (uintptr(len(s))*unsafe.Sizeof(zero) + 4095) &^ 4095
	if used >= end {
		return 0
	}
	sysRelease(unsafe.Add(base, used), end-used)
	return end - used
}

func (m *bigMem) regsOf(base unsafe.Pointer) (uintptr, bool) {
	if m == nil || base == nil {
		return 0, false
	}
	size, ok := m.regs[base]
	return size, ok
}

// ReleaseMemory gives back to the kernel the memory the table's arrays
// hold past their length (see trimTail): up to a huge page per array,
// ~10 MB on a full table. Call it after a bulk load (watch does after an
// initial_load, beside its release of the Go heap's free pages); the next
// growth faults those pages in again. It returns the bytes released.
func (s *State) ReleaseMemory() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.mem
	n := trimTail(m, s.routes) + trimTail(m, s.bits) + trimTail(m, s.refs) +
		trimTail(m, s.pfx.keys.w) + trimTail(m, s.pfx.keys.v6) + trimTail(m, s.pfx.head) + trimTail(m, s.pfx.ix4.slots) + trimTail(m, s.pfx.ix6.slots) +
		trimTail(m, s.aspa.counts)
	for i := range s.peers {
		if pp := s.peers[i].paths; pp != nil {
			n += trimTail(m, pp.dense) + trimTail(m, pp.present)
		}
	}
	return int64(n)
}
