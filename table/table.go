// Package table holds the routes that exist now: each unique (prefix,
// origin) pair with the number of paths and the set of peers that carry it.
//
// A collector sees one route from many peers; ROV decides per route, and
// impact is a question about which routes survive, so the table is keyed by
// route, not by path. Batch sources fill a Table once; it is then read by
// validation, classification and reports.
package table

import (
	"fmt"
	"math/bits"
	"net/netip"
	"slices"
	"sync"

	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
)

// Route is one unique (prefix, origin) pair.
type Route struct {
	Prefix netip.Prefix
	Origin rov.Origin
	Paths  uint32 // paths carrying it: peers × ADD-PATH ids
}

type routeKey struct {
	prefix netip.Prefix
	origin rov.Origin
}

// Table aggregates paths into routes. Route ids (indexes into Routes) follow
// insertion order; reports sort, so output does not depend on input order.
//
// The peers of each route are a bitset in one flat arena (words per route),
// so adding a path allocates nothing once the route exists.
type Table struct {
	routes []Route
	// pos finds a route's id. A restored table builds it on first use
	// (posOnce): a lookup from a snapshot never needs it, and building a
	// map of a million routes would be a third of its load time.
	pos     map[routeKey]uint32
	posOnce sync.Once
	asSets  map[uint32][]uint32
	peers   []route.PeerKey
	peerPos map[route.PeerKey]int
	words   int
	bits    []uint64
	paths   int64
}

// New returns an empty table.
func New() *Table {
	return &Table{pos: make(map[routeKey]uint32), asSets: make(map[uint32][]uint32), peerPos: make(map[route.PeerKey]int), words: 1}
}

// Peer returns the table's index for peer k, adding it when new.
func (t *Table) Peer(k route.PeerKey) int {
	if i, ok := t.peerPos[k]; ok {
		return i
	}
	i := len(t.peers)
	t.peers = append(t.peers, k)
	t.peerPos[k] = i
	if need := (len(t.peers) + 63) / 64; need > t.words {
		t.restride(need)
	}
	return i
}

// restride widens every route's peer bitset to words words.
func (t *Table) restride(words int) {
	nb := make([]uint64, len(t.routes)*words, cap(t.bits)/t.words*words)
	for r := range t.routes {
		copy(nb[r*words:], t.bits[r*t.words:(r+1)*t.words])
	}
	t.bits, t.words = nb, words
}

// Add records one path for (prefix, origin) from peer (an index from Peer).
// asSet lists the members of the final AS_SET for OriginNone routes; they
// are kept (as a union over paths) only for reporting.
func (t *Table) Add(prefix netip.Prefix, origin rov.Origin, peer int, asSet []uint32) {
	k := routeKey{prefix, origin}
	t.posOnce.Do(t.buildPos)
	id, ok := t.pos[k]
	if !ok {
		id = uint32(len(t.routes))
		t.pos[k] = id
		t.routes = append(t.routes, Route{Prefix: prefix, Origin: origin})
		for range t.words {
			t.bits = append(t.bits, 0)
		}
	}
	t.routes[id].Paths++
	t.paths++
	t.bits[int(id)*t.words+peer/64] |= 1 << (peer % 64)
	if origin.Kind == rov.OriginNone && len(asSet) > 0 {
		t.asSets[id] = unionSorted(t.asSets[id], asSet)
	}
}

// Len is the number of routes.
func (t *Table) Len() int { return len(t.routes) }

// Routes returns the routes, indexed by route id. Read-only.
func (t *Table) Routes() []Route { return t.routes }

// Paths is the number of paths added.
func (t *Table) Paths() int64 { return t.paths }

// Peers lists the peers, indexed by peer index.
func (t *Table) Peers() []route.PeerKey { return t.peers }

// Lookup returns the id of route (prefix, origin).
func (t *Table) Lookup(prefix netip.Prefix, origin rov.Origin) (int, bool) {
	t.posOnce.Do(t.buildPos)
	id, ok := t.pos[routeKey{prefix, origin}]
	return int(id), ok
}

// HasPeer reports whether peer carries route id.
func (t *Table) HasPeer(id, peer int) bool {
	return t.bits[id*t.words+peer/64]&(1<<(peer%64)) != 0
}

// PeerCount is the number of distinct peers carrying route id.
func (t *Table) PeerCount(id int) int {
	n := 0
	for _, w := range t.bits[id*t.words : (id+1)*t.words] {
		n += bits.OnesCount64(w)
	}
	return n
}

// RoutePeers appends the peer indexes carrying route id to dst.
func (t *Table) RoutePeers(id int, dst []int) []int {
	for wi, w := range t.bits[id*t.words : (id+1)*t.words] {
		for w != 0 {
			b := bits.TrailingZeros64(w)
			dst = append(dst, wi*64+b)
			w &= w - 1
		}
	}
	return dst
}

// ASSet returns the union of the final AS_SET members seen for route id
// (OriginNone routes only), sorted.
func (t *Table) ASSet(id int) []uint32 { return t.asSets[uint32(id)] }

// buildPos fills pos for a restored table (New makes it; then it is a
// no-op). Of repeated (prefix, origin) pairs the first id wins.
func (t *Table) buildPos() {
	if t.pos != nil {
		return
	}
	t.pos = make(map[routeKey]uint32, len(t.routes))
	for id, r := range t.routes {
		k := routeKey{r.Prefix, r.Origin}
		if _, dup := t.pos[k]; !dup {
			t.pos[k] = uint32(id)
		}
	}
}

// Parts are a Table as stored data: everything Restore needs to rebuild it,
// nothing derived. The peer bitset of route id is
// Bits[id*Words:(id+1)*Words], bit p of it set when peer p carries the
// route; ASSets maps a route id to its sorted AS_SET union.
type Parts struct {
	Routes []Route
	Peers  []route.PeerKey
	Words  int
	Bits   []uint64
	ASSets map[uint32][]uint32
}

// Parts returns t's stored form. The slices and map are t's own: read-only.
func (t *Table) Parts() Parts {
	return Parts{Routes: t.routes, Peers: t.peers, Words: t.words, Bits: t.bits, ASSets: t.asSets}
}

// Restore rebuilds the Table whose Parts p are, keeping p's slices and map
// (the caller must not modify them afterwards). It checks what a Table's
// methods index by, so that a damaged p gives an error instead of a panic
// or a wrong count later: Words is what Peer would have made it
// (max(1, ⌈peers/64⌉)), Bits holds Words per route with no bit beyond the
// last peer, every route has at least one path and one peer (Add records
// both together), peers are distinct, AS_SET unions belong to OriginNone
// routes in range and are sorted without repeats. Routes must be distinct
// (prefix, origin) pairs as in any Table; that is not checked here (it
// needs the map Lookup builds on first use). Cost: one pass over Bits.
func Restore(p Parts) (*Table, error) {
	words := max(1, (len(p.Peers)+63)/64)
	if p.Words != words {
		return nil, fmt.Errorf("table: %d bitset words per route, want %d for %d peers", p.Words, words, len(p.Peers))
	}
	if len(p.Bits)/words != len(p.Routes) || len(p.Bits)%words != 0 {
		return nil, fmt.Errorf("table: %d bitset words for %d routes of %d words", len(p.Bits), len(p.Routes), words)
	}
	t := &Table{routes: p.Routes, peers: p.Peers, words: words, bits: p.Bits, asSets: p.ASSets, peerPos: make(map[route.PeerKey]int, len(p.Peers))}
	if t.asSets == nil {
		t.asSets = make(map[uint32][]uint32)
	}
	for i, k := range p.Peers {
		if _, dup := t.peerPos[k]; dup {
			return nil, fmt.Errorf("table: peer %d (AS%d %s) repeats an earlier peer", i, k.AS, k.IP)
		}
		t.peerPos[k] = i
	}
	// Bits past the last peer, in the last word of each route.
	var stray uint64
	if r := len(p.Peers) % 64; r != 0 || len(p.Peers) == 0 {
		stray = ^uint64(0) << r
	}
	for id, r := range p.Routes {
		if r.Paths == 0 {
			return nil, fmt.Errorf("table: route %d (%s): no paths", id, r.Prefix)
		}
		if r.Origin.Kind > rov.OriginLocal {
			return nil, fmt.Errorf("table: route %d (%s): unknown origin kind %d", id, r.Prefix, r.Origin.Kind)
		}
		set := p.Bits[id*words : (id+1)*words]
		if set[words-1]&stray != 0 {
			return nil, fmt.Errorf("table: route %d (%s): peer bit beyond the %d peers", id, r.Prefix, len(p.Peers))
		}
		if !slices.ContainsFunc(set, func(w uint64) bool { return w != 0 }) {
			return nil, fmt.Errorf("table: route %d (%s): no peer", id, r.Prefix)
		}
		t.paths += int64(r.Paths)
	}
	for id, set := range t.asSets {
		if int(id) >= len(p.Routes) {
			return nil, fmt.Errorf("table: AS_SET of route %d: only %d routes", id, len(p.Routes))
		}
		if k := p.Routes[id].Origin.Kind; k != rov.OriginNone {
			return nil, fmt.Errorf("table: AS_SET of route %d (%s), whose origin is not NONE", id, p.Routes[id].Prefix)
		}
		for j := range set {
			if j > 0 && set[j] <= set[j-1] {
				return nil, fmt.Errorf("table: AS_SET of route %d (%s): members not sorted and distinct at %d", id, p.Routes[id].Prefix, j)
			}
		}
		if len(set) == 0 {
			return nil, fmt.Errorf("table: AS_SET of route %d (%s): empty", id, p.Routes[id].Prefix)
		}
	}
	return t, nil
}

// unionSorted merges b into the sorted set a.
func unionSorted(a, b []uint32) []uint32 {
	for _, x := range b {
		i := 0
		for i < len(a) && a[i] < x {
			i++
		}
		if i < len(a) && a[i] == x {
			continue
		}
		a = append(a, 0)
		copy(a[i+1:], a[i:])
		a[i] = x
	}
	return a
}
