package live

import (
	"math/bits"
	"net/netip"
	"slices"
	"time"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/internal/pfxkey"
	bgp "github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
)

// PeerCounts are the routes one peer carries, by verdict: watch's
// initial_load summary of a session's table. Dropped routes are assessed
// against the whole table (classify.Coverage.Assess with no view), as the
// check's changes are.
type PeerCounts struct {
	Routes, Invalid, Dropped, Unreachable int
}

// PeerCounts returns the counts of the routes the table peer k (AS and
// address, as reports count peers) carries in sn, false when k carries
// none. Of a full snapshot it is a pass over the table; of a DiffBase, kept.
func (sn *Snapshot) PeerCounts(k bgp.PeerKey) (PeerCounts, bool) {
	if a := sn.Analysis; a != nil {
		peer := slices.Index(a.Table.Peers(), k)
		if peer < 0 {
			return PeerCounts{}, false
		}
		return peerCountsOf(a, peer), true
	}
	if sn.base == nil {
		return PeerCounts{}, false
	}
	peer := slices.Index(sn.base.peerKeys, k)
	if peer < 0 {
		return PeerCounts{}, false
	}
	return sn.base.peerCounts[peer], true
}

// peerCountsOf counts the routes table peer peer carries in a.
func peerCountsOf(a *classify.Analysis, peer int) PeerCounts {
	var pc PeerCounts
	for id := range a.Table.Routes() {
		if !a.Table.HasPeer(id, peer) {
			continue
		}
		pc.Routes++
		o := &a.Outcomes[id]
		if o.State == rov.Invalid {
			pc.Invalid++
		}
		if o.Dropped {
			pc.Dropped++
			if a.Assess(id, nil).Impact == classify.Unreachable {
				pc.Unreachable++
			}
		}
	}
	return pc
}

// DiffBase returns what State.Snapshot().DiffBase() would return now,
// without building the snapshot: no table.Table, no classify.Analysis, no
// report-ready copy of the table, only what Diff and a watcher's causes
// ask of a table, its Counts and its PeerCounts. A watcher that diffs the
// table at every interval asks this instead of a whole snapshot
// (TestDiffBaseOracle holds the two equal).
//
// A build copies, under the lock and in one sequential pass over the
// routes, each live route's prefix id, origin and whether it is dropped
// (20 bytes), and of each invalid route its class, paths, table peers and
// deciding VRP; counts the routes by state and by peer on the way; then,
// without the lock, puts the routes in prefix order and assesses the
// impact of the invalid ones with a classify.Coverage over them
// (classify.CoverageOf), the one impact rule snapshots use
// (classify.Assemble). Counted in
// Stats().SnapshotBuilds: a pass over the whole table and an impact
// assessment, as a snapshot build is. A build allocates about 110 bytes a
// path on a full table (BenchmarkMemory light-alloc-B/path), a snapshot,
// its Diff and its DiffBase about 200 (snapcheck-alloc-B/path).
func (s *State) DiffBase() *Snapshot {
	type lightRoute struct {
		pid     uint32
		origin  rov.Origin
		inv     int32 // index in invs, -1 when not invalid
		dropped bool
	}
	type lightInv struct {
		paths uint32
		ref   uint32 // first deciding VRP (into ix); noRef for none
		class classify.Class
	}
	const noRef = ^uint32(0)
	var c Counts
	var keys prefixKeys
	var sorted []uint32
	var invs []lightInv
	var pbits []uint64 // invs[i]'s table peers: pbits[i*words:(i+1)*words]
	var words int
	var all []lightRoute
	s.mu.Lock()
	epoch, nvrps, ix, localAS := s.epoch, len(s.vrps), s.ix, s.opt.Classify.LocalAS
	peerKeys := make([]bgp.PeerKey, 0, len(s.peers))
	tpeer, identity := s.tablePeers(&peerKeys)
	words = max(1, (len(peerKeys)+63)/64)
	all = make([]lightRoute, 0, s.live)
	var buf []int
	pc := make([]PeerCounts, len(peerKeys))
	scratch := make([]uint64, words)
	for id := range s.routes {
		rt := &s.routes[id]
		if rt.paths == 0 {
			continue
		}
		clear(scratch)
		buf = s.tableBits(uint32(id), tpeer, identity, scratch, buf)
		for wi, w := range scratch {
			for ; w != 0; w &= w - 1 {
				p := &pc[wi*64+bits.TrailingZeros64(w)]
				p.Routes++
				if rt.state() == rov.Invalid {
					p.Invalid++
				}
			}
		}
		o := s.outcome(rt)
		c.addRoute(o, rt.paths)
		lr := lightRoute{pid: rt.prefix, origin: rt.origin(), inv: -1, dropped: o.Dropped}
		if isInvalid(o) {
			lr.inv = int32(len(invs))
			li := lightInv{paths: rt.paths, ref: noRef, class: rt.class()}
			if refs := s.refsOf(rt); len(refs) > 0 {
				li.ref = refs[0]
			}
			invs = append(invs, li)
			pbits = append(pbits, scratch...)
		}
		all = append(all, lr)
	}
	s.pfx.merge()
	keys, sorted = s.pfx.keys, s.pfx.sorted
	s.snapBuilds++
	s.mu.Unlock()
	c.Routes = len(all)

	// Prefix order, as Snapshot puts its table in: rank of the prefix,
	// then position (ties in any order: impact does not depend on it).
	rank := make([]uint32, len(sorted))
	for r, pid := range sorted {
		rank[pid] = uint32(r)
	}
	ord := make([]uint64, len(all))
	for i := range all {
		ord[i] = uint64(rank[all[i].pid])<<32 | uint64(i)
	}
	rank = nil
	slices.Sort(ord)
	at := func(j int) *lightRoute { return &all[uint32(ord[j])] }
	// The Coverage reads each entry's prefix several times: read the
	// routes and their keys (both in id order, so these are random reads)
	// once into an array in prefix order. An IPv4 entry is its key's Hi
	// (the address in the top 32 bits) | its length << 8 | flags, an IPv6
	// one its prefix id << 32 | flags.
	const entDropped, ent6 = 1, 2
	ents := make([]uint64, len(ord))
	for j := range ents {
		lr := at(j)
		k := keys.key(lr.pid)
		e := k.Hi | uint64(k.Bits)<<8
		if k.Fam != pfxkey.Fam4 {
			e = uint64(lr.pid)<<32 | ent6
		}
		if lr.dropped {
			e |= entDropped
		}
		ents[j] = e
	}
	cov := classify.CoverageOf(len(ents), func(j int) netip.Prefix {
		e := ents[j]
		if e&ent6 != 0 {
			return keys.prefix(uint32(e >> 32))
		}
		return pfxkey.Key{Hi: e &^ (1<<32 - 1), Bits: uint8(e >> 8), Fam: pfxkey.Fam4}.Prefix()
	}, func(j int) bool { return ents[j]&entDropped != 0 }, s.opt.Classify.Impact)
	ents = nil

	bb := newBaseBuilder(s, localAS, peerKeys, ix, len(invs))
	l := &invList{r: make([]invalidRoute, 0, len(invs)), base: bb.base, localAS: localAS}
	var ids []int
	for j := range ord {
		lr := at(j)
		if lr.inv < 0 {
			continue
		}
		li := &invs[lr.inv]
		ir := invalidRoute{paths: li.paths, class: li.class, impact: cov.Assess(j, nil).Impact}
		ids = ids[:0]
		for wi, w := range pbits[int(lr.inv)*words : int(lr.inv+1)*words] {
			for ; w != 0; w &= w - 1 {
				ids = append(ids, wi*64+bits.TrailingZeros64(w))
			}
		}
		if lr.dropped {
			ir.meta = metaDropped
			c.Dropped++
			unreachable := ir.impact == classify.Unreachable
			if unreachable {
				c.Unreachable++
			}
			for _, p := range ids {
				pc[p].Dropped++
				if unreachable {
					pc[p].Unreachable++
				}
			}
		}
		ir.ref = bb.peerSet(ids)
		if li.ref != noRef {
			ir.vrp = bb.vrp(li.ref)
		}
		l.add(keys.key(lr.pid), lr.origin, ir)
	}
	l.sort()
	bs := bb.done()
	bs.peerCounts = pc
	bs.held = newRouteSet(len(sorted), func(yield func(uint32, rov.Origin) bool) {
		for i := range all {
			if !yield(all[i].pid, all[i].origin) {
				return
			}
		}
	})
	b := &Snapshot{Epoch: epoch, Built: time.Now(), VRPs: nvrps, inv: l, base: bs, counts: c}
	b.invOnce.Do(func() {})
	return b
}
