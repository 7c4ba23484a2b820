package table

import (
	"bytes"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/rovimpact/rovimpact/mrt"
	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
)

// sliceSource replays events from memory as a route.Source.
type sliceSource struct {
	evs []route.Route
	i   int
	r   route.Route
}

func (s *sliceSource) Next() bool {
	if s.i >= len(s.evs) {
		return false
	}
	s.r = s.evs[s.i]
	s.i++
	return true
}
func (s *sliceSource) Route() *route.Route { return &s.r }
func (s *sliceSource) Err() error          { return nil }
func (s *sliceSource) Peers() []route.Peer { return nil }
func (s *sliceSource) Stats() route.Stats  { return route.Stats{} }

// ribTable is the reference the Ingester's replay must equal: every event
// through mrt.RIB.Apply (the project's RFC 4271 / RFC 7911 Adj-RIB-In
// replay), then every path left, in RIB.All order, added to a new table
// (what Finish did before it kept its own replay).
func ribTable(src route.Source, seed func(*Table)) (*Table, route.RIBStats) {
	rib := mrt.NewRIB()
	for src.Next() {
		r := src.Route()
		rib.Apply(r, route.KeyOf(r.Peer))
	}
	t := New()
	seed(t)
	peers := rib.Peers()
	idx := make([]int, len(peers))
	for i, p := range peers {
		idx[i] = t.Peer(route.PeerKey{AS: p.AS, IP: p.IP})
	}
	for r := range rib.All() {
		var asSet []uint32
		if r.Origin.Kind == rov.OriginNone {
			asSet = slices.Clone(rov.FinalASSet(r.Path))
		}
		t.Add(r.Prefix, r.Origin, idx[r.Peer.Index], asSet)
	}
	return t, rib.Stats()
}

func ingestTable(t *testing.T, src route.Source, seed func(*Table)) (*Table, *Ingester) {
	t.Helper()
	tb := New()
	seed(tb)
	in := NewIngester(tb, IngestOptions{})
	if err := in.Read(src); err != nil {
		t.Fatal(err)
	}
	in.Finish()
	return tb, in
}

// randEvents draws UPDATE-derived events that exercise every replay rule:
// announcements replacing a peer's path (RFC 4271 §3.2), ADD-PATH ids
// keeping paths apart (RFC 7911), withdrawals of held and unknown paths,
// peer-down flushes (RFC 4271 §8.2.2), AS_SET and confederation origins
// (RFC 6811 §2), unmasked prefixes (the replay keys the masked prefix),
// IPv4 and IPv6, an invalid prefix and an unknown kind (ignored).
func randEvents(r *rand.Rand, n int) []route.Route {
	peers := []route.Peer{
		{AS: 64500, IP: netip.MustParseAddr("10.0.0.2")},
		{AS: 64500, IP: netip.MustParseAddr("10.0.0.1")},
		{AS: 64499, IP: netip.MustParseAddr("2001:db8::1")},
		{AS: 65001, IP: netip.MustParseAddr("10.0.0.3")},
	}
	prefix := func() netip.Prefix {
		if r.IntN(4) == 0 {
			return netip.PrefixFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0xd, 0xb8, byte(r.IntN(4)), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, byte(r.IntN(2))}), 32+8*r.IntN(3))
		}
		return netip.PrefixFrom(netip.AddrFrom4([4]byte{192, 0, byte(r.IntN(6)), byte(r.IntN(2))}), 16+4*r.IntN(3))
	}
	var evs []route.Route
	for range n {
		p := peers[r.IntN(len(peers))]
		ev := route.Route{Peer: p, FromUpdate: true, Prefix: prefix(), PathID: uint32(r.IntN(2))}
		switch x := r.IntN(100); {
		case x < 2:
			ev = route.Route{Kind: route.PeerDown, Peer: p, FromUpdate: true}
		case x < 3:
			ev.Kind = route.Kind(7) // unknown: ignored
		case x < 4:
			ev.Prefix = netip.Prefix{} // invalid: ignored
		case x < 30:
			ev.Kind = route.Withdraw
		default:
			ev.Kind = route.Announce
			asn := uint32(64496 + r.IntN(3))
			switch r.IntN(10) {
			case 0:
				ev.Path = []rov.Segment{{Type: rov.ASSequence, ASNs: []uint32{p.AS}}, {Type: rov.ASSet, ASNs: []uint32{asn, asn + 100}}}
			case 1:
				ev.Path = []rov.Segment{{Type: rov.ASConfedSequence, ASNs: []uint32{65100}}}
			default:
				ev.Path = []rov.Segment{{Type: rov.ASSequence, ASNs: []uint32{p.AS, asn}}}
			}
			ev.Origin = rov.OriginOf(ev.Path)
		}
		evs = append(evs, ev)
	}
	return evs
}

// noSeed leaves the table empty (Finish fills it without Table.Add).
func noSeed(*Table) {}

// oneRoute puts a route in the table first, as a RIB dump read before
// the update files does (Finish then goes through Table.Add).
func oneRoute(t *Table) {
	t.Add(netip.MustParsePrefix("192.0.1.0/24"), rov.Origin{Kind: rov.OriginAS, ASN: 64497}, t.Peer(route.PeerKey{AS: 65001, IP: netip.MustParseAddr("10.0.0.3")}), nil)
}

// TestReplayMatchesRIB pins the Ingester's own replay to mrt.RIB's rules:
// on random event streams (more than one batch, so batch boundaries are
// crossed), into an empty table and one that already has a route, the
// table and the replay counters must be exactly those of a replay through
// mrt.RIB.
func TestReplayMatchesRIB(t *testing.T) {
	for seed := range uint64(20) {
		r := rand.New(rand.NewPCG(seed, 11))
		evs := randEvents(r, 1+r.IntN(3*ingestBatch))
		fill := noSeed
		if seed%2 == 1 {
			fill = oneRoute
		}
		want, wantStats := ribTable(&sliceSource{evs: evs}, fill)
		got, in := ingestTable(t, &sliceSource{evs: evs}, fill)
		sameTable(t, got, want)
		if in.ReplayStats() != wantStats {
			t.Fatalf("seed %d: replay stats %+v, want %+v", seed, in.ReplayStats(), wantStats)
		}
		if in.Events() != int64(len(evs)) {
			t.Fatalf("seed %d: %d events, want %d", seed, in.Events(), len(evs))
		}
	}
}

// TestReplayMatchesRIBFullTable is TestReplayMatchesRIB on the PCH full
// table (577,737 real UPDATEs); skipped with -short.
func TestReplayMatchesRIBFullTable(t *testing.T) {
	if testing.Short() {
		t.Skip("full table replay: skipped with -short")
	}
	data := decompressed(t, pchFullTable)
	read := func() *mrt.Reader { return mrt.NewReader(bytes.NewReader(data), mrt.Options{Name: pchFullTable}) }
	want, wantStats := ribTable(read(), noSeed)
	got, in := ingestTable(t, read(), noSeed)
	sameTable(t, got, want)
	if in.ReplayStats() != wantStats {
		t.Fatalf("replay stats %+v, want %+v", in.ReplayStats(), wantStats)
	}
	if got.Len() < 500000 {
		t.Fatalf("%d routes from the full table, want more than 500k", got.Len())
	}
}

// TestIngestMixed checks that RIB entries (added as they stream past) and
// replayed UPDATEs share one table: the RIB entry's route keeps id 0 and
// the replay adds to it.
func TestIngestMixed(t *testing.T) {
	p := netip.MustParsePrefix("192.0.2.0/24")
	peer := route.Peer{AS: 64500, IP: netip.MustParseAddr("10.0.0.1")}
	path := []rov.Segment{{Type: rov.ASSequence, ASNs: []uint32{64500, 64496}}}
	o := rov.OriginOf(path)
	evs := []route.Route{
		{Kind: route.Announce, Peer: peer, Prefix: p, Path: path, Origin: o},
		{Kind: route.Withdraw, Peer: peer, Prefix: p, FromUpdate: true}, // withdraws nothing the replay holds
		{Kind: route.Announce, Peer: peer, Prefix: netip.MustParsePrefix("198.51.100.0/24"), Path: path, Origin: o, FromUpdate: true},
		{Kind: route.Announce, Peer: peer, Prefix: p, Path: path, Origin: o, FromUpdate: true},
	}
	tb, in := ingestTable(t, &sliceSource{evs: evs}, noSeed)
	if tb.Len() != 2 || tb.Paths() != 3 || tb.Routes()[0].Prefix != p || tb.Routes()[0].Paths != 2 {
		t.Fatalf("got %d routes %d paths %v, want 2 routes 3 paths with %s first holding 2", tb.Len(), tb.Paths(), tb.Routes(), p)
	}
	if st := in.ReplayStats(); st.Announced != 2 || st.WithdrawnUnknown != 1 {
		t.Fatalf("replay stats %+v, want 2 announced, 1 unknown withdrawal", st)
	}
}
