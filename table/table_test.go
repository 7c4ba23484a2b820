package table

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
)

func TestTableAggregates(t *testing.T) {
	tb := New()
	as := func(n uint32) rov.Origin { return rov.Origin{Kind: rov.OriginAS, ASN: n} }
	p := netip.MustParsePrefix("192.0.2.0/24")
	a := tb.Peer(route.PeerKey{AS: 64500, IP: netip.MustParseAddr("10.0.0.1")})
	b := tb.Peer(route.PeerKey{AS: 64501, IP: netip.MustParseAddr("10.0.0.2")})
	if again := tb.Peer(route.PeerKey{AS: 64500, IP: netip.MustParseAddr("10.0.0.1")}); again != a {
		t.Fatalf("Peer: same key got %d, want %d", again, a)
	}
	tb.Add(p, as(64496), a, nil)
	tb.Add(p, as(64496), a, nil) // ADD-PATH: a second path from the same peer
	tb.Add(p, as(64496), b, nil)
	tb.Add(p, as(64497), b, nil)
	tb.Add(p, rov.Origin{Kind: rov.OriginNone}, a, []uint32{65002, 65001})
	tb.Add(p, rov.Origin{Kind: rov.OriginNone}, b, []uint32{65003, 65001})
	if tb.Len() != 3 || tb.Paths() != 6 {
		t.Fatalf("got %d routes %d paths, want 3 routes 6 paths", tb.Len(), tb.Paths())
	}
	id, ok := tb.Lookup(p, as(64496))
	if !ok || tb.Routes()[id].Paths != 3 || tb.PeerCount(id) != 2 {
		t.Fatalf("route AS64496: ok=%v paths=%d peers=%d, want 3 paths 2 peers", ok, tb.Routes()[id].Paths, tb.PeerCount(id))
	}
	id, _ = tb.Lookup(p, rov.Origin{Kind: rov.OriginNone})
	if got := tb.ASSet(id); !slices.Equal(got, []uint32{65001, 65002, 65003}) {
		t.Errorf("AS_SET union: got %v, want [65001 65002 65003]", got)
	}
}

// TestTableManyPeers crosses the 64-peer bitset word boundary, which
// re-strides every route's bitset.
func TestTableManyPeers(t *testing.T) {
	tb := New()
	p := netip.MustParsePrefix("2001:db8::/32")
	o := rov.Origin{Kind: rov.OriginAS, ASN: 64500}
	q := netip.MustParsePrefix("198.51.100.0/24")
	for i := range 150 {
		peer := tb.Peer(route.PeerKey{AS: uint32(65000 + i), IP: netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})})
		if i%2 == 0 {
			tb.Add(p, o, peer, nil)
		}
		if i == 3 || i == 149 {
			tb.Add(q, o, peer, nil)
		}
	}
	id, _ := tb.Lookup(p, o)
	if got := tb.PeerCount(id); got != 75 {
		t.Errorf("PeerCount: got %d, want 75", got)
	}
	id, _ = tb.Lookup(q, o)
	if got := tb.RoutePeers(id, nil); !slices.Equal(got, []int{3, 149}) {
		t.Errorf("RoutePeers: got %v, want [3 149]", got)
	}
	if !tb.HasPeer(id, 149) || tb.HasPeer(id, 148) {
		t.Error("HasPeer wrong across the word boundary")
	}
}
