package live

import (
	"cmp"
	"encoding/binary"
	"net/netip"
	"slices"
)

// pkey is a prefix without netip's zone pointer (so tables of them hold no
// pointers for the GC to scan), ordered by family (IPv4 first), address,
// then length: the order in which every prefix inside p follows p directly,
// in one run.
type pkey struct {
	hi, lo uint64
	bits   uint8
	v6     bool
}

func keyOf(p netip.Prefix) pkey {
	a := p.Addr()
	if a.Is4() {
		b := a.As4()
		return pkey{hi: uint64(binary.BigEndian.Uint32(b[:])) << 32, bits: uint8(p.Bits())}
	}
	b := a.As16()
	return pkey{hi: binary.BigEndian.Uint64(b[:8]), lo: binary.BigEndian.Uint64(b[8:]), bits: uint8(p.Bits()), v6: true}
}

func (k pkey) prefix() netip.Prefix {
	if !k.v6 {
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], uint32(k.hi>>32))
		return netip.PrefixFrom(netip.AddrFrom4(b), int(k.bits))
	}
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], k.hi)
	binary.BigEndian.PutUint64(b[8:], k.lo)
	return netip.PrefixFrom(netip.AddrFrom16(b), int(k.bits))
}

func (k pkey) compare(o pkey) int {
	if k.v6 != o.v6 {
		if !k.v6 {
			return -1
		}
		return 1
	}
	if c := cmp.Compare(k.hi, o.hi); c != 0 {
		return c
	}
	if c := cmp.Compare(k.lo, o.lo); c != 0 {
		return c
	}
	return cmp.Compare(k.bits, o.bits)
}

// contains reports whether k contains or equals o.
func (k pkey) contains(o pkey) bool {
	if k.v6 != o.v6 || o.bits < k.bits {
		return false
	}
	hi, lo := mask(k.bits)
	return o.hi&hi == k.hi && o.lo&lo == k.lo
}

// mask returns the network mask of a bits-long prefix as two words (IPv4
// addresses sit in the top of hi).
func mask(bits uint8) (hi, lo uint64) {
	switch {
	case bits == 0:
		return 0, 0
	case bits <= 64:
		return ^uint64(0) << (64 - bits), 0
	default:
		return ^uint64(0), ^uint64(0) << (128 - uint(bits))
	}
}

// supernet returns k shortened to bits (bits <= k.bits).
func (k pkey) supernet(bits uint8) pkey {
	hi, lo := mask(bits)
	return pkey{hi: k.hi & hi, lo: k.lo & lo, bits: bits, v6: k.v6}
}

// prefixSet interns the prefixes seen: each gets a number for life (like
// mrt.RIB's, bounded by the distinct prefixes of the input, not by churn),
// the head of the chain of its routes, and a place in a sorted view that
// answers "which prefixes lie inside p" for VRP changes. The sorted view
// is brought up to date lazily: new prefixes wait in pending until the
// next question, then are merged in one pass.
type prefixSet struct {
	keys    []pkey
	ix4     map[uint64]uint32 // IPv4 prefixes by address<<32 | length: 16-byte slots
	ix6     map[pkey]uint32
	head    []uint32 // first route of each prefix, or noRoute
	sorted  []uint32 // prefix ids by key
	pending []uint32 // ids added since the last merge
	lens    [2][129]bool
}

func newPrefixSet() prefixSet {
	return prefixSet{ix4: map[uint64]uint32{}, ix6: map[pkey]uint32{}}
}

func (ps *prefixSet) lookup(p netip.Prefix) (uint32, bool) {
	return ps.find(keyOf(p))
}

func (ps *prefixSet) find(k pkey) (uint32, bool) {
	if !k.v6 {
		id, ok := ps.ix4[k.hi|uint64(k.bits)]
		return id, ok
	}
	id, ok := ps.ix6[k]
	return id, ok
}

func (ps *prefixSet) add(p netip.Prefix) uint32 {
	k := keyOf(p)
	id := uint32(len(ps.keys))
	ps.keys = append(ps.keys, k)
	if !k.v6 {
		ps.ix4[k.hi|uint64(k.bits)] = id
	} else {
		ps.ix6[k] = id
	}
	ps.head = append(ps.head, noRoute)
	ps.pending = append(ps.pending, id)
	fam := 0
	if k.v6 {
		fam = 1
	}
	ps.lens[fam][k.bits] = true
	return id
}

// merge brings the sorted view up to date.
func (ps *prefixSet) merge() {
	if len(ps.pending) == 0 {
		return
	}
	cmpID := func(a, b uint32) int { return ps.keys[a].compare(ps.keys[b]) }
	slices.SortFunc(ps.pending, cmpID)
	out := make([]uint32, 0, len(ps.sorted)+len(ps.pending))
	i, j := 0, 0
	for i < len(ps.sorted) && j < len(ps.pending) {
		if cmpID(ps.sorted[i], ps.pending[j]) <= 0 {
			out = append(out, ps.sorted[i])
			i++
		} else {
			out = append(out, ps.pending[j])
			j++
		}
	}
	out = append(append(out, ps.sorted[i:]...), ps.pending[j:]...)
	ps.sorted, ps.pending = out, ps.pending[:0]
}

// inside calls fn with every prefix id equal to or more specific than k.
// merge must have been called since the last add.
func (ps *prefixSet) inside(k pkey, fn func(id uint32)) {
	j, _ := slices.BinarySearchFunc(ps.sorted, k, func(id uint32, k pkey) int { return ps.keys[id].compare(k) })
	for ; j < len(ps.sorted) && k.contains(ps.keys[ps.sorted[j]]); j++ {
		fn(ps.sorted[j])
	}
}

// supernets calls fn with every known prefix id strictly less specific
// than k that contains it.
func (ps *prefixSet) supernets(k pkey, fn func(id uint32)) {
	fam := 0
	if k.v6 {
		fam = 1
	}
	for b := range k.bits {
		if !ps.lens[fam][b] {
			continue
		}
		if id, ok := ps.find(k.supernet(b)); ok {
			fn(id)
		}
	}
}
