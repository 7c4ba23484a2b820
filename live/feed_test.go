package live

import (
	"net/netip"
	"testing"

	bgp "github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
)

func feedEvent(kind bgp.Kind, index int, as uint32, ip, prefix string) *bgp.Route {
	r := &bgp.Route{Kind: kind, Peer: bgp.Peer{Index: index, AS: as, IP: netip.MustParseAddr(ip)}, RPKIState: bgp.RPKIAbsent}
	if kind != bgp.PeerDown {
		r.Prefix = netip.MustParsePrefix(prefix)
	}
	if kind == bgp.Announce {
		r.Path = []rov.Segment{{Type: rov.ASSequence, ASNs: []uint32{as, 64510}}}
		r.Origin = rov.OriginOf(r.Path)
	}
	return r
}

// TestFeedsKeepPeersApart: peers that share an AS and address but come
// from different feeds, or with different numbers from one feed (two BMP
// routers monitoring one route server), hold separate paths; a PeerDown
// flushes exactly one of them; reports count them as one peer, as analyze
// of the same paths does.
func TestFeedsKeepPeersApart(t *testing.T) {
	s := New(Options{})
	bgpFeed, bmp := s.Feed(), s.Feed()
	const ip, as, pfx = "192.0.2.10", 64500, "198.51.100.0/24"
	bgpFeed(feedEvent(bgp.Announce, 0, as, ip, pfx))
	bmp(feedEvent(bgp.Announce, 0, as, ip, pfx)) // same number, other feed
	bmp(feedEvent(bgp.Announce, 1, as, ip, pfx)) // same feed, other number
	s.Apply(feedEvent(bgp.Announce, 9, as, ip, pfx))
	st := s.Stats()
	if st.Paths != 4 || st.Routes != 1 || st.Peers != 1 {
		t.Fatalf("4 peers with one path each: %d paths, %d routes, %d peers; want 4, 1, 1", st.Paths, st.Routes, st.Peers)
	}
	if got := st.PeerPaths[mrtKey(as, ip)]; got != 4 {
		t.Errorf("PeerPaths = %d, want the 4 paths under one AS and address", got)
	}
	snap := s.Snapshot()
	if n := len(snap.Analysis.Table.Peers()); n != 1 || snap.Analysis.Table.Paths() != 4 {
		t.Errorf("snapshot: %d peers, %d paths; want 1, 4", n, snap.Analysis.Table.Paths())
	}
	bmp(feedEvent(bgp.PeerDown, 1, as, ip, ""))
	bmp(feedEvent(bgp.Withdraw, 0, as, ip, pfx))
	if st := s.Stats(); st.Paths != 2 {
		t.Fatalf("after one BMP peer's PeerDown and the other's withdrawal: %d paths, want 2 (BGP's and Apply's)", st.Paths)
	}
	// Apply ignores Index: it is one peer whatever the number says.
	s.Apply(feedEvent(bgp.PeerDown, 3, as, ip, ""))
	bgpFeed(feedEvent(bgp.PeerDown, 0, as, ip, ""))
	if st := s.Stats(); st.Paths != 0 || st.Routes != 0 {
		t.Fatalf("after every PeerDown: %d paths, %d routes", st.Paths, st.Routes)
	}
}

func mrtKey(as uint32, ip string) bgp.PeerKey {
	return bgp.PeerKey{AS: as, IP: netip.MustParseAddr(ip)}
}

// TestPeerSlotsReused: peers that come and go (a router reconnecting, a
// peer renumbered on every session) reuse the slots of peers gone down:
// the peer list, and with it every route's peer bitset, stays as large as
// the peers present at once, and the dump names only those.
func TestPeerSlotsReused(t *testing.T) {
	s := New(Options{})
	feed := s.Feed()
	for i := range 1000 {
		as := uint32(64500 + i) // a new identity every time
		feed(feedEvent(bgp.Announce, i, as, "192.0.2.10", "198.51.100.0/24"))
		feed(feedEvent(bgp.Announce, i+1, as, "192.0.2.11", "203.0.113.0/24"))
		feed(feedEvent(bgp.PeerDown, i, as, "192.0.2.10", ""))
		feed(feedEvent(bgp.PeerDown, i+1, as, "192.0.2.11", ""))
	}
	feed(feedEvent(bgp.Announce, 5, 64499, "192.0.2.12", "198.51.100.0/24"))
	s.mu.Lock()
	n, words := len(s.peers), s.words
	s.mu.Unlock()
	if n > 2 || words != 1 {
		t.Errorf("after 2000 peers came and went: %d peer slots, %d bitset words; want at most 2 and 1", n, words)
	}
	peers, paths := s.Paths()
	if len(peers) != 1 || peers[0].AS != 64499 {
		t.Errorf("dump peers %v, want only AS64499", peers)
	}
	count := 0
	for r := range paths {
		if r.Peer.AS != 64499 || r.Peer.Index != 0 {
			t.Errorf("dump path %v from peer %+v", r.Prefix, r.Peer)
		}
		count++
	}
	if count != 1 {
		t.Errorf("dump has %d paths, want 1", count)
	}
	if st := s.Stats(); len(st.PeerPaths) != 1 || st.Peers != 1 {
		t.Errorf("stats know %d peers (%d holding paths), want 1", len(st.PeerPaths), st.Peers)
	}
}
