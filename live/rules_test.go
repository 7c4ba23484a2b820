package live

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rovimpact/rovimpact/classify"
	bgp "github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
	"github.com/rovimpact/rovimpact/rtr"
)

var (
	peerA = bgp.Peer{AS: 64501, IP: netip.MustParseAddr("192.0.2.1")}
	peerB = bgp.Peer{AS: 64502, IP: netip.MustParseAddr("2001:db8::2")}
)

func seq(asns ...uint32) []rov.Segment {
	return []rov.Segment{{Type: rov.ASSequence, ASNs: asns}}
}

func ann(p bgp.Peer, prefix string, id uint32, path []rov.Segment) bgp.Route {
	return bgp.Route{Kind: bgp.Announce, Peer: p, Prefix: netip.MustParsePrefix(prefix), PathID: id, Path: path, Origin: rov.OriginOf(path)}
}

func wd(p bgp.Peer, prefix string, id uint32) bgp.Route {
	return bgp.Route{Kind: bgp.Withdraw, Peer: p, Prefix: netip.MustParsePrefix(prefix), PathID: id}
}

func down(p bgp.Peer) bgp.Route { return bgp.Route{Kind: bgp.PeerDown, Peer: p} }

// routesOf lists a snapshot's routes as "prefix origin paths=N peers=N
// [asset=...]", sorted.
func routesOf(snap *Snapshot) []string {
	t := snap.Analysis.Table
	var out []string
	for id, r := range t.Routes() {
		o := "AS" + fmt.Sprint(r.Origin.ASN)
		switch r.Origin.Kind {
		case rov.OriginNone:
			o = "NONE"
		case rov.OriginLocal:
			o = "LOCAL"
		}
		s := fmt.Sprintf("%s %s paths=%d peers=%d", r.Prefix, o, r.Paths, t.PeerCount(id))
		if set := t.ASSet(id); set != nil {
			s += fmt.Sprintf(" asset=%v", set)
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

func TestApplyRules(t *testing.T) {
	asSet := func(first uint32, set ...uint32) []rov.Segment {
		return []rov.Segment{{Type: rov.ASSequence, ASNs: []uint32{first}}, {Type: rov.ASSet, ASNs: set}}
	}
	tests := []struct {
		name     string
		maxPaths int
		events   []bgp.Route
		want     []string
		peers    int              // Stats().Peers
		skipped  map[string]int64 // Stats().Skipped
		events2  map[string]int64 // Stats().Events
	}{
		{
			name:    "RFC 4271 §3.2: an announcement adds the peer's path",
			events:  []bgp.Route{ann(peerA, "192.0.2.0/24", 0, seq(64501, 65001))},
			want:    []string{"192.0.2.0/24 AS65001 paths=1 peers=1"},
			peers:   1,
			events2: map[string]int64{"announce": 1},
		},
		{
			name: "RFC 4271 §3.2: a new announcement replaces the path; another origin moves it to another route",
			events: []bgp.Route{
				ann(peerA, "192.0.2.0/24", 0, seq(64501, 65001)),
				ann(peerB, "192.0.2.0/24", 0, seq(64502, 65001)),
				ann(peerA, "192.0.2.0/24", 0, seq(64501, 65002)),
			},
			want:    []string{"192.0.2.0/24 AS65001 paths=1 peers=1", "192.0.2.0/24 AS65002 paths=1 peers=1"},
			peers:   2,
			events2: map[string]int64{"announce": 3},
		},
		{
			name: "RFC 4271 §3.2: replacing with the same origin keeps one path",
			events: []bgp.Route{
				ann(peerA, "192.0.2.0/24", 0, seq(64501, 65001)),
				ann(peerA, "192.0.2.0/24", 0, seq(64501, 64999, 65001)),
			},
			want:    []string{"192.0.2.0/24 AS65001 paths=1 peers=1"},
			peers:   1,
			events2: map[string]int64{"announce": 2},
		},
		{
			name: "RFC 4271 §4.3: a withdrawal removes the path; one of a path not held is counted",
			events: []bgp.Route{
				ann(peerA, "192.0.2.0/24", 0, seq(64501, 65001)),
				ann(peerA, "198.51.100.0/24", 0, seq(64501, 65001)),
				wd(peerA, "192.0.2.0/24", 0),
				wd(peerA, "192.0.2.0/24", 0),
				wd(peerB, "198.51.100.0/24", 0),
				wd(peerA, "203.0.113.0/24", 0),
			},
			want:    []string{"198.51.100.0/24 AS65001 paths=1 peers=1"},
			peers:   1,
			skipped: map[string]int64{"withdraw_unknown": 3},
			events2: map[string]int64{"announce": 2, "withdraw": 1},
		},
		{
			name: "RFC 7911 §3: a withdrawal names the path id; another id is not held",
			events: []bgp.Route{
				ann(peerA, "192.0.2.0/24", 1, seq(64501, 65001)),
				wd(peerA, "192.0.2.0/24", 2),
			},
			want:    []string{"192.0.2.0/24 AS65001 paths=1 peers=1"},
			peers:   1,
			skipped: map[string]int64{"withdraw_unknown": 1},
			events2: map[string]int64{"announce": 1},
		},
		{
			name: "RFC 7911: one peer, the same route on two path ids; withdrawing one keeps the peer",
			events: []bgp.Route{
				ann(peerA, "192.0.2.0/24", 1, seq(64501, 65001)),
				ann(peerA, "192.0.2.0/24", 2, seq(64501, 64999, 65001)),
				ann(peerB, "192.0.2.0/24", 0, seq(64502, 65001)),
				wd(peerA, "192.0.2.0/24", 1),
			},
			want:    []string{"192.0.2.0/24 AS65001 paths=2 peers=2"},
			peers:   2,
			events2: map[string]int64{"announce": 3, "withdraw": 1},
		},
		{
			name: "RFC 7911: two path ids of one peer counted as two paths, one peer",
			events: []bgp.Route{
				ann(peerA, "192.0.2.0/24", 1, seq(64501, 65001)),
				ann(peerA, "192.0.2.0/24", 2, seq(64501, 64999, 65001)),
			},
			want:    []string{"192.0.2.0/24 AS65001 paths=2 peers=1"},
			peers:   1,
			events2: map[string]int64{"announce": 2},
		},
		{
			name: "RFC 4271 §8.2.2: peer down releases every path of that peer only",
			events: []bgp.Route{
				ann(peerA, "192.0.2.0/24", 0, seq(64501, 65001)),
				ann(peerA, "198.51.100.0/24", 0, seq(64501, 65002)),
				ann(peerB, "192.0.2.0/24", 0, seq(64502, 65001)),
				down(peerA),
			},
			want:    []string{"192.0.2.0/24 AS65001 paths=1 peers=1"},
			peers:   1,
			events2: map[string]int64{"announce": 3, "peer_down": 1},
		},
		{
			name: "a peer up again after peer down starts empty",
			events: []bgp.Route{
				ann(peerA, "192.0.2.0/24", 0, seq(64501, 65001)),
				down(peerA),
				wd(peerA, "192.0.2.0/24", 0),
				ann(peerA, "198.51.100.0/24", 0, seq(64501, 65002)),
			},
			want:    []string{"198.51.100.0/24 AS65002 paths=1 peers=1"},
			peers:   1,
			skipped: map[string]int64{"withdraw_unknown": 1},
			events2: map[string]int64{"announce": 2, "peer_down": 1},
		},
		{
			name:     "--max-prefixes: new paths beyond the limit are skipped; replacing and withdrawing held ones still apply",
			maxPaths: 2,
			events: []bgp.Route{
				ann(peerA, "192.0.2.0/24", 0, seq(64501, 65001)),
				ann(peerA, "198.51.100.0/24", 0, seq(64501, 65001)),
				ann(peerA, "203.0.113.0/24", 0, seq(64501, 65001)),
				ann(peerA, "192.0.2.0/24", 1, seq(64501, 65001)),
				ann(peerA, "192.0.2.0/24", 0, seq(64501, 65009)),
				ann(peerB, "203.0.113.0/24", 0, seq(64502, 65001)),
				wd(peerA, "198.51.100.0/24", 0),
				ann(peerA, "203.0.113.0/24", 0, seq(64501, 65001)),
			},
			want:    []string{"192.0.2.0/24 AS65009 paths=1 peers=1", "203.0.113.0/24 AS65001 paths=2 peers=2"},
			peers:   2,
			skipped: map[string]int64{"prefix_limit": 2},
			events2: map[string]int64{"announce": 5, "withdraw": 1},
		},
		{
			name: "RFC 6811 §2: AS_SET origins are NONE, one route; its members are the union over the paths still held",
			events: []bgp.Route{
				ann(peerA, "192.0.2.0/24", 0, asSet(64501, 65001, 65002)),
				ann(peerB, "192.0.2.0/24", 0, asSet(64502, 65003)),
				ann(peerB, "192.0.2.0/24", 1, asSet(64502, 65003)),
				wd(peerA, "192.0.2.0/24", 0),
			},
			want:    []string{"192.0.2.0/24 NONE paths=2 peers=1 asset=[65003]"},
			peers:   1,
			events2: map[string]int64{"announce": 3, "withdraw": 1},
		},
		{
			name: "RFC 6811 §2: replacing an AS_SET path with another set on the same route changes the union",
			events: []bgp.Route{
				ann(peerA, "192.0.2.0/24", 0, asSet(64501, 65001, 65002)),
				ann(peerA, "192.0.2.0/24", 0, asSet(64501, 65004)),
			},
			want:    []string{"192.0.2.0/24 NONE paths=1 peers=1 asset=[65004]"},
			peers:   1,
			events2: map[string]int64{"announce": 2},
		},
		{
			name: "RFC 6811 §2: an empty AS_PATH is the local AS",
			events: []bgp.Route{
				ann(peerA, "192.0.2.0/24", 0, nil),
			},
			want:    []string{"192.0.2.0/24 LOCAL paths=1 peers=1"},
			peers:   1,
			events2: map[string]int64{"announce": 1},
		},
		{
			name: "events that cannot apply are counted: invalid prefix, unknown kind",
			events: []bgp.Route{
				{Kind: bgp.Announce, Peer: peerA},
				{Kind: bgp.Withdraw, Peer: peerA},
				{Kind: bgp.Kind(7), Peer: peerA},
			},
			want:    nil,
			peers:   0,
			skipped: map[string]int64{"invalid_prefix": 2, "kind_7": 1},
			events2: map[string]int64{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := New(Options{MaxPaths: tc.maxPaths})
			for i := range tc.events {
				s.Apply(&tc.events[i])
			}
			if got := routesOf(s.Snapshot()); !slices.Equal(got, tc.want) {
				t.Errorf("routes\n got %q\nwant %q", got, tc.want)
			}
			st := s.Stats()
			if st.Peers != tc.peers {
				t.Errorf("peers: got %d, want %d", st.Peers, tc.peers)
			}
			if tc.skipped == nil {
				tc.skipped = map[string]int64{}
			}
			if !maps.Equal(st.Skipped, tc.skipped) {
				t.Errorf("skipped: got %v, want %v", st.Skipped, tc.skipped)
			}
			if !maps.Equal(st.Events, tc.events2) {
				t.Errorf("events: got %v, want %v", st.Events, tc.events2)
			}
			var paths int64
			for _, n := range st.PeerPaths {
				paths += n
			}
			if paths != st.Paths || st.Paths != s.Snapshot().Analysis.Table.Paths() {
				t.Errorf("paths: per peer %d, total %d, snapshot %d", paths, st.Paths, s.Snapshot().Analysis.Table.Paths())
			}
		})
	}
}

// TestChurnBounded: churn does not grow the route array (ids of routes
// that lost their last path are reused), the VRP reference arena, nor the
// interned AS paths and next hops, and the dump stays right across
// compactions.
func TestChurnBounded(t *testing.T) {
	s := New(Options{})
	s.attrSlack = 100
	s.SetVRPs([]rov.VRP{{Prefix: netip.MustParsePrefix("10.0.0.0/8"), MaxLen: 24, ASN: 1}, {Prefix: netip.MustParsePrefix("10.0.0.0/8"), MaxLen: 8, ASN: 2}})
	for round := range 20000 {
		p := fmt.Sprintf("10.%d.%d.0/24", round%7, round%5)
		r := ann(peerA, p, 0, seq(64501, uint32(round), uint32(round%50)))
		r.NextHop = netip.AddrFrom4([4]byte{192, 0, 2, byte(round)})
		s.Apply(&r)
		if round%3 == 0 {
			w := wd(peerA, p, 0)
			s.Apply(&w)
		}
	}
	if len(s.routes) > 35 {
		t.Errorf("route array grew to %d for at most 35 routes held at once", len(s.routes))
	}
	if len(s.refs) > 1<<15 {
		t.Errorf("VRP reference arena grew to %d", len(s.refs))
	}
	if got, want := int64(len(s.routes)-len(s.free)), s.Stats().Routes; got != want {
		t.Errorf("live routes %d, Stats %d", got, want)
	}
	if n, _ := s.attrs.Paths(); n > 35+100+1 || s.attrCompactions == 0 {
		t.Errorf("%d AS paths interned after %d compactions, for at most 35 held", n, s.attrCompactions)
	}
	if n := s.attrs.NextHops(); n > 35+100+1 {
		t.Errorf("%d next hops interned, for at most 35 held", n)
	}
	_, all := s.Paths()
	for r := range all {
		// Held paths are those of the last rounds that set their prefix.
		last := uint32(r.Path[0].ASNs[1])
		if want := netip.AddrFrom4([4]byte{192, 0, 2, byte(last)}); r.NextHop != want || r.Path[0].ASNs[2] != last%50 {
			t.Fatalf("%s: path %v next hop %v after compactions, want round %d's", r.Prefix, r.Path, r.NextHop, last)
		}
		if p := fmt.Sprintf("10.%d.%d.0/24", last%7, last%5); r.Prefix.String() != p {
			t.Fatalf("%s holds round %d's path, which announced %s", r.Prefix, last, p)
		}
	}
}

// TestVRPRules pins what a VRP change re-validates and the verdict after it.
func TestVRPRules(t *testing.T) {
	vrp := func(p string, maxLen uint8, asn uint32) rov.VRP {
		return rov.VRP{Prefix: netip.MustParsePrefix(p), MaxLen: maxLen, ASN: asn}
	}
	base := []rov.VRP{vrp("10.0.0.0/8", 16, 2)}
	routes := []bgp.Route{
		ann(peerA, "10.0.0.0/16", 0, seq(64501, 1)), // invalid: wrong origin under 10/8-16 AS2
		ann(peerA, "10.1.0.0/20", 0, seq(64501, 2)), // invalid: too specific for 10/8-16 AS2
		ann(peerA, "192.0.2.0/24", 0, seq(64501, 3)),
	}
	tests := []struct {
		name       string
		set        []rov.VRP // SetVRPs when not nil
		ann, wd    []rov.VRP
		n          int // routes re-validated
		builds     int64
		route      string // the route to look at after
		state      rov.State
		class      classify.Class
		wantDecide []rov.VRP
	}{
		{
			name: "RFC 6811 §2: a VRP matching the route makes it Valid; only routes inside it are re-validated",
			ann:  []rov.VRP{vrp("10.0.0.0/16", 16, 1)},
			n:    1, builds: 2,
			route: "10.0.0.0/16", state: rov.Valid, wantDecide: []rov.VRP{vrp("10.0.0.0/16", 16, 1)},
		},
		{
			name: "RFC 6811 §2: a VRP covering nothing held re-validates nothing (still rebuilds the index)",
			ann:  []rov.VRP{vrp("203.0.113.0/24", 24, 9)},
			n:    0, builds: 2,
			route: "10.0.0.0/16", state: rov.Invalid, class: classify.WrongOrigin, wantDecide: base,
		},
		{
			name: "classify rule 3: the origin's VRP strictly inside an Invalid route turns WrongOrigin into TooShort",
			ann:  []rov.VRP{vrp("10.0.1.0/24", 24, 1)},
			n:    1, builds: 2,
			route: "10.0.0.0/16", state: rov.Invalid, class: classify.TooShort,
			wantDecide: []rov.VRP{vrp("10.0.1.0/24", 24, 1), vrp("10.0.0.0/8", 16, 2)},
		},
		{
			name: "a VRP inside a route of another origin does not touch it",
			ann:  []rov.VRP{vrp("10.0.1.0/24", 24, 7)},
			n:    0, builds: 2,
			route: "10.0.0.0/16", state: rov.Invalid, class: classify.WrongOrigin, wantDecide: base,
		},
		{
			name: "withdrawing the only covering VRP makes every route under it NotFound",
			wd:   base,
			n:    2, builds: 2,
			route: "10.1.0.0/20", state: rov.NotFound,
		},
		{
			name: "withdrawing a VRP not in the set changes nothing and builds no index",
			wd:   []rov.VRP{vrp("10.0.0.0/8", 9, 2)},
			n:    0, builds: 1,
			route: "10.1.0.0/20", state: rov.Invalid, class: classify.TooSpecific, wantDecide: base,
		},
		{
			name: "announcing a VRP already held changes nothing",
			ann:  base,
			n:    0, builds: 1,
			route: "10.1.0.0/20", state: rov.Invalid, class: classify.TooSpecific, wantDecide: base,
		},
		{
			name: "reloading the same set changes nothing",
			set:  base,
			n:    0, builds: 1,
			route: "10.1.0.0/20", state: rov.Invalid, class: classify.TooSpecific, wantDecide: base,
		},
		{
			name: "a reload where only the TA differs re-validates the routes under it (reports name the TA)",
			set:  []rov.VRP{{Prefix: netip.MustParsePrefix("10.0.0.0/8"), MaxLen: 16, ASN: 2, TA: "ripe"}},
			n:    2, builds: 2,
			route: "10.1.0.0/20", state: rov.Invalid, class: classify.TooSpecific,
			wantDecide: []rov.VRP{{Prefix: netip.MustParsePrefix("10.0.0.0/8"), MaxLen: 16, ASN: 2, TA: "ripe"}},
		},
		{
			name: "a reload replacing the set re-validates the routes inside both the old and new VRPs",
			set:  []rov.VRP{vrp("192.0.2.0/24", 24, 3)},
			n:    3, builds: 2,
			route: "192.0.2.0/24", state: rov.Valid, wantDecide: []rov.VRP{vrp("192.0.2.0/24", 24, 3)},
		},
	}
	for _, walk := range []float64{1e9, 0} {
		for _, tc := range tests {
			t.Run(fmt.Sprintf("walk%v/%s", walk, tc.name), func(t *testing.T) {
				s := New(Options{})
				s.walkRoutesAbove = walk
				for i := range routes {
					s.Apply(&routes[i])
				}
				s.SetVRPs(base)
				var n int
				if tc.set != nil {
					n = s.SetVRPs(tc.set)
				} else {
					n = s.UpdateVRPs(tc.ann, tc.wd)
				}
				if n != tc.n {
					t.Errorf("re-validated %d routes, want %d", n, tc.n)
				}
				st := s.Stats()
				if st.IndexBuilds != tc.builds || st.Revalidated != int64(2+tc.n) {
					t.Errorf("index builds %d revalidated %d, want %d and %d", st.IndexBuilds, st.Revalidated, tc.builds, 2+tc.n)
				}
				a := s.Snapshot().Analysis
				id, ok := 0, false
				for i, r := range a.Table.Routes() {
					if r.Prefix.String() == tc.route {
						id, ok = i, true
					}
				}
				if !ok {
					t.Fatalf("route %s missing", tc.route)
				}
				o := a.Outcomes[id]
				var decide []rov.VRP
				for _, i := range a.VRPs(id) {
					decide = append(decide, a.Index.VRPs()[i])
				}
				if o.State != tc.state || o.Class != tc.class || !slices.Equal(decide, tc.wantDecide) {
					t.Errorf("%s: got %v %v %v, want %v %v %v", tc.route, o.State, o.Class, decide, tc.state, tc.class, tc.wantDecide)
				}
			})
		}
	}
}

// TestPaths: the dump view lists every held path with its attributes, and
// its peers index Route.Peer.Index.
func TestPaths(t *testing.T) {
	s := New(Options{})
	evs := []bgp.Route{
		ann(peerB, "2001:db8:1::/48", 0, seq(64502, 65001)),
		ann(peerA, "192.0.2.0/24", 3, seq(64501, 65001)),
		ann(peerA, "192.0.2.0/24", 4, seq(64501, 65002)),
		ann(peerA, "198.51.100.0/24", 0, seq(64501, 65003)),
		wd(peerA, "198.51.100.0/24", 0),
	}
	evs[1].NextHop = netip.MustParseAddr("192.0.2.254")
	for i := range evs {
		s.Apply(&evs[i])
	}
	peers, all := s.Paths()
	var got []string
	for r := range all {
		got = append(got, fmt.Sprintf("%s id=%d AS%d %v nh=%v", r.Prefix, r.PathID, peers[r.Peer.Index].AS, r.Path, r.NextHop))
	}
	want := []string{
		"192.0.2.0/24 id=3 AS64501 [{2 [64501 65001]}] nh=192.0.2.254",
		"192.0.2.0/24 id=4 AS64501 [{2 [64501 65002]}] nh=invalid IP",
		"2001:db8:1::/48 id=0 AS64502 [{2 [64502 65001]}] nh=invalid IP",
	}
	if !slices.Equal(got, want) {
		t.Errorf("paths\n got %q\nwant %q", got, want)
	}
	if len(peers) != 2 {
		t.Errorf("peers %v, want 2", peers)
	}
}

// TestConcurrent runs Apply, VRP changes, Snapshot, Stats and Paths at once
// (go test -race checks the locking) and then checks the end state.
func TestConcurrent(t *testing.T) {
	s := New(Options{})
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := []bgp.Peer{peerA, peerB, {AS: 64503, IP: netip.MustParseAddr("192.0.2.3")}}[w]
			for i := range 2000 {
				r := ann(p, fmt.Sprintf("10.%d.%d.0/24", i%16, i/16), 0, seq(p.AS, uint32(i%3)))
				s.Apply(&r)
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		var prevLight *Snapshot
		for i := range 5 {
			s.UpdateVRPs([]rov.VRP{{Prefix: netip.MustParsePrefix(fmt.Sprintf("10.%d.0.0/16", i)), MaxLen: 24, ASN: 1}}, nil)
			snap := s.Snapshot()
			_ = Diff(nil, snap)
			// The State's DiffBase reads the prefix keys and sorted view
			// after unlocking, and Has of it asks the State again.
			light := s.DiffBase()
			_ = Diff(prevLight, light)
			_ = Diff(snap.DiffBase(), light)
			_ = light.Has(netip.MustParsePrefix(fmt.Sprintf("10.%d.1.0/24", i)), rov.Origin{Kind: rov.OriginAS, ASN: 1})
			_, _ = light.PeerCounts(bgp.KeyOf(peerA))
			prevLight = light
			_ = s.Stats()
			_, all := s.Paths()
			for range all {
			}
		}
	}()
	wg.Wait()
	snap := s.Snapshot()
	if n := len(snap.Analysis.Table.Routes()); n != 2000 {
		t.Errorf("%d routes, want 2000", n)
	}
	if p := snap.Analysis.Table.Paths(); p != 6000 {
		t.Errorf("%d paths, want 6000", p)
	}
	if snap != s.Snapshot() {
		t.Error("Snapshot rebuilt with nothing changed")
	}
	var invalid int
	for _, o := range snap.Analysis.Outcomes {
		if o.State == rov.Invalid {
			invalid++
		}
	}
	if snap.VRPs != 5 || invalid == 0 {
		t.Errorf("VRPs %d, invalid %d", snap.VRPs, invalid)
	}
}

// TestCoalesce: applying deltas one by one and applying their Coalesce
// leave the same VRP set and the same verdicts, with one index build.
func TestCoalesce(t *testing.T) {
	for seed := range uint64(20) {
		g := newGen(seed)
		base := canonical(g.vrps(20))
		one, all := New(Options{}), New(Options{})
		for i := range 30 {
			r := ann(peerA, g.prefix().String(), 0, seq(64501, uint32(i%6)))
			one.Apply(&r)
			all.Apply(&r)
		}
		one.SetVRPs(base)
		all.SetVRPs(base)
		held := map[vrpKey]rov.VRP{}
		for _, v := range base {
			held[keyOfVRP(v)] = v
		}
		// Deltas as rtr.Set reports them: withdraw only held VRPs, announce
		// only absent ones; sometimes a VRP is withdrawn and announced again.
		var deltas []rtr.Delta
		for range 1 + g.r.IntN(6) {
			var d rtr.Delta
			// Sorted, so that a seed always draws the same deltas.
			for _, v := range slices.SortedFunc(maps.Values(held), rov.CanonicalOrder) {
				if g.r.IntN(4) == 0 {
					d.Withdrawn = append(d.Withdrawn, v)
					if g.r.IntN(3) == 0 {
						d.Announced = append(d.Announced, v)
					} else {
						delete(held, keyOfVRP(v))
					}
				}
			}
			for range g.r.IntN(4) {
				v := g.vrp()
				v.Prefix = v.Prefix.Masked()
				if _, ok := held[keyOfVRP(v)]; !ok {
					d.Announced = append(d.Announced, v)
					held[keyOfVRP(v)] = v
				}
			}
			deltas = append(deltas, d)
			one.UpdateVRPs(d.Announced, d.Withdrawn)
		}
		a, w := Coalesce(deltas...)
		builds := all.Stats().IndexBuilds
		all.UpdateVRPs(a, w)
		if !slices.Equal(one.vrps, all.vrps) {
			t.Fatalf("seed %d: one by one %v, coalesced %v", seed, one.vrps, all.vrps)
		}
		if got := all.Stats().IndexBuilds - builds; got > 1 {
			t.Errorf("seed %d: %d index builds for one coalesced change", seed, got)
		}
		if g, w := viewOf(all.Snapshot().Analysis), viewOf(one.Snapshot().Analysis); fmt.Sprint(g) != fmt.Sprint(w) {
			t.Errorf("seed %d: verdicts differ:\n%v\n%v", seed, g, w)
		}
	}
}

// TestEpochDuringChange: while a VRP change holds the State's lock
// (re-validating), Epoch answers at once with the epoch before the change
// and TryStats declines instead of waiting; both see the change once it
// is done. (What serve relies on to answer scrapes during a load.)
func TestEpochDuringChange(t *testing.T) {
	s := New(Options{})
	r := ann(peerA, "192.0.2.0/24", 0, seq(64501, 64500))
	s.Apply(&r)
	before := s.Epoch()
	held, release := make(chan struct{}), make(chan struct{})
	s.onRevalidate = func([]uint32) {
		close(held)
		<-release
	}
	done := make(chan int)
	go func() {
		done <- s.SetVRPs([]rov.VRP{{Prefix: netip.MustParsePrefix("192.0.2.0/24"), MaxLen: 24, ASN: 64500}})
	}()
	<-held
	type answer struct {
		epoch uint64
		ok    bool
	}
	got := make(chan answer, 1)
	go func() {
		e := s.Epoch()
		_, ok := s.TryStats()
		got <- answer{e, ok}
	}()
	select {
	case a := <-got:
		if a.epoch != before || a.ok {
			t.Errorf("during the change: Epoch %d (want %d), TryStats ok %v (want false)", a.epoch, before, a.ok)
		}
	case <-time.After(time.Minute): // bounded so that a regression fails instead of hanging
		t.Fatal("Epoch or TryStats waited for the change")
	}
	close(release)
	if n := <-done; n != 1 {
		t.Errorf("re-validated %d routes, want 1", n)
	}
	st, ok := s.TryStats()
	if !ok || s.Epoch() != before+1 || st.Epoch != s.Epoch() || st.VRPs != 1 {
		t.Errorf("after the change: Epoch %d (want %d), TryStats %v %+v", s.Epoch(), before+1, ok, st)
	}
}
