package mrt

import (
	"cmp"
	"iter"
	"math"
	"slices"
	"time"

	"github.com/rovimpact/rovimpact/internal/kmerge"
	"github.com/rovimpact/rovimpact/internal/pfxkey"
	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
)

// RIB is a routing table built by replaying route events: a RIB dump and
// then update files applied in order, or update files alone (a session that
// received a full table). It holds, per peer, one path per (prefix, path
// id) — the last announcement — as RFC 4271 §3.2 Adj-RIB-In does (with
// RFC 7911 path ids telling ADD-PATH paths apart).
//
// Storage is compact because real use is ~1M prefixes × tens of peers:
// each held path costs one map slot of 24 bytes (8-byte key: prefix number
// and path id; 16-byte value: path number, next hop number with the RPKI
// state, time) in a per-peer map, and no pointer. Prefixes, AS paths and
// next hops are interned: stored once, numbered, and shared by every path
// that uses them. Interned values are never freed, so a long replay of
// churning updates keeps the AS paths it has ever seen (bounded by the
// distinct paths in the input, which is small against the table).
//
// A RIB is not safe for concurrent use.
type RIB struct {
	peers  []route.PeerKey
	peerIx map[route.PeerKey]int
	tables []map[uint64]ribVal // per peer index: (prefix id, path id) -> path

	prefixes []pfxkey.Key
	prefixIx map[pfxkey.Key]uint32

	attrs Attrs // AS paths and next hops

	n     int
	stats route.RIBStats

	route route.Route // reused by All
}

// ribVal is one held path. nh packs the next-hop number (low 24 bits) and
// RPKIState+1 (high 8 bits).
type ribVal struct {
	time int64 // UnixNano, or ribNoTime
	path uint32
	nh   uint32
}

const ribNoTime = math.MinInt64

// NewRIB returns an empty table.
func NewRIB() *RIB {
	t := &RIB{
		peerIx:   make(map[route.PeerKey]int),
		prefixIx: make(map[pfxkey.Key]uint32),
		attrs:    NewAttrs(),
	}
	return t
}

// Apply replays one event from peer by the one Adj-RIB-In rule
// (route.Replay): Announce adds or replaces the peer's path for (Prefix,
// PathID), Withdraw removes it, PeerDown removes every path from the peer.
// r.Peer is ignored: peer is what identifies the neighbour across files.
// r is not retained.
func (t *RIB) Apply(r *route.Route, peer route.PeerKey) {
	pi, ok := t.peerIx[peer]
	if !ok {
		pi = len(t.peers)
		t.peerIx[peer] = pi
		t.peers = append(t.peers, peer)
		t.tables = append(t.tables, nil)
	}
	tab := t.tables[pi]
	var (
		pk    pfxkey.Key
		id    uint32
		known bool
		key   uint64
	)
	act := route.Replay(r.Kind, r.Prefix, func() bool {
		pk = pfxkey.Of(r.Prefix.Masked())
		if id, known = t.prefixIx[pk]; !known {
			return false
		}
		key = uint64(id)<<32 | uint64(r.PathID)
		_, held := tab[key]
		return held
	})
	flushed := 0
	switch act {
	case route.Flush:
		flushed = len(tab)
		t.n -= flushed
		t.tables[pi] = nil
	case route.Remove:
		delete(tab, key)
		t.n--
	case route.Add, route.Replace:
		if !known {
			id = uint32(len(t.prefixes))
			t.prefixes = append(t.prefixes, pk)
			t.prefixIx[pk] = id
			key = uint64(id)<<32 | uint64(r.PathID)
		}
		if tab == nil {
			tab = make(map[uint64]ribVal)
			t.tables[pi] = tab
		}
		v := ribVal{time: ribNoTime, path: t.attrs.InternPath(r.Path), nh: t.attrs.InternNextHop(r.NextHop) | uint32(uint8(r.RPKIState+1))<<24}
		if !r.Time.IsZero() {
			v.time = r.Time.UnixNano()
		}
		if act == route.Add {
			t.n++
		}
		tab[key] = v
	}
	t.stats.Count(act, flushed)
}

// Len returns the number of paths held.
func (t *RIB) Len() int { return t.n }

// Peers lists every peer Apply has seen, in first-seen order; Route.Peer.Index
// from All indexes it.
func (t *RIB) Peers() []route.PeerKey { return t.peers }

// Stats returns what Apply did so far.
func (t *RIB) Stats() route.RIBStats { return t.stats }

// PathsInterned returns the number of distinct AS paths stored, and the
// bytes of their encoding.
func (t *RIB) PathsInterned() (paths, bytes int) { return t.attrs.Paths() }

// All yields every path held, as Announce routes with FromUpdate false, in
// a deterministic order: by prefix (IPv4 first, then address, then
// length), then peer (by AS, then address), then path id. Route.Peer.Index
// indexes Peers(); Path, Origin, NextHop, Time and RPKIState are those of
// the last announcement. The Route and its slices are reused between
// iterations. The RIB must not be changed during the iteration.
//
// Cost: sorting needs 8 bytes per held path and 4 per distinct prefix for
// the duration of the iteration.
func (t *RIB) All() iter.Seq[*route.Route] {
	return func(yield func(*route.Route) bool) {
		// rank[id] is the position of prefix id in sorted order.
		order := make([]uint32, len(t.prefixes))
		for i := range order {
			order[i] = uint32(i)
		}
		slices.SortFunc(order, func(a, b uint32) int { return t.prefixes[a].Compare(t.prefixes[b]) })
		rank := make([]uint32, len(t.prefixes))
		for r, id := range order {
			rank[id] = uint32(r)
		}
		// Peers in (AS, IP) order.
		peerOrder := make([]int, len(t.peers))
		for i := range peerOrder {
			peerOrder[i] = i
		}
		slices.SortFunc(peerOrder, func(a, b int) int {
			pa, pb := t.peers[a], t.peers[b]
			if pa.AS != pb.AS {
				if pa.AS < pb.AS {
					return -1
				}
				return 1
			}
			return pa.IP.Compare(pb.IP)
		})
		// Per peer, keys sorted by (prefix rank, path id); then a k-way
		// merge across peers by prefix rank, peers in (AS, IP) order.
		var runs [][]uint64
		var runPeer []int
		for _, p := range peerOrder {
			tab := t.tables[p]
			if len(tab) == 0 {
				continue
			}
			keys := make([]uint64, 0, len(tab))
			for k := range tab {
				keys = append(keys, uint64(rank[k>>32])<<32|k&0xffffffff)
			}
			slices.Sort(keys)
			runs = append(runs, keys)
			runPeer = append(runPeer, p)
		}
		r := &t.route
		for run, k := range kmerge.All(runs, func(a, b uint64) int { return cmp.Compare(a>>32, b>>32) }) {
			peer := runPeer[run]
			pid := order[k>>32]
			pathID := uint32(k)
			v := t.tables[peer][uint64(pid)<<32|uint64(pathID)]
			pk := t.peers[peer]
			r.Kind = route.Announce
			r.Peer = route.Peer{Index: peer, AS: pk.AS, IP: pk.IP}
			r.Prefix = t.prefixes[pid].Prefix()
			r.PathID = pathID
			r.Path = t.attrs.DecodePath(r.Path, v.path)
			r.Origin = rov.OriginOf(r.Path)
			r.NextHop = t.attrs.NextHop(v.nh & (MaxNextHops - 1))
			r.RPKIState = route.RPKIState(int8(v.nh>>24) - 1)
			r.Time = time.Time{}
			if v.time != ribNoTime {
				r.Time = time.Unix(0, v.time).UTC()
			}
			r.FromUpdate = false
			if !yield(r) {
				return
			}
		}
	}
}
