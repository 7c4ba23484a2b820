package live

import "math/bits"

// index4 maps IPv4 prefix keys (address<<32 | length) to prefix ids: an
// open-addressing table with linear probing and no deletion (prefix ids
// are never freed). It replaced a Go map (map[uint64]uint32) which, while
// a full table arrived from bird2, cost about a sixth of watch's ingest
// CPU: hashing and probing one or two 577k-entry maps per path, and its
// incremental growth splitting and rehashing one table at a time
// (bench/README.md). Here a lookup is one multiply and, mostly, one
// 4-byte slot read, and growth rehashes every entry once, in order, into
// a table twice the size.
//
// A slot is one uint32: the id plus one (idBits bits), 0 for an empty
// slot, and above it fpBits bits of the key's hash (a fingerprint). The
// key itself is not in the slot: it is the prefix's key word, which the
// prefix set keeps by id anyway (prefixKeys.w, an IPv4 word being this
// key), so a slot whose fingerprint matches is confirmed there. A full
// table's index is then 4 MiB instead of 8 with the key in the slot (16
// with a 16-byte slot), and a cache line holds 16 slots. A lookup that
// finds its key reads the key word too; one that does not (every path of
// a table's first load) nearly never does: a probe passes a slot of
// another key on its fingerprint 63 times in 64. Ids that do not fit
// (beyond 2^26 - 2: 67 million distinct IPv4 prefixes) are marked in the
// slot and kept in a map.
type index4 struct {
	mem   *bigMem // where slots live (nil: the Go heap)
	slots []uint32
	n     int
	shift uint8             // 64 - log2(len(slots))
	big   map[uint64]uint32 // key -> id, for slots marked bigID
}

// idBits is the width of a slot's id field; tests narrow it to exercise
// the map of big ids.
var idBits uint = 26

// fpBits is the width of a slot's fingerprint, above the id.
const fpBits = 6

// bigID marks a slot whose id is in index4.big.
func bigID() uint32 { return 1<<idBits - 1 }

// index4Min is the first table's size (4 KiB).
const index4Min = 1024

// hash4 spreads keys (Fibonacci hashing: the key times 2^64/phi); the top
// bits pick the home slot, the fpBits below them the fingerprint.
func hash4(k uint64) uint64 { return k * 0x9e3779b97f4a7c15 }

func (t *index4) home(h uint64) uint64 { return h >> t.shift }

// fp is the fingerprint of hash h, placed above the id field.
func (t *index4) fp(h uint64) uint32 {
	return uint32(h>>(t.shift-fpBits)&(1<<fpBits-1)) << idBits
}

// find returns the id of key k; words are the key words by id.
func (t *index4) find(k uint64, words []uint64) (uint32, bool) {
	if t.n == 0 {
		return 0, false
	}
	h := hash4(k)
	fp := t.fp(h)
	idMask := bigID()
	mask := uint64(len(t.slots) - 1)
	for i := t.home(h); ; i = (i + 1) & mask {
		s := t.slots[i]
		if s == 0 {
			return 0, false
		}
		if s&^idMask != fp {
			continue
		}
		if v := s & idMask; v != idMask {
			if words[v-1] == k {
				return v - 1, true
			}
			continue
		}
		if id, ok := t.big[k]; ok {
			return id, true
		}
	}
}

// insert adds key k with id; k must not be present, and words (the key
// words by id) must hold every id in the table. The table grows at three
// quarters full, so a probe sequence always ends at an empty slot.
func (t *index4) insert(k uint64, id uint32, words []uint64) {
	if 4*(t.n+1) > 3*len(t.slots) {
		t.grow(words)
	}
	v := id + 1
	if id >= bigID()-1 {
		if t.big == nil {
			t.big = map[uint64]uint32{}
		}
		t.big[k] = id
		v = bigID()
	}
	t.put(k, v)
	t.n++
}

// put stores id field v for key k in the first free slot from k's home.
func (t *index4) put(k uint64, v uint32) {
	h := hash4(k)
	mask := uint64(len(t.slots) - 1)
	i := t.home(h)
	for t.slots[i] != 0 {
		i = (i + 1) & mask
	}
	t.slots[i] = t.fp(h) | v
}

func (t *index4) grow(words []uint64) {
	old := t.slots
	n := max(2*len(old), index4Min)
	t.slots = bigMake[[]uint32](t.mem, n)[:n]
	t.shift = uint8(64 - bits.TrailingZeros(uint(n)))
	idMask := bigID()
	for _, s := range old {
		if v := s & idMask; v != 0 && v != idMask {
			t.put(words[v-1], v)
		}
	}
	for k := range t.big {
		t.put(k, idMask)
	}
	release(t.mem, old)
}
