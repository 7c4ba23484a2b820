package table

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
)

// fileSource is one route file: its events and, for a RIB, the peers its
// PEER_INDEX_TABLE lists.
type fileSource struct {
	sliceSource
	peers []route.Peer
}

func (f *fileSource) Peers() []route.Peer { return f.peers }

// orderOracle is the replay-in-order rule written plainly (issue 12 item
// 3): a RIB dump sets each peer it lists to exactly the entries it holds
// for that peer (RFC 6396 §4.3: a RIB dump is the table as of its time);
// updates then apply on top (RFC 4271 §3.2: a new announcement replaces
// the peer's path, a withdrawal removes it; §8.2.2: peer down flushes).
// It returns every path as "prefix origin peer".
func orderOracle(files []*fileSource) []string {
	type key struct {
		p  netip.Prefix
		id uint32
	}
	state := map[route.PeerKey]map[key]rov.Origin{}
	for _, f := range files {
		reset := map[route.PeerKey]bool{}
		rib := false
		for _, r := range f.evs {
			k := route.PeerKey{AS: r.Peer.AS, IP: r.Peer.IP}
			if !r.FromUpdate {
				rib = true
				if !reset[k] {
					reset[k], state[k] = true, map[key]rov.Origin{}
				}
			}
			if state[k] == nil {
				state[k] = map[key]rov.Origin{}
			}
			if (r.Kind == route.Announce || r.Kind == route.Withdraw) && !r.Prefix.IsValid() {
				continue // ignored, as mrt.RIB.Apply does
			}
			switch r.Kind {
			case route.Announce:
				state[k][key{r.Prefix.Masked(), r.PathID}] = r.Origin
			case route.Withdraw:
				delete(state[k], key{r.Prefix.Masked(), r.PathID})
			case route.PeerDown:
				state[k] = map[key]rov.Origin{}
			}
		}
		if rib {
			for _, p := range f.peers {
				k := route.PeerKey{AS: p.AS, IP: p.IP}
				if !reset[k] && state[k] != nil {
					state[k] = map[key]rov.Origin{}
				}
			}
		}
	}
	var out []string
	for pk, paths := range state {
		for k, o := range paths {
			out = append(out, fmt.Sprintf("%s %v %v", k.p, o, pk))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// tablePaths lists t's paths as orderOracle does (path ids collapse:
// the table keeps one path per route and peer).
func tablePaths(t *Table) []string {
	var out []string
	var buf []int
	peers := t.Peers()
	for id, r := range t.Routes() {
		buf = t.RoutePeers(id, buf[:0])
		for _, p := range buf {
			out = append(out, fmt.Sprintf("%s %v %v", r.Prefix, r.Origin, peers[p]))
		}
	}
	slices.Sort(out)
	return out
}

func ingestFiles(t *testing.T, files []*fileSource) *Table {
	t.Helper()
	tb := New()
	in := NewIngester(tb, IngestOptions{ReplayAll: true})
	for _, f := range files {
		f.i = 0
		if err := in.Read(f); err != nil {
			t.Fatal(err)
		}
	}
	in.Finish()
	return tb
}

// TestReplayInOrderRandom: random sequences of RIB dumps and update files
// (several RIBs of one collector, RIBs of two collectors, updates before
// and after) give exactly the oracle's paths.
func TestReplayInOrderRandom(t *testing.T) {
	for seed := range uint64(40) {
		r := rand.New(rand.NewPCG(seed, 12))
		var files []*fileSource
		for range 1 + r.IntN(5) {
			evs := randEvents(r, 1+r.IntN(ingestBatch/2))
			f := &fileSource{}
			if r.IntN(2) == 0 { // a RIB: announcements only, of a subset of peers
				peers := map[route.PeerKey]route.Peer{}
				for _, e := range evs {
					if e.Kind == route.Announce && e.Prefix.IsValid() && (uint64(e.Peer.AS)+seed)%3 != 0 {
						e.FromUpdate = false
						f.evs = append(f.evs, e)
						peers[route.PeerKey{AS: e.Peer.AS, IP: e.Peer.IP}] = e.Peer
					}
				}
				for _, e := range evs[:min(len(evs), 3)] { // listed, maybe without entries
					peers[route.PeerKey{AS: e.Peer.AS, IP: e.Peer.IP}] = e.Peer
				}
				for _, p := range peers {
					f.peers = append(f.peers, p)
				}
			} else {
				for _, e := range evs {
					e.FromUpdate = true
					f.evs = append(f.evs, e)
				}
			}
			files = append(files, f)
		}
		got, want := tablePaths(ingestFiles(t, files)), orderOracle(files)
		if !slices.Equal(got, want) {
			t.Fatalf("seed %d: %d paths, oracle %d\ngot  %v\nwant %v", seed, len(got), len(want), got, want)
		}
	}
}

// TestReplayInOrderCases pins the rule on named cases.
func TestReplayInOrderCases(t *testing.T) {
	a := route.Peer{AS: 64500, IP: netip.MustParseAddr("10.0.0.1")}
	b := route.Peer{AS: 64501, IP: netip.MustParseAddr("10.0.0.2")}
	c := route.Peer{AS: 64502, IP: netip.MustParseAddr("10.0.0.3")} // another collector's peer
	pfx := func(s string) netip.Prefix { return netip.MustParsePrefix(s) }
	ann := func(p route.Peer, prefix string, origin uint32, update bool) route.Route {
		return route.Route{Kind: route.Announce, Peer: p, Prefix: pfx(prefix), Origin: rov.Origin{Kind: rov.OriginAS, ASN: origin}, FromUpdate: update}
	}
	wd := func(p route.Peer, prefix string) route.Route {
		return route.Route{Kind: route.Withdraw, Peer: p, Prefix: pfx(prefix), FromUpdate: true}
	}
	rib := func(peers []route.Peer, evs ...route.Route) *fileSource {
		return &fileSource{sliceSource: sliceSource{evs: evs}, peers: peers}
	}
	upd := func(evs ...route.Route) *fileSource { return &fileSource{sliceSource: sliceSource{evs: evs}} }
	cases := []struct {
		name  string
		files []*fileSource
		want  []string
	}{
		{"RIB then updates: a withdrawal removes the RIB route (README: the table left at their end)",
			[]*fileSource{rib([]route.Peer{a}, ann(a, "10.0.0.0/16", 64510, false), ann(a, "10.0.1.0/24", 64666, false)),
				upd(wd(a, "10.0.0.0/16"))},
			[]string{"10.0.1.0/24 AS64666 {64500 10.0.0.1}"}},
		{"two RIBs of one collector: the later one replaces each listed peer's table",
			[]*fileSource{rib([]route.Peer{a, b}, ann(a, "10.0.0.0/16", 64510, false), ann(a, "10.1.0.0/16", 64511, false), ann(b, "10.2.0.0/16", 64512, false)),
				rib([]route.Peer{a, b}, ann(a, "10.0.0.0/16", 64520, false))},
			[]string{"10.0.0.0/16 AS64520 {64500 10.0.0.1}"}},
		{"RIBs of two collectors: each sets only its own peers",
			[]*fileSource{rib([]route.Peer{a}, ann(a, "10.0.0.0/16", 64510, false)),
				rib([]route.Peer{c}, ann(c, "10.3.0.0/16", 64513, false))},
			[]string{"10.0.0.0/16 AS64510 {64500 10.0.0.1}", "10.3.0.0/16 AS64513 {64502 10.0.0.3}"}},
		{"updates before a RIB are superseded by it",
			[]*fileSource{upd(ann(a, "10.9.0.0/16", 64519, true)),
				rib([]route.Peer{a}, ann(a, "10.0.0.0/16", 64510, false))},
			[]string{"10.0.0.0/16 AS64510 {64500 10.0.0.1}"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := tablePaths(ingestFiles(t, tc.files))
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			if o := orderOracle(tc.files); !slices.Equal(o, tc.want) {
				t.Errorf("oracle %v, want %v", o, tc.want)
			}
		})
	}
}
