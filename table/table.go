// Package table holds the routes that exist now: each unique (prefix,
// origin) pair with the number of paths and the set of peers that carry it.
//
// A collector sees one route from many peers; ROV decides per route, and
// impact is a question about which routes survive, so the table is keyed by
// route, not by path. Batch sources fill a Table once; it is then read by
// validation, classification and reports.
package table

import (
	"math/bits"
	"net/netip"

	"github.com/rovimpact/rovimpact/rov"
)

// PeerKey identifies a BGP neighbour across input files and sources.
type PeerKey struct {
	AS uint32
	IP netip.Addr
}

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
	routes  []Route
	pos     map[routeKey]uint32
	asSets  map[uint32][]uint32
	peers   []PeerKey
	peerPos map[PeerKey]int
	words   int
	bits    []uint64
	paths   int64
}

// New returns an empty table.
func New() *Table {
	return &Table{pos: make(map[routeKey]uint32), asSets: make(map[uint32][]uint32), peerPos: make(map[PeerKey]int), words: 1}
}

// Peer returns the table's index for peer k, adding it when new.
func (t *Table) Peer(k PeerKey) int {
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
func (t *Table) Peers() []PeerKey { return t.peers }

// Lookup returns the id of route (prefix, origin).
func (t *Table) Lookup(prefix netip.Prefix, origin rov.Origin) (int, bool) {
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
