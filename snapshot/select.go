package snapshot

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
	"slices"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/internal/pfxkey"
	"github.com/rovimpact/rovimpact/reports"
	"github.com/rovimpact/rovimpact/rov"
	"github.com/rovimpact/rovimpact/table"
)

// selection is the VRP ids and route ids a set of queries reaches, as
// bitsets (all: every one).
type selection struct {
	all    bool
	vrps   []uint64
	routes []uint64
	err    error
}

func (f *file) selectAll() *selection { return &selection{all: true} }

func setBit(b []uint64, i uint32)      { b[i/64] |= 1 << (i % 64) }
func hasBit(b []uint64, i uint32) bool { return b[i/64]&(1<<(i%64)) != 0 }

// ids lists the set bits of b, ascending.
func ids(b []uint64) []uint32 {
	var out []uint32
	for w, x := range b {
		for x != 0 {
			i := uint32(w*64) + uint32(bits.TrailingZeros64(x))
			out = append(out, i)
			x &= x - 1
		}
	}
	return out
}

// selectFor marks the records queries reach: everything the answers of
// reports.Lookup read from an analysis, so that the analysis made of them
// (build) answers those queries exactly as the whole one does.
//
//   - prefix p: the VRPs covering p and inside it (Index.Covering, Inside;
//     the --origin verdict reads only these: Validate and InsideByASN), the
//     routes at p, covering it and inside it (Coverage.At, Supernets,
//     Subnets);
//   - address a: the routes at and covering a's host prefix (Reach);
//   - AS: the routes it originates (Originated, in route id order, which
//     the selection keeps), every VRP of the AS (ByASN, VRPUses) and the
//     VRPs covering each of its routes (Suggest);
//   - AS path: nothing (answered from ASPAs).
//
// Then, for each route so listed that ROV drops, what its impact and cover
// read (Coverage.Assess: the routes at its prefix, covering it and inside
// it), and for every selected route its deciding VRPs. Routes listed by a
// prefix or address query need less: every route at, covering or inside
// them is already selected but for those inside a covering route.
func (f *file) selectFor(queries []reports.Query) *selection {
	s := &selection{vrps: make([]uint64, (f.nv+63)/64), routes: make([]uint64, (f.nr+63)/64)}
	var inside, whole []routeRec // dropped routes whose inside, or whole neighbourhood, is needed
	mark := func(r routeRec) { setBit(s.routes, r.id) }
	var asns []uint32
	for _, q := range queries {
		switch {
		case q.IsASPath():
		case q.Prefix.IsValid():
			k := pfxkey.Of(q.Prefix)
			f.coveringVRPs(k, s.vrps)
			f.insideVRPs(k, s.vrps)
			f.routesAt(k, mark)
			f.routesInside(k, mark)
			f.routesCovering(k, func(r routeRec) {
				mark(r)
				if r.flags&flagDropped != 0 {
					inside = append(inside, r)
				}
			})
		case q.Addr.IsValid():
			k := pfxkey.Of(netip.PrefixFrom(q.Addr, q.Addr.BitLen()))
			more := func(r routeRec) {
				mark(r)
				if r.flags&flagDropped != 0 {
					inside = append(inside, r)
				}
			}
			f.routesAt(k, more)
			f.routesCovering(k, more)
		default:
			asns = append(asns, q.ASN)
		}
	}
	if len(asns) > 0 {
		slices.Sort(asns)
		asns = slices.Compact(asns)
		of := func(asn uint32) bool {
			if len(asns) == 1 {
				return asn == asns[0]
			}
			_, ok := slices.BinarySearch(asns, asn)
			return ok
		}
		// One pass over each section reading only the origin (the AS);
		// records that match are decoded.
		local := of(f.opt.LocalAS) && f.opt.LocalAS != 0
		for fam, n := range [...]int{4, 16} {
			recs := f.rut[fam]
			for i := range recs.n {
				r := recs.b[i*recs.size:]
				kind, asn := r[n+1], binary.LittleEndian.Uint32(r[n+8:])
				if !(kind == uint8(rov.OriginAS) && of(asn) || kind == uint8(rov.OriginLocal) && local) {
					continue
				}
				rr := f.routeAt(fam, i)
				mark(rr)
				f.coveringVRPs(rr.k, s.vrps)
				if rr.flags&flagDropped != 0 {
					whole = append(whole, rr)
				}
			}
		}
		for fam, at := range [...]int{8, 20, 4} { // where each family's records hold the AS
			recs := f.vrp[fam]
			for i := range recs.n {
				r := recs.b[i*recs.size:]
				if of(binary.LittleEndian.Uint32(r[at:])) {
					setBit(s.vrps, recs.recID(i))
				}
			}
		}
	}
	done := map[pfxkey.Key]bool{}
	for _, r := range whole {
		if !done[r.k] {
			done[r.k] = true
			f.routesAt(r.k, mark)
			f.routesCovering(r.k, mark)
			f.routesInside(r.k, mark)
		}
	}
	for _, r := range inside {
		if !done[r.k] {
			done[r.k] = true
			f.routesInside(r.k, mark)
		}
	}
	for _, id := range ids(s.routes) {
		r, err := f.routeByID(id)
		if err != nil {
			s.err = err
			return s
		}
		for j := range r.nrefs {
			setBit(s.vrps, f.refs.u32(int(r.refOff+j)))
		}
	}
	return s
}

// famOfKey is the record family of prefix key k; false for no prefix.
func famOfKey(k pfxkey.Key) (int, bool) {
	switch k.Fam {
	case pfxkey.Fam4:
		return fam4, true
	case pfxkey.Fam6:
		return fam6, true
	}
	return 0, false
}

// vrpKey is the prefix of VRP record i of family fam (4 or 6).
func (f *file) vrpKey(fam, i int) pfxkey.Key {
	b := f.vrp[fam].rec(i)
	if fam == fam4 {
		return keyOf(fam, b, b[4])
	}
	return keyOf(fam, b, b[16])
}

func (f *file) routeKey(fam, i int) pfxkey.Key {
	b := f.rut[fam].rec(i)
	if fam == fam4 {
		return keyOf(fam, b, b[4])
	}
	return keyOf(fam, b, b[16])
}

// lower is the first record of n whose key (key(i)) is not below k: the
// records are in key order (parse checked it).
func lower(n int, key func(int) pfxkey.Key, k pfxkey.Key) int {
	lo, hi := 0, n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if key(m).Compare(k) < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// inRange reports whether prefix q's address lies inside prefix k (any
// length).
func inRange(k, q pfxkey.Key) bool {
	q.Bits = 128
	return k.Contains(q)
}

// coveringVRPs marks the VRPs whose prefix contains or equals k's.
func (f *file) coveringVRPs(k pfxkey.Key, b []uint64) {
	fam, ok := famOfKey(k)
	if !ok {
		return
	}
	key := func(i int) pfxkey.Key { return f.vrpKey(fam, i) }
	for l := 0; l <= int(k.Bits); l++ {
		s := k.Supernet(uint8(l))
		for i := lower(f.vrp[fam].n, key, s); i < f.vrp[fam].n && key(i) == s; i++ {
			setBit(b, f.vrpAt(fam, i).id)
		}
	}
}

// insideVRPs marks the VRPs whose prefix lies strictly inside k's.
func (f *file) insideVRPs(k pfxkey.Key, b []uint64) {
	fam, ok := famOfKey(k)
	if !ok {
		return
	}
	key := func(i int) pfxkey.Key { return f.vrpKey(fam, i) }
	first := k
	first.Bits++
	for i := lower(f.vrp[fam].n, key, first); i < f.vrp[fam].n; i++ {
		q := key(i)
		if !inRange(k, q) {
			break
		}
		if q.Bits > k.Bits {
			setBit(b, f.vrpAt(fam, i).id)
		}
	}
}

// routesAt calls fn with each route whose prefix is k.
func (f *file) routesAt(k pfxkey.Key, fn func(routeRec)) {
	fam, ok := famOfKey(k)
	if !ok {
		return
	}
	key := func(i int) pfxkey.Key { return f.routeKey(fam, i) }
	for i := lower(f.rut[fam].n, key, k); i < f.rut[fam].n && key(i) == k; i++ {
		fn(f.routeAt(fam, i))
	}
}

// routesCovering calls fn with each route whose prefix strictly contains
// k.
func (f *file) routesCovering(k pfxkey.Key, fn func(routeRec)) {
	for l := 0; l < int(k.Bits); l++ {
		f.routesAt(k.Supernet(uint8(l)), fn)
	}
}

// routesInside calls fn with each route whose prefix lies strictly inside
// k.
func (f *file) routesInside(k pfxkey.Key, fn func(routeRec)) {
	fam, ok := famOfKey(k)
	if !ok {
		return
	}
	key := func(i int) pfxkey.Key { return f.routeKey(fam, i) }
	first := k
	first.Bits++
	for i := lower(f.rut[fam].n, key, first); i < f.rut[fam].n; i++ {
		q := key(i)
		if !inRange(k, q) {
			break
		}
		if q.Bits > k.Bits {
			fn(f.routeAt(fam, i))
		}
	}
}

// build decodes the selected records into an analysis: the VRPs in id
// order with the index's orders taken from the records' (NewIndexOrdered
// checks them again), the routes in id order with their peers, AS_SETs and
// verdicts. Ids are renumbered in the same order, so every list an answer
// keeps in id order (Originated, equal prefixes, equal VRPs) comes out as
// from the whole analysis.
func (f *file) build(s *selection) (*classify.Analysis, error) {
	if s.err != nil {
		return nil, s.err
	}
	var vids, rids []uint32
	if !s.all {
		vids, rids = ids(s.vrps), ids(s.routes)
	}
	nv, nr := f.nv, f.nr
	if !s.all {
		nv, nr = len(vids), len(rids)
	}
	// newVRP is the new id of old VRP id (selected): a binary search in a
	// small selection, a table for a large one.
	var remap []uint32
	if !s.all && len(vids) > f.nv/32 {
		remap = make([]uint32, f.nv)
		for j, id := range vids {
			remap[id] = uint32(j)
		}
	}
	newVRP := func(id uint32) uint32 {
		switch {
		case s.all:
			return id
		case remap != nil:
			return remap[id]
		}
		j, _ := slices.BinarySearch(vids, id)
		return uint32(j)
	}
	oldVRP := func(j int) uint32 {
		if s.all {
			return uint32(j)
		}
		return vids[j]
	}
	vrps := make([]rov.VRP, nv)
	for j := range vrps {
		v, err := f.vrpByID(oldVRP(j))
		if err != nil {
			return nil, err
		}
		vrps[j] = rov.VRP{Prefix: v.k.Prefix(), MaxLen: v.maxLen, ASN: v.asn, TA: f.fh.TAs[v.ta]}
	}
	// The orders: each family's selected records in file order; the ASN
	// order is (no prefix, IPv4, IPv6), already in (prefix, maxLength, AS,
	// id) order, stably sorted by AS.
	var orders [3][]uint32
	for fam := range f.vrp {
		for i := range f.vrp[fam].n {
			if id := f.vrp[fam].recID(i); s.all || hasBit(s.vrps, id) {
				orders[fam] = append(orders[fam], newVRP(id))
			}
		}
	}
	byASN := make([]uint32, 0, nv)
	byASN = append(append(append(byASN, orders[famX]...), orders[fam4]...), orders[fam6]...)
	byASN = sortByASN(vrps, byASN)
	ix, err := rov.NewIndexOrdered(vrps, orders[fam4], orders[fam6], byASN)
	if err != nil {
		return nil, f.errAt(f.vrp[fam4].at, "index: %v", err)
	}

	oldRoute := func(j int) uint32 {
		if s.all {
			return uint32(j)
		}
		return rids[j]
	}
	parts := table.Parts{Routes: make([]table.Route, nr), Peers: f.peers, Words: f.words, Bits: make([]uint64, nr*f.words), ASSets: map[uint32][]uint32{}}
	outcomes := make([]classify.Outcome, nr)
	offs := make([]uint32, nr+1)
	var refs []uint32
	for j := range parts.Routes {
		id := oldRoute(j)
		r, err := f.routeByID(id)
		if err != nil {
			return nil, err
		}
		o := r.origin()
		parts.Routes[j] = table.Route{Prefix: r.k.Prefix(), Origin: o, Paths: r.paths}
		for w := range f.words {
			parts.Bits[j*f.words+w] = binary.LittleEndian.Uint64(f.bits.b[8*(int(id)*f.words+w):])
		}
		if set, ok := f.asets[id]; ok {
			parts.ASSets[uint32(j)] = set
		}
		outcomes[j] = r.outcome(o.WithLocalAS(f.opt.LocalAS))
		for k := range r.nrefs {
			refs = append(refs, newVRP(f.refs.u32(int(r.refOff+k))))
		}
		offs[j+1] = uint32(len(refs))
	}
	t, err := table.Restore(parts)
	if err != nil {
		return nil, f.errAt(f.rut[fam4].at, "%v", err)
	}
	return classify.Assemble(t, ix, f.opt, outcomes, func(id int) []uint32 { return refs[offs[id]:offs[id+1]] }), nil
}

// recID is the id field of VRP record i (its last four bytes).
func (r records) recID(i int) uint32 {
	return binary.LittleEndian.Uint32(r.b[(i+1)*r.size-4:])
}

// sortByASN sorts ids stably by their VRPs' AS: two counting passes on
// 16-bit digits for a large set (as rov.NewIndex does), a stable sort for a
// small one. It returns the sorted slice (ids or a new one).
func sortByASN(vrps []rov.VRP, ids []uint32) []uint32 {
	if len(ids) < 1<<12 {
		slices.SortStableFunc(ids, func(x, y uint32) int { return cmpU(vrps[x].ASN, vrps[y].ASN) })
		return ids
	}
	src, dst := ids, make([]uint32, len(ids))
	var count [1 << 16]int
	for _, shift := range [...]uint{0, 16} {
		clear(count[:])
		for _, i := range src {
			count[vrps[i].ASN>>shift&0xffff]++
		}
		sum := 0
		for d, c := range count {
			count[d] = sum
			sum += c
		}
		for _, i := range src {
			d := vrps[i].ASN >> shift & 0xffff
			dst[count[d]] = i
			count[d]++
		}
		src, dst = dst, src
	}
	return src
}
