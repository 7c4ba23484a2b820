package table

import (
	"net/netip"
	"sync/atomic"

	"github.com/rovimpact/rovimpact/mrt"
	"github.com/rovimpact/rovimpact/rov"
)

// PeerMatch selects peers by AS, by IP, or both (zero fields match any).
type PeerMatch struct {
	AS uint32
	IP netip.Addr
}

func (m PeerMatch) matches(k PeerKey) bool {
	return (m.AS == 0 || m.AS == k.AS) && (!m.IP.IsValid() || m.IP == k.IP)
}

// IngestOptions control how route events become table entries.
type IngestOptions struct {
	// Peers keeps only paths from matching peers: the view of a router
	// that has just those sessions. Empty: every peer.
	Peers []PeerMatch
	// ReplayAll sends RIB dump entries through the replay too, for a RIB
	// dump followed by update files (--updates). Otherwise RIB entries are
	// counted as they stream past and only UPDATE-derived events are
	// replayed.
	ReplayAll bool
}

// Ingester fills a Table from route sources. UPDATE-derived events are
// replayed (an announcement replaces the peer's previous path, withdrawals
// and peer-down flushes remove paths) and the paths left at the end are
// added by Finish.
type Ingester struct {
	t       *Table
	opt     IngestOptions
	rib     *mrt.RIB
	events  atomic.Int64
	Skipped map[string]int64 // events not used, by reason
}

// Events is the number of route events consumed so far; safe to call from
// another goroutine (for progress reports).
func (in *Ingester) Events() int64 { return in.events.Load() }

// NewIngester returns an Ingester adding to t.
func NewIngester(t *Table, opt IngestOptions) *Ingester {
	return &Ingester{t: t, opt: opt, rib: mrt.NewRIB(), Skipped: map[string]int64{}}
}

type ingestRecord struct {
	prefix netip.Prefix
	origin rov.Origin
	peer   PeerKey
	asSet  []uint32
}

const ingestBatch = 2048

// Read consumes src to its end. Decoding runs in its own goroutine and
// aggregation in the caller's, so the two overlap (decompression already has
// its own). It returns src.Err(); events delivered before an error are kept.
func (in *Ingester) Read(src mrt.Source) error {
	batches := make(chan []ingestRecord, 8)
	free := make(chan []ingestRecord, 8)
	skipped := map[string]int64{}
	go func() {
		defer close(batches)
		batch := make([]ingestRecord, 0, ingestBatch)
		var n int64
		for src.Next() {
			if n++; n&1023 == 0 {
				in.events.Add(1024)
			}
			r := src.Route()
			k := PeerKey{AS: r.Peer.AS, IP: r.Peer.IP}
			if !in.wanted(k) {
				skipped["peer_filter"]++
				continue
			}
			if r.FromUpdate || in.opt.ReplayAll {
				in.rib.Apply(r, mrt.PeerKey{AS: k.AS, IP: k.IP})
				continue
			}
			if r.Kind != mrt.Announce {
				skipped["unexpected_event"]++
				continue
			}
			rec := ingestRecord{prefix: r.Prefix, origin: r.Origin, peer: k}
			if r.Origin.Kind == rov.OriginNone {
				rec.asSet = finalASSet(r.Path)
			}
			batch = append(batch, rec)
			if len(batch) == ingestBatch {
				batches <- batch
				select {
				case batch = <-free:
					batch = batch[:0]
				default:
					batch = make([]ingestRecord, 0, ingestBatch)
				}
			}
		}
		if len(batch) > 0 {
			batches <- batch
		}
		in.events.Add(n & 1023)
	}()
	for batch := range batches {
		in.addBatch(batch)
		select {
		case free <- batch:
		default:
		}
	}
	for k, v := range skipped {
		in.Skipped[k] += v
	}
	return src.Err()
}

func (in *Ingester) addBatch(batch []ingestRecord) {
	lastPeer, lastIdx := PeerKey{}, -1
	for _, rec := range batch {
		if lastIdx < 0 || rec.peer != lastPeer {
			lastPeer, lastIdx = rec.peer, in.t.Peer(rec.peer)
		}
		in.t.Add(rec.prefix, rec.origin, lastIdx, rec.asSet)
	}
}

func (in *Ingester) wanted(k PeerKey) bool {
	if len(in.opt.Peers) == 0 {
		return true
	}
	for _, m := range in.opt.Peers {
		if m.matches(k) {
			return true
		}
	}
	return false
}

// Finish adds the paths left by the replayed updates to the table.
func (in *Ingester) Finish() {
	peers := in.rib.Peers()
	idx := make([]int, len(peers))
	for i, p := range peers {
		idx[i] = in.t.Peer(PeerKey{AS: p.AS, IP: p.IP})
	}
	for r := range in.rib.All() {
		var asSet []uint32
		if r.Origin.Kind == rov.OriginNone {
			asSet = finalASSet(r.Path)
		}
		in.t.Add(r.Prefix, r.Origin, idx[r.Peer.Index], asSet)
	}
}

// ReplayStats reports what the update replay did.
func (in *Ingester) ReplayStats() mrt.RIBStats { return in.rib.Stats() }

// finalASSet copies the members of the path's final AS_SET.
func finalASSet(path []rov.Segment) []uint32 {
	for i := len(path) - 1; i >= 0; i-- {
		if len(path[i].ASNs) == 0 {
			continue
		}
		if path[i].Type == rov.ASSet {
			return append([]uint32(nil), path[i].ASNs...)
		}
		return nil
	}
	return nil
}
