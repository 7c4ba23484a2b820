package live

import "math/bits"

// index4 maps IPv4 prefix keys (address<<32 | length) to prefix ids: an
// open-addressing table with linear probing and no deletion (prefix ids
// are never freed). It replaced a Go map (map[uint64]uint32) which, while
// a full table arrived from bird2, cost about a sixth of watch's ingest
// CPU: hashing and probing one or two 577k-entry maps per path, and its
// incremental growth splitting and rehashing one table at a time
// (bench/README.md). Here a lookup is one multiply and, mostly, one
// 16-byte slot read, and growth rehashes every entry once, in order, into
// a table twice the size.
type index4 struct {
	mem   *bigMem // where slots live (nil: the Go heap)
	slots []slot4
	n     int
	shift uint8 // 64 - log2(len(slots))
}

// slot4 is one entry; v is the id plus one, so that 0 marks an empty slot
// (the key 0, 0.0.0.0/0, is a valid key).
type slot4 struct {
	k uint64
	v uint32
}

// index4Min is the first table's size (16 KiB).
const index4Min = 1024

// home spreads keys over the table (Fibonacci hashing: the top bits of
// k times 2^64/phi).
func (t *index4) home(k uint64) uint64 { return (k * 0x9e3779b97f4a7c15) >> t.shift }

// find returns the id of key k.
func (t *index4) find(k uint64) (uint32, bool) {
	if t.n == 0 {
		return 0, false
	}
	mask := uint64(len(t.slots) - 1)
	for i := t.home(k); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.v == 0 {
			return 0, false
		}
		if s.k == k {
			return s.v - 1, true
		}
	}
}

// insert adds key k with id; k must not be present. The table grows at
// three quarters full, so a probe sequence always ends at an empty slot.
func (t *index4) insert(k uint64, id uint32) {
	if 4*(t.n+1) > 3*len(t.slots) {
		t.grow()
	}
	t.put(k, id+1)
	t.n++
}

func (t *index4) put(k uint64, v uint32) {
	mask := uint64(len(t.slots) - 1)
	i := t.home(k)
	for t.slots[i].v != 0 {
		i = (i + 1) & mask
	}
	t.slots[i] = slot4{k, v}
}

func (t *index4) grow() {
	old := t.slots
	n := max(2*len(old), index4Min)
	t.slots = bigMake[[]slot4](t.mem, n)
	t.shift = uint8(64 - bits.TrailingZeros(uint(n)))
	for _, s := range old {
		if s.v != 0 {
			t.put(s.k, s.v)
		}
	}
	release(t.mem, old)
}
