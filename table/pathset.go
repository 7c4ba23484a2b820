package table

import (
	"hash/maphash"
	"math/bits"

	"github.com/rovimpact/rovimpact/internal/pfxkey"
	"github.com/rovimpact/rovimpact/rov"
)

// pathSet is one peer's replayed paths: (masked prefix, path id) to
// origin. It replaces a Go map because the replay asks "held?" and then
// stores, and a map does that in two lookups (plus, on a full table, a
// map's growth by table splits was a tenth of analyze): here the lookup
// returns the slot the store then fills.
//
// The paths themselves (32 bytes each) sit in entries, in chunks that are
// never copied; the hash table proper is an open-addressing table with
// linear probing of 8-byte slots, each the top half of its path's hash
// (the tag) and the path's entry number. Growing doubles and rewrites
// only the slots, from their tags, without reading an entry: on a full
// table the doubling chain of 32-byte slots allocated (and the kernel
// zeroed) 64 MB, against 16 MB of slots plus 18 MB of entries here, and
// on the virtual machines rovimpact is measured on memory touched is what
// costs (bench/README.md).
//
// The hash is seeded (maphash), so a peer cannot choose prefixes that
// collide. The Ingester gives all its peers' sets one seed (withSeed), so
// that the decoding goroutine can hash a record's key before the set sees
// it (hashKey) and the set skips that work (getHashed).
type pathSet struct {
	// slots is empty or a power of two long, at most 3/4 used; 0 is an
	// empty slot, else tag<<32 | entry number+1.
	slots []uint64
	// shift turns a tag into its home slot: tag >> shift.
	shift uint8
	n     int // paths held
	// chunks hold the entries: chunk 0 grows by appending up to
	// entryChunk entries, later chunks are made whole. An entry whose
	// key's Fam is FamInvalid is free (the replay only stores valid
	// prefixes: route.Replay looks a path up only for those); free lists
	// the freed ones for reuse, so entries stay bounded by the most paths
	// ever held at once.
	chunks  [][]pathSlot
	entries int // entries made
	free    []uint32
	seeded  bool
	seed    maphash.Seed
}

type pathSlot struct {
	k replayKey
	o rov.Origin
}

const (
	// minPathSlots is the first table's size (small: a file may name many
	// peers with a path or two each); a set grows by doubling when more
	// than 3/4 of its slots are used.
	minPathSlots = 8
	// entryChunkBits sizes the chunks of entries after the first:
	// 1024 entries, 32 KiB.
	entryChunkBits = 10
	entryChunk     = 1 << entryChunkBits
)

// withSeed is an empty set hashing with seed.
func withSeed(seed maphash.Seed) pathSet { return pathSet{seed: seed, seeded: true} }

// reset empties s, keeping its seed (hashes computed for it stay valid)
// and freeing its memory.
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

// home is the first slot of a path whose tag (top half of its hash) is
// tag: the tag's top bits, so that slots in order keep their order when
// the table doubles (home i becomes 2i or 2i+1) and grow writes the new
// table front to back instead of at random.
func (s *pathSet) home(tag uint32) int { return int(tag >> s.shift) }

// entry is entry number e.
func (s *pathSet) entry(e uint32) *pathSlot {
	return &s.chunks[e>>entryChunkBits][e&(entryChunk-1)]
}

// slotEntry is the entry slot i (not empty) points at.
func (s *pathSet) slotEntry(i int) *pathSlot { return s.entry(uint32(s.slots[i]) - 1) }

// touch reads the first slot a key of hash h probes and returns a byte of
// it: called for a batch of keys before they are looked up, it lets the
// processor fetch their cache lines all at once instead of one miss
// after another (on a full table the slots are MBs, and each lookup a
// cache miss).
func (s *pathSet) touch(h uint64) uint8 {
	if len(s.slots) == 0 {
		return 0
	}
	return uint8(s.slots[s.home(uint32(h>>32))])
}

// find returns the slot holding k (of hash h), or the empty slot where k
// would go. Bounded: at most 3/4 of the slots are used, so an empty one
// is met.
func (s *pathSet) find(k replayKey, h uint64) (int, bool) {
	if len(s.slots) == 0 {
		return -1, false
	}
	tag := uint32(h >> 32)
	mask := len(s.slots) - 1
	for i := s.home(tag); ; i = (i + 1) & mask {
		sl := s.slots[i]
		if sl == 0 {
			return i, false
		}
		if uint32(sl>>32) == tag && s.entry(uint32(sl)-1).k == k {
			return i, true
		}
	}
}

// get returns k's origin and whether k is held, with the slot set and del
// take.
func (s *pathSet) get(k replayKey) (rov.Origin, int, bool) { return s.getHashed(k, s.hash(k)) }

// getHashed is get for a key whose hash in s is h.
func (s *pathSet) getHashed(k replayKey, h uint64) (rov.Origin, int, bool) {
	i, ok := s.find(k, h)
	if !ok {
		return rov.Origin{}, i, false
	}
	return s.slotEntry(i).o, i, true
}

// set stores o for k. i and held are get's answer for k, unchanged since
// (no set or del in between).
func (s *pathSet) set(k replayKey, o rov.Origin, i int, held bool) {
	if held {
		s.slotEntry(i).o = o
		return
	}
	h := s.hash(k)
	if (s.n+1)*4 > len(s.slots)*3 {
		s.grow()
		i, _ = s.find(k, h)
	}
	e := s.newEntry()
	*s.entry(e) = pathSlot{k: k, o: o}
	s.slots[i] = h>>32<<32 | (uint64(e) + 1)
	s.n++
}

// newEntry returns a free entry's number: a freed one, or a new one.
func (s *pathSet) newEntry() uint32 {
	if n := len(s.free); n > 0 {
		e := s.free[n-1]
		s.free = s.free[:n-1]
		return e
	}
	e := s.entries
	switch c := e >> entryChunkBits; {
	case c < len(s.chunks) && c == 0:
		s.chunks[0] = append(s.chunks[0], pathSlot{}) // chunk 0 grows
	case c == len(s.chunks) && c > 0:
		s.chunks = append(s.chunks, make([]pathSlot, entryChunk))
	case c == len(s.chunks):
		s.chunks = append(s.chunks, make([]pathSlot, 1, minPathSlots))
	}
	s.entries++
	return uint32(e)
}

func (s *pathSet) grow() {
	old := s.slots
	s.slots = make([]uint64, max(minPathSlots, 2*len(old)))
	s.shift = uint8(32 - bits.Len(uint(len(s.slots)-1)))
	mask := len(s.slots) - 1
	for _, sl := range old {
		if sl == 0 {
			continue
		}
		i := s.home(uint32(sl >> 32))
		for s.slots[i] != 0 {
			i = (i + 1) & mask
		}
		s.slots[i] = sl
	}
}

// del removes the path in slot i (found held): its entry is freed, and the
// slots after i whose probe sequence passed through i are shifted back,
// so that find still reaches them.
func (s *pathSet) del(i int) {
	e := uint32(s.slots[i]) - 1
	*s.entry(e) = pathSlot{}
	s.free = append(s.free, e)
	mask := len(s.slots) - 1
	for j := (i + 1) & mask; s.slots[j] != 0; j = (j + 1) & mask {
		h := s.home(uint32(s.slots[j] >> 32))
		// Slot j may move to i when its home is not cyclically in (i, j].
		if (i < j && (h <= i || h > j)) || (i > j && h <= i && h > j) {
			s.slots[i] = s.slots[j]
			i = j
		}
	}
	s.slots[i] = 0
	s.n--
}

// all yields the held paths in entry order.
func (s *pathSet) all(yield func(replayKey, rov.Origin) bool) {
	for _, c := range s.chunks {
		for i := range c {
			if sl := &c[i]; sl.k.Fam != pfxkey.FamInvalid {
				if !yield(sl.k, sl.o) {
					return
				}
			}
		}
	}
}
