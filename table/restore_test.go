package table

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
)

// randTable fills a table with random paths from peers peers (crossing the
// 64-peer word boundary when peers > 64), AS_SET routes included.
func randTable(r *rand.Rand, peers, paths int) *Table {
	tb := New()
	for range paths {
		peer := tb.Peer(route.PeerKey{AS: uint32(65000 + r.IntN(peers)), IP: netip.AddrFrom4([4]byte{10, 0, 0, byte(r.IntN(peers))})})
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{192, 0, byte(r.IntN(4)), 0}), 24)
		if r.IntN(5) == 0 {
			tb.Add(p, rov.Origin{Kind: rov.OriginNone}, peer, []uint32{uint32(r.IntN(5)), uint32(r.IntN(5) + 10)})
			continue
		}
		tb.Add(p, rov.Origin{Kind: rov.OriginAS, ASN: uint32(64500 + r.IntN(3))}, peer, nil)
	}
	return tb
}

// sameTable compares every answer two tables give.
func sameTable(t *testing.T, got, want *Table) {
	t.Helper()
	if !reflect.DeepEqual(got.Routes(), want.Routes()) || !reflect.DeepEqual(got.Peers(), want.Peers()) || got.Paths() != want.Paths() {
		t.Fatalf("routes/peers/paths differ: %d/%d/%d, want %d/%d/%d", got.Len(), len(got.Peers()), got.Paths(), want.Len(), len(want.Peers()), want.Paths())
	}
	for id, r := range want.Routes() {
		if a, b := got.RoutePeers(id, nil), want.RoutePeers(id, nil); !slices.Equal(a, b) {
			t.Fatalf("route %d: RoutePeers %v, want %v", id, a, b)
		}
		if a, b := got.ASSet(id), want.ASSet(id); !slices.Equal(a, b) {
			t.Fatalf("route %d: ASSet %v, want %v", id, a, b)
		}
		if gid, ok := got.Lookup(r.Prefix, r.Origin); !ok || gid != id {
			t.Fatalf("Lookup(%s, %v) = %d %v, want %d", r.Prefix, r.Origin, gid, ok, id)
		}
	}
}

// TestRestoreRoundTrip: Restore(t.Parts()) answers as t does, and keeps
// accepting paths (new peers re-stride the restored bitsets) exactly as t.
func TestRestoreRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, peers := range []int{1, 63, 64, 65, 140} {
		t.Run(fmt.Sprint(peers, "peers"), func(t *testing.T) {
			orig := randTable(r, peers, 600)
			p := orig.Parts()
			p.Bits = slices.Clone(p.Bits) // Restore keeps its input; orig grows on below
			got, err := Restore(p)
			if err != nil {
				t.Fatal(err)
			}
			sameTable(t, got, orig)
			more := rand.New(rand.NewPCG(5, 6))
			again := rand.New(rand.NewPCG(5, 6))
			grow := func(tb *Table, r *rand.Rand) {
				for i := range 200 {
					peer := tb.Peer(route.PeerKey{AS: uint32(70000 + i%130)})
					tb.Add(netip.PrefixFrom(netip.AddrFrom4([4]byte{198, 51, byte(r.IntN(3)), 0}), 24), rov.Origin{ASN: 64501}, peer, nil)
				}
			}
			grow(orig, more)
			grow(got, again)
			sameTable(t, got, orig)
		})
	}
}

// TestRestoreRejects: each inconsistency a damaged store can carry is an
// error naming it, never a table whose methods panic or miscount.
func TestRestoreRejects(t *testing.T) {
	pfx := netip.MustParsePrefix("192.0.2.0/24")
	as := rov.Origin{Kind: rov.OriginAS, ASN: 64500}
	none := rov.Origin{Kind: rov.OriginNone}
	peer := []route.PeerKey{{AS: 64501}}
	ok := func() Parts {
		return Parts{Routes: []Route{{Prefix: pfx, Origin: none, Paths: 1}}, Peers: peer, Words: 1, Bits: []uint64{1}, ASSets: map[uint32][]uint32{0: {1, 2}}}
	}
	if _, err := Restore(ok()); err != nil {
		t.Fatalf("the valid base case: %v", err)
	}
	many := make([]route.PeerKey, 65)
	for i := range many {
		many[i].AS = uint32(i + 1)
	}
	cases := []struct {
		name string
		edit func(*Parts)
		want string
	}{
		{"words too few for the peers", func(p *Parts) { p.Peers = many }, "bitset words per route"},
		{"words more than Peer makes", func(p *Parts) { p.Words, p.Bits = 2, []uint64{1, 0} }, "bitset words per route"},
		{"bitset shorter than the routes", func(p *Parts) { p.Bits = nil }, "bitset words for 1 routes"},
		{"bit of a peer that does not exist", func(p *Parts) { p.Bits = []uint64{3} }, "beyond the 1 peers"},
		{"route with no peer", func(p *Parts) { p.Bits = []uint64{0} }, "no peer"},
		{"route with no paths", func(p *Parts) { p.Routes[0].Paths = 0 }, "no paths"},
		{"unknown origin kind", func(p *Parts) { p.Routes[0].Origin.Kind = 7 }, "unknown origin kind"},
		{"repeated peer", func(p *Parts) { p.Peers = []route.PeerKey{{AS: 1}, {AS: 1}} }, "repeats"},
		{"AS_SET of a missing route", func(p *Parts) { p.ASSets = map[uint32][]uint32{5: {1}} }, "only 1 routes"},
		{"AS_SET of an AS-origin route", func(p *Parts) { p.Routes[0].Origin = as }, "not NONE"},
		{"AS_SET unsorted", func(p *Parts) { p.ASSets[0] = []uint32{2, 1} }, "not sorted"},
		{"AS_SET repeated member", func(p *Parts) { p.ASSets[0] = []uint32{2, 2} }, "not sorted"},
		{"AS_SET empty", func(p *Parts) { p.ASSets[0] = []uint32{} }, "empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := ok()
			tc.edit(&p)
			_, err := Restore(p)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
