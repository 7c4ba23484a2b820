package live

import "math/bits"

// index4 maps IPv4 prefix keys (address<<32 | length) to prefix ids: an
// open-addressing table with linear probing and no deletion (prefix ids
// are never freed). It replaced a Go map (map[uint64]uint32) which, while
// a full table arrived from bird2, cost about a sixth of watch's ingest
// CPU: hashing and probing one or two 577k-entry maps per path, and its
// incremental growth splitting and rehashing one table at a time
// (bench/README.md). Here a lookup is one multiply and, mostly, one
// 8-byte slot read, and growth rehashes every entry once, in order, into
// a table twice the size.
//
// A slot is one uint64: the prefix (address and length, 38 bits) above
// the id plus one (idBits bits), 0 for an empty slot. A full table's
// index is then 8 MiB instead of 16 with a 16-byte slot, and a cache
// line holds 8 slots. Ids that do not fit (beyond 2^26 - 2: 67 million
// distinct IPv4 prefixes) are marked in the slot and kept in a map.
type index4 struct {
	mem   *bigMem // where slots live (nil: the Go heap)
	slots []uint64
	n     int
	shift uint8             // 64 - log2(len(slots))
	big   map[uint64]uint32 // prefix -> id, for slots marked bigID
}

// idBits is the width of a slot's id field; tests narrow it to exercise
// the map of big ids.
var idBits uint = 26

// bigID marks a slot whose id is in index4.big.
func bigID() uint64 { return 1<<idBits - 1 }

// index4Min is the first table's size (8 KiB).
const index4Min = 1024

// pack4 turns an index key (address<<32 | length) into the slot's 38-bit
// prefix.
func pack4(k uint64) uint64 { return k>>32<<6 | k&63 }

// home spreads prefixes over the table (Fibonacci hashing: the top bits
// of p times 2^64/phi).
func (t *index4) home(p uint64) uint64 { return (p * 0x9e3779b97f4a7c15) >> t.shift }

// find returns the id of key k.
func (t *index4) find(k uint64) (uint32, bool) {
	if t.n == 0 {
		return 0, false
	}
	p := pack4(k)
	mask := uint64(len(t.slots) - 1)
	for i := t.home(p); ; i = (i + 1) & mask {
		s := t.slots[i]
		if s == 0 {
			return 0, false
		}
		if s>>idBits == p {
			if v := s & bigID(); v != bigID() {
				return uint32(v - 1), true
			}
			id, ok := t.big[p]
			return id, ok
		}
	}
}

// insert adds key k with id; k must not be present. The table grows at
// three quarters full, so a probe sequence always ends at an empty slot.
func (t *index4) insert(k uint64, id uint32) {
	if 4*(t.n+1) > 3*len(t.slots) {
		t.grow()
	}
	p := pack4(k)
	v := uint64(id) + 1
	if v >= bigID() {
		if t.big == nil {
			t.big = map[uint64]uint32{}
		}
		t.big[p] = id
		v = bigID()
	}
	t.put(p<<idBits | v)
	t.n++
}

func (t *index4) put(s uint64) {
	mask := uint64(len(t.slots) - 1)
	i := t.home(s >> idBits)
	for t.slots[i] != 0 {
		i = (i + 1) & mask
	}
	t.slots[i] = s
}

func (t *index4) grow() {
	old := t.slots
	n := max(2*len(old), index4Min)
	t.slots = bigMake[[]uint64](t.mem, n)[:n]
	t.shift = uint8(64 - bits.TrailingZeros(uint(n)))
	for _, s := range old {
		if s != 0 {
			t.put(s)
		}
	}
	release(t.mem, old)
}
