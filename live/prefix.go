package live

import (
	"net/netip"
	"slices"

	"github.com/rovimpact/rovimpact/internal/pfxkey"
)

// prefixSet interns the prefixes seen: each gets a number for life (like
// mrt.RIB's, bounded by the distinct prefixes of the input, not by churn),
// the head of the chain of its routes, and a place in a sorted view that
// answers "which prefixes lie inside p" for VRP changes. The sorted view
// is brought up to date lazily: prefix ids are handed out in order and
// never freed, so the ids not yet in it are those from merged on; the next
// question sorts them and merges them in, in one pass.
type prefixSet struct {
	keys   []pfxkey.Key          // append-only; never moves once mapped (stableRoom)
	ix4    index4                // IPv4 prefixes by address<<32 | length: 8-byte slots
	ix6    map[pfxkey.Key]uint32 // with ID 0
	head   []uint32              // first route of each prefix, or noRoute (in ix4.mem)
	sorted []uint32              // prefix ids by key: ids 0 to merged-1
	merged int
	lens   [2][129]bool
}

func newPrefixSet(mem *bigMem) prefixSet {
	return prefixSet{ix4: index4{mem: mem}, ix6: map[pfxkey.Key]uint32{}}
}

func (ps *prefixSet) lookup(p netip.Prefix) (uint32, bool) {
	return ps.find(pfxkey.Of(p))
}

func (ps *prefixSet) find(k pfxkey.Key) (uint32, bool) {
	if !k.Is6() {
		return ps.ix4.find(k.Hi | uint64(k.Bits))
	}
	id, ok := ps.ix6[k]
	return id, ok
}

func (ps *prefixSet) add(p netip.Prefix) uint32 {
	k := pfxkey.Of(p)
	id := uint32(len(ps.keys))
	ps.keys = append(stableRoom(ps.ix4.mem, ps.keys, 1), k)
	if !k.Is6() {
		ps.ix4.insert(k.Hi|uint64(k.Bits), id)
	} else {
		ps.ix6[k] = id
	}
	ps.head = append(bigRoom(ps.ix4.mem, ps.head, 1), noRoute)
	fam := 0
	if k.Is6() {
		fam = 1
	}
	ps.lens[fam][k.Bits] = true
	return id
}

// merge brings the sorted view up to date.
func (ps *prefixSet) merge() {
	n := len(ps.keys)
	if ps.merged == n {
		return
	}
	cmpID := func(a, b uint32) int { return ps.keys[a].Compare(ps.keys[b]) }
	// The ids added since the last merge, sorted; after a full table's
	// load, the sorted view itself.
	pending := make([]uint32, n-ps.merged)
	for i := range pending {
		pending[i] = uint32(ps.merged + i)
	}
	slices.SortFunc(pending, cmpID)
	ps.merged = n
	if len(ps.sorted) == 0 {
		ps.sorted = pending
		return
	}
	out := make([]uint32, 0, len(ps.sorted)+len(pending))
	i, j := 0, 0
	for i < len(ps.sorted) && j < len(pending) {
		if cmpID(ps.sorted[i], pending[j]) <= 0 {
			out = append(out, ps.sorted[i])
			i++
		} else {
			out = append(out, pending[j])
			j++
		}
	}
	ps.sorted = append(append(out, ps.sorted[i:]...), pending[j:]...)
}

// inside calls fn with every prefix id equal to or more specific than k.
// merge must have been called since the last add.
func (ps *prefixSet) inside(k pfxkey.Key, fn func(id uint32)) {
	j, _ := slices.BinarySearchFunc(ps.sorted, k, func(id uint32, k pfxkey.Key) int { return ps.keys[id].Compare(k) })
	for ; j < len(ps.sorted) && k.Contains(ps.keys[ps.sorted[j]]); j++ {
		fn(ps.sorted[j])
	}
}

// supernets calls fn with every known prefix id strictly less specific
// than k that contains it.
func (ps *prefixSet) supernets(k pfxkey.Key, fn func(id uint32)) {
	fam := 0
	if k.Is6() {
		fam = 1
	}
	for b := range k.Bits {
		if !ps.lens[fam][b] {
			continue
		}
		if id, ok := ps.find(k.Supernet(b)); ok {
			fn(id)
		}
	}
}
