package rov

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math/bits"
	"net/netip"
	"slices"
	"sync"

	"github.com/kentik/patricia"
	"github.com/kentik/patricia/uint32_tree"

	"github.com/rovimpact/rovimpact/internal/pfxkey"
)

// Index is a read-only prefix index over a set of VRPs. VRP i of the slice
// given to NewIndex is referred to by the uint32 i in every result, so callers
// can keep small integer references instead of copies of VRPs.
//
// It holds two structures per address family:
//
//   - a patricia tree (github.com/kentik/patricia, uint32 tags = VRP
//     indexes; integer tags instead of pointers keep the GC from scanning
//     millions of pointers), the reference answer for "which VRPs cover p";
//   - the distinct VRP prefixes sorted by (address, length), each with a
//     pointer to its nearest covering prefix. The tree cannot list
//     more-specifics under a prefix, which Inside needs; the same array
//     answers Covering with a bucket jump, a short binary search and a
//     walk up the parent chain: about 4.7x less CPU than the tree on the
//     real 723k-VRP set (0.46 vs 2.2 µs per lookup, BenchmarkCovering; the
//     tree walks ~20 nodes and keeps tags in a map, one hash lookup per
//     tag), so Validate uses it. The differential tests hold both to a
//     brute-force oracle. The trees are 78 of the index's 132 MB, so they
//     are built only when CoveringTree is first called.
//
// An Index is never modified after NewIndex returns (the trees
// CoveringTree builds on first use are guarded by a sync.Once), so any
// number of goroutines may use it at once.
type Index struct {
	t     table
	trees struct {
		once sync.Once // CoveringTree builds them on first use
		v4   *uint32_tree.TreeV4
		v6   *uint32_tree.TreeV6
	}
	s4 sortedPrefixes4
	// w4 is the IPv4 half instead of s4 when the family has more
	// prefixes than s4's entries can number (maxEnts4): wide entries, as
	// IPv6 has. Real sets have a hundredth of that.
	w4 *sortedPrefixes
	s6 sortedPrefixes6
	w6 *sortedPrefixes // the IPv6 half instead of s6 past maxEnts6 prefixes

	// byASN holds every VRP index sorted by (ASN, family, address, length,
	// maxLength); asns lists the distinct ASNs in ascending order, and the
	// run of asns[k] in byASN starts at asnStart[k] and ends at
	// asnStart[k+1]. InsideByASN computes the keys of the few VRPs its
	// binary search visits: a table of every key (17 MB on 723k VRPs) cost
	// more to fill at every start than all the searches of a full-table
	// analysis save. The two sorted arrays take 8 bytes an ASN (0.4 MB for
	// the export's 50k) where a map of spans took about twice that; finding
	// an ASN is a binary search instead of a hash, once per query that
	// needs one ASN's VRPs (an Invalid route's classification).
	byASN    []uint32
	asns     []uint32
	asnStart []uint32
}

// asnRun returns the run of asn in byASN (capacity clipped), and whether
// asn has one.
func (ix *Index) asnRun(asn uint32) ([]uint32, bool) {
	k, ok := slices.BinarySearch(ix.asns, asn)
	if !ok {
		return nil, false
	}
	lo, hi := ix.asnStart[k], ix.asnStart[k+1]
	return ix.byASN[lo:hi:hi], true
}

// asnKeyOf is the key ordering one ASN's VRPs: family (invalid prefixes,
// IPv4, IPv6), then prefix.
func asnKeyOf(p netip.Prefix) pfxkey.Key {
	if !p.IsValid() {
		return pfxkey.Key{}
	}
	return pfxkey.Of(p)
}

// sortedPrefixes is one family's distinct VRP prefixes in (address, length)
// order, which is a pre-order walk of the containment tree: every prefix
// inside p follows p directly, in one run.
type sortedPrefixes struct {
	// ents[:n] are the prefixes; ents[n] is a sentinel whose start ends
	// the last run. Key, parent and start share one 32-byte entry so a
	// lookup touches one cache line per prefix it visits. This wide
	// layout indexes a family only past what the narrow ones can number:
	// sortedPrefixes4 (index4.go, 12-byte entries) and sortedPrefixes6
	// (index6.go, 24 bytes) are the same with the key narrowed.
	ents []entry
	n    int
	members
	// jump[b] is the first entry whose address is in bucket b or later
	// (see bucketOf; jump[2^jbits] ends the last bucket); it narrows the
	// binary search from ~20 steps over megabytes to a handful inside one
	// bucket, which is what makes covering lookups cheap: the long search
	// is all cache misses.
	jump  []uint32
	jbits uint8
}

type entry struct {
	k      pfxkey.Key
	parent int32  // nearest strictly covering entry, or -1
	start  uint32 // the entry's VRPs are members[start:next entry's start]
}

// members maps a family's array positions to VRP indexes: the family's
// VRPs in prefixOrder, entry i's being positions [ents[i].start,
// ents[i+1].start). When they are consecutive indexes, as they always are
// for the live table's set (packed VRPs sorted by PackedVRP.Compare, whose
// order is prefixOrder), the list is not kept: position j is VRP base+j.
// That saves 4 bytes a VRP (2.9 MB on the 723k-VRP export).
type members struct {
	list  []uint32 // nil when consecutive
	base  uint32
	count uint32
}

// membersOf returns the members idx lists (idx is kept unless its
// indexes are consecutive).
func membersOf(idx []uint32) members {
	if len(idx) == 0 {
		return members{}
	}
	base := idx[0]
	for j, i := range idx {
		if i != base+uint32(j) {
			return members{list: idx, count: uint32(len(idx))}
		}
	}
	return members{base: base, count: uint32(len(idx))}
}

// appendVRPs appends the VRPs at positions [lo, hi).
func (m *members) appendVRPs(dst []uint32, lo, hi uint32) []uint32 {
	if m.list != nil {
		return append(dst, m.list[lo:hi]...)
	}
	for j := lo; j < hi; j++ {
		dst = append(dst, m.base+j)
	}
	return dst
}

// order returns the VRPs at every position: the list, or a new slice
// when it is not kept.
func (m *members) order() []uint32 {
	if m.list != nil {
		return m.list
	}
	out := make([]uint32, m.count)
	for j := range out {
		out[j] = m.base + uint32(j)
	}
	return out
}

func (s *sortedPrefixes) search(k pfxkey.Key) int {
	lo, _ := slices.BinarySearchFunc(s.ents[:s.n], k, func(e entry, k pfxkey.Key) int { return e.k.Compare(k) })
	return lo
}

// Buckets split the address space on the first address bits of a family:
// for IPv4 the first ones, for IPv6 the ones after the 2000::/3 prefix,
// where nearly all routed space is; other IPv6 addresses search the whole
// array. A family gets about one bucket per two prefixes (jumpBits): a few
// entries per bucket on real data, 1 MiB for the 512k IPv4 prefixes of a
// full export and 0.25 MiB for its 129k IPv6 ones. Twice as many buckets
// (one a prefix) cost twice the memory and saved no measurable time in
// BenchmarkCovering: the step or two more of the search stays in the
// bucket's cache lines.
const maxJumpBits = 20

// jumpBits is the number of bucket bits for n prefixes.
func jumpBits(n int) uint8 { return uint8(min(bits.Len(uint(n))-1, maxJumpBits)) }

// minJump is the fewest prefixes a family needs for a bucket table: below
// it the table and its fill cost more than they save (and small indexes,
// built by the thousand in tests and fuzzing, stay small).
const minJump = 4096

// bucketOf returns k's bucket among 2^jb; ok is false for an IPv6 key
// outside 2000::/3.
func bucketOf(k pfxkey.Key, v6 bool, jb uint8) (int, bool) {
	if !v6 {
		return int(k.Hi >> (64 - jb)), true
	}
	if k.Hi>>61 != 1 {
		return 0, false
	}
	return int(k.Hi>>(61-jb)) & (1<<jb - 1), true
}

// prefixOrder sorts idx (VRP indexes of one family) by (prefix key,
// MaxLen, ASN, index): a strict total order, so the result is unique and a
// stored copy can be checked in linear time (NewIndexOrdered).
func prefixOrder(t *table, keys []pfxkey.Key) func(a, b uint32) int {
	return func(a, b uint32) int { return prefixCmp(t, keys[a], keys[b], a, b) }
}

func prefixCmp(t *table, ka, kb pfxkey.Key, a, b uint32) int {
	if c := ka.Compare(kb); c != 0 {
		return c
	}
	if c := cmp.Compare(t.maxLen(a), t.maxLen(b)); c != 0 {
		return c
	}
	if c := cmp.Compare(t.asn(a), t.asn(b)); c != 0 {
		return c
	}
	return cmp.Compare(a, b)
}

// asnCmp is the ASN order of VRP indexes: (ASN, family and prefix key,
// MaxLen, index), also a strict total order (asnOrderOf builds it).
func asnCmp(t *table, ka, kb pfxkey.Key, a, b uint32) int {
	if c := cmp.Compare(t.asn(a), t.asn(b)); c != 0 {
		return c
	}
	if c := ka.Compare(kb); c != 0 {
		return c
	}
	if c := cmp.Compare(t.maxLen(a), t.maxLen(b)); c != 0 {
		return c
	}
	return cmp.Compare(a, b)
}

// prefixWalk calls emit with the key of every VRP of a family's index
// list in prefixOrder, and its position j in that list, and says how it
// ended; the keys emitted are valid only when it ends with walkDone.
type prefixWalk func(emit func(k pfxkey.Key, j int)) walkResult

// walkOrdered walks idx, already in prefixOrder, stopping at a prefix
// with host bits.
func walkOrdered(key func(uint32) pfxkey.Key, idx []uint32) prefixWalk {
	return func(emit func(pfxkey.Key, int)) walkResult {
		for j, i := range idx {
			k := key(i)
			if hostBits(k) {
				return walkHostBits
			}
			emit(k, j)
		}
		return walkDone
	}
}

// buildWide makes the wide array (w4 or w6) from idx, whose VRPs walk
// visits in prefixOrder: one pass with a stack for the parent pointers,
// one pass for the bucket table. distinct bounds the number of distinct
// prefixes (it sizes the array). The array is whole only when the walk
// ends with walkDone.
func buildWide(idx []uint32, distinct int, v6 bool, walk prefixWalk) (sortedPrefixes, walkResult) {
	var s sortedPrefixes
	s.ents = make([]entry, 0, distinct+1)
	var stack []int32
	if r := walk(func(k pfxkey.Key, j int) {
		stack = s.add(k, uint32(j), stack)
	}); r != walkDone {
		return s, r
	}
	s.members = membersOf(idx)
	s.finish(len(idx), v6)
	return s, walkDone
}

// add appends the entry of key k, whose VRPs start at members[j], unless
// it is the last entry's prefix again; stack holds the entries that may
// contain the next key (the chain of ancestors of the last entry).
func (s *sortedPrefixes) add(k pfxkey.Key, j uint32, stack []int32) []int32 {
	if len(s.ents) > 0 && k == s.ents[len(s.ents)-1].k {
		return stack
	}
	e := int32(len(s.ents))
	for len(stack) > 0 && !s.ents[stack[len(stack)-1]].k.Contains(k) {
		stack = stack[:len(stack)-1]
	}
	p := int32(-1)
	if len(stack) > 0 {
		p = stack[len(stack)-1]
	}
	s.ents = append(s.ents, entry{k: k, parent: p, start: j})
	return append(stack, e)
}

// finish appends the sentinel ending the last entry's members (m of
// them in all) and fills the bucket table.
func (s *sortedPrefixes) finish(m int, v6 bool) {
	s.n = len(s.ents)
	s.ents = append(s.ents, entry{parent: -1, start: uint32(m)})
	if s.n < minJump {
		return // a binary search over a few thousand entries is cheap
	}
	s.jbits = jumpBits(s.n)
	s.jump = fillJump(s.n, s.jbits, v6, func(j int) uint64 { return s.ents[j].k.Hi })
}

// fillJump returns the bucket table of n entries in order whose
// addresses' top words hiOf gives, with 2^jb buckets (see bucketOf).
// jump[b] is the first entry not below the start of bucket b. Bucket
// starts have length 0 and nothing below the bucket bits, so an entry is
// below the start of b exactly when its top address bits are; the entries
// are in order, so one pass over them fills the table.
func fillJump(n int, jb uint8, v6 bool, hiOf func(int) uint64) []uint32 {
	nb := 1 << jb
	jump := make([]uint32, nb+1)
	b := 0
	for j := 0; j < n; j++ {
		hi := hiOf(j)
		var last int // the last bucket whose start is at or below entry j
		switch {
		case !v6:
			last = int(hi >> (64 - jb))
		case hi>>61 == 0:
			continue // below 2000::/3: before bucket 0
		case hi>>61 == 1:
			last = int(hi>>(61-jb)) & (nb - 1)
		default:
			last = nb // 4000:: and above: at or past the end of the last bucket
		}
		for ; b <= last; b++ {
			jump[b] = uint32(j)
		}
		if b > nb {
			break
		}
	}
	for ; b <= nb; b++ {
		jump[b] = uint32(n)
	}
	return jump
}

// covering appends the VRPs of every entry containing or equal to k, most
// specific first. Every prefix covering k sorts at or before k, and is either
// the last entry not after k or one of that entry's ancestors, so one binary
// search and a walk up the parent chain find them all.
func (s *sortedPrefixes) covering(k pfxkey.Key, v6 bool, dst []uint32) []uint32 {
	ents := s.ents
	// Upper bound: first entry > k. Entries before bucket b's run are below
	// k and entries after it above, so the search stays inside the run.
	lo, hi := 0, s.n
	if b, ok := bucketOf(k, v6, s.jbits); ok && s.jump != nil {
		lo, hi = int(s.jump[b]), int(s.jump[b+1])
	}
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if ents[m].k.Compare(k) <= 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	i := int32(lo - 1)
	for i >= 0 && !ents[i].k.Contains(k) {
		i = ents[i].parent
	}
	for i >= 0 {
		dst = s.appendVRPs(dst, ents[i].start, ents[i+1].start)
		i = ents[i].parent
	}
	return dst
}

// inside appends the VRPs of every entry strictly inside k, in (address,
// length) order.
func (s *sortedPrefixes) inside(k pfxkey.Key, dst []uint32) []uint32 {
	first := k
	first.Bits++
	for i := s.search(first); i < s.n && k.Contains(s.ents[i].k); i++ {
		dst = s.appendVRPs(dst, s.ents[i].start, s.ents[i+1].start)
	}
	return dst
}

// NewIndex builds an index over vrps. The index keeps vrps (it does not
// copy it): the caller must not modify the slice afterwards. Prefixes are
// expected to be masked, with MaxLen between the prefix length and the
// family's width, as the loaders guarantee; if any prefix has host bits set,
// NewIndex indexes a masked copy instead (VRPs() returns it). MaxLen is not
// checked. Duplicates are kept, each under its own index. Cost: O(n log n),
// two sorts run on two goroutines; see BenchmarkNewIndex for time and
// memory on 723k real VRPs.
// The patricia trees behind CoveringTree are built on its first call.
func NewIndex(vrps []VRP) *Index {
	return newIndex(table{vrps: vrps})
}

// NewIndexPacked is NewIndex over packed VRPs, their TAs named by tas
// (TATable.Names): the index keeps both (it does not copy them) and holds
// no pointer per VRP. It answers every query as NewIndex over the unpacked
// VRPs would, with the same numbering; VRP makes a VRP value where one is
// reported. Prefixes are expected masked, as for NewIndex (a masked copy
// is indexed otherwise).
func NewIndexPacked(vrps []PackedVRP, tas []string) *Index {
	if vrps == nil {
		vrps = []PackedVRP{} // non-nil: the table is the packed one
	}
	return newIndex(table{packed: vrps, tas: tas})
}

func newIndex(t table) *Index {
	// Keys are computed from the VRPs where needed rather than kept in a
	// table beside them: filling and faulting in 24 bytes per VRP cost more
	// than computing a key again (NewIndexOrdered does the same). Host
	// bits and the order of the addresses are checked as the families are
	// built, which computes each key once.
	n := t.len()
	var n4, n6 int
	for i := range n {
		switch t.fam(uint32(i)) {
		case pfxkey.Fam4:
			n4++
		case pfxkey.Fam6:
			n6++
		}
	}
	// The arrays are sized for one entry a VRP, or, over packed VRPs, for
	// one a run of VRPs sharing a prefix in slice order: at least the
	// distinct prefixes, and exactly them in prefix order, which the live
	// table's set is in (580k IPv4 VRPs on 512k prefixes in the real
	// export: 0.8 MB of IPv4 entries and 0.5 MB of IPv6 ones never used).
	// Over VRPs (an index built once a run) computing every key for that
	// costs a fifth of the build.
	d4, d6 := n4, n6
	if t.packed != nil {
		d4, d6 = packedRuns(t.packed)
	}
	inv := make([]uint32, 0, n-n4-n6)
	i4, i6 := make([]uint32, 0, n4), make([]uint32, 0, n6)
	for i := range n {
		switch t.fam(uint32(i)) {
		case pfxkey.FamInvalid:
			// An invalid prefix covers nothing and is inside nothing; it
			// stays addressable by index and by ASN.
			inv = append(inv, uint32(i))
		case pfxkey.Fam4:
			i4 = append(i4, uint32(i))
		default:
			i6 = append(i6, uint32(i))
		}
	}
	ix := &Index{t: t}
	tp := &ix.t
	var r4, r6 walkResult
	both(func() error {
		if d4 > maxEnts4 {
			w4, r := buildWide(i4, d4, false, sortFamily(tp, i4))
			if r == walkUnordered {
				w4, r = buildWide(i4, d4, false, sortWhole(tp, i4))
			}
			ix.w4, r4 = &w4, r
			return nil
		}
		ix.s4, r4 = build4(i4, d4, sortFamily(tp, i4))
		if r4 == walkUnordered {
			ix.s4, r4 = build4(i4, d4, sortWhole(tp, i4))
		}
		return nil
	}, func() error {
		if d6 > maxEnts6 {
			w6, r := buildWide(i6, d6, true, sortFamily(tp, i6))
			if r == walkUnordered {
				w6, r = buildWide(i6, d6, true, sortWhole(tp, i6))
			}
			ix.w6, r6 = &w6, r
		} else {
			ix.s6, r6 = build6(i6, d6, sortFamily(tp, i6))
			if r6 == walkUnordered {
				ix.s6, r6 = build6(i6, d6, sortWhole(tp, i6))
			}
		}
		sortPrefixOrder(tp, inv)
		return nil
	})
	if r4 == walkHostBits || r6 == walkHostBits {
		// Loaders reject host bits; a caller that did not gets a masked
		// copy rather than wrong answers.
		return newIndex(t.masked())
	}
	if !ix.asnOrderDense(inv, i4, i6) {
		var asns []uint32
		ix.byASN, asns = asnOrderOf(tp, inv, i4, i6)
		ix.buildASN(asns)
	}
	return ix
}

// maxDenseHighs bounds asnOrderDense's tables: one of 2^16 counters per
// distinct upper half of an ASN. The 723k-VRP export has 17 (0 for the
// 2-byte ASNs and 1-6 for the 4-byte ones assigned so far hold all but
// 24 VRPs; private and reserved ASNs the rest).
const maxDenseHighs = 64

// asnOrderDense fills byASN, asns and asnStart (the ASN half) by one counting
// sort on the ASN, given the invalid, IPv4 and IPv6 indexes each in
// prefixOrder (so, as in asnOrderOf, each ASN's run comes out in
// asnOrder): a count per ASN in a table per distinct upper half, the
// starts from a pass over the tables in ASN order (which also gives each
// ASN's span), then one stable scatter. Besides byASN it needs only the
// tables, where the radix sort of asnOrderOf needs three more arrays of
// the VRP count (9 MB on a full export, all memory to fault in). It
// reports false, leaving the index as it was, when the tables would be
// larger than those arrays (few VRPs, or more than maxDenseHighs upper
// halves).
func (ix *Index) asnOrderDense(inv, i4, i6 []uint32) bool {
	t := &ix.t
	n := len(inv) + len(i4) + len(i6)
	parts := [...][]uint32{inv, i4, i6}
	slot := make([]uint8, 1<<16) // upper half -> 1 + its table, 0 for none
	var (
		tables [][]uint32
		highs  []uint32
	)
	for _, part := range parts {
		for _, i := range part {
			a := t.asn(i)
			s := slot[a>>16]
			if s == 0 {
				if len(tables) == maxDenseHighs || (len(tables)+1)<<16 > 3*n {
					return false
				}
				tables = append(tables, make([]uint32, 1<<16))
				highs = append(highs, a>>16)
				s = uint8(len(tables))
				slot[a>>16] = s
			}
			tables[s-1][a&0xffff]++
		}
	}
	// The tables in ascending order of their upper half.
	byHigh := make([]int, len(highs))
	for t := range byHigh {
		byHigh[t] = t
	}
	slices.SortFunc(byHigh, func(a, b int) int { return cmp.Compare(highs[a], highs[b]) })
	distinct := 0
	for _, tab := range tables {
		for _, c := range tab {
			if c != 0 {
				distinct++
			}
		}
	}
	ix.asns, ix.asnStart = make([]uint32, 0, distinct), make([]uint32, 0, distinct+1)
	var start uint32
	for _, t := range byHigh {
		tab := tables[t]
		for lo, c := range tab {
			if c == 0 {
				continue
			}
			ix.asns = append(ix.asns, highs[t]<<16|uint32(lo))
			ix.asnStart = append(ix.asnStart, start)
			tab[lo] = start
			start += c
		}
	}
	ix.asnStart = append(ix.asnStart, start)
	order := make([]uint32, n)
	for _, part := range parts {
		for _, i := range part {
			a := t.asn(i)
			tab := tables[slot[a>>16]-1]
			order[tab[a&0xffff]] = i
			tab[a&0xffff]++
		}
	}
	ix.byASN = order
	return true
}

// walkResult is how a prefixWalk ended.
type walkResult uint8

const (
	walkDone      walkResult = iota
	walkUnordered            // sortFamily met addresses out of order
	walkHostBits             // a prefix has host bits set
)

// hostBits reports whether k, the key of a valid prefix, has address bits
// set beyond its length.
func hostBits(k pfxkey.Key) bool {
	mh, ml := pfxkey.Mask(k.Bits)
	return k.Hi&^mh != 0 || k.Lo&^ml != 0
}

// sortWhole sorts idx into prefixOrder over a table of keys and walks it.
func sortWhole(t *table, idx []uint32) prefixWalk {
	slices.SortFunc(idx, prefixOrder(t, t.keys()))
	return walkOrdered(t.keyFunc(), idx)
}

// sortFamily sorts idx (one family's VRP indexes, ascending) into
// prefixOrder as the returned walk visits it, assuming the addresses of
// idx are non-decreasing (the loaders' canonical order): then only each
// run of VRPs sharing an address (a handful: lengths and MaxLens in the
// other direction) needs sorting, and the walk sorts each run as it
// reaches it, computing one key per VRP. It stops with walkUnordered at
// the first address out of order (the caller then sorts idx whole: the
// order is a strict total one, so where the walk left idx does not
// matter) and with walkHostBits at a prefix with host bits.
func sortFamily(t *table, idx []uint32) prefixWalk {
	key := t.keyFunc()
	return func(emit func(pfxkey.Key, int)) walkResult {
		var next pfxkey.Key
		if len(idx) > 0 {
			next = key(idx[0])
		}
		for lo := 0; lo < len(idx); {
			first := next
			if hostBits(first) {
				return walkHostBits
			}
			hi := lo + 1
			for hi < len(idx) {
				next = key(idx[hi])
				if next.Hi != first.Hi || next.Lo != first.Lo {
					break
				}
				hi++
			}
			if hi < len(idx) && (next.Hi < first.Hi || next.Hi == first.Hi && next.Lo < first.Lo) {
				return walkUnordered
			}
			if hi-lo == 1 {
				emit(first, lo)
			} else {
				run := idx[lo:hi]
				slices.SortFunc(run, func(a, b uint32) int { return prefixCmp(t, key(a), key(b), a, b) })
				for j := lo; j < hi; j++ {
					k := key(idx[j])
					if hostBits(k) {
						return walkHostBits
					}
					emit(k, j)
				}
			}
			lo = hi
		}
		return walkDone
	}
}

// sortPrefixOrder sorts idx (ascending VRP indexes) into prefixOrder.
// Loaders return VRPs in canonical order (CanonicalOrder: by address
// first), so the addresses of idx are usually already non-decreasing and
// only each run of VRPs sharing an address (a handful: lengths and
// MaxLens in the other direction) needs sorting; otherwise it is one
// whole sort. Either way the order is the unique one of a strict total
// order.
//
// The one-pass check and the runs compute keys as they go; only a whole
// sort, which compares each key many times, builds a table of them.
func sortPrefixOrder(t *table, idx []uint32) {
	sameAddr := func(a, b pfxkey.Key) bool { return a.Fam == b.Fam && a.Hi == b.Hi && a.Lo == b.Lo }
	key := t.keyFunc()
	var prev pfxkey.Key
	for j, i := range idx {
		k := key(i)
		if j > 0 && !sameAddr(prev, k) && prev.Compare(k) > 0 {
			slices.SortFunc(idx, prefixOrder(t, t.keys()))
			return
		}
		prev = k
	}
	for lo := 0; lo < len(idx); {
		first := key(idx[lo])
		hi := lo + 1
		for hi < len(idx) && sameAddr(first, key(idx[hi])) {
			hi++
		}
		if hi-lo > 1 {
			run := idx[lo:hi]
			slices.SortFunc(run, func(a, b uint32) int { return prefixCmp(t, key(a), key(b), a, b) })
		}
		lo = hi
	}
}

// asnOrderOf returns every VRP index in asnOrder, given the invalid, IPv4
// and IPv6 indexes each in prefixOrder. Their concatenation is sorted by
// (prefix key, MaxLen, ASN, index), so a stable sort by ASN alone leaves
// each ASN's run in (key, MaxLen, index) order, which is asnOrder: a
// two-pass radix sort on 16-bit digits instead of a comparison sort that
// chases every VRP (the costliest part of NewIndex before).
func asnOrderOf(t *table, inv, i4, i6 []uint32) (order, asns []uint32) {
	n := len(inv) + len(i4) + len(i6)
	parts := [...][]uint32{inv, i4, i6}
	// Both digits' counts in one pass; the first scatter reads the ASNs
	// from the VRPs (nearly in slice order: the loaders' order is by
	// address, as prefix order is) rather than from a copied table.
	lo, hi := make([]uint32, 1<<16), make([]uint32, 1<<16)
	for _, part := range parts {
		for _, i := range part {
			a := t.asn(i)
			lo[a&0xffff]++
			hi[a>>16]++
		}
	}
	sumUp := func(count []uint32) {
		var sum uint32
		for d, c := range count {
			count[d] = sum
			sum += c
		}
	}
	sumUp(lo)
	sumUp(hi)
	tmp, tasn := make([]uint32, n), make([]uint32, n)
	for _, part := range parts {
		for _, i := range part {
			a := t.asn(i)
			d := a & 0xffff
			tmp[lo[d]], tasn[lo[d]] = i, a
			lo[d]++
		}
	}
	order, asns = make([]uint32, n), make([]uint32, n)
	for j, a := range tasn {
		d := a >> 16
		order[hi[d]], asns[hi[d]] = tmp[j], a
		hi[d]++
	}
	return order, asns
}

// both runs f and g at once (the prefix half and the ASN half of an index
// share nothing but the read-only VRPs and keys) and returns f's error, or
// else g's.
func both(f, g func() error) error {
	var ferr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		ferr = f()
	}()
	gerr := g()
	wg.Wait()
	if ferr != nil {
		return ferr
	}
	return gerr
}

// assemble builds the index from the three orders NewIndex sorts (or
// NewIndexOrdered checks); every step is linear.
// key gives a VRP's prefix key: from a table (NewIndex, which sorted by
// it) or computed again (NewIndexOrdered, which saves the table's memory).
// d4 and d6 are the families' distinct prefixes.
func assemble(t table, key func(uint32) pfxkey.Key, i4, i6, byASN []uint32, d4, d6 int) *Index {
	ix := &Index{t: t, byASN: byASN}
	both(func() error {
		// NewIndexOrdered checked the masks: the walks end walkDone.
		if d4 > maxEnts4 {
			w4, _ := buildWide(i4, d4, false, walkOrdered(key, i4))
			ix.w4 = &w4
		} else {
			ix.s4, _ = build4(i4, d4, walkOrdered(key, i4))
		}
		if d6 > maxEnts6 {
			w6, _ := buildWide(i6, d6, true, walkOrdered(key, i6))
			ix.w6 = &w6
		} else {
			ix.s6, _ = build6(i6, d6, walkOrdered(key, i6))
		}
		return nil
	}, func() error {
		asns := make([]uint32, len(byASN))
		for j, i := range byASN {
			asns[j] = ix.t.asn(i)
		}
		ix.buildASN(asns)
		return nil
	})
	return ix
}

// packedRuns counts the runs of VRPs sharing a prefix in ps, per family.
func packedRuns(ps []PackedVRP) (r4, r6 int) {
	for i := range ps {
		p := &ps[i]
		if i > 0 {
			q := &ps[i-1]
			if p.Hi == q.Hi && p.Lo == q.Lo && p.Bits == q.Bits && p.Fam == q.Fam {
				continue
			}
		}
		switch p.Fam {
		case pfxkey.Fam4:
			r4++
		case pfxkey.Fam6:
			r6++
		}
	}
	return r4, r6
}

// buildASN fills the ASN half of the index from byASN, whose ASNs are
// asns (asns[j] is the ASN of VRP byASN[j]).
func (ix *Index) buildASN(asns []uint32) {
	runs := 0
	for j := range asns {
		if j == 0 || asns[j] != asns[j-1] {
			runs++
		}
	}
	ix.asns, ix.asnStart = make([]uint32, 0, runs), make([]uint32, 0, runs+1)
	for j := range asns {
		if j == 0 || asns[j] != asns[j-1] {
			ix.asns = append(ix.asns, asns[j])
			ix.asnStart = append(ix.asnStart, uint32(j))
		}
	}
	ix.asnStart = append(ix.asnStart, uint32(len(asns)))
}

// Orders returns the three permutations NewIndex sorted the VRPs into: the
// IPv4 and the IPv6 VRPs in prefix order, and every VRP in ASN order. A
// snapshot stores them so that NewIndexOrdered rebuilds the index without
// sorting. The slices are shared (do not modify them), except a family
// order the index does not keep (VRPs given in prefix order: see
// members), which is made anew on each call.
func (ix *Index) Orders() (v4, v6, byASN []uint32) {
	v4, v6 = ix.s4.order(), ix.s6.order()
	if ix.w4 != nil {
		v4 = ix.w4.order()
	}
	if ix.w6 != nil {
		v6 = ix.w6.order()
	}
	return v4, v6, ix.byASN
}

// OrderError says which stored order NewIndexOrdered refused, and where.
type OrderError struct {
	Order string // "ipv4", "ipv6" or "asn"
	Pos   int    // position in that order
	What  string
}

func (e *OrderError) Error() string {
	return fmt.Sprintf("rov: %s index order, position %d: %s", e.Order, e.Pos, e.What)
}

// NewIndexOrdered is NewIndex over vrps (masked, as VRPs() of an index
// returns them) given the orders a NewIndex over the same slice computed
// (Orders). It checks each order in one pass instead of sorting: every
// element in range and of the right family, each strictly after the one
// before it in the same total order NewIndex sorts by, and as many as there
// are VRPs of that family. Strictly increasing means no repeats, so each
// order is the one permutation NewIndex would have produced, and the index
// answers exactly as NewIndex's would. The index keeps the slices (a
// family order of consecutive indexes only as its first one). An
// order that fails a check gives an *OrderError and no index. Like NewIndex
// it works on two goroutines (prefix half, ASN half).
func NewIndexOrdered(vrps []VRP, v4, v6, byASN []uint32) (*Index, error) {
	key := func(i uint32) pfxkey.Key { return asnKeyOf(vrps[i].Prefix) }
	var n4, n6 int
	for i := range vrps {
		p := vrps[i].Prefix
		switch {
		case !p.IsValid():
		case p != p.Masked():
			return nil, &OrderError{Order: "vrps", Pos: i, What: fmt.Sprintf("prefix %s has host bits set", p)}
		case p.Addr().Is4():
			n4++
		default:
			n6++
		}
	}
	// One key per element, carried to the next comparison.
	t := &table{vrps: vrps}
	// distinct counts each order's distinct prefixes (adjacent, in a
	// checked prefix order): they size the index's arrays.
	var distinct [3]int
	check := func(name string, order []uint32, fam uint8, want int, cmp func(t *table, ka, kb pfxkey.Key, a, b uint32) int) error {
		if len(order) != want {
			return &OrderError{Order: name, Pos: len(order), What: fmt.Sprintf("%d entries, want %d", len(order), want)}
		}
		var prev pfxkey.Key
		for j, i := range order {
			if int(i) >= len(vrps) {
				return &OrderError{Order: name, Pos: j, What: fmt.Sprintf("VRP %d out of range (%d VRPs)", i, len(vrps))}
			}
			k := key(i)
			if fam != 0 && k.Fam != fam {
				return &OrderError{Order: name, Pos: j, What: fmt.Sprintf("VRP %d (%s) is of the other family", i, vrps[i].Prefix)}
			}
			if j > 0 && cmp(t, prev, k, order[j-1], i) >= 0 {
				return &OrderError{Order: name, Pos: j, What: fmt.Sprintf("VRP %d does not sort after VRP %d", i, order[j-1])}
			}
			if j == 0 || k != prev {
				distinct[fam]++
			}
			prev = k
		}
		return nil
	}
	err := both(func() error {
		if err := check("ipv4", v4, pfxkey.Fam4, n4, prefixCmp); err != nil {
			return err
		}
		return check("ipv6", v6, pfxkey.Fam6, n6, prefixCmp)
	}, func() error {
		return check("asn", byASN, 0, len(vrps), asnCmp)
	})
	if err != nil {
		return nil, err
	}
	return assemble(*t, key, v4, v6, byASN, distinct[pfxkey.Fam4], distinct[pfxkey.Fam6]), nil
}

// buildTrees fills the patricia trees on first use of CoveringTree: they
// are the reference answer in tests and benchmarks, and 78 of 132 MB and
// most of the build time on real data, which no production query needs.
func (ix *Index) buildTrees() {
	ix.trees.once.Do(func() {
		ix.trees.v4, ix.trees.v6 = uint32_tree.NewTreeV4(), uint32_tree.NewTreeV6()
		for i := range ix.t.len() {
			p := ix.t.prefix(uint32(i))
			if !p.IsValid() {
				continue
			}
			if p.Addr().Is4() {
				ix.trees.v4.Add(addr4(p), uint32(i), nil)
			} else {
				ix.trees.v6.Add(addr6(p), uint32(i), nil)
			}
		}
	})
}

func addr4(p netip.Prefix) patricia.IPv4Address {
	b := p.Addr().As4()
	return patricia.IPv4Address{Address: binary.BigEndian.Uint32(b[:]), Length: uint(p.Bits())}
}

func addr6(p netip.Prefix) patricia.IPv6Address {
	b := p.Addr().As16()
	return patricia.IPv6Address{
		Left:   binary.BigEndian.Uint64(b[:8]),
		Right:  binary.BigEndian.Uint64(b[8:]),
		Length: uint(p.Bits()),
	}
}

// VRPs returns the indexed VRPs; VRP i is the one every result calls i.
// For NewIndex the slice is the one given, shared: do not modify it. An
// index of packed VRPs (NewIndexPacked) makes a new slice of every VRP on
// each call: callers that may hold such an index use VRP, ASN and MaxLen.
func (ix *Index) VRPs() []VRP {
	if ix.t.packed == nil {
		return ix.t.vrps
	}
	out := make([]VRP, len(ix.t.packed))
	for i, p := range ix.t.packed {
		out[i] = p.Unpack(ix.t.tas)
	}
	return out
}

// VRP returns VRP i (a value: no copy of the set).
func (ix *Index) VRP(i uint32) VRP { return ix.t.vrp(i) }

// ASN returns the ASN of VRP i.
func (ix *Index) ASN(i uint32) uint32 { return ix.t.asn(i) }

// MaxLen returns the maxLength of VRP i.
func (ix *Index) MaxLen(i uint32) uint8 { return ix.t.maxLen(i) }

// Len returns the number of indexed VRPs.
func (ix *Index) Len() int { return ix.t.len() }

// Covering appends to dst the VRPs whose prefix contains or equals p
// ("covers" it, RFC 6811 §2: VRP length <= route length and the VRP prefix
// contains the route), most specific first, and returns the extended slice.
// It allocates only when dst lacks capacity. An invalid p covers nothing.
// An IPv4-mapped IPv6 prefix (::ffff:0:0/96) is IPv6, as in net/netip:
// route sources should Unmap IPv4 NLRI.
func (ix *Index) Covering(p netip.Prefix, dst []uint32) []uint32 {
	if !p.IsValid() {
		return dst
	}
	p = p.Masked()
	if p.Addr().Is4() {
		if ix.w4 != nil {
			return ix.w4.covering(pfxkey.Of(p), false, dst)
		}
		return ix.s4.covering(key4Of(pfxkey.Of(p)), dst)
	}
	if ix.w6 != nil {
		return ix.w6.covering(pfxkey.Of(p), true, dst)
	}
	return ix.s6.covering(pfxkey.Of(p), dst)
}

// CoveringTree is Covering answered by the patricia tree, least specific
// first. It is the reference the faster sorted-array walk of Covering is
// tested and benchmarked against. The first call builds the trees (about
// 0.6 s and 78 MB on 723k VRPs); later calls, from any goroutine, share them.
func (ix *Index) CoveringTree(p netip.Prefix, dst []uint32) []uint32 {
	if !p.IsValid() {
		return dst
	}
	ix.buildTrees()
	p = p.Masked()
	if p.Addr().Is4() {
		return ix.trees.v4.FindTagsAppend(dst, addr4(p))
	}
	return ix.trees.v6.FindTagsAppend(dst, addr6(p))
}

// Inside appends to dst the VRPs whose prefix lies strictly inside p (more
// specific than p), in (address, length) order. Cost: one binary search plus
// the number of results.
func (ix *Index) Inside(p netip.Prefix, dst []uint32) []uint32 {
	if !p.IsValid() {
		return dst
	}
	p = p.Masked()
	if p.Addr().Is4() {
		if ix.w4 != nil {
			return ix.w4.inside(pfxkey.Of(p), dst)
		}
		return ix.s4.inside(key4Of(pfxkey.Of(p)), dst)
	}
	if ix.w6 != nil {
		return ix.w6.inside(pfxkey.Of(p), dst)
	}
	return ix.s6.inside(pfxkey.Of(p), dst)
}

// InsideByASN is Inside restricted to the VRPs of asn: a binary search in
// that ASN's VRPs. It is how the classifier tells "too short" (the origin
// holds VRPs only for more-specifics) from "wrong origin".
func (ix *Index) InsideByASN(p netip.Prefix, asn uint32, dst []uint32) []uint32 {
	if !p.IsValid() {
		return dst
	}
	run, ok := ix.asnRun(asn)
	if !ok {
		return dst
	}
	t := asnKeyOf(p.Masked())
	first := t
	first.Bits++
	key := ix.t.keyFunc()
	lo, _ := slices.BinarySearchFunc(run, first, func(i uint32, k pfxkey.Key) int { return key(i).Compare(k) })
	for j := lo; j < len(run); j++ {
		k := key(run[j])
		if k.Fam != t.Fam || !t.Contains(k) {
			break
		}
		dst = append(dst, run[j])
	}
	return dst
}

// ByASN returns the VRPs of asn sorted by (family, address, length,
// maxLength). The slice is shared and read-only (its capacity is clipped, so
// appending to it copies).
func (ix *Index) ByASN(asn uint32) []uint32 {
	run, _ := ix.asnRun(asn)
	return run
}

// table is the VRPs an Index is over: the VRP slice given to NewIndex, or
// the packed records (and their TA names) given to NewIndexPacked; packed
// is nil exactly for the former. The accessors branch on it: a branch that
// goes the same way for the index's whole life costs nothing next to the
// memory access that follows.
type table struct {
	vrps   []VRP
	packed []PackedVRP
	tas    []string
}

func (t *table) len() int {
	if t.packed != nil {
		return len(t.packed)
	}
	return len(t.vrps)
}

func (t *table) asn(i uint32) uint32 {
	if t.packed != nil {
		return t.packed[i].ASN
	}
	return t.vrps[i].ASN
}

func (t *table) maxLen(i uint32) uint8 {
	if t.packed != nil {
		return t.packed[i].MaxLen
	}
	return t.vrps[i].MaxLen
}

func (t *table) fam(i uint32) uint8 {
	if t.packed != nil {
		return t.packed[i].Fam
	}
	switch p := t.vrps[i].Prefix; {
	case !p.IsValid():
		return pfxkey.FamInvalid
	case p.Addr().Is4():
		return pfxkey.Fam4
	}
	return pfxkey.Fam6
}

func (t *table) prefix(i uint32) netip.Prefix {
	if t.packed != nil {
		return t.packed[i].Prefix()
	}
	return t.vrps[i].Prefix
}

func (t *table) vrp(i uint32) VRP {
	if t.packed != nil {
		return t.packed[i].Unpack(t.tas)
	}
	return t.vrps[i]
}

// keyFunc returns the key of VRP i, computed on each call (pfxkey.Key{}
// when invalid); the function is chosen once per representation.
func (t *table) keyFunc() func(uint32) pfxkey.Key {
	if t.packed != nil {
		ps := t.packed
		return func(i uint32) pfxkey.Key { return ps[i].Key() }
	}
	vrps := t.vrps
	return func(i uint32) pfxkey.Key { return asnKeyOf(vrps[i].Prefix) }
}

// keys returns the key of every VRP (for a whole sort, which compares each
// key many times).
func (t *table) keys() []pfxkey.Key {
	key := t.keyFunc()
	keys := make([]pfxkey.Key, t.len())
	for i := range keys {
		keys[i] = key(uint32(i))
	}
	return keys
}

// masked returns a copy of t with every prefix masked.
func (t *table) masked() table {
	if t.packed != nil {
		ps := slices.Clone(t.packed)
		for j := range ps {
			if ps[j].Fam != pfxkey.FamInvalid {
				mh, ml := pfxkey.Mask(ps[j].Bits)
				ps[j].Hi &= mh
				ps[j].Lo &= ml
			}
		}
		return table{packed: ps, tas: t.tas}
	}
	vrps := slices.Clone(t.vrps)
	for j := range vrps {
		vrps[j].Prefix = vrps[j].Prefix.Masked()
	}
	return table{vrps: vrps}
}
