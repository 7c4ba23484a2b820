// Package live is the live table behind `rovimpact watch`: every peer's
// paths (its pre-policy Adj-RIB-In, as BGP or BMP collectors deliver it),
// the routes they form, each route's ROV verdict kept current as paths and
// VRPs change, and read-only snapshots that the batch reports understand.
//
// A route (unique prefix and origin) is validated once, when its first path
// arrives, with classify.ClassifyRoute, the rule classify.Analyze applies,
// so a snapshot says exactly what `rovimpact analyze` would say about the
// same paths and VRPs (the oracle test holds it to that). A VRP change
// re-validates only the routes it can affect (see UpdateVRPs). Impact is not
// local (a route appearing changes the impact of every dropped route under
// it), so it is recomputed per snapshot by classify.Assemble, from the kept
// verdicts, without validating again.
//
// Memory: per held path one 16-byte slot (route, interned AS path and
// next hop, time) in its peer's table of (prefix, path id) to path: an
// array by prefix id for a peer holding paths for most prefixes (a full
// table), a map (24-byte slots) otherwise (see peerPaths); per route
// 24 bytes plus 4 per 32 peers; per distinct prefix about 25 bytes (an
// 8-byte key word, 16 more for an IPv6 address; a 4-byte index slot at
// most three quarters full; route chain head; sorted view; prefixes are
// interned for life, bounded by the distinct prefixes seen); AS paths
// and next hops interned once, and re-interned when unused ones pile up,
// so churn does not grow them; 4 bytes a route of ASPA counts while a
// set is in use. The large arrays live outside the Go heap, in huge-page
// mappings (mapped.go): on a full table from bird2 ~78 bytes a path of
// resident memory (BenchmarkApplyBirdOrder), where gobgp's Adj-RIB-In
// costs 750-840.
package live

import (
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"weak"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/mrt"
	bgp "github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
	"github.com/rovimpact/rovimpact/table"
)

// Options for a State.
type Options struct {
	// Classify carries the AS_SET policy, the impact options and LocalAS,
	// exactly as for classify.Analyze. Workers is not used.
	Classify classify.Options
	// MaxPaths limits the paths held per peer (0: no limit), as
	// --max-prefixes: an announcement of a NEW (prefix, path id) beyond it is
	// skipped and counted as "prefix_limit"; replacements and withdrawals of
	// held paths still apply, so the peer's table stays correct for the
	// paths it has. (A router would tear the session down; a monitor keeps
	// what it can and says what it skipped.)
	MaxPaths int
}

// noRoute ends a prefix's chain of routes and marks "no route".
const noRoute = ^uint32(0)

// noVRP marks a VRP reference whose VRP left the set.
const noVRP = ^uint32(0)

// route is one unique (prefix, origin) with at least one path; a route
// whose paths dropped to 0 is free (on the free list) and reused. Routes
// are found through their prefix's chain (head, next): a prefix has one
// or two origins, so walking the chain is cheaper than a map keyed by
// (prefix, origin), in time and in memory. The origin's kind, the verdict
// (instead of a classify.Outcome's 24 bytes: outcome rebuilds it) and the
// number of deciding VRPs share one word (meta): 24 bytes a route, one
// per prefix of a full table.
type route struct {
	prefix uint32 // prefix id
	next   uint32 // next route of the same prefix, or noRoute
	asn    uint32 // origin AS (origin().ASN)
	paths  uint32 // paths carrying it: peers × ADD-PATH ids; 0: free
	vrpOff uint32 // deciding VRPs: see State.refsOf
	meta   uint32 // origin kind | state | class | flags | deciding VRPs' count: the meta* constants
}

// route.meta's fields, from bit 0: origin kind (2 bits), state (2), class
// (3), flags (3), and from metaLenShift the number of deciding VRPs (22
// bits; vrpLenEscape and above: see State.refsOf).
const (
	metaStateShift = 2
	metaClassShift = 4
	metaFlagsShift = 7
	metaLenShift   = 10
)

// The kinds, states and classes fit their fields (a compile error when one
// outgrows it).
const (
	_ = uint8(3 - rov.OriginLocal)
	_ = uint8(3 - rov.Invalid)
	_ = uint8(7 - classify.Both)
)

// vrpLenEscape is the deciding VRPs' count in meta that means "the count
// is in s.refs[vrpOff], the VRPs follow it": no real route is decided by
// 4 million VRPs, but a hostile cache can send that many covering one
// prefix, and a count must never be cut short. Tests lower it to exercise
// the escape. It must not change while a State lives.
var vrpLenEscape uint32 = 1<<(32-metaLenShift) - 1

const (
	flagAS0 = 1 << iota
	flagUnvalidated
	flagDropped
)

func (rt *route) origin() rov.Origin {
	return rov.Origin{Kind: rov.OriginKind(rt.meta & 3), ASN: rt.asn}
}

func (rt *route) state() rov.State      { return rov.State(rt.meta >> metaStateShift & 3) }
func (rt *route) class() classify.Class { return classify.Class(rt.meta >> metaClassShift & 7) }
func (rt *route) flags() uint32         { return rt.meta >> metaFlagsShift & 7 }

// refsOf returns route rt's deciding VRPs (indexes into s.vrps).
func (s *State) refsOf(rt *route) []uint32 {
	off, n := rt.vrpOff, rt.meta>>metaLenShift
	if n == vrpLenEscape {
		n = s.refs[off]
		off++
	}
	return s.refs[off : off+n]
}

// refSpan is the length of route rt's run in s.refs: its deciding VRPs,
// and their count when escaped.
func (s *State) refSpan(rt *route) uint32 {
	if n := rt.meta >> metaLenShift; n != vrpLenEscape {
		return n
	}
	return s.refs[rt.vrpOff] + 1
}

// dropRefs makes route rt's run in s.refs garbage (rt is re-validated
// or freed).
func (s *State) dropRefs(rt *route) { s.garbage += int(s.refSpan(rt)) }

// outcome returns route rt's verdict as classify.ClassifyRoute gave it.
func (s *State) outcome(rt *route) classify.Outcome {
	f := rt.flags()
	return classify.Outcome{
		Origin: rt.origin().WithLocalAS(s.opt.Classify.LocalAS), State: rt.state(), Class: rt.class(),
		AS0: f&flagAS0 != 0, Unvalidated: f&flagUnvalidated != 0, Dropped: f&flagDropped != 0,
	}
}

// peer is one BGP neighbour: its Adj-RIB-In as (prefix id << 32 | path id)
// -> path. A peer's slot is freed by its PeerDown (free set, key zero) and
// reused by the next new peer, so that peers coming and going (BMP routers
// reconnecting, sessions renumbered) do not grow the peer list or every
// route's peer bitset.
type peer struct {
	id    peerID
	key   bgp.PeerKey // id.key; zero while free
	free  bool
	paths *peerPaths // nil while free
}

// peerID is how the State tells peers apart: the feed that delivers the
// peer's events, the feed's number for it (route.Peer.Index; always 0 for
// Apply, which keys by AS and address only) and its AS and address. Two
// peers may share an AS and address (two BMP routers monitoring one route
// server, one neighbour in two VRFs, a neighbour seen over BGP and over
// BMP): their Adj-RIB-Ins stay apart, and reports, like `analyze` of the
// same paths, count them as one peer (route.PeerKey).
type peerID struct {
	feed  uint32
	index int
	key   bgp.PeerKey
}

// pathRef names one held path, for the few (AS_SET) paths that keep more
// than their route.
type pathRef struct {
	peer uint32
	key  uint64
}

// asSetCount counts the paths of a route that carry one interned AS_SET.
type asSetCount struct {
	set uint32
	n   uint32
}

// State is the live table: every peer's paths (its pre-policy Adj-RIB-In),
// the routes they form, each route's verdict kept current, and read-only
// snapshots for reports. Safe for concurrent use: one mutex guards the
// table, held for short steps only (an event; a snapshot's copy of the
// routes; a VRP change's re-validation), while the slow parts of VRP
// changes (the index rebuild) and snapshots (impact) run outside it.
type State struct {
	mu     sync.Mutex
	snapMu sync.Mutex // serialises snapshot builds; taken before mu
	vrpMu  sync.Mutex // serialises VRP changes; taken before mu
	opt    Options

	peers  []peer
	peerIx map[peerID]uint32
	// lastPeer is the peer of the last event (peerSlot): a full table
	// arrives from one peer, and hashing its peerID for every path cost
	// more than comparing it.
	lastPeer struct {
		id peerID
		pi uint32
		ok bool
	}
	freePeers []uint32 // free slots of peers
	feeds     uint32   // feeds handed out by Feed

	pfx prefixSet
	// mem holds the large arrays below (routes, bits, refs, prefix chain
	// heads and index, a full-table peer's paths, ASPA counts) off the Go
	// heap (mapped.go).
	mem *bigMem

	routes []route
	free   []uint32
	live   int64 // routes with paths > 0
	npaths int64
	words  int      // peer bitset words per route
	bits   []uint32 // route id * words: peers carrying the route (32 a word: 4 bytes a route up to 32 peers)
	// extra counts, by route id << 32 | peer, a peer's paths to a route
	// beyond the first (ADD-PATH): few, so a map beside the bitset.
	extra map[uint64]uint32

	// AS_SET members of OriginNone routes, kept per path so that the union
	// shrinks when a path goes (table.Table keeps the union over paths).
	asSetOf    map[pathRef]uint32
	asSets     [][]uint32
	asSetIx    map[string]uint32
	routeSets  map[uint32][]asSetCount
	asSetBytes []byte

	vrps    []rov.PackedVRP // sorted by PackedVRP.Compare, one per (prefix, maxLength, ASN); see SetVRPs
	ix      *rov.Index
	cls     *classify.Classifier
	refs    []uint32 // deciding VRP indexes (into vrps) of every route
	garbage int      // refs no longer referenced by a route
	escaped int      // runs in refs, garbage included, that start with their count (see refsOf)

	attrs           mrt.Attrs // AS paths and next hops of the held paths, for Paths
	aspa            aspaLive  // ASPA verdicts of the held paths (aspa.go)
	attrCompactions int64
	attrSlack       int64 // see maybeCompactAttrs

	epoch       uint64
	epochNow    atomic.Uint64          // epoch, readable without mu (see Epoch)
	snap        weak.Pointer[Snapshot] // the last snapshot built, while someone holds it (see Snapshot)
	revalidated int64
	indexBuilds int64
	snapBuilds  int64
	events      [len(eventNames)]int64 // by evAnnounce...: a counter, not a map, on the per-path path
	skipped     map[string]int64

	// walkRoutesAbove: a VRP change touching more VRPs than this fraction
	// of the live routes finds its routes by walking the routes instead of
	// the VRPs (see affected). Tests set it to force either way.
	walkRoutesAbove float64
	onRevalidate    func(ids []uint32) // tests: the routes a VRP change re-validates
	beforeInstall   func()             // tests: runs between a VRP change's index build and its re-validation

	vrpTAs    rov.TATable            // names of the TAs of vrps (guarded by vrpMu)
	shareVRPs func() []rov.PackedVRP // see ShareVRPs (guarded by vrpMu)
}

// New returns an empty State with no VRPs (every route NotFound until
// SetVRPs or UpdateVRPs).
func New(opt Options) *State {
	s := &State{
		opt:             opt,
		peerIx:          map[peerID]uint32{},
		words:           1,
		extra:           map[uint64]uint32{},
		asSetOf:         map[pathRef]uint32{},
		asSetIx:         map[string]uint32{},
		routeSets:       map[uint32][]asSetCount{},
		attrs:           mrt.NewAttrs(),
		skipped:         map[string]int64{},
		walkRoutesAbove: 0.25,
		attrSlack:       1 << 16,
	}
	s.mem = newMapped(s)
	s.pfx = newPrefixSet(s.mem)
	s.ix = rov.NewIndex(nil)
	s.cls = classify.NewClassifier(s.ix)
	return s
}

// Apply applies one event from a collector: route.Announce adds or replaces
// the peer's path for (Prefix, PathID), route.Withdraw removes it,
// route.PeerDown removes every path of the peer (RFC 4271 §8.2.2: leaving
// Established releases the session's routes) and forgets the peer. The
// peer is route.PeerKey{AS: r.Peer.AS, IP: r.Peer.IP}; r.Peer.Index is
// ignored (see Feed for sources that number their peers). The route's
// origin is r.Origin (sources derive it from the AS_PATH per RFC 6811 §2).
// r is not retained.
//
// Counted in Stats().Skipped, and otherwise ignored: withdrawals of paths
// not held ("withdraw_unknown"), new paths beyond Options.MaxPaths
// ("prefix_limit"), invalid prefixes ("invalid_prefix") and other kinds
// ("kind_<n>").
//
// Cost: a few map operations; a route's first path also validates it.
func (s *State) Apply(r *bgp.Route) { s.apply(0, r) }

// Feed returns the Apply of one route source (a collector) whose events
// name each peer by route.Peer.Index as well as by AS and address: the
// peers of one feed are told apart by (Index, AS, address), and never
// share paths with those of another feed or of Apply. A BMP station
// numbers each (router connection, per-peer header) apart, so two routers
// reporting the same neighbour keep separate Adj-RIB-Ins, and one's Peer
// Down flushes exactly its own paths. Reports still count peers by AS and
// address, as `analyze` does. The returned function may be called from
// any goroutine.
func (s *State) Feed() func(*bgp.Route) {
	s.mu.Lock()
	s.feeds++
	f := s.feeds
	s.mu.Unlock()
	return func(r *bgp.Route) { s.apply(f, r) }
}

func (s *State) apply(feed uint32, r *bgp.Route) {
	id := peerID{feed: feed, key: bgp.PeerKey{AS: r.Peer.AS, IP: r.Peer.IP}}
	if feed != 0 {
		id.index = r.Peer.Index
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// The one Adj-RIB-In rule (route.Replay) decides; the lookup it asks
	// for is kept for announce and withdraw.
	var h heldPathRef
	act := bgp.Replay(r.Kind, r.Prefix, func() bool { return s.lookupHeld(id, r, &h) })
	switch act {
	case bgp.Add, bgp.Replace:
		s.announce(r, &h)
	case bgp.Remove:
		s.withdraw(&h)
	case bgp.WithdrawUnknown:
		s.skipped["withdraw_unknown"]++
	case bgp.Flush:
		s.peerDown(id)
	case bgp.IgnorePrefix:
		s.skipped["invalid_prefix"]++
	default:
		s.skipped[fmt.Sprintf("kind_%d", r.Kind)]++
	}
}

// heldPathRef is what lookupHeld found of an event's (peer, prefix, path
// id): the peer's slot, the prefix id (when known), the path's key in the
// peer's map and the held path.
type heldPathRef struct {
	pi, pid    uint32
	key        uint64
	known, had bool
	held       pathVal
}

// lookupHeld finds the path r names (a valid prefix). An announcement's
// peer is created when new; a withdrawal's is not.
func (s *State) lookupHeld(id peerID, r *bgp.Route, h *heldPathRef) bool {
	if r.Kind == bgp.Announce {
		h.pi = s.peerOf(id)
	} else if pi, ok := s.peerSlot(id); ok {
		h.pi = pi
	} else {
		return false
	}
	h.pid, h.known = s.pfx.lookup(r.Prefix.Masked())
	if h.known {
		h.key = uint64(h.pid)<<32 | uint64(r.PathID)
		h.held, h.had = s.peers[h.pi].paths.get(h.key)
	}
	return h.had
}

// peerSlot returns the slot of peer id, if it has one.
func (s *State) peerSlot(id peerID) (uint32, bool) {
	if s.lastPeer.ok && s.lastPeer.id == id {
		return s.lastPeer.pi, true
	}
	i, ok := s.peerIx[id]
	if ok {
		s.lastPeer.id, s.lastPeer.pi, s.lastPeer.ok = id, i, true
	}
	return i, ok
}

// peerOf returns the slot of peer id, taking a free one (or a new one)
// when the peer is new.
func (s *State) peerOf(id peerID) uint32 {
	if i, ok := s.peerSlot(id); ok {
		return i
	}
	if n := len(s.freePeers); n > 0 {
		i := s.freePeers[n-1]
		s.freePeers = s.freePeers[:n-1]
		s.peers[i] = peer{id: id, key: id.key, paths: newPeerPaths(s.mem)}
		s.peerIx[id] = i
		return i
	}
	i := uint32(len(s.peers))
	s.peers = append(s.peers, peer{id: id, key: id.key, paths: newPeerPaths(s.mem)})
	s.peerIx[id] = i
	if need := (len(s.peers) + 31) / 32; need > s.words {
		nb := bigMake[[]uint32](s.mem, len(s.routes)*need)
		for r := range s.routes {
			copy(nb[r*need:], s.bits[r*s.words:(r+1)*s.words])
		}
		release(s.mem, s.bits)
		s.bits, s.words = nb, need
	}
	return i
}

func (s *State) announce(r *bgp.Route, h *heldPathRef) {
	p := r.Prefix.Masked()
	pi, pid, known, held, had := h.pi, h.pid, h.known, h.held, h.had
	pe := &s.peers[pi]
	old := held.route
	if !had && s.opt.MaxPaths > 0 && pe.paths.len() >= s.opt.MaxPaths {
		s.skipped["prefix_limit"]++
		return
	}
	if !known {
		pid = s.pfx.add(p)
	}
	if had {
		s.aspaDrop(pi, held)
	}
	key := uint64(pid)<<32 | uint64(r.PathID)
	ref := pathRef{pi, key}
	var asSet []uint32
	if r.Origin.Kind == rov.OriginNone {
		asSet = rov.FinalASSet(r.Path)
	}
	rid := s.routeFor(pid, p, r.Origin)
	switch {
	case had && old == rid:
		// Same route, new attributes: only the AS_SET members can differ.
		s.dropASSet(rid, ref)
		s.addASSet(rid, ref, asSet)
	case had:
		// RFC 4271 §3.2 / RFC 7911: the announcement replaces the peer's
		// path for (prefix, path id); the old route loses that path.
		s.removePath(old, pi, ref)
		s.addPath(rid, pi, ref, asSet)
	default:
		s.addPath(rid, pi, ref, asSet)
	}
	v := valOf(&s.attrs, rid, r)
	pe.paths.set(key, v, s.pfx.keys.len())
	s.aspaAdd(pi, v)
	s.maybeCompactAttrs()
	s.events[evAnnounce]++
	s.bump()
}

// withdraw removes the held path h found (route.Remove).
func (s *State) withdraw(h *heldPathRef) {
	s.aspaDrop(h.pi, h.held)
	s.peers[h.pi].paths.del(h.key)
	s.removePath(h.held.route, h.pi, pathRef{h.pi, h.key})
	s.events[evWithdraw]++
	s.bump()
}

// peerDown flushes peer id's paths and frees its slot (removePath left
// its bits clear in every route).
func (s *State) peerDown(id peerID) {
	s.events[evPeerDown]++
	pi, ok := s.peerIx[id]
	if !ok {
		return
	}
	pe := &s.peers[pi]
	pe.paths.all(func(key uint64, v pathVal) {
		s.aspaDrop(pi, v)
		s.removePath(v.route, pi, pathRef{pi, key})
	})
	delete(s.peerIx, id)
	s.lastPeer.ok = false
	pe.paths.release()
	s.peers[pi] = peer{free: true}
	s.freePeers = append(s.freePeers, pi)
	s.bump()
}

// routeFor returns the id of route (pid, origin), creating and validating
// it (with no paths yet) when new.
func (s *State) routeFor(pid uint32, p netip.Prefix, origin rov.Origin) uint32 {
	kind := uint32(origin.Kind)
	for id := s.pfx.head[pid]; id != noRoute; id = s.routes[id].next {
		if rt := &s.routes[id]; rt.asn == origin.ASN && rt.meta&3 == kind {
			return id
		}
	}
	var id uint32
	if n := len(s.free); n > 0 {
		id = s.free[n-1]
		s.free = s.free[:n-1]
	} else {
		id = uint32(len(s.routes))
		s.routes = append(bigRoom(s.mem, s.routes, 1), route{})
		s.bits = bigExtend(s.mem, s.bits, s.words)
	}
	rt := &s.routes[id]
	*rt = route{prefix: pid, next: s.pfx.head[pid], asn: origin.ASN, meta: kind}
	s.pfx.head[pid] = id
	s.validate(id, p)
	s.live++
	return id
}

// validate decides route id's verdict against the current index and stores
// it; the route's previous deciding VRPs become garbage.
func (s *State) validate(id uint32, p netip.Prefix) {
	rt := &s.routes[id]
	out, refs := classify.ClassifyRoute(s.cls, table.Route{Prefix: p, Origin: rt.origin()}, s.opt.Classify)
	s.dropRefs(rt)
	var flags uint32
	if out.AS0 {
		flags |= flagAS0
	}
	if out.Unvalidated {
		flags |= flagUnvalidated
	}
	if out.Dropped {
		flags |= flagDropped
	}
	n := uint32(len(refs))
	rt.vrpOff = uint32(len(s.refs))
	if n >= vrpLenEscape {
		s.refs = append(bigRoom(s.mem, s.refs, 1), n)
		n = vrpLenEscape
		s.escaped++
	}
	rt.meta = rt.meta&3 | uint32(out.State)<<metaStateShift | uint32(out.Class)<<metaClassShift |
		flags<<metaFlagsShift | n<<metaLenShift
	s.refs = append(bigRoom(s.mem, s.refs, len(refs)), refs...)
}

// addPath counts one more path of route rid from peer pi.
func (s *State) addPath(rid, pi uint32, ref pathRef, asSet []uint32) {
	rt := &s.routes[rid]
	rt.paths++
	s.npaths++
	w := &s.bits[int(rid)*s.words+int(pi/32)]
	if bit := uint32(1) << (pi % 32); *w&bit == 0 {
		*w |= bit
	} else {
		// ADD-PATH (RFC 7911): the peer carries the route on another path
		// id too; count it so that withdrawing one keeps the peer.
		s.extra[uint64(rid)<<32|uint64(pi)]++
	}
	s.addASSet(rid, ref, asSet)
}

// removePath drops one path of route rid from peer pi, freeing the route
// when it was the last.
func (s *State) removePath(rid, pi uint32, ref pathRef) {
	rt := &s.routes[rid]
	rt.paths--
	s.npaths--
	ek := uint64(rid)<<32 | uint64(pi)
	if n, ok := s.extra[ek]; ok {
		if n == 1 {
			delete(s.extra, ek)
		} else {
			s.extra[ek] = n - 1
		}
	} else {
		s.bits[int(rid)*s.words+int(pi/32)] &^= 1 << (pi % 32)
	}
	s.dropASSet(rid, ref)
	if rt.paths > 0 {
		return
	}
	// The route is gone: unlink it and put its id on the free list.
	h := &s.pfx.head[rt.prefix]
	for *h != rid {
		h = &s.routes[*h].next
	}
	*h = rt.next
	s.dropRefs(rt)
	delete(s.routeSets, rid)
	*rt = route{next: noRoute}
	s.free = append(s.free, rid)
	s.live--
	s.maybeCompactRefs()
}

func (s *State) addASSet(rid uint32, ref pathRef, members []uint32) {
	if len(members) == 0 || s.routes[rid].origin().Kind != rov.OriginNone {
		return
	}
	b := s.asSetBytes[:0]
	for _, a := range members {
		b = append(b, byte(a>>24), byte(a>>16), byte(a>>8), byte(a))
	}
	s.asSetBytes = b
	id, ok := s.asSetIx[string(b)]
	if !ok {
		id = uint32(len(s.asSets))
		s.asSets = append(s.asSets, slices.Clone(members))
		s.asSetIx[string(b)] = id
	}
	s.asSetOf[ref] = id
	cs := s.routeSets[rid]
	for i := range cs {
		if cs[i].set == id {
			cs[i].n++
			return
		}
	}
	s.routeSets[rid] = append(cs, asSetCount{id, 1})
}

func (s *State) dropASSet(rid uint32, ref pathRef) {
	id, ok := s.asSetOf[ref]
	if !ok {
		return
	}
	delete(s.asSetOf, ref)
	cs := s.routeSets[rid]
	for i := range cs {
		if cs[i].set == id {
			if cs[i].n--; cs[i].n == 0 {
				cs = slices.Delete(cs, i, i+1)
			}
			break
		}
	}
	if len(cs) == 0 {
		delete(s.routeSets, rid)
	} else {
		s.routeSets[rid] = cs
	}
}

// asSetUnion returns the sorted union of the AS_SET members of route rid's
// paths (what table.Table.ASSet keeps).
func (s *State) asSetUnion(rid uint32) []uint32 {
	cs := s.routeSets[rid]
	if len(cs) == 0 {
		return nil
	}
	var u []uint32
	for _, c := range cs {
		u = append(u, s.asSets[c.set]...)
	}
	slices.Sort(u)
	return slices.Compact(u)
}

// maybeCompactRefs rewrites the VRP reference arena once more than half of
// it is garbage, so churn does not grow it.
func (s *State) maybeCompactRefs() {
	if s.garbage < 1<<14 || s.garbage < len(s.refs)/2 {
		return
	}
	nr := bigRoom(s.mem, []uint32(nil), len(s.refs)-s.garbage+1024)
	escaped := 0
	for i := range s.routes {
		// Every route, not only those with paths: a replacement validates
		// its new route before the route's first path, and freeing the old
		// one on the way (removePath) compacts (TestCompactDuringReplace).
		// A free route's run is empty.
		rt := &s.routes[i]
		off, n := uint32(len(nr)), s.refSpan(rt)
		// bigRoom, not append alone: should the garbage count ever
		// fall short, append would move nr to the Go heap and leave its
		// mapping counted (and mapped) until the State goes.
		nr = append(bigRoom(s.mem, nr, int(n)), s.refs[rt.vrpOff:rt.vrpOff+n]...)
		rt.vrpOff = off
		if rt.meta>>metaLenShift == vrpLenEscape {
			escaped++
		}
	}
	release(s.mem, s.refs)
	s.refs, s.garbage, s.escaped = nr, 0, escaped
}

// Stats is a cheap summary of a State (no snapshot is built).
type Stats struct {
	Routes, Paths int64
	// Peers holding at least one path, counted by AS and address as
	// reports count them.
	Peers int
	// PeerPaths is the number of paths held per peer (AS and address), for
	// every peer known: seen and not gone down since (0 when all its paths
	// were withdrawn; absent after its PeerDown).
	PeerPaths   map[bgp.PeerKey]int64
	VRPs        int
	Revalidated int64 // routes re-validated by VRP changes, cumulative
	IndexBuilds int64 // rov.Index rebuilds (one per effective VRP change)
	// SnapshotBuilds counts the snapshots built (see Snapshot), and the
	// DiffBases built without one (State.DiffBase): each is a pass over
	// the whole table and an impact assessment.
	SnapshotBuilds int64
	// Events applied, by kind: "announce", "withdraw", "peer_down".
	Events map[string]int64
	// Skipped events, by reason: "prefix_limit", "withdraw_unknown",
	// "invalid_prefix", "kind_<n>".
	Skipped map[string]int64
	Epoch   uint64 // changes applied so far (see Snapshot.Epoch)
	// MappedBytes is what the table's large arrays have mapped outside the
	// Go heap (live/mapped.go): part of the RSS, absent from the Go
	// runtime's heap statistics. MapHeapFallbacks counts arrays the kernel
	// refused to map (ulimit -v, overcommit) and that went to the Go heap
	// instead; MapGrowCopies growths that copied an array because mremap
	// refused to move it. Both cost speed or memory, never a result.
	MappedBytes, MapHeapFallbacks, MapGrowCopies int64
}

// The kinds of Stats.Events.
const (
	evAnnounce = iota
	evWithdraw
	evPeerDown
)

var eventNames = [...]string{evAnnounce: "announce", evWithdraw: "withdraw", evPeerDown: "peer_down"}

// bump counts one change (s.mu held).
func (s *State) bump() {
	s.epoch++
	s.epochNow.Store(s.epoch)
}

// Epoch returns the number of changes applied so far (Snapshot.Epoch of a
// snapshot built now). It never waits for the State's lock, so a reader
// can tell whether its last snapshot is current while a long change (a
// first VRP load re-validating a full table) holds the lock.
func (s *State) Epoch() uint64 { return s.epochNow.Load() }

// Stats returns counters; cost is linear in the number of peers only.
func (s *State) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats()
}

// TryStats is Stats when the State's lock is free, and false without
// waiting when a change holds it: readers that must answer at once (a
// metrics scrape during a table load) fall back to the last Stats they
// got.
func (s *State) TryStats() (Stats, bool) {
	if !s.mu.TryLock() {
		return Stats{}, false
	}
	defer s.mu.Unlock()
	return s.stats(), true
}

func (s *State) stats() Stats {
	st := Stats{
		Routes: s.live, Paths: s.npaths, VRPs: len(s.vrps),
		PeerPaths:   make(map[bgp.PeerKey]int64, len(s.peers)),
		Revalidated: s.revalidated, IndexBuilds: s.indexBuilds, SnapshotBuilds: s.snapBuilds,
		Events: make(map[string]int64, len(eventNames)), Skipped: make(map[string]int64, len(s.skipped)),
		Epoch: s.epoch,
	}
	if s.mem != nil {
		st.MappedBytes, st.MapHeapFallbacks, st.MapGrowCopies = s.mem.bytes.Load(), s.mem.heapFalls.Load(), s.mem.copies.Load()
	}
	for _, p := range s.peers {
		if p.free {
			continue
		}
		st.PeerPaths[p.key] += int64(p.paths.len())
	}
	for _, n := range st.PeerPaths {
		if n > 0 {
			st.Peers++
		}
	}
	for k, v := range s.events {
		if v != 0 {
			st.Events[eventNames[k]] = v
		}
	}
	for k, v := range s.skipped {
		st.Skipped[k] = v
	}
	return st
}
