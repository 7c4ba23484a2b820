package live

import (
	"cmp"
	"net/netip"
	"slices"

	"github.com/rovimpact/rovimpact/internal/pfxkey"
)

// prefixKeys is every prefix id's prefix, in 8 bytes for an IPv4 prefix
// instead of a pfxkey.Key's 24: a full table is mostly IPv4 (the PCH
// table wholly), and one key a prefix id is kept for life. Word w of id:
//
//   - IPv4: address<<32 | length (index4's key): bit v6Tag clear;
//   - IPv6: index in v6 <<32 | v6Tag | length.
//
// Both arrays are append-only and live in stable reservations (see
// stableRoom), so a copy of the two slice headers taken under the State's
// lock stays valid without it (snapshots, Paths): a reader reads only ids
// below the length it copied, whose words and IPv6 addresses were written
// before the copy.
type prefixKeys struct {
	w  []uint64
	v6 []addr6
}

// addr6 is an IPv6 prefix's address, big-endian.
type addr6 struct{ hi, lo uint64 }

// v6Tag marks an IPv6 word: an IPv4 word's low 32 bits are its length
// (at most 32).
const v6Tag = 1 << 31

// len is the number of prefix ids.
func (k prefixKeys) len() int { return len(k.w) }

// key returns prefix id's key (ID zero).
func (k prefixKeys) key(id uint32) pfxkey.Key {
	w := k.w[id]
	if w&v6Tag == 0 {
		return pfxkey.Key{Hi: w &^ 0xffffffff, Bits: uint8(w), Fam: pfxkey.Fam4}
	}
	a := k.v6[w>>32]
	return pfxkey.Key{Hi: a.hi, Lo: a.lo, Bits: uint8(w), Fam: pfxkey.Fam6}
}

// prefix returns prefix id's prefix.
func (k prefixKeys) prefix(id uint32) netip.Prefix { return k.key(id).Prefix() }

// compare orders prefix ids as their keys order (pfxkey.Key.Compare): two
// IPv4 words order as their keys do, and IPv4 sorts first.
func (k prefixKeys) compare(a, b uint32) int {
	wa, wb := k.w[a], k.w[b]
	if (wa|wb)&v6Tag == 0 {
		return cmp.Compare(wa, wb)
	}
	return k.key(a).Compare(k.key(b))
}

// add appends key pk (a valid prefix's) as the next id, its arrays grown
// in mem's stable reservations.
func (k *prefixKeys) add(mem *bigMem, pk pfxkey.Key) {
	w := pk.Hi | uint64(pk.Bits)
	if pk.Is6() {
		// The address first: a reader that sees the word sees it.
		w = uint64(len(k.v6))<<32 | v6Tag | uint64(pk.Bits)
		k.v6 = append(stableRoom(mem, k.v6, 1), addr6{pk.Hi, pk.Lo})
	}
	k.w = append(stableRoom(mem, k.w, 1), w)
}

// prefixSet interns the prefixes seen: each gets a number for life (like
// mrt.RIB's, bounded by the distinct prefixes of the input, not by churn),
// the head of the chain of its routes, and a place in a sorted view that
// answers "which prefixes lie inside p" for VRP changes. The sorted view
// is brought up to date lazily: prefix ids are handed out in order and
// never freed, so the ids not yet in it are those from merged on; the next
// question sorts them and merges them in, in one pass.
type prefixSet struct {
	keys   prefixKeys // by id; append-only, never moves once mapped (stableRoom)
	ix4    index4     // IPv4 prefixes by address<<32 | length: 4-byte slots
	ix6    index6     // IPv6 prefixes: 4-byte slots
	head   []uint32   // first route of each prefix, or noRoute (in ix4.mem)
	sorted []uint32   // prefix ids by key: ids 0 to merged-1
	merged int
	lens   [2][129]bool
}

func newPrefixSet(mem *bigMem) prefixSet {
	return prefixSet{ix4: index4{slotTable: slotTable{mem: mem}}, ix6: index6{slotTable: slotTable{mem: mem}}}
}

func (ps *prefixSet) lookup(p netip.Prefix) (uint32, bool) {
	return ps.find(pfxkey.Of(p))
}

func (ps *prefixSet) find(k pfxkey.Key) (uint32, bool) {
	if !k.Is6() {
		return ps.ix4.find(k.Hi|uint64(k.Bits), ps.keys.w)
	}
	return ps.ix6.find(k, ps.keys)
}

func (ps *prefixSet) add(p netip.Prefix) uint32 {
	k := pfxkey.Of(p)
	id := uint32(ps.keys.len())
	ps.keys.add(ps.ix4.mem, k)
	if !k.Is6() {
		ps.ix4.insert(k.Hi|uint64(k.Bits), id, ps.keys.w)
	} else {
		ps.ix6.insert(k, id, ps.keys)
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
	n := ps.keys.len()
	if ps.merged == n {
		return
	}
	cmpID := ps.keys.compare
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
	j, _ := slices.BinarySearchFunc(ps.sorted, k, func(id uint32, k pfxkey.Key) int { return ps.keys.key(id).Compare(k) })
	for ; j < len(ps.sorted) && k.Contains(ps.keys.key(ps.sorted[j])); j++ {
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
