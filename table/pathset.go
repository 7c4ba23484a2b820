package table

import (
	"hash/maphash"
	"math/bits"

	"github.com/rovimpact/rovimpact/internal/pfxkey"
	"github.com/rovimpact/rovimpact/rov"
)

// pathSet is one peer's replayed paths: (masked prefix, path id) to
// origin, in an open-addressing table with linear probing. It replaces a
// Go map because the replay asks "held?" and then stores, and a map does
// that in two lookups (plus, on a full table, a map's growth by table
// splits was a tenth of analyze): here the lookup returns the slot the
// store then fills. The hash is seeded per set (maphash), so a peer
// cannot choose prefixes that collide. A slot is empty when its key's Fam
// is FamInvalid: the replay only stores valid prefixes (route.Replay
// looks a path up only for those).
//
// The Ingester gives all its peers' sets one seed (withSeed), so that the
// decoding goroutine can hash a record's key before the set sees it
// (hashKey) and the set skips that work (getHashed).
type pathSet struct {
	slots  []pathSlot // len is 0 or a power of two, 1<<(64-shift)
	n      int
	shift  uint8
	seeded bool
	seed   maphash.Seed
}

// withSeed is an empty set hashing with seed.
func withSeed(seed maphash.Seed) pathSet { return pathSet{seed: seed, seeded: true} }

// reset empties s, keeping its seed (hashes computed for it stay valid)
// and freeing its slots.
func (s *pathSet) reset() { *s = pathSet{seed: s.seed, seeded: s.seeded} }

// hashKey is k's hash under seed: what s.hash gives for a set made by
// withSeed(seed).
func hashKey(seed maphash.Seed, k replayKey) uint64 { return maphash.Comparable(seed, k) }

// hash is k's hash in s (seeding s on first use).
func (s *pathSet) hash(k replayKey) uint64 {
	if !s.seeded {
		s.seed, s.seeded = maphash.MakeSeed(), true
	}
	return hashKey(s.seed, k)
}

type pathSlot struct {
	k replayKey
	o rov.Origin
}

// minPathSlots is the first table's size (small: a file may name many
// peers with a path or two each); a set grows by doubling when
// more than 3/4 of its slots are used.
const minPathSlots = 8

// home is k's first slot: the top bits of its hash, so that slots in
// order keep their order when the table doubles (home i becomes 2i or
// 2i+1) and grow writes the new table front to back instead of at random
// (on a full table, random writes made growth as dear as all the lookups).
func (s *pathSet) home(h uint64) int { return int(h >> s.shift) }

// touch reads the first slot a key of hash h probes and returns a byte of
// it: called for a batch of keys before they are looked up, it lets the
// processor fetch their cache lines all at once instead of one miss
// after another (on a full table the set is tens of MB, and each lookup
// a cache miss).
func (s *pathSet) touch(h uint64) uint8 {
	if len(s.slots) == 0 {
		return 0
	}
	return s.slots[s.home(h)].k.Bits
}

// find returns the slot holding k (of hash h), or the empty slot where k
// would go. Bounded: at most 3/4 of the slots are used, so an empty one
// is met.
func (s *pathSet) find(k replayKey, h uint64) (int, bool) {
	if len(s.slots) == 0 {
		return -1, false
	}
	mask := len(s.slots) - 1
	for i := s.home(h); ; i = (i + 1) & mask {
		sl := &s.slots[i]
		if sl.k == k {
			return i, true
		}
		if sl.k.Fam == pfxkey.FamInvalid {
			return i, false
		}
	}
}

// get returns k's origin and whether k is held.
func (s *pathSet) get(k replayKey) (rov.Origin, int, bool) { return s.getHashed(k, s.hash(k)) }

// getHashed is get for a key whose hash in s is h.
func (s *pathSet) getHashed(k replayKey, h uint64) (rov.Origin, int, bool) {
	i, ok := s.find(k, h)
	if !ok {
		return rov.Origin{}, i, false
	}
	return s.slots[i].o, i, true
}

// set stores o for k. i and held are find's answer for k, unchanged since
// (no set or del in between).
func (s *pathSet) set(k replayKey, o rov.Origin, i int, held bool) {
	if held {
		s.slots[i].o = o
		return
	}
	if (s.n+1)*4 > len(s.slots)*3 {
		s.grow()
		i, _ = s.find(k, s.hash(k))
	}
	s.slots[i] = pathSlot{k: k, o: o}
	s.n++
}

func (s *pathSet) grow() {
	old := s.slots
	s.slots = make([]pathSlot, max(minPathSlots, 2*len(old)))
	s.shift = uint8(64 - bits.Len(uint(len(s.slots)-1)))
	mask := len(s.slots) - 1
	for _, sl := range old {
		if sl.k.Fam == pfxkey.FamInvalid {
			continue
		}
		i := s.home(s.hash(sl.k))
		for s.slots[i].k.Fam != pfxkey.FamInvalid {
			i = (i + 1) & mask
		}
		s.slots[i] = sl
	}
}

// del empties slot i (found held), shifting back the slots after it whose
// probe sequence passed through i, so that find still reaches them.
func (s *pathSet) del(i int) {
	mask := len(s.slots) - 1
	for j := (i + 1) & mask; s.slots[j].k.Fam != pfxkey.FamInvalid; j = (j + 1) & mask {
		h := s.home(s.hash(s.slots[j].k))
		// Slot j may move to i when its home is not cyclically in (i, j].
		if (i < j && (h <= i || h > j)) || (i > j && h <= i && h > j) {
			s.slots[i] = s.slots[j]
			i = j
		}
	}
	s.slots[i] = pathSlot{}
	s.n--
}

// all yields the held paths in slot order.
func (s *pathSet) all(yield func(replayKey, rov.Origin) bool) {
	for i := range s.slots {
		if sl := &s.slots[i]; sl.k.Fam != pfxkey.FamInvalid {
			if !yield(sl.k, sl.o) {
				return
			}
		}
	}
}
