package table

import (
	"cmp"
	"hash/maphash"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/rovimpact/rovimpact/internal/pfxkey"
	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
)

// PeerMatch selects peers by AS, by IP, or both (zero fields match any).
type PeerMatch struct {
	AS uint32
	IP netip.Addr
}

// Matches tells whether the session k is one m names: its AS (0: any)
// and its address (unset: any). --peer in analyze, aspa and lookup's ASPA
// replay all decide through it.
func (m PeerMatch) Matches(k route.PeerKey) bool {
	return (m.AS == 0 || m.AS == k.AS) && (!m.IP.IsValid() || m.IP == k.IP)
}

// AnyPeerMatches tells whether one of ms matches k; no match at all
// (an empty ms) keeps every peer.
func AnyPeerMatches(ms []PeerMatch, k route.PeerKey) bool {
	return len(ms) == 0 || slices.ContainsFunc(ms, func(m PeerMatch) bool { return m.Matches(k) })
}

// IngestOptions control how route events become table entries.
type IngestOptions struct {
	// Peers keeps only paths from matching peers: the view of a router
	// that has just those sessions. Empty: every peer.
	Peers []PeerMatch
	// ReplayAll sends RIB dump entries through the replay too, for
	// several route files read in order (RIBs and update files, or
	// --updates): each RIB read sets the Adj-RIB-In of every peer it lists
	// as of its time (replacing what earlier files left for that peer),
	// and later updates apply on top. Otherwise RIB entries are counted as
	// they stream past and only UPDATE-derived events are replayed, which
	// is right for one file and much cheaper.
	ReplayAll bool
}

// Ingester fills a Table from route sources. UPDATE-derived events are
// replayed (an announcement replaces the peer's previous path, withdrawals
// and peer-down flushes remove paths) and the paths left at the end are
// added by Finish.
//
// The replay keeps, per peer, only what the table needs of each path: its
// origin (and the final AS_SET of an OriginNone path). It follows
// mrt.RIB.Apply's rules exactly (TestReplayMatchesRIB compares the two),
// but a full mrt.RIB also interns every AS path and next hop and yields
// its paths through a sorted k-way merge that decodes each path again;
// on a full table received as UPDATEs that cost ~5 µs per route against
// ~0.2 µs per RIB dump entry (bench/README.md), for fields the table
// throws away.
type Ingester struct {
	t       *Table
	opt     IngestOptions
	events  atomic.Int64
	Skipped map[string]int64 // events not used, by reason

	peers  []replayPeer // in first-seen order
	peerIx map[route.PeerKey]int
	// seed hashes the replay's keys, the same for every peer's pathSet,
	// so that the decoding goroutine hashes them (ingestRecord.h).
	seed maphash.Seed
	// touched keeps addBatch's prefetching reads from being optimised out.
	touched uint8
	seen    peersSeen // every peer of the sources, kept or filtered out
	stats   route.RIBStats
	n       int // paths held
	// gen numbers the Read calls, so a RIB's first entry for a peer can
	// tell that the peer's table is from an earlier file (replayPeer.ribGen).
	gen uint32
	// ribRead is set when the current Read replayed a RIB dump entry.
	ribRead bool
}

// replayPeer is one session's Adj-RIB-In as far as the table cares
// (RFC 4271 §3.2: one path per prefix, RFC 7911: per path id).
type replayPeer struct {
	key    route.PeerKey
	ribGen uint32 // the Read whose RIB entries last reset this peer
	paths  pathSet
	asSets map[replayKey][]uint32 // final AS_SET of the OriginNone paths
}

// replayKey is a masked prefix with the path id in its ID: no pointer, so
// the maps hold none for the GC to scan, and keys order as mrt.RIB.All
// orders prefixes (IPv4 first, then address, then shorter first).
type replayKey = pfxkey.Key

func replayKeyOf(p netip.Prefix, pathID uint32) replayKey {
	k := pfxkey.Of(p.Masked())
	k.ID = pathID
	return k
}

// Events is the number of route events consumed so far; safe to call from
// another goroutine (for progress reports).
func (in *Ingester) Events() int64 { return in.events.Load() }

// NewIngester returns an Ingester adding to t.
func NewIngester(t *Table, opt IngestOptions) *Ingester {
	return &Ingester{t: t, opt: opt, Skipped: map[string]int64{}, peerIx: map[route.PeerKey]int{}, seed: maphash.MakeSeed()}
}

// ingestRecord is one event handed from the decoding goroutine to the
// aggregating one: a RIB entry to add, or (replay set) an event to replay.
type ingestRecord struct {
	prefix netip.Prefix
	origin rov.Origin
	peer   route.PeerKey
	asSet  []uint32
	pathID uint32
	kind   route.Kind
	replay bool
	rib    bool // a RIB dump entry sent through the replay (ReplayAll)
	// keyed is set on a replayed Announce or Withdraw of a valid prefix
	// (the events route.Replay looks up): key is its replay key and h
	// the key's hash under Ingester.seed, computed by the decoding
	// goroutine, which has a core of its own.
	keyed bool
	key   replayKey
	h     uint64
}

const ingestBatch = 2048

// ingestBatches bounds the batches one Read has: the decoder may be
// ingestBatches-2 batches ahead of the replay.
const ingestBatches = 10

// Read consumes src to its end. Decoding runs in its own goroutine and
// aggregation (adding RIB entries, replaying updates) in the caller's, so
// the two overlap (decompression already has its own); events cross
// between them in batches. It returns src.Err(); events delivered before
// an error are kept.
//
// With ReplayAll, src is one file of an ordered sequence: a RIB dump in it
// replaces the replayed paths of each peer it lists (see resetRIBPeers).
func (in *Ingester) Read(src route.Source) error {
	in.gen++
	in.ribRead = false
	batches := make(chan []ingestRecord, ingestBatches-2)
	free := make(chan []ingestRecord, ingestBatches)
	skipped := map[string]int64{}
	var seen peersSeen
	go func() {
		defer close(batches)
		batch := make([]ingestRecord, 0, ingestBatch)
		made := 1
		var n int64
		for src.Next() {
			if n++; n&1023 == 0 {
				in.events.Add(1024)
			}
			r := src.Route()
			k := route.PeerKey{AS: r.Peer.AS, IP: r.Peer.IP}
			seen.add(k, in.opt.Peers)
			if !in.wanted(k) {
				skipped["peer_filter"]++
				continue
			}
			rec := ingestRecord{prefix: r.Prefix, origin: r.Origin, peer: k, pathID: r.PathID, kind: r.Kind}
			if r.FromUpdate || in.opt.ReplayAll {
				rec.replay = true
				rec.rib = !r.FromUpdate
				if (r.Kind == route.Announce || r.Kind == route.Withdraw) && r.Prefix.IsValid() {
					rec.keyed, rec.key = true, replayKeyOf(r.Prefix, r.PathID)
					rec.h = hashKey(in.seed, rec.key)
				}
			} else if r.Kind != route.Announce {
				skipped["unexpected_event"]++
				continue
			}
			if r.Kind == route.Announce && r.Origin.Kind == rov.OriginNone {
				rec.asSet = slices.Clone(rov.FinalASSet(r.Path))
			}
			batch = append(batch, rec)
			if len(batch) == ingestBatch {
				batches <- batch
				// At most ingestBatches batches exist (the queue's, the
				// one being added and this one): a decoder ahead of the
				// replay waits for one to come back instead of making
				// another, whose pages would be touched for the first
				// time (32 batches, 9 MB, were made on the PCH table).
				select {
				case batch = <-free:
				default:
					if made < ingestBatches {
						made++
						batch = make([]ingestRecord, 0, ingestBatch)
					} else {
						batch = <-free
					}
				}
				batch = batch[:0]
			}
		}
		if len(batch) > 0 {
			batches <- batch
		}
		in.events.Add(n & 1023)
	}()
	for batch := range batches {
		in.addBatch(batch)
		clear(batch)  // drop the AS_SET slices before the batch is reused
		free <- batch // never blocks: free holds every batch there is
	}
	for k, v := range skipped {
		in.Skipped[k] += v
	}
	if in.ribRead {
		in.resetListedPeers(src.Peers())
	}
	in.seen.merge(&seen, in.opt.Peers)
	return src.Err()
}

// resetRIB empties p's replayed paths when this is the first RIB entry of
// the current Read for p: a RIB dump is each of its peers' whole
// Adj-RIB-In at dump time, so paths from earlier files that the dump does
// not repeat were gone by then (a later RIB of the same collector
// supersedes an earlier one; updates read before it are history).
func (in *Ingester) resetRIB(p *replayPeer) {
	if p.ribGen == in.gen {
		return
	}
	p.ribGen = in.gen
	in.n -= p.paths.n
	p.paths.reset()
	p.asSets = nil
}

// resetListedPeers applies the RIB rule to the peers a dump lists
// (TABLE_DUMP_V2's PEER_INDEX_TABLE) but gave no entry: their table was
// empty at dump time. Peers the replay has not seen are not added, and
// peers excluded by the Peers option are left alone.
func (in *Ingester) resetListedPeers(peers []route.Peer) {
	for _, pr := range peers {
		k := route.PeerKey{AS: pr.AS, IP: pr.IP}
		if i, ok := in.peerIx[k]; ok && in.wanted(k) {
			in.resetRIB(&in.peers[i])
		}
	}
}

// maxPeersSeen bounds the peers an Ingester remembers for PeersSeen: a
// hostile BGP4MP file can name a new peer in every record.
const maxPeersSeen = 1 << 16

// peersSeen is a set of peers in first-seen order, bounded by maxPeersSeen
// (more counts the peers beyond it), and which peer filters matched any
// of them (exact whatever the bound). Consecutive records of one peer, the
// common case, cost one comparison.
type peersSeen struct {
	last    route.PeerKey
	any     bool
	set     map[route.PeerKey]struct{}
	order   []route.PeerKey
	more    int
	matched []bool // by index in IngestOptions.Peers
}

func (s *peersSeen) add(k route.PeerKey, filters []PeerMatch) {
	if s.any && k == s.last {
		return
	}
	s.last, s.any = k, true
	if _, ok := s.set[k]; ok {
		return
	}
	if len(s.matched) < len(filters) {
		s.matched = make([]bool, len(filters))
	}
	for i, m := range filters {
		s.matched[i] = s.matched[i] || m.Matches(k)
	}
	if len(s.order) >= maxPeersSeen {
		s.more++ // may count a peer twice past the bound; only a hint
		return
	}
	if s.set == nil {
		s.set = map[route.PeerKey]struct{}{}
	}
	s.set[k] = struct{}{}
	s.order = append(s.order, k)
}

// merge adds the peers and matches of o (one source's) to s.
func (s *peersSeen) merge(o *peersSeen, filters []PeerMatch) {
	for _, k := range o.order {
		s.add(k, filters)
	}
	s.more += o.more
	if len(s.matched) < len(filters) {
		s.matched = make([]bool, len(filters))
	}
	for i, m := range o.matched {
		s.matched[i] = s.matched[i] || m
	}
}

// PeersSeen returns the peers of every source read so far, kept or not by
// IngestOptions.Peers, in first-seen order, and how many more there were
// beyond the bound on remembered peers.
func (in *Ingester) PeersSeen() (peers []route.PeerKey, more int) {
	return in.seen.order, in.seen.more
}

// UnmatchedPeers returns the indexes in IngestOptions.Peers of the
// filters that matched none of the peers seen: a --peer that selects
// nothing would otherwise yield an empty table and a confident "nothing
// is dropped".
func (in *Ingester) UnmatchedPeers() []int {
	var out []int
	for i := range in.opt.Peers {
		if i >= len(in.seen.matched) || !in.seen.matched[i] {
			out = append(out, i)
		}
	}
	return out
}

func (in *Ingester) addBatch(batch []ingestRecord) {
	in.prefetch(batch)
	lastPeer, lastIdx := route.PeerKey{}, -1
	lastReplay, lastReplayIdx := route.PeerKey{}, -1
	for i := range batch {
		rec := &batch[i]
		if rec.replay {
			if lastReplayIdx < 0 || rec.peer != lastReplay {
				lastReplay, lastReplayIdx = rec.peer, in.replayPeer(rec.peer)
			}
			if rec.rib {
				in.ribRead = true
				in.resetRIB(&in.peers[lastReplayIdx])
			}
			in.apply(rec, &in.peers[lastReplayIdx])
			continue
		}
		if lastIdx < 0 || rec.peer != lastPeer {
			lastPeer, lastIdx = rec.peer, in.t.Peer(rec.peer)
		}
		in.t.Add(rec.prefix, rec.origin, lastIdx, rec.asSet)
	}
}

// prefetch reads the first slot each keyed record of batch will probe in
// its peer's set, before any is looked up: the reads do not depend on each
// other, so their cache misses overlap, and the lookups that follow find
// the lines in cache. It changes nothing (a set that grows or is reset
// meanwhile only makes a read useless); peers not yet seen are skipped.
func (in *Ingester) prefetch(batch []ingestRecord) {
	var acc uint8
	last, p := route.PeerKey{}, (*pathSet)(nil)
	for i := range batch {
		rec := &batch[i]
		if !rec.keyed {
			continue
		}
		if p == nil || rec.peer != last {
			last, p = rec.peer, nil
			j, ok := in.peerIx[rec.peer]
			if !ok {
				continue
			}
			p = &in.peers[j].paths
		}
		acc += p.touch(rec.h)
	}
	in.touched += acc
}

// replayPeer returns the replay's index for peer k, adding it when new.
func (in *Ingester) replayPeer(k route.PeerKey) int {
	i, ok := in.peerIx[k]
	if !ok {
		i = len(in.peers)
		in.peerIx[k] = i
		in.peers = append(in.peers, replayPeer{key: k, paths: withSeed(in.seed)})
	}
	return i
}

// apply replays one event into p by the one Adj-RIB-In rule
// (route.Replay), as mrt.RIB.Apply does: PeerDown drops every path of the
// peer, Announce adds or replaces the path for (masked prefix, path id),
// Withdraw removes it; other kinds and invalid prefixes are counted as
// ignored.
func (in *Ingester) apply(rec *ingestRecord, p *replayPeer) {
	var (
		k    replayKey
		old  rov.Origin
		slot int
		held bool
	)
	act := route.Replay(rec.kind, rec.prefix, func() bool {
		if rec.keyed {
			k = rec.key
			old, slot, held = p.paths.getHashed(k, rec.h)
		} else {
			k = replayKeyOf(rec.prefix, rec.pathID)
			old, slot, held = p.paths.get(k)
		}
		return held
	})
	flushed := 0
	switch act {
	case route.Flush:
		flushed = p.paths.n
		in.n -= flushed
		p.paths.reset()
		p.asSets = nil
	case route.Remove:
		p.paths.del(slot)
		if old.Kind == rov.OriginNone {
			delete(p.asSets, k)
		}
		in.n--
	case route.Add, route.Replace:
		if act == route.Replace && old.Kind == rov.OriginNone {
			delete(p.asSets, k)
		}
		if act == route.Add {
			in.n++
		}
		p.paths.set(k, rec.origin, slot, held)
		if rec.origin.Kind == rov.OriginNone && len(rec.asSet) > 0 {
			if p.asSets == nil {
				p.asSets = make(map[replayKey][]uint32)
			}
			p.asSets[k] = rec.asSet
		}
	}
	in.stats.Count(act, flushed)
}

func (in *Ingester) wanted(k route.PeerKey) bool { return AnyPeerMatches(in.opt.Peers, k) }

// finishPath is one replayed path on its way into the table. k is its
// sort key, compared word by word: the prefix (IPv6 flag, address, length;
// see sortKey) and then order, the peer's rank in (AS, IP) order and the
// path id. Comparing plain words keeps the sort of a full table's paths
// cheap; the prefix is rebuilt from k.
type finishPath struct {
	k      [4]uint64
	origin rov.Origin
}

// rank is the path's peer's rank in (AS, IP) order (Finish's order[rank]
// is its replay index): the peer needs no field of its own, which keeps a
// full table's sort array a sixth smaller.
func (fp *finishPath) rank() int { return int(fp.k[3] >> 32) }

// sortKey packs (v6, hi, lo, bits) into three words that compare in the
// same order, and (rank, path id) into a fourth.
func sortKey(k replayKey, rank uint32) [4]uint64 {
	var v6 uint64
	if k.Is6() {
		v6 = 1
	}
	return [4]uint64{v6<<63 | k.Hi>>1, k.Hi<<63 | k.Lo>>1, k.Lo<<63 | uint64(k.Bits)<<55, uint64(rank)<<32 | uint64(k.ID)}
}

func (fp *finishPath) key() replayKey {
	k := replayKey{
		Hi:   fp.k[0]<<1 | fp.k[1]>>63,
		Lo:   fp.k[1]<<1 | fp.k[2]>>63,
		Bits: uint8(fp.k[2] >> 55),
		ID:   uint32(fp.k[3]),
		Fam:  pfxkey.Fam4,
	}
	if fp.k[0]>>63 == 1 {
		k.Fam = pfxkey.Fam6
	}
	return k
}

func compareFinish(a, b finishPath) int {
	for i := range a.k {
		if a.k[i] != b.k[i] {
			if a.k[i] < b.k[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

// Finish adds the paths left by the replayed updates to the table, in
// mrt.RIB.All's order (prefix, then peer by AS and address, then path id),
// so that route ids are the same as when the replay was an mrt.RIB and a
// table filled from updates alone has its routes in prefix order.
// Replayed peers become table peers in first-seen order, including those
// with no path left. The replay is emptied.
func (in *Ingester) Finish() {
	idx := make([]int, len(in.peers))
	for i, p := range in.peers {
		idx[i] = in.t.Peer(p.key)
	}
	order := make([]int, len(in.peers))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		pa, pb := in.peers[a].key, in.peers[b].key
		if c := cmp.Compare(pa.AS, pb.AS); c != 0 {
			return c
		}
		return pa.IP.Compare(pb.IP)
	})
	tableIdx := make([]int, len(order)) // table peer index by rank
	for rank, pi := range order {
		tableIdx[rank] = idx[pi]
	}
	paths := in.bucketedPaths(order)
	if in.t.Len() == 0 {
		in.fillEmpty(paths, order, tableIdx)
	} else {
		for i := range paths {
			fp := &paths[i]
			k := fp.key()
			in.t.Add(k.Prefix(), fp.origin, tableIdx[fp.rank()], in.asSet(order[fp.rank()], fp, k))
		}
	}
	for i := range in.peers {
		in.peers[i].paths.reset()
		in.peers[i].asSets = nil
	}
	in.n = 0
}

// finishDigitBits is how many of a sort key's top bits bucketedPaths
// orders by before sorting each bucket: 4096 buckets keep their write
// positions within a core's L2 cache, and cut a full table's sort from
// ~19 comparisons per path to ~7.
const finishDigitBits = 12

// bucketedPaths lists every replayed path (order gives each peer's rank)
// sorted by compareFinish. It places each path straight into the bucket
// of its key's top bits (a counting pass over the sets first, then a
// placing pass), so that only the paths within each bucket need a
// comparison sort; the buckets are in key order, so their concatenation is
// sorted. Placing needs no second array, and the sets are only read.
func (in *Ingester) bucketedPaths(order []int) []finishPath {
	const shift = 64 - finishDigitBits
	var start [1<<finishDigitBits + 1]int
	for _, pi := range order {
		for k := range in.peers[pi].paths.all {
			start[sortKey(k, 0)[0]>>shift+1]++
		}
	}
	for d := 1; d < len(start); d++ {
		start[d] += start[d-1]
	}
	n := start[len(start)-1]
	paths := make([]finishPath, n)
	next := start
	for rank, pi := range order {
		for k, o := range in.peers[pi].paths.all {
			key := sortKey(k, uint32(rank))
			d := key[0] >> shift
			paths[next[d]] = finishPath{k: key, origin: o}
			next[d]++
		}
	}
	for d := range 1 << finishDigitBits {
		if b := paths[start[d]:start[d+1]]; len(b) > 1 {
			slices.SortFunc(b, compareFinish)
		}
	}
	return paths
}

// asSet is the final AS_SET of path fp (key k) of replay peer pi.
func (in *Ingester) asSet(pi int, fp *finishPath, k replayKey) []uint32 {
	if fp.origin.Kind != rov.OriginNone {
		return nil
	}
	return in.peers[pi].asSets[k]
}

// fillEmpty adds sorted paths to the empty table as Table.Add would, with
// the same route ids, but without its route map: the paths of one prefix
// are adjacent, so a route is found among the few made for that prefix.
// The map is left to be built on first use, as for a restored table (a
// full table's worth of map inserts was half of Finish).
// order and tableIdx give the replay and table index of each peer rank.
func (in *Ingester) fillEmpty(paths []finishPath, order, tableIdx []int) {
	t := in.t
	routes := 0
	for i := range paths {
		a, b := &paths[i], &paths[max(i, 1)-1]
		if i == 0 || a.origin != b.origin || [3]uint64(a.k[:3]) != [3]uint64(b.k[:3]) {
			routes++ // an upper bound: exact unless origins interleave
		}
	}
	t.routes = slices.Grow(t.routes, routes)
	t.bits = slices.Grow(t.bits, routes*t.words)
	group := 0 // id of the first route of the current prefix
	for i := range paths {
		fp := &paths[i]
		if i == 0 || [3]uint64(fp.k[:3]) != [3]uint64(paths[i-1].k[:3]) {
			group = len(t.routes)
		}
		id := -1
		for j := group; j < len(t.routes); j++ {
			if t.routes[j].Origin == fp.origin {
				id = j
				break
			}
		}
		k := fp.key()
		if id < 0 {
			id = len(t.routes)
			t.routes = append(t.routes, Route{Prefix: k.Prefix(), Origin: fp.origin})
			for range t.words {
				t.bits = append(t.bits, 0)
			}
		}
		peer := tableIdx[fp.rank()]
		t.routes[id].Paths++
		t.paths++
		t.bits[id*t.words+peer/64] |= 1 << (peer % 64)
		if set := in.asSet(order[fp.rank()], fp, k); len(set) > 0 {
			t.asSets[uint32(id)] = unionSorted(t.asSets[uint32(id)], set)
		}
	}
	t.pos, t.posOnce = nil, sync.Once{}
}

// ReplayStats reports what the update replay did, counted as mrt.RIB
// counts it.
func (in *Ingester) ReplayStats() route.RIBStats { return in.stats }
