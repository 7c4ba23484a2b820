package table

import (
	"net/netip"
	"reflect"
	"testing"

	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
)

// TestUnmatchedPeers: a --peer filter that selects no peer of the sources
// is reported (the command turns it into an error listing PeersSeen), and
// PeersSeen lists every peer, kept or filtered out, in first-seen order,
// across sources.
func TestUnmatchedPeers(t *testing.T) {
	path := []rov.Segment{{Type: rov.ASSequence, ASNs: []uint32{64500, 64496}}}
	ev := func(as uint32, ip string) route.Route {
		return route.Route{Kind: route.Announce, Peer: route.Peer{AS: as, IP: netip.MustParseAddr(ip)},
			Prefix: netip.MustParsePrefix("192.0.2.0/24"), Path: path, Origin: rov.OriginOf(path)}
	}
	a, b, c := route.PeerKey{AS: 7018, IP: netip.MustParseAddr("12.0.1.63")}, route.PeerKey{AS: 2914, IP: netip.MustParseAddr("129.250.1.71")}, route.PeerKey{AS: 7018, IP: netip.MustParseAddr("12.0.1.64")}
	tests := []struct {
		name      string
		filters   []PeerMatch
		unmatched []int
		paths     int64
	}{
		{"no filter", nil, nil, 5},
		{"AS matching two sessions", []PeerMatch{{AS: 7018}}, nil, 3},
		{"IP", []PeerMatch{{IP: b.IP}}, nil, 2},
		{"AS and IP of different peers", []PeerMatch{{AS: 2914, IP: a.IP}}, []int{0}, 0},
		{"no such AS", []PeerMatch{{AS: 99999}}, []int{0}, 0},
		{"one of two unmatched", []PeerMatch{{AS: 2914}, {IP: netip.MustParseAddr("192.0.2.1")}}, []int{1}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := New()
			in := NewIngester(tb, IngestOptions{Peers: tt.filters})
			// Two sources of RIB entries (each one a path): the second repeats
			// a peer and adds one.
			if err := in.Read(&sliceSource{evs: []route.Route{ev(a.AS, "12.0.1.63"), ev(a.AS, "12.0.1.63"), ev(b.AS, "129.250.1.71")}}); err != nil {
				t.Fatal(err)
			}
			if err := in.Read(&sliceSource{evs: []route.Route{ev(b.AS, "129.250.1.71"), ev(c.AS, "12.0.1.64")}}); err != nil {
				t.Fatal(err)
			}
			in.Finish()
			if got := in.UnmatchedPeers(); !reflect.DeepEqual(got, tt.unmatched) {
				t.Errorf("UnmatchedPeers() = %v, want %v", got, tt.unmatched)
			}
			if seen, more := in.PeersSeen(); !reflect.DeepEqual(seen, []route.PeerKey{a, b, c}) || more != 0 {
				t.Errorf("PeersSeen() = %v, %d; want %v, 0", seen, more, []route.PeerKey{a, b, c})
			}
			if tb.Paths() != tt.paths {
				t.Errorf("table holds %d paths, want %d", tb.Paths(), tt.paths)
			}
		})
	}
}
