package live

import (
	"cmp"
	"iter"
	"runtime"
	"slices"
	"time"

	"github.com/rovimpact/rovimpact/internal/kmerge"
	"github.com/rovimpact/rovimpact/mrt"
	bgp "github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
)

// pathVal is one held path: its route and, for the MRT dump, its
// attributes. 16 bytes, no pointer: one array slot per path of a
// full-table peer, or with the 8-byte key (prefix id << 32 | path id) one
// 24-byte map slot (see peerPaths), the only per-path cost of the State. (mrt.RIB keeps the same attributes in the same slot size, but it
// cannot say which route a replaced or withdrawn path belonged to, and
// holding both would cost a second per-path map and a second prefix
// table; BenchmarkApply measures the total against mrt.RIB alone.)
type pathVal struct {
	route uint32
	path  uint32 // interned AS_PATH
	nh    uint32 // interned next hop (low 24 bits) | (RPKIState+1) << 24
	time  uint32 // Unix seconds of the announcement; 0: unknown
}

// valOf returns the attributes of r as a pathVal for route rid, interned
// in a. Values are not reference-counted; instead, once more values are
// interned than there are held paths plus a margin (so at least half of
// them are unused), State.maybeCompactAttrs re-interns the held paths'
// values into a fresh mrt.Attrs. Memory then stays proportional to the
// paths held, however long a feed churns.
func valOf(a *mrt.Attrs, rid uint32, r *bgp.Route) pathVal {
	v := pathVal{route: rid, path: a.InternPath(r.Path), nh: a.InternNextHop(r.NextHop) | uint32(uint8(r.RPKIState+1))<<24}
	if !r.Time.IsZero() {
		if t := r.Time.Unix(); t > 0 && t <= 1<<32-1 {
			v.time = uint32(t)
		}
	}
	return v
}

// maybeCompactAttrs re-interns the held paths' AS paths and next hops once
// the tables hold more values than held paths plus s.attrSlack (65536):
// each held path uses one of each, so then at least that many are unused,
// and the O(paths) pass is paid for by as many announcements.
func (s *State) maybeCompactAttrs() {
	a := &s.attrs
	if paths, _ := a.Paths(); int64(paths) <= s.npaths+s.attrSlack && int64(a.NextHops()) <= s.npaths+s.attrSlack {
		return
	}
	n := mrt.NewAttrs()
	for i := range s.peers {
		pp := s.peers[i].paths // nil for free slots
		pp.all(func(k uint64, v pathVal) {
			v.path = n.InternEncoded(a.PathBytes(v.path))
			v.nh = n.InternNextHop(a.NextHop(v.nh&(mrt.MaxNextHops-1))) | v.nh&^(mrt.MaxNextHops-1)
			pp.update(k, v)
		})
	}
	s.attrs = n
	s.attrCompactions++
}

// Paths returns every held path for an MRT dump: peers (indexed by
// Route.Peer.Index; every peer known, including those holding no path now,
// but not those gone down; two peers may share an AS and address, see
// Feed) and a single-use iterator yielding the paths as mrt.RIB.All does:
// Announce routes with FromUpdate false, ordered by prefix (IPv4 first,
// address, shorter first), then peer (AS, then address), then path id,
// with the Path, Origin, NextHop, RPKIState and Time (whole seconds) of
// the last announcement. The Route and its slices are reused between
// iterations.
//
// peers is the list at the time of the call; paths of peers that appeared
// after it (or went down and were replaced) are left out of this dump
// (the next one has them). The
// iterator yields the paths held when it starts: it holds the State's
// lock only to copy them (24 bytes a path, one pass over each peer's
// table), then sorts, merges and decodes them without it, so Apply waits
// for the copy, not for the dump, and the yield function may call the
// State. The copy shares the interned AS paths, next hops and prefixes,
// which are only ever appended to (a compaction replaces them), so they
// need no copying.
func (s *State) Paths() (peers []bgp.PeerKey, seq iter.Seq[*bgp.Route]) {
	var slots []uint32
	var ids []peerID
	s.mu.Lock()
	for i, p := range s.peers {
		if p.free {
			continue
		}
		slots = append(slots, uint32(i))
		ids = append(ids, p.id)
		peers = append(peers, p.key)
	}
	s.mu.Unlock()
	return peers, func(yield func(*bgp.Route) bool) {
		s.mu.Lock()
		v := s.pathsView(slots, ids)
		s.mu.Unlock()
		v.all(yield)
		runtime.KeepAlive(s) // v reads its prefix keys (stableRoom)
	}
}

// heldPath is one held path as pathsView copies it: its key in the peer's
// table (prefix id << 32 | path id), later rewritten to (prefix rank << 32
// | path id) for sorting, and its value.
type heldPath struct {
	k uint64
	v pathVal
}

// pathsView is what Paths needs of the State, copied or shared under the
// lock so that the rest runs without it.
type pathsView struct {
	keys   prefixKeys // s.pfx.keys: append-only, so this prefix of it never changes
	sorted []uint32   // s.pfx.sorted: merge replaces it, never writes it in place
	attrs  mrt.Attrs  // a read-only view (see mrt.Attrs); compaction replaces s.attrs, never edits it
	peers  []bgp.PeerKey
	paths  [][]heldPath // per peer, in the order Paths listed them
}

// pathsView copies the held paths of the peers Paths listed (slots[i] held
// ids[i] then; a slot holding another peer now is left empty). Called with
// s.mu held; the cost under the lock is one map pass per peer.
func (s *State) pathsView(slots []uint32, ids []peerID) *pathsView {
	s.pfx.merge()
	n := len(slots)
	v := &pathsView{keys: s.pfx.keys, sorted: s.pfx.sorted, attrs: s.attrs,
		peers: make([]bgp.PeerKey, n), paths: make([][]heldPath, n)}
	for i, slot := range slots {
		p := &s.peers[slot]
		v.peers[i] = ids[i].key
		if p.free || p.id != ids[i] || p.paths.len() == 0 {
			continue
		}
		hp := make([]heldPath, 0, p.paths.len())
		p.paths.all(func(k uint64, val pathVal) {
			hp = append(hp, heldPath{k, val})
		})
		v.paths[i] = hp
	}
	return v
}

// all is the k-way merge behind Paths. It runs without the State's lock.
func (v *pathsView) all(yield func(*bgp.Route) bool) {
	rank := make([]uint32, v.keys.len())
	for r, pid := range v.sorted {
		rank[pid] = uint32(r)
	}
	n := len(v.peers)
	peerOrder := make([]int, n)
	for i := range peerOrder {
		peerOrder[i] = i
	}
	slices.SortFunc(peerOrder, func(a, b int) int {
		pa, pb := v.peers[a], v.peers[b]
		return cmp.Or(cmp.Compare(pa.AS, pb.AS), pa.IP.Compare(pb.IP), cmp.Compare(a, b))
	})
	// Per peer, paths keyed (prefix rank << 32 | path id), sorted; then a
	// k-way merge across peers by prefix rank, peers in peerOrder.
	var runs [][]heldPath
	var runPeer []int
	for _, p := range peerOrder {
		hp := v.paths[p]
		if len(hp) == 0 {
			continue
		}
		for i := range hp {
			hp[i].k = uint64(rank[hp[i].k>>32])<<32 | hp[i].k&0xffffffff
		}
		slices.SortFunc(hp, func(a, b heldPath) int { return cmp.Compare(a.k, b.k) })
		runs = append(runs, hp)
		runPeer = append(runPeer, p)
	}
	var r bgp.Route
	for run, hp := range kmerge.All(runs, func(a, b heldPath) int { return cmp.Compare(a.k>>32, b.k>>32) }) {
		peer := runPeer[run]
		pid := v.sorted[hp.k>>32]
		pk := v.peers[peer]
		r.Kind = bgp.Announce
		r.Peer = bgp.Peer{Index: peer, AS: pk.AS, IP: pk.IP}
		r.Prefix = v.keys.prefix(pid)
		r.PathID = uint32(hp.k)
		r.Path = v.attrs.DecodePath(r.Path, hp.v.path)
		r.Origin = rov.OriginOf(r.Path)
		r.NextHop = v.attrs.NextHop(hp.v.nh & (mrt.MaxNextHops - 1))
		r.RPKIState = bgp.RPKIState(int8(hp.v.nh>>24) - 1)
		r.Time = time.Time{}
		if hp.v.time != 0 {
			r.Time = time.Unix(int64(hp.v.time), 0).UTC()
		}
		r.FromUpdate = false
		if !yield(&r) {
			return
		}
	}
}
