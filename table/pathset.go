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
type pathSet struct {
	slots []pathSlot // len is 0 or a power of two, 1<<(64-shift)
	n     int
	shift uint8
	seed  maphash.Seed
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
func (s *pathSet) home(k replayKey) int {
	return int(maphash.Comparable(s.seed, k) >> s.shift)
}

// find returns the slot holding k, or the empty slot where k would go.
// Bounded: at most 3/4 of the slots are used, so an empty one is met.
func (s *pathSet) find(k replayKey) (int, bool) {
	if len(s.slots) == 0 {
		return -1, false
	}
	mask := len(s.slots) - 1
	for i := s.home(k); ; i = (i + 1) & mask {
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
func (s *pathSet) get(k replayKey) (rov.Origin, int, bool) {
	i, ok := s.find(k)
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
		i, _ = s.find(k)
	}
	s.slots[i] = pathSlot{k: k, o: o}
	s.n++
}

func (s *pathSet) grow() {
	old := s.slots
	if old == nil {
		s.seed = maphash.MakeSeed()
	}
	s.slots = make([]pathSlot, max(minPathSlots, 2*len(old)))
	s.shift = uint8(64 - bits.Len(uint(len(s.slots)-1)))
	mask := len(s.slots) - 1
	for _, sl := range old {
		if sl.k.Fam == pfxkey.FamInvalid {
			continue
		}
		i := s.home(sl.k)
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
		h := s.home(s.slots[j].k)
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
