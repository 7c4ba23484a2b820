package live

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"iter"
	"math/bits"
	"net/netip"
	"slices"
	"sync"
	"time"
	"weak"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/internal/pfxkey"
	bgp "github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
	"github.com/rovimpact/rovimpact/table"
)

// Snapshot is a consistent, read-only view of a State: what
// classify.Analyze would return for a table.Table holding the State's paths,
// validated against its VRPs. It shares nothing mutable with the State, so
// it may be read (reports.Build, HTTP handlers) while the State changes.
type Snapshot struct {
	// Epoch is the number of changes applied when the snapshot was built:
	// equal epochs mean the same content (a change may still leave the
	// content as it was, e.g. an announcement repeating a path).
	Epoch uint64
	Built time.Time
	// Analysis holds the routes with at least one path. Its Table.Peers()
	// are the peers holding at least one path when it was built (a peer
	// after its PeerDown is left out, as a batch table of the same paths
	// would; peers sharing an AS and address are one), in the State's
	// peer order. Analysis.Index is the State's index,
	// shared (it is read-only).
	Analysis *classify.Analysis
	VRPs     int
	// ASPA is the ASPA verdicts of the paths (nil while the State has no
	// ASPA set, see SetASPA).
	ASPA *SnapshotASPA

	invOnce sync.Once
	inv     *invList
	base    *diffBase // set in a DiffBase only (Analysis nil)
	counts  Counts    // a DiffBase's: its snapshot's Counts

	// A full snapshot's: the State it was made of, its prefix ids in
	// prefix order when the snapshot was copied (shared with the State,
	// not a copy: merge replaces the sorted view, never writes it in
	// place) and which of them had a route (bit i of held: sorted[i]). The
	// table's routes, in prefix order, have the prefixes of the held ones
	// in turn: DiffBase numbers the routes it keeps by the State's prefix
	// ids.
	state  *State
	sorted []uint32
	held   []uint64
}

// Counts are a snapshot's paths and routes by verdict: watch's summary
// line. Valid + Invalid + NotFound + Unvalidated = Routes.
type Counts struct {
	Paths, Routes                         int
	Valid, Invalid, NotFound, Unvalidated int
	// Dropped counts the routes ROV drops (Invalid, or AS_SET routes
	// under the policy); Unreachable those of them with impact
	// classify.Unreachable.
	Dropped, Unreachable int
}

// addRoute counts one route with verdict o carried by paths paths (the
// route counts by state; Routes, Dropped and Unreachable are the
// caller's).
func (c *Counts) addRoute(o classify.Outcome, paths uint32) {
	c.Paths += int(paths)
	switch o.RouteState() {
	case classify.StateUnvalidated:
		c.Unvalidated++
	case classify.StateValid:
		c.Valid++
	case classify.StateInvalid:
		c.Invalid++
	default:
		c.NotFound++
	}
}

// Counts returns sn's Counts: of a full snapshot, one pass over its routes
// (the impact of its invalid routes assessed once and kept, as Diff does);
// of a DiffBase, those of the snapshot it was made from.
func (sn *Snapshot) Counts() Counts {
	a := sn.Analysis
	if a == nil {
		return sn.counts
	}
	var c Counts
	for id, r := range a.Table.Routes() {
		c.addRoute(a.Outcomes[id], r.Paths)
	}
	c.Routes = len(a.Table.Routes())
	for _, r := range sn.invalids().r {
		if r.meta&metaDropped != 0 {
			c.Dropped++
			if r.impact == classify.Unreachable {
				c.Unreachable++
			}
		}
	}
	return c
}

// Snapshot returns a consistent read-only view of everything applied so
// far. It builds a new one only when something changed since the last
// build and that build is still in use (otherwise it returns the same
// pointer). The State holds its last snapshot weakly: a snapshot costs
// about 110 bytes a path (BenchmarkMemory), and a caller that keeps only
// what it needs of one (watch keeps a DiffBase, the HTTP API a report)
// should not pay for a whole copy of the table held for nobody. So a
// caller that calls Snapshot often without a change in between should keep
// the snapshot it got, or compare Epoch first: once no one holds the last
// snapshot, the next call after a garbage collection builds it again.
//
// A build copies the routes, their verdicts, peer bits and deciding VRPs
// under the lock, in route id order (a sequential pass: Apply waits only
// for that), and then, without the lock, puts them in prefix order,
// rebuilds the table (table.Restore) and recomputes impact with
// classify.Assemble: a route appearing can change the impact of every
// dropped route under it, so impact is never kept between snapshots. See
// BenchmarkSnapshot for the cost on a full table. Concurrent callers wait
// for one build and share it.
func (s *State) Snapshot() *Snapshot {
	s.snapMu.Lock()
	defer s.snapMu.Unlock()
	s.mu.Lock()
	if sn := s.snap.Value(); sn != nil && sn.Epoch == s.epoch {
		s.mu.Unlock()
		return sn
	}
	c := s.snapshotCopy()
	s.snapBuilds++
	s.mu.Unlock()

	// Prefix order (then route id): the order classify.NewCoverage sorts
	// routes into, so its sort is a linear pass, and snapshots do not
	// depend on the order paths arrived in.
	rank := make([]uint32, c.prefixes)
	for r, pid := range c.sorted {
		rank[pid] = uint32(r)
	}
	ord := make([]uint64, len(c.routes))
	for i := range c.routes {
		ord[i] = uint64(rank[c.routes[i].prefix])<<32 | uint64(i)
	}
	rank = nil
	slices.Sort(ord)
	held := make([]uint64, (len(c.sorted)+63)/64)
	for _, o := range ord {
		r := o >> 32
		held[r/64] |= 1 << (r % 64)
	}
	w := c.words
	parts := table.Parts{Peers: c.peers, Words: w, Routes: make([]table.Route, len(ord)), Bits: make([]uint64, len(ord)*w)}
	outcomes := make([]classify.Outcome, len(ord))
	for j, o := range ord {
		i := int(uint32(o))
		rt := &c.routes[i]
		parts.Routes[j] = table.Route{Prefix: c.keys.prefix(rt.prefix), Origin: rt.origin(), Paths: rt.paths}
		copy(parts.Bits[j*w:(j+1)*w], c.bits[i*w:(i+1)*w])
		outcomes[j] = s.outcome(rt)
		if set, ok := c.asSets[i]; ok {
			if parts.ASSets == nil {
				parts.ASSets = map[uint32][]uint32{}
			}
			parts.ASSets[uint32(j)] = set
		}
	}
	// The copy's routes and bits are in parts now: let the GC have them
	// while the analysis is built (a full table's copy is ~40 bytes a
	// route, live at the same time as the previous snapshot and report).
	sorted := c.sorted
	c.routes, c.bits, c.asSets, c.sorted = nil, nil, nil, nil
	tab, err := table.Restore(parts)
	if err != nil {
		// The copy is built from the State's own invariants; an error here
		// is a bug in this package, not bad input.
		panic(fmt.Sprintf("live: snapshot table: %v", err))
	}
	a := classify.Assemble(tab, c.ix, s.opt.Classify, outcomes, func(j int) []uint32 {
		i := uint32(ord[j])
		return c.refs[c.refOff[i]:c.refOff[i+1]]
	})
	sn := &Snapshot{Epoch: c.epoch, Built: time.Now(), Analysis: a, VRPs: c.vrps,
		ASPA:  snapshotASPA(c.aspaSet, c.aspa, c.aspaReasons, ord, a),
		state: s, sorted: sorted, held: held}
	s.snap = weak.Make(sn)
	return sn
}

// snapCopy is what a snapshot needs from the State, copied under its lock:
// the live routes in id order.
type snapCopy struct {
	routes   []route    // their vrpOff is stale: see refOff
	keys     prefixKeys // s.pfx.keys (append-only: this prefix of it never changes), by prefix id
	bits     []uint64   // routes[i]'s peers: bits[i*words:(i+1)*words], renumbered as peers
	words    int
	peers    []bgp.PeerKey    // the peers holding paths
	asSets   map[int][]uint32 // AS_SET unions of OriginNone routes, by index in routes
	refOff   []uint32         // routes[i]'s deciding VRPs: refs[refOff[i]:refOff[i+1]]
	refs     []uint32
	sorted   []uint32 // s.pfx.sorted, prefix ids in prefix order (merge replaces it, never writes it in place)
	prefixes int      // number of prefix ids
	ix       *rov.Index
	epoch    uint64
	vrps     int

	aspa        [][4]uint32 // routes[i]'s paths by ASPA state (with a set only)
	aspaSet     *rov.ASPASet
	aspaReasons [8]int64
}

// snapshotCopy copies the live routes, and the peers holding paths with
// the routes' bits renumbered when some peer holds none. Called with s.mu
// held.
func (s *State) snapshotCopy() snapCopy {
	c := snapCopy{ix: s.ix, epoch: s.epoch, vrps: len(s.vrps), aspaSet: s.aspa.set, aspaReasons: s.aspa.reasons}
	tpeer, identity := s.tablePeers(&c.peers)
	words := max(1, (len(c.peers)+63)/64)
	n := int(s.live)
	c.words = words
	c.routes = make([]route, 0, n)
	c.bits = make([]uint64, n*words)
	c.refOff = make([]uint32, 1, n+1)
	c.refs = make([]uint32, 0, len(s.refs)-s.garbage)
	var peers []int
	for id := range s.routes {
		rt := &s.routes[id]
		if rt.paths == 0 {
			continue
		}
		i := len(c.routes)
		c.routes = append(c.routes, *rt)
		peers = s.tableBits(uint32(id), tpeer, identity, c.bits[i*words:(i+1)*words], peers)
		if rt.origin().Kind == rov.OriginNone {
			if set := s.asSetUnion(uint32(id)); len(set) > 0 {
				if c.asSets == nil {
					c.asSets = map[int][]uint32{}
				}
				c.asSets[i] = set
			}
		}
		c.refs = append(c.refs, s.refsOf(rt)...)
		c.refOff = append(c.refOff, uint32(len(c.refs)))
		c.aspa = s.aspaCopy(c.aspa, id)
	}
	s.pfx.merge()
	c.keys, c.sorted = s.pfx.keys, s.pfx.sorted
	c.prefixes = s.pfx.keys.len()
	return c
}

// tablePeers appends to keys the table peers of a snapshot of s: the
// peers holding paths, peers sharing an AS and address (see peerID) as
// one, as in a batch table of the same paths. tpeer[i] is peer slot i's
// table peer (-1: none); identity means slot i is table peer i for every
// slot. Called with s.mu held.
func (s *State) tablePeers(keys *[]bgp.PeerKey) (tpeer []int, identity bool) {
	tpeer = make([]int, len(s.peers))
	identity = true
	var seen map[bgp.PeerKey]int
	for i, p := range s.peers {
		tpeer[i] = -1
		if p.paths.len() == 0 {
			identity = false
			continue
		}
		if seen == nil {
			seen = make(map[bgp.PeerKey]int, len(s.peers))
		}
		if j, dup := seen[p.key]; dup {
			tpeer[i] = j
			identity = false
			continue
		}
		tpeer[i] = len(*keys)
		seen[p.key] = tpeer[i]
		*keys = append(*keys, p.key)
	}
	return tpeer, identity
}

// tableBits writes route id's table peers (see tablePeers) into dst
// (zeroed, one bit a table peer). Called with s.mu held.
func (s *State) tableBits(id uint32, tpeer []int, identity bool, dst []uint64, buf []int) []int {
	if identity {
		// The table's 64-bit words from the State's 32-bit ones.
		for k, w := range s.bits[int(id)*s.words : int(id+1)*s.words] {
			dst[k/2] |= uint64(w) << (32 * (k % 2))
		}
		return buf
	}
	buf = s.routePeers(id, buf[:0])
	for _, p := range buf {
		tp := tpeer[p]
		dst[tp/64] |= 1 << (tp % 64)
	}
	return buf
}

// ChangeKind says how an invalid route changed between two snapshots.
type ChangeKind uint8

const (
	// Appeared: the route is invalid (or dropped) now and was not before
	// (absent, or not invalid).
	Appeared ChangeKind = iota
	// Disappeared: the route was invalid and is now gone or not invalid.
	Disappeared
	// Changed: the route is invalid in both, with another class or impact.
	Changed
)

// String returns "appeared", "disappeared" or "changed".
func (k ChangeKind) String() string {
	switch k {
	case Appeared:
		return "appeared"
	case Disappeared:
		return "disappeared"
	case Changed:
		return "changed"
	}
	return "unknown"
}

// MarshalText encodes the kind as its String.
func (k ChangeKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Change is one invalid route that appeared, disappeared or changed.
type Change struct {
	Kind   ChangeKind
	Prefix netip.Prefix
	// Origin is the route's origin after resolving the local AS
	// (classify.Outcome.Origin), as reports show it.
	Origin            rov.Origin
	OldClass, Class   classify.Class // zero value when absent
	OldImpact, Impact classify.Impact
	// Paths and Peers carrying the route in next (in prev for Disappeared).
	Paths, Peers int
}

// isInvalid: the routes Diff follows, those ROV would reject or drop.
func isInvalid(o classify.Outcome) bool { return o.State == rov.Invalid || o.Dropped }

// invalidRoute is one invalid route of a snapshot with what Diff reports
// of it, in 28 bytes with no pointer: a full table has about 100k invalid
// routes against today's VRPs, and a DiffBase keeps them from one check
// to the next. The prefix is a pfxkey.Key's: the address's first 64 bits
// here (two words, so that the record needs no 8-byte alignment), the last
// 64 bits of the few IPv6 prefixes longer than /64 in invList.long.
type invalidRoute struct {
	hiH, hiL uint32 // pfxkey.Key.Hi, high word first
	asn      uint32 // origin ASN as the table keys it
	paths    uint32
	// ref is, in a full snapshot's list, the route's id in its table; in
	// a DiffBase's, the route's set of carrying peers (diffBase.setOff).
	ref uint32
	// vrp is, in a DiffBase's list, 1 + the index of the route's deciding
	// VRP in diffBase.vrps, 0 when no VRP covers it (a full snapshot asks
	// its Analysis).
	vrp    uint32
	bits   uint8
	meta   uint8 // metaV6 | metaLong | metaDropped | origin kind << metaKindShift
	class  classify.Class
	impact classify.Impact
}

const (
	metaV6        = 1 << iota
	metaLong      // an IPv6 prefix longer than /64: see invList.long
	metaDropped   // classify.Outcome.Dropped
	metaKindShift = iota
)

// invKey is an invalid route's (prefix, origin as the table keys it) as
// Diff orders and matches them: family (IPv4 first), address, length
// (shorter first), origin kind, ASN.
type invKey struct {
	hi, lo          uint64
	asn             uint32
	bits, fam, kind uint8
}

func compareKey(a, b invKey) int {
	if c := a.key().Compare(b.key()); c != 0 {
		return c
	}
	if a.kind != b.kind {
		return cmp.Compare(a.kind, b.kind)
	}
	return cmp.Compare(a.asn, b.asn)
}

// keyOf is the invKey of route (p, o), p as given (a prefix with host bits
// set matches no route: tables hold masked prefixes).
func keyOf(p netip.Prefix, o rov.Origin) invKey {
	k := pfxkey.Of(p)
	return invKey{hi: k.Hi, lo: k.Lo, asn: o.ASN, bits: k.Bits, fam: k.Fam, kind: uint8(o.Kind)}
}

// key is k's prefix as a pfxkey.Key, whose order (family, address,
// length) is the first part of invKey's.
func (k invKey) key() pfxkey.Key { return pfxkey.Key{Hi: k.hi, Lo: k.lo, Bits: k.bits, Fam: k.fam} }

func (k invKey) prefix() netip.Prefix { return k.key().Prefix() }

func (k invKey) origin() rov.Origin { return rov.Origin{Kind: rov.OriginKind(k.kind), ASN: k.asn} }

// invList is a snapshot's invalid routes sorted by invKey.
type invList struct {
	r    []invalidRoute
	long []longLo // by index in r, increasing
	// Either table (a full snapshot's list: ref is a route id) or base
	// (a DiffBase's: ref is a peer set) tells a route's peer count.
	table   *table.Table
	base    *diffBase
	localAS uint32
}

// longLo is the last 64 address bits of r[i], an IPv6 prefix longer than
// /64.
type longLo struct {
	i  int
	lo uint64
}

func (l *invList) len() int {
	if l == nil {
		return 0
	}
	return len(l.r)
}

func (l *invList) key(i int) invKey {
	r := &l.r[i]
	k := invKey{hi: uint64(r.hiH)<<32 | uint64(r.hiL), asn: r.asn, bits: r.bits, fam: pfxkey.Fam4, kind: r.meta >> metaKindShift}
	if r.meta&metaV6 != 0 {
		k.fam = pfxkey.Fam6
	}
	if r.meta&metaLong != 0 {
		j, _ := slices.BinarySearchFunc(l.long, i, func(x longLo, i int) int { return cmp.Compare(x.i, i) })
		k.lo = l.long[j].lo
	}
	return k
}

// add appends route (k, o) with r's other fields filled.
func (l *invList) add(k pfxkey.Key, o rov.Origin, r invalidRoute) {
	r.hiH, r.hiL, r.asn, r.bits = uint32(k.Hi>>32), uint32(k.Hi), o.ASN, k.Bits
	r.meta |= uint8(o.Kind) << metaKindShift
	if k.Fam == pfxkey.Fam6 {
		r.meta |= metaV6
	}
	if k.Lo != 0 || k.Bits > 64 {
		r.meta |= metaLong
		l.long = append(l.long, longLo{len(l.r), k.Lo})
	}
	l.r = append(l.r, r)
}

// sort puts the routes in invKey order. They come in prefix order (a
// snapshot's table, the State's routes ranked by prefix), so this is a
// pass sorting the origins of the few prefixes with several, and a check;
// routes in any other order are sorted whole.
func (l *invList) sort() {
	ordered := func() bool {
		for i := 1; i < len(l.r); i++ {
			if compareKey(l.key(i-1), l.key(i)) >= 0 {
				return false
			}
		}
		return true
	}
	samePrefix := func(a, b *invalidRoute) bool {
		return a.hiH == b.hiH && a.hiL == b.hiL && a.bits == b.bits && a.meta&(metaV6|metaLong) == b.meta&(metaV6|metaLong) && a.meta&metaLong == 0
	}
	for i := 0; i < len(l.r); {
		j := i + 1
		for j < len(l.r) && samePrefix(&l.r[i], &l.r[j]) {
			j++
		}
		if j-i > 1 {
			slices.SortFunc(l.r[i:j], func(a, b invalidRoute) int {
				if c := cmp.Compare(a.meta>>metaKindShift, b.meta>>metaKindShift); c != 0 {
					return c
				}
				return cmp.Compare(a.asn, b.asn)
			})
		}
		i = j
	}
	if ordered() {
		return
	}
	keys := make([]invKey, len(l.r))
	perm := make([]int32, len(l.r))
	for i := range l.r {
		keys[i], perm[i] = l.key(i), int32(i)
	}
	slices.SortFunc(perm, func(a, b int32) int { return compareKey(keys[a], keys[b]) })
	r := make([]invalidRoute, len(l.r))
	l.long = l.long[:0]
	for i, p := range perm {
		r[i] = l.r[p]
		if r[i].meta&metaLong != 0 {
			l.long = append(l.long, longLo{i, keys[p].lo})
		}
	}
	l.r = r
}

// find returns the index of route (p, o) in l.
func (l *invList) find(p netip.Prefix, o rov.Origin) (int, bool) {
	if l.len() == 0 || !p.IsValid() {
		return 0, false
	}
	want := keyOf(p, o)
	lo, hi := 0, len(l.r)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if compareKey(l.key(m), want) < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < len(l.r) && compareKey(l.key(lo), want) == 0
}

// peers is the number of peers carrying r[i].
func (l *invList) peers(i int) int {
	if l.base != nil {
		s := l.r[i].ref
		return int(l.base.setOff[s+1] - l.base.setOff[s])
	}
	return l.table.PeerCount(int(l.r[i].ref))
}

// invalids returns the snapshot's invalid routes sorted by (prefix,
// origin), with their impact, computed on first use and kept: Diff(a, b)
// then Diff(b, c) assesses b once.
func (sn *Snapshot) invalids() *invList {
	sn.invOnce.Do(func() {
		a := sn.Analysis
		n := 0
		for id := range a.Outcomes {
			if isInvalid(a.Outcomes[id]) {
				n++
			}
		}
		l := &invList{r: make([]invalidRoute, 0, n), table: a.Table, localAS: a.Options.LocalAS}
		for id, r := range a.Table.Routes() {
			o := &a.Outcomes[id]
			if !isInvalid(*o) {
				continue
			}
			ir := invalidRoute{paths: r.Paths, ref: uint32(id), class: o.Class, impact: a.Assess(id, nil).Impact}
			if o.Dropped {
				ir.meta = metaDropped
			}
			l.add(pfxkey.Of(r.Prefix), r.Origin, ir)
		}
		l.sort()
		sn.inv = l
	})
	return sn.inv
}

// DiffBase returns what Diff and a watcher's event causes need of sn as
// their prev: a Snapshot with sn's Epoch, Built and VRPs, its invalid
// routes (assessed now, if no Diff did yet) with their carrying peers and
// deciding VRP, which routes it holds (Has) and its Counts, but no
// Analysis. A caller that keeps the last snapshot only to diff the next
// one against it and to tell why each change happened keeps this instead,
// and does not hold a whole table and analysis (about 110 bytes a path on
// a full table) alive while the live table moves on.
//
// Size (BenchmarkMemory, base-B/path; ~9.5 bytes a path on a full table
// with ~100k invalid routes): 28 bytes per invalid route, each distinct
// set of carrying peers and deciding VRP once (24 bytes a VRP), and the
// routes held as one small code per prefix id of the State (the origin,
// numbered among the table's distinct origins; prefixes with several
// origins listed apart), about 2 bytes a route. Prefix ids are the
// State's, for life: Has of a DiffBase asks its State for the id of the
// prefix (taking its lock briefly) unless the route is one of the invalid
// ones.
//
// Of a DiffBase, Has answers for every route; Carriers and DecidingVRP
// only for its invalid routes. sn must come from State.Snapshot (not be
// made by hand): DiffBase panics otherwise.
func (sn *Snapshot) DiffBase() *Snapshot {
	if sn.Analysis == nil {
		return sn
	}
	if sn.state == nil {
		panic("live: DiffBase of a Snapshot not built by State.Snapshot")
	}
	src := sn.invalids()
	a := sn.Analysis
	t := a.Table
	bb := newBaseBuilder(sn.state, a.Options.LocalAS, slices.Clone(t.Peers()), a.Index, len(src.r))
	l := &invList{r: slices.Clone(src.r), long: slices.Clone(src.long), base: bb.base, localAS: src.localAS}
	var ids []int
	for i := range l.r {
		r := &l.r[i]
		id := int(r.ref) // not t.Lookup: that would build the table's lookup map
		ids = t.RoutePeers(id, ids[:0])
		r.ref = bb.peerSet(ids)
		if refs := a.VRPs(id); len(refs) > 0 {
			r.vrp = bb.vrp(refs[0])
		}
	}
	bs := bb.done()
	bs.held = newRouteSet(len(sn.sorted), sn.routePrefixIDs())
	// Peer counts: the routes and invalid ones from the table, the
	// dropped ones from the invalid routes (assessed once, above).
	pc := make([]PeerCounts, len(bs.peerKeys))
	for id := range t.Routes() {
		inv := a.Outcomes[id].State == rov.Invalid
		ids = t.RoutePeers(id, ids[:0])
		for _, p := range ids {
			pc[p].Routes++
			if inv {
				pc[p].Invalid++
			}
		}
	}
	for _, r := range l.r {
		if r.meta&metaDropped == 0 {
			continue
		}
		for _, p := range bs.sets[bs.setOff[r.ref]:bs.setOff[r.ref+1]] {
			pc[p].Dropped++
			if r.impact == classify.Unreachable {
				pc[p].Unreachable++
			}
		}
	}
	bs.peerCounts = pc
	b := &Snapshot{Epoch: sn.Epoch, Built: sn.Built, VRPs: sn.VRPs, inv: l, base: bs, counts: sn.Counts()}
	b.invOnce.Do(func() {})
	return b
}

// baseBuilder numbers a DiffBase's peer sets and deciding VRPs, each kept
// once.
type baseBuilder struct {
	base    *diffBase
	ix      *rov.Index
	sets    map[string]uint32
	last    []int
	lastSet uint32
	key     []byte
	vrpAt   map[uint32]uint32
	vrps    []rov.PackedVRP
	tas     rov.TATable
}

// newBaseBuilder starts the DiffBase of a table with the given peers, its
// VRP references into ix, for about n invalid routes.
func newBaseBuilder(s *State, localAS uint32, peers []bgp.PeerKey, ix *rov.Index, n int) *baseBuilder {
	return &baseBuilder{base: &diffBase{state: s, localAS: localAS, peerKeys: peers, setOff: []uint32{0}}, ix: ix,
		sets: map[string]uint32{}, vrpAt: map[uint32]uint32{}, vrps: make([]rov.PackedVRP, 0, n)}
}

// peerSet returns the number of the set of table peers ids (ascending).
func (bb *baseBuilder) peerSet(ids []int) uint32 {
	// Consecutive routes mostly share their peers (all of them, with one
	// full-table peer): no map lookup then.
	if bb.last != nil && slices.Equal(ids, bb.last) {
		return bb.lastSet
	}
	bb.key = bb.key[:0]
	for _, p := range ids {
		bb.key = binary.LittleEndian.AppendUint32(bb.key, uint32(p))
	}
	b := bb.base
	s, ok := bb.sets[string(bb.key)]
	if !ok {
		s = uint32(len(b.setOff) - 1)
		for _, p := range ids {
			b.sets = append(b.sets, uint32(p))
		}
		b.setOff = append(b.setOff, uint32(len(b.sets)))
		bb.sets[string(bb.key)] = s
	}
	bb.lastSet, bb.last = s, append(bb.last[:0:0], ids...)
	return s
}

// vrp returns invalidRoute.vrp for the VRP ix numbers ref.
func (bb *baseBuilder) vrp(ref uint32) uint32 {
	d, ok := bb.vrpAt[ref]
	if !ok {
		v := bb.ix.VRP(ref)
		d = uint32(len(bb.vrps))
		bb.vrps = append(bb.vrps, rov.PackVRP(v, bb.tas.Intern(v.TA)))
		bb.vrpAt[ref] = d
	}
	return d + 1
}

// done returns the DiffBase with its VRPs copied to their size.
func (bb *baseBuilder) done() *diffBase {
	bb.base.vrps = slices.Clone(bb.vrps)
	bb.base.tas = bb.tas.Names()
	return bb.base
}

// diffBase is what a DiffBase keeps of its snapshot beyond the invalid
// routes: their peers and deciding VRPs, and which routes it held.
type diffBase struct {
	state    *State // whose prefix ids held is numbered by
	peerKeys []bgp.PeerKey
	sets     []uint32 // peer set i: peerKeys[sets[setOff[i]:setOff[i+1]]]
	setOff   []uint32
	vrps     []rov.PackedVRP // the deciding VRPs of the invalid routes, once each
	tas      []string        // vrps' trust anchors by index (rov.TATable)
	held     routeSet
	localAS  uint32
	// peerCounts[i] are peerKeys[i]'s (see Snapshot.PeerCounts).
	peerCounts []PeerCounts
}

// routeSet is the set of routes of a table, by the State's prefix ids: a
// code per prefix id below n, packed in w bits: 0 the prefix has no route,
// 1 several (their origins in multi), c >= 2 one, of origin origins[c-2].
// Exact: no hash, no false answer. About 17 bits a prefix on a full table
// (~60k distinct origins).
type routeSet struct {
	n       int
	w       uint
	codes   []uint64
	origins []rov.Origin
	multi   []pidOrigin // sorted by (pid, origin kind, ASN)
}

type pidOrigin struct {
	pid uint32
	o   rov.Origin
}

func comparePidOrigin(a, b pidOrigin) int {
	if a.pid != b.pid {
		return cmp.Compare(a.pid, b.pid)
	}
	if a.o.Kind != b.o.Kind {
		return cmp.Compare(a.o.Kind, b.o.Kind)
	}
	return cmp.Compare(a.o.ASN, b.o.ASN)
}

const (
	codeNone  = 0
	codeMulti = 1
	codeFirst = 2
)

// routePrefixIDs yields the State's prefix id and the origin of every
// route of a full snapshot's table: the table is in prefix order, so its
// n-th distinct prefix is the n-th held one of sorted. One pass, no
// lookup.
func (sn *Snapshot) routePrefixIDs() iter.Seq2[uint32, rov.Origin] {
	return func(yield func(uint32, rov.Origin) bool) {
		k := -1
		var last netip.Prefix
		for j, r := range sn.Analysis.Table.Routes() {
			if j == 0 || r.Prefix != last {
				last = r.Prefix
				if k = nextBit(sn.held, k+1); k < 0 {
					// The table is built from the held prefix ids.
					panic(fmt.Sprintf("live: snapshot route %v past the State's held prefixes", r.Prefix))
				}
			}
			if !yield(sn.sorted[k], r.Origin) {
				return
			}
		}
	}
}

// nextBit returns the index of the first bit set in b at or after i, -1
// when none is.
func nextBit(b []uint64, i int) int {
	for w := i / 64; w < len(b); w++ {
		x := b[w]
		if w == i/64 {
			x &= ^uint64(0) << (i % 64)
		}
		if x != 0 {
			return w*64 + bits.TrailingZeros64(x)
		}
	}
	return -1
}

// newRouteSet is the set of routes (prefix id < n, origin) routes yields.
// Cost: one pass numbering the origins (an array for 2-byte ASNs, a map
// for the rest), one packing the codes.
func newRouteSet(n int, routes iter.Seq2[uint32, rov.Origin]) routeSet {
	rs := routeSet{n: n, origins: make([]rov.Origin, 0, n)} // copied to its size below
	codes := make([]uint32, n)
	short := make([]uint32, 1<<16) // code of OriginAS ASN < 65536
	other := map[rov.Origin]uint32{}
	for pid, o := range routes {
		var c uint32
		if o.Kind == rov.OriginAS && o.ASN < 1<<16 {
			if c = short[o.ASN]; c == 0 {
				c = uint32(len(rs.origins)) + codeFirst
				short[o.ASN] = c
				rs.origins = append(rs.origins, o)
			}
		} else if c = other[o]; c == 0 {
			c = uint32(len(rs.origins)) + codeFirst
			other[o] = c
			rs.origins = append(rs.origins, o)
		}
		switch cur := codes[pid]; cur {
		case codeNone:
			codes[pid] = c
		case codeMulti:
			rs.multi = append(rs.multi, pidOrigin{pid, o})
		default:
			rs.multi = append(rs.multi, pidOrigin{pid, rs.origins[cur-codeFirst]}, pidOrigin{pid, o})
			codes[pid] = codeMulti
		}
	}
	rs.origins = slices.Clone(rs.origins)
	rs.multi = slices.Clone(rs.multi)
	slices.SortFunc(rs.multi, comparePidOrigin)
	rs.w = uint(bits.Len(uint(len(rs.origins) + codeFirst - 1)))
	rs.codes = make([]uint64, (uint(n)*rs.w+63)/64+1)
	for i, c := range codes {
		pos := uint(i) * rs.w
		rs.codes[pos/64] |= uint64(c) << (pos % 64)
		if pos%64+rs.w > 64 {
			rs.codes[pos/64+1] |= uint64(c) >> (64 - pos%64)
		}
	}
	return rs
}

// code returns prefix id pid's code.
func (rs *routeSet) code(pid uint32) uint32 {
	if int64(pid) >= int64(rs.n) {
		return codeNone // a prefix first seen after the table was built
	}
	pos := uint(pid) * rs.w
	v := rs.codes[pos/64] >> (pos % 64)
	if pos%64+rs.w > 64 {
		v |= rs.codes[pos/64+1] << (64 - pos%64)
	}
	return uint32(v & (1<<rs.w - 1))
}

// has reports whether route (pid, o) is in the set.
func (rs *routeSet) has(pid uint32, o rov.Origin) bool {
	switch c := rs.code(pid); c {
	case codeNone:
		return false
	case codeMulti:
		_, ok := slices.BinarySearchFunc(rs.multi, pidOrigin{pid, o}, comparePidOrigin)
		return ok
	default:
		return rs.origins[c-codeFirst] == o
	}
}

// prefixID returns the id of prefix p (masked), if the State ever held it.
func (s *State) prefixID(p netip.Prefix) (uint32, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pfx.lookup(p)
}

// Has reports whether route (p, o) is in sn, o the origin as the table
// keys it (OriginLocal for a route the local AS originates).
func (sn *Snapshot) Has(p netip.Prefix, o rov.Origin) bool {
	if sn.Analysis != nil {
		_, ok := sn.Analysis.Table.Lookup(p, o)
		return ok
	}
	if sn.base == nil || !p.IsValid() || p != p.Masked() {
		return false // the table holds masked prefixes only
	}
	if _, ok := sn.inv.find(p, o); ok {
		return true
	}
	pid, ok := sn.base.state.prefixID(p)
	return ok && sn.base.held.has(pid, o)
}

// LocalAS is the local AS sn's routes were validated with (0: unset).
func (sn *Snapshot) LocalAS() uint32 {
	if sn.Analysis != nil {
		return sn.Analysis.Options.LocalAS
	}
	if sn.base != nil {
		return sn.base.localAS
	}
	return 0
}

// Carriers appends to dst the peers carrying route (p, o) in sn (o as the
// table keys it), and reports whether sn knows the route: any route of a
// full snapshot, only the invalid routes of a DiffBase.
func (sn *Snapshot) Carriers(p netip.Prefix, o rov.Origin, dst []bgp.PeerKey) ([]bgp.PeerKey, bool) {
	if sn.Analysis != nil {
		t := sn.Analysis.Table
		id, ok := t.Lookup(p, o)
		if !ok {
			return dst, false
		}
		keys := t.Peers()
		for _, i := range t.RoutePeers(id, nil) {
			dst = append(dst, keys[i])
		}
		return dst, true
	}
	i, ok := sn.invalidIndex(p, o)
	if !ok {
		return dst, false
	}
	b := sn.base
	s := sn.inv.r[i].ref
	for _, p := range b.sets[b.setOff[s]:b.setOff[s+1]] {
		dst = append(dst, b.peerKeys[p])
	}
	return dst, true
}

// DecidingVRP returns the most telling VRP of route (p, o)'s verdict in sn
// (o as the table keys it), false when no VRP covers it or sn does not
// know the route (see Carriers).
func (sn *Snapshot) DecidingVRP(p netip.Prefix, o rov.Origin) (rov.VRP, bool) {
	if a := sn.Analysis; a != nil {
		id, ok := a.Table.Lookup(p, o)
		if !ok {
			return rov.VRP{}, false
		}
		refs := a.VRPs(id)
		if len(refs) == 0 {
			return rov.VRP{}, false
		}
		return a.Index.VRP(refs[0]), true
	}
	i, ok := sn.invalidIndex(p, o)
	if !ok || sn.inv.r[i].vrp == 0 {
		return rov.VRP{}, false
	}
	return sn.base.vrps[sn.inv.r[i].vrp-1].Unpack(sn.base.tas), true
}

// invalidIndex finds invalid route (p, o) of a DiffBase in inv.
func (sn *Snapshot) invalidIndex(p netip.Prefix, o rov.Origin) (int, bool) {
	if sn.base == nil {
		return 0, false
	}
	return sn.inv.find(p, o)
}

// Diff lists the changes of invalid routes (State Invalid, or Dropped under
// the AS_SET policy) between two snapshots, sorted by prefix (IPv4 first,
// address, shorter first) then origin. Routes are matched by (prefix,
// origin as the table keys it). prev nil means every invalid of next
// Appeared; next nil means every invalid of prev Disappeared.
//
// Cost: a merge of the two snapshots' invalid routes, each list built (one
// impact assessment per invalid route) on a snapshot's first Diff.
func Diff(prev, next *Snapshot) []Change {
	var pl, nl *invList
	if prev != nil {
		pl = prev.invalids()
	}
	if next != nil {
		nl = next.invalids()
	}
	change := func(k ChangeKind, l *invList, i int, key invKey) Change {
		return Change{Kind: k, Prefix: key.prefix(), Origin: key.origin().WithLocalAS(l.localAS),
			Paths: int(l.r[i].paths), Peers: l.peers(i)}
	}
	var out []Change
	i, j := 0, 0
	var pk, nk invKey
	for i < pl.len() || j < nl.len() {
		c := 0
		if i < pl.len() {
			pk = pl.key(i)
		}
		if j < nl.len() {
			nk = nl.key(j)
		}
		switch {
		case i == pl.len():
			c = 1
		case j == nl.len():
			c = -1
		default:
			c = compareKey(pk, nk)
		}
		switch {
		case c < 0:
			ch := change(Disappeared, pl, i, pk)
			ch.OldClass, ch.OldImpact = pl.r[i].class, pl.r[i].impact
			out = append(out, ch)
			i++
		case c > 0:
			ch := change(Appeared, nl, j, nk)
			ch.Class, ch.Impact = nl.r[j].class, nl.r[j].impact
			out = append(out, ch)
			j++
		default:
			o, n := &pl.r[i], &nl.r[j]
			if o.class != n.class || o.impact != n.impact {
				ch := change(Changed, nl, j, nk)
				ch.OldClass, ch.OldImpact, ch.Class, ch.Impact = o.class, o.impact, n.class, n.impact
				out = append(out, ch)
			}
			i++
			j++
		}
	}
	return out
}

// routePeers appends the indexes of the peers carrying route id to dst.
func (s *State) routePeers(id uint32, dst []int) []int {
	for wi, w := range s.bits[int(id)*s.words : int(id+1)*s.words] {
		for w != 0 {
			dst = append(dst, wi*32+bits.TrailingZeros32(w))
			w &= w - 1
		}
	}
	return dst
}
