package live

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"hash/maphash"
	"iter"
	"net/netip"
	"slices"
	"time"

	"github.com/rovimpact/rovimpact/mrt"
	"github.com/rovimpact/rovimpact/rov"
	"github.com/rovimpact/rovimpact/table"
)

// pathVal is one held path: its route and, for the MRT dump, its
// attributes. 16 bytes, no pointer: with the 8-byte key (prefix id << 32 |
// path id) one 24-byte map slot per path, the only per-path cost of the
// State. (mrt.RIB keeps the same attributes in the same slot size, but it
// cannot say which route a replaced or withdrawn path belonged to, and
// holding both would cost a second per-path map and a second prefix
// table; BenchmarkApply measures the total against mrt.RIB alone.)
type pathVal struct {
	route uint32
	path  uint32 // interned AS_PATH
	nh    uint32 // interned next hop (low 24 bits) | (RPKIState+1) << 24
	time  uint32 // Unix seconds of the announcement; 0: unknown
}

// attrs interns AS paths and next hops: stored once, numbered, shared by
// every path that uses them. Values are not reference-counted; instead,
// once more values are interned than there are held paths plus a margin
// (so at least half of them are unused), State.maybeCompactAttrs re-interns
// the held paths' values into fresh tables. Memory then stays proportional
// to the paths held, however long a feed churns.
type attrs struct {
	seed     maphash.Seed
	arena    []byte            // encoded AS paths, back to back
	off      []uint32          // path id -> start in arena; off[id+1] is its end
	ix       map[uint64]uint32 // hash of an encoded path -> path id
	coll     map[string]uint32 // paths whose hash collided with another's
	scratch  []byte
	nextHops []netip.Addr
	nhIx     map[netip.Addr]uint32
}

func newAttrs() attrs {
	return attrs{
		seed:     maphash.MakeSeed(),
		off:      []uint32{0},
		ix:       map[uint64]uint32{},
		nextHops: []netip.Addr{{}}, // id 0: no next hop
		nhIx:     map[netip.Addr]uint32{{}: 0},
	}
}

// valOf returns the attributes of r as a pathVal for route rid.
func (a *attrs) valOf(rid uint32, r *mrt.Route) pathVal {
	v := pathVal{route: rid, path: a.internPath(r.Path), nh: a.internNextHop(r.NextHop) | uint32(uint8(r.RPKIState+1))<<24}
	if !r.Time.IsZero() {
		if t := r.Time.Unix(); t > 0 && t <= 1<<32-1 {
			v.time = uint32(t)
		}
	}
	return v
}

func (a *attrs) internNextHop(addr netip.Addr) uint32 {
	if id, ok := a.nhIx[addr]; ok {
		return id
	}
	id := uint32(len(a.nextHops))
	if id >= 1<<24 {
		// More distinct next hops than the packing allows: far beyond any
		// real table; keep the path, lose the next hop (as mrt.RIB does).
		return 0
	}
	a.nextHops = append(a.nextHops, addr)
	a.nhIx[addr] = id
	return id
}

// internPath returns the number of path, adding it if new. A path is
// encoded as, per segment, the type byte, the ASN count and the ASNs, all
// uvarints: canonical, so equal paths have equal bytes.
func (a *attrs) internPath(path []rov.Segment) uint32 {
	b := a.scratch[:0]
	for _, s := range path {
		b = append(b, byte(s.Type))
		b = binary.AppendUvarint(b, uint64(len(s.ASNs)))
		for _, x := range s.ASNs {
			b = binary.AppendUvarint(b, uint64(x))
		}
	}
	a.scratch = b
	return a.internBytes(b)
}

func (a *attrs) internBytes(b []byte) uint32 {
	h := maphash.Bytes(a.seed, b)
	id, ok := a.ix[h]
	if !ok {
		id = a.addPath(b)
		a.ix[h] = id
		return id
	}
	if bytes.Equal(a.pathBytes(id), b) {
		return id
	}
	if id, ok := a.coll[string(b)]; ok {
		return id
	}
	id = a.addPath(b)
	if a.coll == nil {
		a.coll = map[string]uint32{}
	}
	a.coll[string(b)] = id
	return id
}

func (a *attrs) addPath(b []byte) uint32 {
	id := uint32(len(a.off) - 1)
	a.arena = append(a.arena, b...)
	a.off = append(a.off, uint32(len(a.arena)))
	return id
}

func (a *attrs) pathBytes(id uint32) []byte { return a.arena[a.off[id]:a.off[id+1]] }

// decodePath rebuilds path id into dst, reusing its segments' ASNs slices.
func (a *attrs) decodePath(dst []rov.Segment, id uint32) []rov.Segment {
	b := a.pathBytes(id)
	dst = dst[:0]
	for len(b) > 0 {
		typ := rov.SegmentType(b[0])
		b = b[1:]
		cnt, k := binary.Uvarint(b)
		b = b[k:]
		n := len(dst)
		if n < cap(dst) {
			dst = dst[:n+1]
		} else {
			dst = append(dst, rov.Segment{})
		}
		s := &dst[n]
		s.Type, s.ASNs = typ, s.ASNs[:0]
		for range cnt {
			x, k := binary.Uvarint(b)
			b = b[k:]
			s.ASNs = append(s.ASNs, uint32(x))
		}
	}
	return dst
}

// maybeCompactAttrs re-interns the held paths' AS paths and next hops once
// the tables hold more values than held paths plus s.attrSlack (65536):
// each held path uses one of each, so then at least that many are unused,
// and the O(paths) pass is paid for by as many announcements.
func (s *State) maybeCompactAttrs() {
	a := &s.attrs
	if int64(len(a.off)-1) <= s.npaths+s.attrSlack && int64(len(a.nextHops)) <= s.npaths+s.attrSlack {
		return
	}
	n := newAttrs()
	for i := range s.peers {
		for k, v := range s.peers[i].paths {
			v.path = n.internBytes(a.pathBytes(v.path))
			v.nh = n.internNextHop(a.nextHops[v.nh&(1<<24-1)]) | v.nh&^(1<<24-1)
			s.peers[i].paths[k] = v
		}
	}
	s.attrs = n
	s.attrCompactions++
}

// Paths returns every held path for an MRT dump: peers (indexed by
// Route.Peer.Index; every peer seen, including those holding no path now)
// and a single-use iterator yielding the paths as mrt.RIB.All does:
// Announce routes with FromUpdate false, ordered by prefix (IPv4 first,
// address, shorter first), then peer (AS, then address), then path id,
// with the Path, Origin, NextHop, RPKIState and Time (whole seconds) of
// the last announcement. The Route and its slices are reused between
// iterations.
//
// peers is the list at the time of the call; paths of peers that appeared
// after it are left out of this dump (the next one has them). The
// iterator yields the paths held when it starts: it holds the State's
// lock only to copy them (24 bytes a path, one pass over each peer's
// table), then sorts, merges and decodes them without it, so Apply waits
// for the copy, not for the dump, and the yield function may call the
// State. The copy shares the interned AS paths, next hops and prefixes,
// which are only ever appended to (a compaction replaces them), so they
// need no copying.
func (s *State) Paths() (peers []table.PeerKey, seq iter.Seq[*mrt.Route]) {
	s.mu.Lock()
	for _, p := range s.peers {
		peers = append(peers, p.key)
	}
	s.mu.Unlock()
	n := len(peers)
	return peers, func(yield func(*mrt.Route) bool) {
		s.mu.Lock()
		v := s.pathsView(n)
		s.mu.Unlock()
		v.all(yield)
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
	keys   []pkey   // s.pfx.keys: append-only, so this prefix of it never changes
	sorted []uint32 // s.pfx.sorted: merge replaces it, never writes it in place
	attrs  attrs    // shallow: arena, off and nextHops are append-only; compaction replaces them
	peers  []table.PeerKey
	paths  [][]heldPath // per peer, in s.peers order
}

// pathsView copies the held paths of the first n peers. Called with s.mu
// held; the cost under the lock is one map pass per peer.
func (s *State) pathsView(n int) *pathsView {
	s.pfx.merge()
	v := &pathsView{keys: s.pfx.keys, sorted: s.pfx.sorted, attrs: s.attrs,
		peers: make([]table.PeerKey, n), paths: make([][]heldPath, n)}
	for i := range n {
		p := &s.peers[i]
		v.peers[i] = p.key
		if len(p.paths) == 0 {
			continue
		}
		hp := make([]heldPath, 0, len(p.paths))
		for k, val := range p.paths {
			hp = append(hp, heldPath{k, val})
		}
		v.paths[i] = hp
	}
	return v
}

// all is the k-way merge behind Paths. It runs without the State's lock.
func (v *pathsView) all(yield func(*mrt.Route) bool) {
	rank := make([]uint32, len(v.keys))
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
		return cmp.Or(cmp.Compare(pa.AS, pb.AS), pa.IP.Compare(pb.IP))
	})
	peerRank := make([]int, n)
	for r, p := range peerOrder {
		peerRank[p] = r
	}
	// Per peer, paths keyed (prefix rank << 32 | path id), sorted; then a
	// heap merge across peers by (prefix rank, peer rank, path id).
	type cursor struct {
		peer  int
		paths []heldPath
	}
	var h []cursor
	for _, p := range peerOrder {
		hp := v.paths[p]
		if len(hp) == 0 {
			continue
		}
		for i := range hp {
			hp[i].k = uint64(rank[hp[i].k>>32])<<32 | hp[i].k&0xffffffff
		}
		slices.SortFunc(hp, func(a, b heldPath) int { return cmp.Compare(a.k, b.k) })
		h = append(h, cursor{peer: p, paths: hp})
	}
	less := func(a, b cursor) bool {
		if ka, kb := a.paths[0].k>>32, b.paths[0].k>>32; ka != kb {
			return ka < kb
		}
		if a.peer != b.peer {
			return peerRank[a.peer] < peerRank[b.peer]
		}
		return a.paths[0].k < b.paths[0].k
	}
	down := func(i int) {
		for {
			l := 2*i + 1
			if l >= len(h) {
				return
			}
			m := l
			if r := l + 1; r < len(h) && less(h[r], h[l]) {
				m = r
			}
			if !less(h[m], h[i]) {
				return
			}
			h[i], h[m] = h[m], h[i]
			i = m
		}
	}
	for i := len(h)/2 - 1; i >= 0; i-- {
		down(i)
	}
	var r mrt.Route
	for len(h) > 0 {
		c := &h[0]
		hp := c.paths[0]
		pid := v.sorted[hp.k>>32]
		pk := v.peers[c.peer]
		r.Kind = mrt.Announce
		r.Peer = mrt.Peer{Index: c.peer, AS: pk.AS, IP: pk.IP}
		r.Prefix = v.keys[pid].prefix()
		r.PathID = uint32(hp.k)
		r.Path = v.attrs.decodePath(r.Path, hp.v.path)
		r.Origin = rov.OriginOf(r.Path)
		r.NextHop = v.attrs.nextHops[hp.v.nh&(1<<24-1)]
		r.RPKIState = mrt.RPKIState(int8(hp.v.nh>>24) - 1)
		r.Time = time.Time{}
		if hp.v.time != 0 {
			r.Time = time.Unix(int64(hp.v.time), 0).UTC()
		}
		r.FromUpdate = false
		if !yield(&r) {
			return
		}
		c.paths = c.paths[1:]
		if len(c.paths) == 0 {
			h[0] = h[len(h)-1]
			h = h[:len(h)-1]
		}
		down(0)
	}
}
