package collector

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/osrg/gobgp/v3/pkg/packet/bgp"
	"github.com/osrg/gobgp/v3/pkg/packet/bmp"

	"github.com/rovimpact/rovimpact/live"
)

// ph is a per-peer header (RFC 7854 §4.2) with every identity field
// chosen: distinguisher, address, AS and BGP ID.
type ph struct {
	dist uint64
	addr string
	as   uint32
	id   string
}

func (h ph) header() bmp.BMPPeerHeader {
	typ := uint8(bmp.BMP_PEER_TYPE_GLOBAL)
	if h.dist != 0 {
		typ = bmp.BMP_PEER_TYPE_L3VPN // RFC 7854 §4.2: RD Instance Peer
	}
	var flags uint8
	if netip.MustParseAddr(h.addr).Is6() {
		flags = bmp.BMP_PEER_FLAG_IPV6
	}
	id := h.id
	if id == "" {
		id = "192.0.2.99"
	}
	return *bmp.NewBMPPeerHeader(typ, flags, h.dist, h.addr, h.as, id, 1700000000)
}

func (h ph) up() []byte {
	return must(bmp.NewBMPPeerUpNotification(h.header(), "192.0.2.1", 179, 40000, open(64496, 0), open(h.as, 0)).Serialize())
}

func (h ph) down() []byte {
	return must(bmp.NewBMPPeerDownNotification(h.header(), bmp.BMP_PEER_DOWN_REASON_REMOTE_NO_NOTIFICATION, nil, nil).Serialize())
}

// announce is route monitoring of an UPDATE announcing prefixes (IPv4) with
// the peer's AS as the whole path.
func (h ph) announce(prefixes ...string) []byte {
	return h.update(prefixes, nil)
}

func (h ph) withdraw(prefixes ...string) []byte {
	return h.update(nil, prefixes)
}

func (h ph) update(ann, wd []string) []byte {
	nlri := func(ps []string) []*bgp.IPAddrPrefix {
		var out []*bgp.IPAddrPrefix
		for _, s := range ps {
			p := netip.MustParsePrefix(s)
			out = append(out, bgp.NewIPAddrPrefix(uint8(p.Bits()), p.Addr().String()))
		}
		return out
	}
	var attrs []bgp.PathAttributeInterface
	if len(ann) > 0 {
		attrs = []bgp.PathAttributeInterface{bgp.NewPathAttributeOrigin(0),
			bgp.NewPathAttributeAsPath([]bgp.AsPathParamInterface{seq(h.as)}), bgp.NewPathAttributeNextHop("192.0.2.1")}
	}
	return must(bmp.NewBMPRouteMonitoring(h.header(), bgp.NewBGPUpdateMessage(nlri(wd), attrs, nlri(ann))).Serialize())
}

// held lists the State's paths as "AS<peer AS> <peer IP> <prefix>",
// sorted (one entry per path: a peer reported twice shows twice).
func held(st *live.State) []string {
	_, paths := st.Paths()
	out := []string{}
	for r := range paths {
		out = append(out, fmt.Sprintf("AS%d %s %s", r.Peer.AS, r.Peer.IP, r.Prefix))
	}
	slices.Sort(out)
	return out
}

// TestBMPPeerIdentity: a BMP peer is (router connection, distinguisher,
// address, AS, BGP ID); its routes never mix with another peer's, its Peer
// Down flushes exactly them, and a session that a header shows replaced is
// flushed at once. After the connection ends nothing of the router stays.
func TestBMPPeerIdentity(t *testing.T) {
	a1 := ph{addr: "192.0.2.10", as: 64500}
	a2 := ph{addr: "192.0.2.10", as: 64501}                    // same address, new AS
	aID := ph{addr: "192.0.2.10", as: 64500, id: "192.0.2.77"} // same address and AS, new BGP ID
	b := ph{addr: "192.0.2.11", as: 64502}
	v1 := ph{dist: 1, addr: "192.0.2.10", as: 64500} // a1's address and AS in another instance
	v2 := ph{dist: 2, addr: "192.0.2.10", as: 64500}
	tests := []struct {
		name    string
		msgs    [][]byte
		want    []string // held after the last message
		skipped map[string]int64
	}{
		{
			// RFC 7854 §4.2: Peer AS is the AS of the session the PDU came
			// from; RFC 4271 §6.8 leaves one session per neighbour address.
			// The case: the AS changes with no Peer Down between.
			name: "peer AS change without Peer Down (§4.2)",
			msgs: [][]byte{a1.up(), a1.announce("198.51.100.0/24", "203.0.113.0/24"), a2.up(), a2.announce("198.51.100.0/24")},
			want: []string{"AS64501 192.0.2.10 198.51.100.0/24"}, skipped: map[string]int64{"bmp_peer_superseded": 1},
		},
		{
			name: "peer AS change in route monitoring only (§4.6, §4.2)",
			msgs: [][]byte{a1.announce("198.51.100.0/24"), a2.announce("203.0.113.0/24")},
			want: []string{"AS64501 192.0.2.10 203.0.113.0/24"}, skipped: map[string]int64{"bmp_peer_superseded": 1},
		},
		{
			name: "peer BGP ID change is a new session (§4.2 Peer BGP ID)",
			msgs: [][]byte{a1.up(), a1.announce("198.51.100.0/24"), aID.announce("203.0.113.0/24")},
			want: []string{"AS64500 192.0.2.10 203.0.113.0/24"}, skipped: map[string]int64{"bmp_peer_superseded": 1},
		},
		{
			name: "AS change and back: the first session's routes do not come back",
			msgs: [][]byte{a1.announce("198.51.100.0/24"), a2.announce("203.0.113.0/24"), a1.announce("192.0.2.0/24")},
			want: []string{"AS64500 192.0.2.10 192.0.2.0/24"}, skipped: map[string]int64{"bmp_peer_superseded": 2},
		},
		{
			name: "Peer Down flushes exactly that peer (§4.9)",
			msgs: [][]byte{a1.up(), b.up(), a1.announce("198.51.100.0/24"), b.announce("198.51.100.0/24", "203.0.113.0/24"), a1.down()},
			want: []string{"AS64502 192.0.2.11 198.51.100.0/24", "AS64502 192.0.2.11 203.0.113.0/24"},
		},
		{
			// The replaced session's Peer Down comes after the new one's
			// Peer Up: it names a peer no longer held and flushes nothing.
			name:    "late Peer Down of a replaced session (§4.9)",
			msgs:    [][]byte{a1.up(), a1.announce("198.51.100.0/24"), a2.up(), a2.announce("203.0.113.0/24"), a1.down()},
			want:    []string{"AS64501 192.0.2.10 203.0.113.0/24"},
			skipped: map[string]int64{"bmp_peer_superseded": 1, "bmp_peer_down_unknown": 1},
		},
		{
			name: "Peer Down with another AS than the session's (§4.9)",
			msgs: [][]byte{a1.up(), a1.announce("198.51.100.0/24"), a2.down()},
			want: []string{"AS64500 192.0.2.10 198.51.100.0/24"}, skipped: map[string]int64{"bmp_peer_down_unknown": 1},
		},
		{
			// Same address and AS in two instances: two peers, whose paths
			// to one prefix both count; one's Peer Down keeps the other's.
			name: "peer distinguisher tells instances apart (§4.2)",
			msgs: [][]byte{v1.up(), v2.up(), v1.announce("198.51.100.0/24"), v2.announce("198.51.100.0/24"), v1.down()},
			want: []string{"AS64500 192.0.2.10 198.51.100.0/24"},
		},
		{
			name: "withdrawal under a new AS does not touch the old session's route",
			msgs: [][]byte{a1.announce("198.51.100.0/24"), a2.withdraw("198.51.100.0/24")},
			want: []string{}, skipped: map[string]int64{"bmp_peer_superseded": 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := live.New(live.Options{})
			em := newEmitter(st.Feed())
			var last []string
			n := 0
			err := runSession(bytes.NewReader(bytes.Join(tc.msgs, nil)), em, sessionOpts{max: 1 << 16}, "192.0.2.1:40000", quiet, func(_ []byte, err error) {
				if err != nil {
					t.Errorf("message %d: %v", n, err)
				}
				if n++; n == len(tc.msgs) {
					last = held(st)
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(last, tc.want) {
				t.Errorf("held after the last message:\n got %q\nwant %q", last, tc.want)
			}
			stats := em.snapshot()
			for _, reason := range []string{"bmp_peer_superseded", "bmp_peer_down_unknown"} {
				if stats.Skipped[reason] != tc.skipped[reason] {
					t.Errorf("skipped %s = %d, want %d", reason, stats.Skipped[reason], tc.skipped[reason])
				}
			}
			// RFC 7854 §3.3: the BMP session ends with its connection, and
			// with it everything the router reported.
			if got := held(st); len(got) != 0 {
				t.Errorf("after the connection closed the table holds %q", got)
			}
			if ps := st.Stats(); ps.Paths != 0 || ps.Routes != 0 || ps.Peers != 0 || len(ps.PeerPaths) != 0 {
				t.Errorf("after the connection closed: %d paths, %d routes, %d peers, %d known peers", ps.Paths, ps.Routes, ps.Peers, len(ps.PeerPaths))
			}
			if peers, _ := st.Paths(); len(peers) != 0 {
				t.Errorf("after the connection closed the dump names %d peers (phantoms): %v", len(peers), peers)
			}
		})
	}
}

// TestBMPTwoRoutersSamePeer: two routers report the same neighbour (one
// route server seen from two routers): two peers; when one router's
// connection is lost only its paths go (RFC 7854 §3.3), and reports count
// the neighbour once, as `analyze` of the same paths would.
func TestBMPTwoRoutersSamePeer(t *testing.T) {
	st := live.New(live.Options{})
	em := newEmitter(st.Feed())
	rs := ph{addr: "192.0.2.10", as: 64500}
	type conn struct {
		w    *io.PipeWriter
		done chan error
	}
	handled := make(chan struct{}, 16)
	start := func(router string) conn {
		r, w := io.Pipe()
		c := conn{w: w, done: make(chan error, 1)}
		go func() {
			c.done <- runSession(r, em, sessionOpts{max: 1 << 16}, router, quiet, func([]byte, error) { handled <- struct{}{} })
		}()
		return c
	}
	send := func(c conn, msgs ...[]byte) {
		t.Helper()
		for _, m := range msgs {
			if _, err := c.w.Write(m); err != nil {
				t.Fatal(err)
			}
			select {
			case <-handled:
			case <-time.After(5 * time.Second):
				t.Fatal("message not handled")
			}
		}
	}
	r1, r2 := start("192.0.2.1:40000"), start("192.0.2.2:40000")
	send(r1, rs.up(), rs.announce("198.51.100.0/24", "203.0.113.0/24"))
	send(r2, rs.up(), rs.announce("198.51.100.0/24"))
	want := []string{"AS64500 192.0.2.10 198.51.100.0/24", "AS64500 192.0.2.10 198.51.100.0/24", "AS64500 192.0.2.10 203.0.113.0/24"}
	if got := held(st); !slices.Equal(got, want) {
		t.Fatalf("both routers:\n got %q\nwant %q", got, want)
	}
	snap := st.Snapshot()
	if n := len(snap.Analysis.Table.Peers()); n != 1 || snap.Analysis.Table.Paths() != 3 {
		t.Errorf("snapshot: %d peers, %d paths; want 1 peer (as analyze counts it), 3 paths", n, snap.Analysis.Table.Paths())
	}
	// Router 2 withdraws; router 1's path to the prefix stays.
	send(r2, rs.withdraw("198.51.100.0/24"))
	want = []string{"AS64500 192.0.2.10 198.51.100.0/24", "AS64500 192.0.2.10 203.0.113.0/24"}
	if got := held(st); !slices.Equal(got, want) {
		t.Fatalf("after router 2's withdrawal:\n got %q\nwant %q", got, want)
	}
	send(r2, rs.announce("192.0.2.0/24"))
	r1.w.CloseWithError(io.ErrUnexpectedEOF) // connection lost mid-stream
	if err := <-r1.done; err == nil {
		t.Errorf("a connection lost mid-stream ended cleanly")
	}
	want = []string{"AS64500 192.0.2.10 192.0.2.0/24"}
	if got := held(st); !slices.Equal(got, want) {
		t.Fatalf("after router 1's connection was lost:\n got %q\nwant %q", got, want)
	}
	r2.w.Close()
	if err := <-r2.done; err != nil {
		t.Fatal(err)
	}
	if got := held(st); len(got) != 0 {
		t.Fatalf("after both connections closed: %q", got)
	}
}

// TestBMPMalformed: what a router's broken message costs (RFC 7854 has
// no error reply and no resynchronisation marker). A message whose common
// header (§4.1) cannot frame it ends the connection, and with it every
// route of the router (§3.3); a framed message whose body is bad costs
// that message only, counted, and the stream goes on.
func TestBMPMalformed(t *testing.T) {
	a := ph{addr: "192.0.2.10", as: 64500}
	before := [][]byte{a.up(), a.announce("198.51.100.0/24")}
	after := a.announce("203.0.113.0/24")
	keepalive := must(bmp.NewBMPRouteMonitoring(a.header(), bgp.NewBGPKeepAliveMessage()).Serialize())
	// Common header 6, per-peer header 42, BGP header 19, withdrawn
	// routes length 2: then the total path attribute length.
	badUpdate := slices.Clone(a.announce("192.0.2.0/24"))
	badUpdate[69], badUpdate[70] = 0xff, 0xff
	badOpen := slices.Clone(a.up())
	badOpen = badOpen[:len(badOpen)-10]
	binary.BigEndian.PutUint32(badOpen[1:5], uint32(len(badOpen)))
	tests := []struct {
		name   string
		bad    []byte
		closed bool   // the connection ends: framing lost
		reason string // counted skip reason
	}{
		{"version 1 (§4.1: version 3)", []byte{1, 0, 0, 0, 6, 0}, true, "bmp_bad_frame"},
		{"length below the common header (§4.1)", []byte{3, 0, 0, 0, 5, 0}, true, "bmp_bad_frame"},
		{"length beyond the station's bound", []byte{3, 0, 0x10, 0, 0, 0}, true, "bmp_bad_frame"},
		{"truncated mid-message: connection lost", []byte{3, 0, 0, 0, 200, 0, 1, 2}, true, "bmp_bad_frame"},
		{"unknown message type 99 (§4.1: the length still frames it)", []byte{3, 0, 0, 0, 6, 99}, false, "bmp_malformed"},
		{"route monitoring shorter than its per-peer header (§4.2)", []byte{3, 0, 0, 0, 10, 0, 0, 0, 0, 0}, false, "bmp_malformed"},
		{"route monitoring carrying a KEEPALIVE, not an UPDATE (§4.6)", keepalive, false, "bmp_malformed"},
		{"route monitoring with an NLRI overrunning the UPDATE (§4.6, RFC 4271 §6.3)", badUpdate, false, "bmp_malformed"},
		{"Peer Up with a truncated OPEN (§4.10)", badOpen, false, "bmp_malformed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := live.New(live.Options{})
			em := newEmitter(st.Feed())
			msgs := append(slices.Clone(before), tc.bad, after)
			var last []string
			err := runSession(bytes.NewReader(bytes.Join(msgs, nil)), em, sessionOpts{max: 1 << 16}, "192.0.2.1:40000", quiet, func([]byte, error) {
				last = held(st)
			})
			if (err != nil) != tc.closed {
				t.Fatalf("session error %v, want closed=%v", err, tc.closed)
			}
			if got := em.snapshot().Skipped[tc.reason]; got != 1 {
				t.Errorf("skipped %s = %d, want 1 (all: %v)", tc.reason, got, em.snapshot().Skipped)
			}
			want := []string{"AS64500 192.0.2.10 198.51.100.0/24", "AS64500 192.0.2.10 203.0.113.0/24"}
			if tc.closed {
				// Nothing after the bad frame is read.
				want = []string{"AS64500 192.0.2.10 198.51.100.0/24"}
			}
			if !slices.Equal(last, want) {
				t.Errorf("held after the last message handled:\n got %q\nwant %q", last, want)
			}
			if got := held(st); len(got) != 0 {
				t.Errorf("after the connection ended the table holds %q", got)
			}
		})
	}
}

// TestBMPPeerLimit: a router reporting more peers at once than MaxPeers
// gets the extra ones skipped and counted; a peer going down frees room.
func TestBMPPeerLimit(t *testing.T) {
	st := live.New(live.Options{})
	em := newEmitter(st.Feed())
	a, b, c := ph{addr: "192.0.2.10", as: 64500}, ph{addr: "192.0.2.11", as: 64501}, ph{addr: "192.0.2.12", as: 64502}
	msgs := [][]byte{a.announce("198.51.100.0/24"), b.announce("198.51.100.0/24"), c.announce("198.51.100.0/24"), a.down(), c.announce("203.0.113.0/24")}
	var last []string
	err := runSession(bytes.NewReader(bytes.Join(msgs, nil)), em, sessionOpts{max: 1 << 16, maxPeers: 2}, "192.0.2.1:40000", quiet, func([]byte, error) {
		last = held(st)
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"AS64501 192.0.2.11 198.51.100.0/24", "AS64502 192.0.2.12 203.0.113.0/24"}
	if !slices.Equal(last, want) {
		t.Errorf("held:\n got %q\nwant %q", last, want)
	}
	if n := em.snapshot().Skipped["bmp_peer_limit"]; n != 1 {
		t.Errorf("bmp_peer_limit = %d, want 1", n)
	}
}
