package mrt

import (
	"bytes"
	"encoding/binary"
	"hash/maphash"
	"net/netip"

	"github.com/rovimpact/rovimpact/rov"
)

// Attrs interns the attributes a held path keeps for an MRT dump: AS paths
// and next hops, each stored once, numbered, and shared by every path that
// uses it, so that a path costs two 32-bit numbers instead of its slices.
// RIB and the live table of watch both hold full tables this way.
//
// AS path and next-hop numbers start at 0; next hop 0 is the zero Addr
// ("none"). Next-hop numbers fit in 24 bits (MaxNextHops) so that holders
// can pack them with a state byte into one word.
//
// Values are never removed: a holder that churns re-interns the values it
// still uses into a fresh Attrs (PathBytes and InternEncoded make that a
// byte copy). A copy of an Attrs value is a read-only view of the values
// interned so far: the slices are only ever appended to, so the view stays
// valid while the original goes on interning (it must not intern itself).
type Attrs struct {
	seed     maphash.Seed
	arena    []byte            // encoded AS paths, back to back
	off      []int             // path number -> start in arena; off[n+1] is its end
	ix       map[uint64]uint32 // hash of an encoded path -> path number
	coll     map[string]uint32 // paths whose hash collided with another's
	scratch  []byte
	nextHops []netip.Addr
	nhIx     map[netip.Addr]uint32

	// The value interned last, of each kind: the paths of one UPDATE (a
	// few to hundreds of prefixes) share their AS path and next hop, so
	// most calls ask for the value the previous call did, and a byte
	// compare answers them without hashing into a map of the whole table
	// (a cache miss each).
	last     []byte
	lastID   uint32
	lastOK   bool
	lastNH   netip.Addr
	lastNHID uint32
}

// MaxNextHops bounds the distinct next hops an Attrs numbers: far beyond
// any real table. Past it InternNextHop returns 0: the path is kept, its
// next hop lost.
const MaxNextHops = 1 << 24

// NewAttrs returns an empty Attrs.
func NewAttrs() Attrs {
	return Attrs{
		seed:     maphash.MakeSeed(),
		off:      []int{0},
		ix:       map[uint64]uint32{},
		nextHops: []netip.Addr{{}}, // 0: no next hop
		nhIx:     map[netip.Addr]uint32{{}: 0},
		// (lastNH is the zero Addr, number 0, from the start.)
	}
}

// InternNextHop returns the number of addr, adding it if new.
func (a *Attrs) InternNextHop(addr netip.Addr) uint32 {
	if addr == a.lastNH {
		return a.lastNHID
	}
	id, ok := a.nhIx[addr]
	if !ok {
		id = uint32(len(a.nextHops))
		if id >= MaxNextHops {
			return 0
		}
		a.nextHops = append(a.nextHops, addr)
		a.nhIx[addr] = id
	}
	a.lastNH, a.lastNHID = addr, id
	return id
}

// NextHop returns next hop number id.
func (a *Attrs) NextHop(id uint32) netip.Addr { return a.nextHops[id] }

// InternPath returns the number of path, adding it if new. A path is
// encoded as, per segment, the type byte, the ASN count and the ASNs, all
// uvarints: canonical, so equal paths have equal bytes.
func (a *Attrs) InternPath(path []rov.Segment) uint32 {
	b := a.scratch[:0]
	for _, s := range path {
		b = append(b, byte(s.Type))
		b = binary.AppendUvarint(b, uint64(len(s.ASNs)))
		for _, x := range s.ASNs {
			b = binary.AppendUvarint(b, uint64(x))
		}
	}
	a.scratch = b
	return a.InternEncoded(b)
}

// InternEncoded interns a path given in its encoding (PathBytes of this or
// another Attrs); b is not retained.
func (a *Attrs) InternEncoded(b []byte) uint32 {
	if a.lastOK && bytes.Equal(a.last, b) {
		return a.lastID
	}
	id := a.internEncoded(b)
	a.last, a.lastID, a.lastOK = append(a.last[:0], b...), id, true
	return id
}

func (a *Attrs) internEncoded(b []byte) uint32 {
	h := maphash.Bytes(a.seed, b)
	id, ok := a.ix[h]
	if !ok {
		id = a.addPath(b)
		a.ix[h] = id
		return id
	}
	if bytes.Equal(a.PathBytes(id), b) {
		return id
	}
	if id, ok := a.coll[string(b)]; ok {
		return id
	}
	id = a.addPath(b)
	if a.coll == nil {
		a.coll = map[string]uint32{}
	}
	a.coll[string(b)] = id
	return id
}

func (a *Attrs) addPath(b []byte) uint32 {
	id := uint32(len(a.off) - 1)
	a.arena = append(a.arena, b...)
	a.off = append(a.off, len(a.arena))
	return id
}

// PathBytes returns the encoding of path number id; it aliases the arena.
func (a *Attrs) PathBytes(id uint32) []byte { return a.arena[a.off[id]:a.off[id+1]] }

// DecodePath rebuilds path number id into dst, reusing its segments' ASNs
// slices.
func (a *Attrs) DecodePath(dst []rov.Segment, id uint32) []rov.Segment {
	b := a.PathBytes(id)
	dst = dst[:0]
	for len(b) > 0 {
		typ := rov.SegmentType(b[0])
		b = b[1:]
		cnt, k := binary.Uvarint(b)
		b = b[k:]
		n := len(dst)
		if n < cap(dst) {
			dst = dst[:n+1]
		} else {
			dst = append(dst, rov.Segment{})
		}
		s := &dst[n]
		s.Type, s.ASNs = typ, s.ASNs[:0]
		for range cnt {
			x, k := binary.Uvarint(b)
			b = b[k:]
			s.ASNs = append(s.ASNs, uint32(x))
		}
	}
	return dst
}

// Paths returns the number of AS paths interned and the bytes of their
// encoding.
func (a *Attrs) Paths() (n, bytes int) { return len(a.off) - 1, len(a.arena) }

// NextHops returns the number of next hops interned, "none" included.
func (a *Attrs) NextHops() int { return len(a.nextHops) }
