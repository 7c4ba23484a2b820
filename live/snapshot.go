package live

import (
	"cmp"
	"fmt"
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
	inv     []invalidRoute
	base    *diffBase // set in a DiffBase only (Analysis nil)
	counts  Counts    // a DiffBase's: its snapshot's Counts
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
		o := a.Outcomes[id]
		c.Paths += int(r.Paths)
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
	c.Routes = len(a.Table.Routes())
	for _, r := range sn.invalids() {
		if r.dropped {
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
		ASPA: snapshotASPA(c.aspaSet, c.aspa, c.aspaReasons, ord, a)}
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
	// Peers sharing an AS and address (see peerID) are one table peer,
	// as in a batch table of the same paths.
	tpeer := make([]int, len(s.peers))
	identity := true
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
		tpeer[i] = len(c.peers)
		seen[p.key] = tpeer[i]
		c.peers = append(c.peers, p.key)
	}
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
		dst := c.bits[i*words : (i+1)*words]
		if identity {
			// The table's 64-bit words from the State's 32-bit ones.
			for k, w := range s.bits[id*s.words : (id+1)*s.words] {
				dst[k/2] |= uint64(w) << (32 * (k % 2))
			}
		} else {
			peers = s.routePeers(uint32(id), peers[:0])
			for _, p := range peers {
				tp := tpeer[p]
				dst[tp/64] |= 1 << (tp % 64)
			}
		}
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
// of it, so that Diff needs nothing else of the snapshot (see DiffBase).
type invalidRoute struct {
	prefix   netip.Prefix
	origin   rov.Origin // as the table keys it (before resolving the local AS)
	resolved rov.Origin // classify.Outcome.Origin
	impact   classify.Impact
	class    classify.Class
	paths    uint32
	peers    int32
	id       int32 // route id in the snapshot's table (DiffBase builds from it)
	dropped  bool  // classify.Outcome.Dropped
}

func compareInvalid(a, b invalidRoute) int {
	if c := a.prefix.Addr().Compare(b.prefix.Addr()); c != 0 {
		return c
	}
	if c := cmp.Compare(a.prefix.Bits(), b.prefix.Bits()); c != 0 {
		return c
	}
	if c := cmp.Compare(a.origin.Kind, b.origin.Kind); c != 0 {
		return c
	}
	return cmp.Compare(a.origin.ASN, b.origin.ASN)
}

// invalids returns the snapshot's invalid routes sorted by (prefix,
// origin), with their impact, computed on first use and kept: Diff(a, b)
// then Diff(b, c) assesses b once.
func (sn *Snapshot) invalids() []invalidRoute {
	sn.invOnce.Do(func() {
		a := sn.Analysis
		n := 0
		for id := range a.Outcomes {
			if isInvalid(a.Outcomes[id]) {
				n++
			}
		}
		sn.inv = make([]invalidRoute, 0, n)
		for id, r := range a.Table.Routes() {
			if isInvalid(a.Outcomes[id]) {
				o := a.Outcomes[id]
				sn.inv = append(sn.inv, invalidRoute{prefix: r.Prefix, origin: r.Origin, resolved: o.Origin,
					impact: a.Assess(id, nil).Impact, class: o.Class, paths: r.Paths, peers: int32(a.Table.PeerCount(id)), id: int32(id),
					dropped: o.Dropped})
			}
		}
		slices.SortFunc(sn.inv, compareInvalid)
	})
	return sn.inv
}

// DiffBase returns what Diff and a watcher's event causes need of sn as
// their prev: a Snapshot with sn's Epoch, Built and VRPs, its invalid
// routes (assessed now, if no Diff did yet) with their carrying peers and
// deciding VRP, the set of all its routes (Has) and its Counts, but no
// Analysis. A caller that keeps the last snapshot only to diff the next
// one against it and to tell why each change happened keeps this instead,
// and does not hold a whole table and analysis (about 110 bytes a path on
// a full table) alive while the live table moves on: the route set costs
// 16 bytes a route (24 for an
// IPv6 prefix longer than /64), the invalid routes a few hundred bytes
// each (see BenchmarkMemory, base-B/path). Of a DiffBase, Has answers for
// every route; Carriers and DecidingVRP only for its invalid routes.
func (sn *Snapshot) DiffBase() *Snapshot {
	if sn.Analysis == nil {
		return sn
	}
	inv := sn.invalids()
	b := &Snapshot{Epoch: sn.Epoch, Built: sn.Built, VRPs: sn.VRPs, inv: inv,
		base: &diffBase{localAS: sn.Analysis.Options.LocalAS}, counts: sn.Counts()}
	b.invOnce.Do(func() {})
	a := sn.Analysis
	t := a.Table
	keys := t.Peers()
	bs := b.base
	bs.peerKeys = slices.Clone(keys)
	bs.peerOff = make([]uint32, 1, len(inv)+1)
	bs.vrp = make([]rov.VRP, len(inv))
	var ids []int
	for i, r := range inv {
		id := int(r.id) // not t.Lookup: that would build the table's lookup map
		ids = t.RoutePeers(id, ids[:0])
		for _, p := range ids {
			bs.peers = append(bs.peers, uint32(p))
		}
		bs.peerOff = append(bs.peerOff, uint32(len(bs.peers)))
		if refs := a.VRPs(id); len(refs) > 0 {
			bs.vrp[i] = a.Index.VRP(refs[0])
		}
	}
	routes := t.Routes()
	bs.short = make([]shortKey, 0, len(routes))
	for _, r := range routes {
		k := pfxkey.Of(r.Prefix)
		if k.Bits <= 64 {
			bs.short = append(bs.short, packShort(k, r.Origin))
		} else {
			bs.long = append(bs.long, longKey{hi: k.Hi, lo: k.Lo, asn: r.Origin.ASN, bits: k.Bits, fam: k.Fam, kind: uint8(r.Origin.Kind)})
		}
	}
	// Routes come in prefix order: both sorts are nearly linear.
	slices.SortFunc(bs.short, compareShort)
	slices.SortFunc(bs.long, compareLong)
	return b
}

// diffBase is what a DiffBase keeps of its snapshot beyond the invalid
// routes: every route's (prefix, origin) in two sorted sets, and per
// invalid route (parallel to Snapshot.inv) its peers and deciding VRP.
type diffBase struct {
	short    []shortKey    // prefixes up to /64 (all of IPv4): 16 bytes a route
	long     []longKey     // IPv6 prefixes longer than /64
	peerKeys []bgp.PeerKey // the table's peers
	peers    []uint32      // inv[i]'s peers: peerKeys[peers[peerOff[i]:peerOff[i+1]]]
	peerOff  []uint32
	vrp      []rov.VRP // inv[i]'s deciding VRP; the zero VRP (invalid prefix) for none
	localAS  uint32
}

// shortKey is a route whose prefix has at most 64 bits, so that its
// address fits in one word (pfxkey.Key.Lo is zero): hi is Key.Hi, and lo
// packs the family (bits 56-63), length (48-55), origin kind (32-39) and
// origin ASN (0-31). Ordered by (family, address, length, origin).
type shortKey struct{ hi, lo uint64 }

func packShort(k pfxkey.Key, o rov.Origin) shortKey {
	return shortKey{hi: k.Hi, lo: uint64(k.Fam)<<56 | uint64(k.Bits)<<48 | uint64(o.Kind)<<32 | uint64(o.ASN)}
}

func compareShort(a, b shortKey) int {
	if c := cmp.Compare(a.lo>>56, b.lo>>56); c != 0 {
		return c
	}
	if c := cmp.Compare(a.hi, b.hi); c != 0 {
		return c
	}
	return cmp.Compare(a.lo, b.lo)
}

// longKey is a route whose IPv6 prefix is longer than /64.
type longKey struct {
	hi, lo          uint64
	asn             uint32
	bits, fam, kind uint8
}

func compareLong(a, b longKey) int {
	if c := cmp.Compare(a.hi, b.hi); c != 0 {
		return c
	}
	if c := cmp.Compare(a.lo, b.lo); c != 0 {
		return c
	}
	if c := cmp.Compare(a.bits, b.bits); c != 0 {
		return c
	}
	if c := cmp.Compare(a.kind, b.kind); c != 0 {
		return c
	}
	return cmp.Compare(a.asn, b.asn)
}

// Has reports whether route (p, o) is in sn, o the origin as the table
// keys it (OriginLocal for a route the local AS originates).
func (sn *Snapshot) Has(p netip.Prefix, o rov.Origin) bool {
	if sn.Analysis != nil {
		_, ok := sn.Analysis.Table.Lookup(p, o)
		return ok
	}
	if sn.base == nil || !p.IsValid() {
		return false
	}
	k := pfxkey.Of(p.Masked())
	if k != pfxkey.Of(p) {
		return false // the table holds masked prefixes only
	}
	if k.Bits <= 64 {
		_, ok := slices.BinarySearchFunc(sn.base.short, packShort(k, o), compareShort)
		return ok
	}
	_, ok := slices.BinarySearchFunc(sn.base.long, longKey{hi: k.Hi, lo: k.Lo, asn: o.ASN, bits: k.Bits, fam: k.Fam, kind: uint8(o.Kind)}, compareLong)
	return ok
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
	for _, p := range sn.base.peers[sn.base.peerOff[i]:sn.base.peerOff[i+1]] {
		dst = append(dst, sn.base.peerKeys[p])
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
	if !ok || !sn.base.vrp[i].Prefix.IsValid() {
		return rov.VRP{}, false
	}
	return sn.base.vrp[i], true
}

// invalidIndex finds invalid route (p, o) of a DiffBase in inv.
func (sn *Snapshot) invalidIndex(p netip.Prefix, o rov.Origin) (int, bool) {
	if sn.base == nil {
		return 0, false
	}
	return slices.BinarySearchFunc(sn.inv, invalidRoute{prefix: p, origin: o}, compareInvalid)
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
	var pi, ni []invalidRoute
	if prev != nil {
		pi = prev.invalids()
	}
	if next != nil {
		ni = next.invalids()
	}
	change := func(k ChangeKind, r invalidRoute) Change {
		return Change{Kind: k, Prefix: r.prefix, Origin: r.resolved, Paths: int(r.paths), Peers: int(r.peers)}
	}
	var out []Change
	i, j := 0, 0
	for i < len(pi) || j < len(ni) {
		c := 0
		switch {
		case i == len(pi):
			c = 1
		case j == len(ni):
			c = -1
		default:
			c = compareInvalid(pi[i], ni[j])
		}
		switch {
		case c < 0:
			ch := change(Disappeared, pi[i])
			ch.OldClass, ch.OldImpact = pi[i].class, pi[i].impact
			out = append(out, ch)
			i++
		case c > 0:
			ch := change(Appeared, ni[j])
			ch.Class, ch.Impact = ni[j].class, ni[j].impact
			out = append(out, ch)
			j++
		default:
			oc, nc := pi[i].class, ni[j].class
			if oc != nc || pi[i].impact != ni[j].impact {
				ch := change(Changed, ni[j])
				ch.OldClass, ch.OldImpact, ch.Class, ch.Impact = oc, pi[i].impact, nc, ni[j].impact
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
