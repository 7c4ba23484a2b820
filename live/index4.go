package live

import (
	"math/bits"

	"github.com/rovimpact/rovimpact/internal/pfxkey"
)

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
	slotTable
	big map[uint64]uint32 // key -> id, for slots marked bigID
}

// slotTable is the slots of index4 and index6 and their growth.
type slotTable struct {
	mem   *bigMem // where slots live (nil: the Go heap)
	slots []uint32
	n     int
	shift uint8 // 64 - log2(len(slots))
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

func (t *slotTable) home(h uint64) uint64 { return h >> t.shift }

// fp is the fingerprint of hash h, placed above the id field.
func (t *slotTable) fp(h uint64) uint32 {
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
	if t.full() {
		t.grow(func(id uint32) uint64 { return hash4(words[id]) }, func(put func(h uint64)) {
			for k := range t.big {
				put(hash4(k))
			}
		})
	}
	v := id + 1
	if id >= bigID()-1 {
		if t.big == nil {
			t.big = map[uint64]uint32{}
		}
		t.big[k] = id
		v = bigID()
	}
	t.put(hash4(k), v)
	t.n++
}

// full reports whether one more key would pass three quarters.
func (t *slotTable) full() bool { return 4*(t.n+1) > 3*len(t.slots) }

// put stores id field v for a key of hash h in the first free slot from
// its home.
func (t *slotTable) put(h uint64, v uint32) {
	mask := uint64(len(t.slots) - 1)
	i := t.home(h)
	for t.slots[i] != 0 {
		i = (i + 1) & mask
	}
	t.slots[i] = t.fp(h) | v
}

// grow doubles the table, rehashing each id with hashOf and each big
// id's key through bigs.
func (t *slotTable) grow(hashOf func(id uint32) uint64, bigs func(put func(h uint64))) {
	old := t.slots
	n := max(2*len(old), index4Min)
	t.slots = bigMake[[]uint32](t.mem, n)[:n]
	t.shift = uint8(64 - bits.TrailingZeros(uint(n)))
	idMask := bigID()
	for _, s := range old {
		if v := s & idMask; v != 0 && v != idMask {
			t.put(hashOf(v-1), v)
		}
	}
	bigs(func(h uint64) { t.put(h, idMask) })
	release(t.mem, old)
}

// index6 maps IPv6 prefix keys to prefix ids as index4 does IPv4 ones:
// 4-byte slots of id and fingerprint, the key confirmed in the prefix's
// key word and IPv6 address (prefixKeys). A full IPv6 table (~220k
// prefixes) costs ~7 bytes a prefix here, where the Go map it replaced
// (map[pfxkey.Key]uint32) cost ~45.
type index6 struct {
	slotTable
	big map[pfxkey.Key]uint32 // for slots marked bigID
}

// hash6 mixes an IPv6 prefix key (splitmix64's finalizer): the address
// bits that vary sit anywhere in the two words, and a plain multiply
// would leave the top bits (the home slot) to a few of them.
func hash6(k pfxkey.Key) uint64 {
	z := k.Hi ^ bits.RotateLeft64(k.Lo, 31) ^ uint64(k.Bits)<<1
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// find returns the id of IPv6 key k (its ID is not looked at).
func (t *index6) find(k pfxkey.Key, keys prefixKeys) (uint32, bool) {
	if t.n == 0 {
		return 0, false
	}
	k.ID = 0 // not part of the prefix (keys.key gives it as 0)
	h := hash6(k)
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
			if keys.key(v-1) == k {
				return v - 1, true
			}
			continue
		}
		if id, ok := t.big[k]; ok {
			return id, true
		}
	}
}

// insert adds IPv6 key k (its ID not looked at) with id; k must not be present, and
// keys must hold every id in the table.
func (t *index6) insert(k pfxkey.Key, id uint32, keys prefixKeys) {
	k.ID = 0
	if t.full() {
		t.grow(func(id uint32) uint64 { return hash6(keys.key(id)) }, func(put func(h uint64)) {
			for k := range t.big {
				put(hash6(k))
			}
		})
	}
	v := id + 1
	if id >= bigID()-1 {
		if t.big == nil {
			t.big = map[pfxkey.Key]uint32{}
		}
		t.big[k] = id
		v = bigID()
	}
	t.put(hash6(k), v)
	t.n++
}
