package watch

import (
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/live"
	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
)

// The functions below are cause and its helpers as they were when the
// service kept the whole previous snapshot: the reference the light
// previous state (Snapshot.DiffBase) must agree with.

func refLookup(s *live.Snapshot, p netip.Prefix, o rov.Origin) (int, bool) {
	t := s.Analysis.Table
	if id, ok := t.Lookup(p, o); ok {
		return id, true
	}
	if o.Kind == rov.OriginAS && o.ASN == s.Analysis.Options.LocalAS {
		return t.Lookup(p, rov.Origin{Kind: rov.OriginLocal})
	}
	return 0, false
}

func refHas(s *live.Snapshot, p netip.Prefix, o rov.Origin) bool {
	_, ok := refLookup(s, p, o)
	return ok
}

func refCarriedBy(s *live.Snapshot, p netip.Prefix, o rov.Origin, peers map[peerID]bool) bool {
	if len(peers) == 0 {
		return false
	}
	id, ok := refLookup(s, p, o)
	if !ok {
		return false
	}
	keys := s.Analysis.Table.Peers()
	for _, i := range s.Analysis.Table.RoutePeers(id, nil) {
		if peers[peerID{keys[i].IP, keys[i].AS}] {
			return true
		}
	}
	return false
}

func refCause(prev, next *live.Snapshot, c live.Change, down map[peerID]bool) string {
	inPrev := prev != nil && refHas(prev, c.Prefix, c.Origin)
	inNext := refHas(next, c.Prefix, c.Origin)
	switch c.Kind {
	case live.Appeared:
		if inPrev {
			return causeVRPs
		}
		return causeAnnounced
	case live.Disappeared:
		if inNext {
			return causeVRPs
		}
		if prev != nil && refCarriedBy(prev, c.Prefix, c.Origin, down) {
			return causeSessionDown
		}
		return causeWithdrawn
	default:
		if c.Class != c.OldClass {
			return causeVRPs
		}
		return causeCover
	}
}

func refDecidingVRP(s *live.Snapshot, p netip.Prefix, o rov.Origin) string {
	id, ok := refLookup(s, p, o)
	if !ok {
		return ""
	}
	refs := s.Analysis.VRPs(id)
	if len(refs) == 0 {
		return ""
	}
	return s.Analysis.Index.VRPs()[refs[0]].String()
}

func refFirstCarrier(s *live.Snapshot, c live.Change, down map[peerID]bool) peerID {
	id, ok := refLookup(s, c.Prefix, c.Origin)
	if ok {
		keys := s.Analysis.Table.Peers()
		for _, i := range s.Analysis.Table.RoutePeers(id, nil) {
			if p := (peerID{keys[i].IP, keys[i].AS}); down[p] {
				return p
			}
		}
	}
	return peerID{}
}

// diffGen draws events from a small universe so that routes collide:
// nested IPv4 prefixes, IPv6 prefixes on both sides of /64 (the two key
// sets of a DiffBase), few origins, local-AS paths (empty AS_PATH and an
// AS_SEQUENCE ending in the local AS), AS_SETs and three peers.
type diffGen struct {
	r     *rand.Rand
	peers []route.Peer
}

const testLocalAS = 64500

func (g *diffGen) prefix() netip.Prefix {
	if g.r.IntN(3) == 0 {
		bits := []int{32, 48, 64, 65, 96, 128}[g.r.IntN(6)]
		var b [16]byte
		b[0], b[1], b[2], b[3] = 0x20, 0x01, 0x0d, 0xb8
		b[4], b[8], b[15] = byte(g.r.IntN(2)), byte(g.r.IntN(2)<<7), byte(g.r.IntN(2))
		return netip.PrefixFrom(netip.AddrFrom16(b), bits).Masked()
	}
	bits := []int{8, 16, 22, 24, 32}[g.r.IntN(5)]
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(g.r.IntN(2)), byte(g.r.IntN(2)), byte(g.r.IntN(2))}), bits).Masked()
}

func (g *diffGen) path() []rov.Segment {
	switch g.r.IntN(10) {
	case 0:
		return nil // the local AS (RFC 6811 §2)
	case 1:
		return []rov.Segment{{Type: rov.ASSequence, ASNs: []uint32{64501}}, {Type: rov.ASSet, ASNs: []uint32{1, 2}}}
	}
	return []rov.Segment{{Type: rov.ASSequence, ASNs: []uint32{64501, []uint32{1, 2, 3, testLocalAS}[g.r.IntN(4)]}}}
}

func (g *diffGen) event() route.Route {
	peer := g.peers[g.r.IntN(len(g.peers))]
	switch x := g.r.IntN(100); {
	case x < 65:
		r := route.Route{Kind: route.Announce, Peer: peer, Prefix: g.prefix(), PathID: uint32(g.r.IntN(2)), Path: g.path()}
		r.Origin = rov.OriginOf(r.Path)
		return r
	case x < 95:
		return route.Route{Kind: route.Withdraw, Peer: peer, Prefix: g.prefix(), PathID: uint32(g.r.IntN(2))}
	}
	return route.Route{Kind: route.PeerDown, Peer: peer}
}

func (g *diffGen) vrps(n int) []rov.VRP {
	out := make([]rov.VRP, n)
	for i := range out {
		p := g.prefix()
		out[i] = rov.VRP{Prefix: p, MaxLen: uint8(min(p.Addr().BitLen(), p.Bits()+g.r.IntN(9))), ASN: []uint32{1, 2, 3, testLocalAS}[g.r.IntN(4)]}
	}
	return out
}

// TestDiffBaseCauses: the service keeps only a DiffBase of the previous
// snapshot; every cause, first carrier (session_down_summary) and
// deciding VRP of a Disappeared change it gives must be what the whole
// previous snapshot gives, through random events, VRP changes and sets of
// down peers (with a local AS, so that OriginLocal routes are looked up
// by the origin reports show).
func TestDiffBaseCauses(t *testing.T) {
	causes := map[string]int{}
	for seed := range uint64(12) {
		g := &diffGen{r: rand.New(rand.NewPCG(seed, 17)), peers: []route.Peer{
			{AS: 64501, IP: netip.MustParseAddr("192.0.2.1")},
			{AS: 64502, IP: netip.MustParseAddr("192.0.2.2")},
			{AS: 64503, IP: netip.MustParseAddr("2001:db8::3")},
		}}
		s := live.New(live.Options{Classify: classify.Options{LocalAS: testLocalAS}})
		s.SetVRPs(g.vrps(20))
		prev := s.Snapshot()
		for step := range 300 {
			if step%30 == 29 {
				s.SetVRPs(g.vrps(20))
			}
			for range 1 + g.r.IntN(4) {
				r := g.event()
				s.Apply(&r)
			}
			next := s.Snapshot()
			base := prev.DiffBase()
			if base.Analysis != nil {
				t.Fatal("DiffBase keeps the analysis")
			}
			down := map[peerID]bool{}
			for _, p := range g.peers {
				if g.r.IntN(2) == 0 {
					down[peerID{p.IP, p.AS}] = true
				}
			}
			// The service asks the new table through its DiffBase too
			// (not the whole snapshot, whose lookup map that would build).
			nextBase := next.DiffBase()
			loading := map[peerID]loadState{}
			for _, p := range g.peers {
				if g.r.IntN(2) == 0 {
					loading[peerID{p.IP, p.AS}] = loadState{}
				}
			}
			for _, c := range live.Diff(base, next) {
				want, got := refCause(prev, next, c, down), cause(base, next, c, down)
				causes[got]++
				if got != want {
					t.Fatalf("seed %d step %d: cause of %+v = %q, want %q", seed, step, c, got, want)
				}
				if got := cause(base, nextBase, c, down); got != want {
					t.Fatalf("seed %d step %d: cause of %+v against the next DiffBase = %q, want %q", seed, step, c, got, want)
				}
				if c.Kind != live.Disappeared {
					if got, want := decidingVRP(nextBase, c.Prefix, c.Origin), refDecidingVRP(next, c.Prefix, c.Origin); got != want {
						t.Fatalf("seed %d step %d: deciding VRP of %+v in the next DiffBase = %q, want %q", seed, step, c, got, want)
					}
					if got, want := onlyFrom(nextBase, c, loading, nil), onlyFrom(next, c, loading, nil); got != want {
						t.Fatalf("seed %d step %d: onlyFrom(%+v) in the next DiffBase = %v, want %v", seed, step, c, got, want)
					}
				}
				if c.Kind != live.Disappeared {
					continue
				}
				if got, want := firstCarrier(base, c, down), refFirstCarrier(prev, c, down); got != want {
					t.Fatalf("seed %d step %d: first carrier of %+v = %v, want %v", seed, step, c, got, want)
				}
				if got, want := decidingVRP(base, c.Prefix, c.Origin), refDecidingVRP(prev, c.Prefix, c.Origin); got != want {
					t.Fatalf("seed %d step %d: deciding VRP of %+v = %q, want %q", seed, step, c, got, want)
				}
			}
			// Membership of every route of either table, and of near
			// misses (another origin), by the origin reports show.
			for _, a := range []*live.Snapshot{prev, next} {
				for id, r := range a.Analysis.Table.Routes() {
					o := a.Analysis.Outcomes[id].Origin
					for _, q := range []rov.Origin{o, {Kind: rov.OriginAS, ASN: o.ASN + 1}, {Kind: rov.OriginLocal}, {Kind: rov.OriginNone}} {
						if got, want := has(base, r.Prefix, q), refHas(prev, r.Prefix, q); got != want {
							t.Fatalf("seed %d step %d: has(%v, %v) = %v, want %v", seed, step, r.Prefix, q, got, want)
						}
					}
				}
			}
			prev = next
		}
	}
	// The universe must reach every cause, or the test proves little.
	for _, c := range []string{causeAnnounced, causeWithdrawn, causeSessionDown, causeVRPs, causeCover} {
		if causes[c] == 0 {
			t.Errorf("no change with cause %s drawn: %v", c, causes)
		}
	}
}
