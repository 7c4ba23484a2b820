package serve

import (
	"encoding/json"
	"net/netip"
	"testing"
)

// TestAPIPeers: /api/peers lists each session with what its peer carries:
// paths, routes per family, routes by state and routes ROV drops, counted
// here by hand from the fixture's comments; a session whose peer holds
// nothing has zeros; a peer with routes and no session is listed with an
// empty source.
func TestAPIPeers(t *testing.T) {
	st := small.state(t)
	srv := New(Config{Table: st, Sessions: func() []Session {
		return []Session{{Source: "bgp", AS: 65000, IP: netip.MustParseAddr("10.0.0.1"), Up: true},
			{Source: "bmp", AS: 65002, IP: netip.MustParseAddr("10.0.0.2")}}
	}})
	code, _, body := get(t, srv, "/api/peers")
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	var doc Peers
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	want := []Peer{
		// 192.0.2.0/24 valid, 192.0.2.128/25 too_specific, 198.51.100.0/22 wrong_origin.
		{Source: "bgp", AS: 65000, IP: netip.MustParseAddr("10.0.0.1"), Up: true, Paths: 3, IPv4: 3, Valid: 1, Invalid: 2, Dropped: 2},
		{Source: "bmp", AS: 65002, IP: netip.MustParseAddr("10.0.0.2")},
		// 192.0.2.0/24 valid, 203.0.113.0/24 not_found, 2001:db8:100::/48 valid, the /56 both.
		{AS: 65001, IP: netip.MustParseAddr("2001:db8::1"), Paths: 4, IPv4: 2, IPv6: 2, Valid: 2, Invalid: 1, NotFound: 1, Dropped: 1},
	}
	if len(doc.Peers) != len(want) {
		t.Fatalf("peers: %s", body)
	}
	for i := range want {
		if doc.Peers[i] != want[i] {
			t.Errorf("peer %d: got %+v\nwant %+v", i, doc.Peers[i], want[i])
		}
	}
}
