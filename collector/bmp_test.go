package collector

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/osrg/gobgp/v3/pkg/packet/bgp"
	"github.com/osrg/gobgp/v3/pkg/packet/bmp"

	"github.com/rovimpact/rovimpact/route"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func peerHeader(addr string, as uint32, flags uint8) bmp.BMPPeerHeader {
	return *bmp.NewBMPPeerHeader(bmp.BMP_PEER_TYPE_GLOBAL, flags, 0, addr, as, "192.0.2.99", 1700000000.5)
}

func open(as uint32, addPath bgp.BGPAddPathMode) *bgp.BGPMessage {
	caps := []bgp.ParameterCapabilityInterface{
		bgp.NewCapMultiProtocol(bgp.RF_IPv4_UC),
		bgp.NewCapMultiProtocol(bgp.RF_IPv6_UC),
		bgp.NewCapFourOctetASNumber(as),
	}
	if addPath != 0 {
		caps = append(caps, bgp.NewCapAddPath([]*bgp.CapAddPathTuple{
			bgp.NewCapAddPathTuple(bgp.RF_IPv4_UC, addPath), bgp.NewCapAddPathTuple(bgp.RF_IPv6_UC, addPath)}))
	}
	return bgp.NewBGPOpenMessage(23456, 90, "192.0.2.99", []bgp.OptionParameterInterface{bgp.NewOptionParameterCapability(caps)})
}

func msgInitiation() []byte {
	return must(bmp.NewBMPInitiation([]bmp.BMPInfoTLVInterface{
		bmp.NewBMPInfoTLVString(bmp.BMP_INIT_TLV_TYPE_SYS_NAME, "router1")}).Serialize())
}

func msgTermination() []byte {
	return must(bmp.NewBMPTermination([]bmp.BMPTermTLVInterface{
		bmp.NewBMPTermTLV16(bmp.BMP_TERM_TLV_TYPE_REASON, bmp.BMP_TERM_REASON_ADMIN)}).Serialize())
}

// msgPeerUp: the monitored router (sent OPEN) and its peer (received OPEN)
// with the given ADD-PATH modes.
func msgPeerUp(addr string, as uint32, sentAP, recvAP bgp.BGPAddPathMode) []byte {
	return must(bmp.NewBMPPeerUpNotification(peerHeader(addr, as, 0), "192.0.2.1", 179, 40000,
		open(64496, sentAP), open(as, recvAP)).Serialize())
}

func msgPeerDown(addr string, as uint32) []byte {
	return must(bmp.NewBMPPeerDownNotification(peerHeader(addr, as, 0), bmp.BMP_PEER_DOWN_REASON_REMOTE_NO_NOTIFICATION, nil, nil).Serialize())
}

type pfxID struct {
	pfx  string
	bits uint8
	id   uint32
}

func v4(pfx string, bits uint8, id uint32) *bgp.IPAddrPrefix {
	p := bgp.NewIPAddrPrefix(bits, pfx)
	p.SetPathIdentifier(id)
	p.SetPathLocalIdentifier(id) // what gobgp serializes
	return p
}

// msgUpdate is route monitoring for an UPDATE announcing nlri with path
// and withdrawing withdrawn; addPath encodes path identifiers.
func msgUpdate(addr string, as uint32, flags uint8, addPath bool, path []bgp.AsPathParamInterface, nlri, withdrawn []*bgp.IPAddrPrefix, extra ...bgp.PathAttributeInterface) []byte {
	var attrs []bgp.PathAttributeInterface
	if len(nlri) > 0 {
		attrs = append(attrs, bgp.NewPathAttributeOrigin(0), bgp.NewPathAttributeAsPath(path), bgp.NewPathAttributeNextHop("192.0.2.1"))
	}
	attrs = append(attrs, extra...)
	var opts []*bgp.MarshallingOption
	if addPath {
		opts = append(opts, &bgp.MarshallingOption{AddPath: map[bgp.RouteFamily]bgp.BGPAddPathMode{
			bgp.RF_IPv4_UC: bgp.BGP_ADD_PATH_SEND, bgp.RF_IPv6_UC: bgp.BGP_ADD_PATH_SEND}})
	}
	return must(bmp.NewBMPRouteMonitoring(peerHeader(addr, as, flags), bgp.NewBGPUpdateMessage(withdrawn, attrs, nlri)).Serialize(opts...))
}

func seq(as ...uint32) bgp.AsPathParamInterface {
	return bgp.NewAs4PathParam(bgp.BGP_ASPATH_ATTR_TYPE_SEQ, as)
}
func set(as ...uint32) bgp.AsPathParamInterface {
	return bgp.NewAs4PathParam(bgp.BGP_ASPATH_ATTR_TYPE_SET, as)
}

// msgUpdate6 announces one IPv6 prefix via MP_REACH_NLRI (RFC 4760) with
// the RFC 8097 "invalid" community.
func msgUpdate6(addr string, as uint32) []byte {
	attrs := []bgp.PathAttributeInterface{
		bgp.NewPathAttributeOrigin(0),
		bgp.NewPathAttributeAsPath([]bgp.AsPathParamInterface{seq(as, 64510)}),
		bgp.NewPathAttributeMpReachNLRI("2001:db8::1", []bgp.AddrPrefixInterface{bgp.NewIPv6AddrPrefix(48, "2001:db8:1::")}),
		bgp.NewPathAttributeExtendedCommunities([]bgp.ExtendedCommunityInterface{bgp.NewValidationExtended(bgp.VALIDATION_STATE_INVALID)}),
	}
	return must(bmp.NewBMPRouteMonitoring(peerHeader(addr, as, 0), bgp.NewBGPUpdateMessage(nil, attrs, nil)).Serialize())
}

// bmpStream is a realistic session: two peers, one with ADD-PATH, pre and
// post policy monitoring, a withdrawal, a peer down.
func bmpStream() [][]byte {
	return [][]byte{
		msgInitiation(),
		msgPeerUp("192.0.2.10", 64500, 0, 0),
		msgPeerUp("2001:db8::20", 64501, bgp.BGP_ADD_PATH_RECEIVE, bgp.BGP_ADD_PATH_SEND),
		msgUpdate("192.0.2.10", 64500, 0, false, []bgp.AsPathParamInterface{seq(64500, 64502)}, []*bgp.IPAddrPrefix{v4("198.51.100.0", 24, 0)}, nil),
		msgUpdate("192.0.2.10", 64500, bmp.BMP_PEER_FLAG_POST_POLICY, false, []bgp.AsPathParamInterface{seq(64500, 64502)}, []*bgp.IPAddrPrefix{v4("198.51.100.0", 24, 0)}, nil),
		msgUpdate("2001:db8::20", 64501, 0, true, []bgp.AsPathParamInterface{seq(64501), set(64503, 64504)},
			[]*bgp.IPAddrPrefix{v4("203.0.113.0", 24, 7), v4("203.0.113.0", 24, 8)}, nil),
		msgUpdate6("192.0.2.10", 64500),
		msgUpdate("2001:db8::20", 64501, 0, true, nil, nil, []*bgp.IPAddrPrefix{v4("203.0.113.0", 24, 8)}),
		msgPeerDown("192.0.2.10", 64500),
		msgTermination(),
	}
}

func runBytes(t testing.TB, data []byte, post bool) ([]route.Route, route.Stats, error) {
	var rec recorder
	em := newEmitter(rec.handle)
	err := runSession(bytes.NewReader(data), em, sessionOpts{post: post, max: DefaultBMPMaxMessage}, "test", quiet, nil)
	return rec.snapshot(), em.snapshot(), err
}

func summaries(ev []route.Route) []string {
	var out []string
	for _, r := range ev {
		out = append(out, summary(r))
	}
	return out
}

func TestBMPSession(t *testing.T) {
	data := bytes.Join(bmpStream(), nil)
	tests := []struct {
		name string
		post bool
		want []string
	}{
		{
			// RFC 7854 §4.2: L flag clear = pre-policy Adj-RIB-In, the default.
			name: "pre-policy",
			want: []string{
				"announce 192.0.2.10 AS64500 198.51.100.0/24 id=0 path=[64500 64502] origin=AS64502 nh=192.0.2.1 rpki=-1",
				// RFC 7911 §3: path identifiers, negotiated in the peer up OPENs;
				// RFC 6811 §2: AS_SET last → NONE.
				"announce 2001:db8::20 AS64501 203.0.113.0/24 id=7 path=[64501 {64503,64504}] origin=NONE nh=192.0.2.1 rpki=-1",
				"announce 2001:db8::20 AS64501 203.0.113.0/24 id=8 path=[64501 {64503,64504}] origin=NONE nh=192.0.2.1 rpki=-1",
				// RFC 4760 MP_REACH_NLRI; RFC 8097 community value 2 = invalid.
				"announce 192.0.2.10 AS64500 2001:db8:1::/48 id=0 path=[64500 64510] origin=AS64510 nh=2001:db8::1 rpki=2",
				"withdraw 2001:db8::20 203.0.113.0/24 id=8",
				"down 192.0.2.10",
				// The connection ended: its remaining peer is down too.
				"down 2001:db8::20",
			},
		},
		{
			name: "post-policy",
			post: true,
			want: []string{
				"announce 192.0.2.10 AS64500 198.51.100.0/24 id=0 path=[64500 64502] origin=AS64502 nh=192.0.2.1 rpki=-1",
				"down 192.0.2.10",
				"down 2001:db8::20",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev, st, err := runBytes(t, data, tc.post)
			if err != nil {
				t.Fatal(err)
			}
			if got := summaries(ev); !slices.Equal(got, tc.want) {
				t.Errorf("events:\ngot  %q\nwant %q", got, tc.want)
			}
			if st.Records != 10 {
				t.Errorf("records: got %d, want 10", st.Records)
			}
			skipped := "bmp_post_policy"
			if tc.post {
				skipped = "bmp_pre_policy"
			}
			wantSkip := map[bool]int64{false: 1, true: 4}[tc.post]
			if st.Skipped[skipped] != wantSkip {
				t.Errorf("Skipped[%s]: got %d, want %d (%v)", skipped, st.Skipped[skipped], wantSkip, st.Skipped)
			}
			for _, k := range []string{"bmp_initiation", "bmp_termination"} {
				if st.Skipped[k] != 1 {
					t.Errorf("Skipped[%s]: got %d, want 1", k, st.Skipped[k])
				}
			}
		})
	}
}

// TestBMPAddPathNegotiation pins RFC 7911 §4: path identifiers are present
// only when the peer (received OPEN) can send and the router (sent OPEN)
// can receive. Decoding with the wrong assumption misreads the NLRI.
func TestBMPAddPathNegotiation(t *testing.T) {
	tests := []struct {
		name       string
		sent, recv bgp.BGPAddPathMode
		encodeIDs  bool
		want       string
	}{
		{"both sides", bgp.BGP_ADD_PATH_RECEIVE, bgp.BGP_ADD_PATH_SEND, true, "id=5"},
		{"both sides, mode both", bgp.BGP_ADD_PATH_BOTH, bgp.BGP_ADD_PATH_BOTH, true, "id=5"},
		{"peer cannot send", bgp.BGP_ADD_PATH_RECEIVE, bgp.BGP_ADD_PATH_RECEIVE, false, "id=0"},
		{"router cannot receive", bgp.BGP_ADD_PATH_SEND, bgp.BGP_ADD_PATH_SEND, false, "id=0"},
		{"no capability", 0, 0, false, "id=0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := bytes.Join([][]byte{
				msgPeerUp("192.0.2.10", 64500, tc.sent, tc.recv),
				msgUpdate("192.0.2.10", 64500, 0, tc.encodeIDs, []bgp.AsPathParamInterface{seq(64500)}, []*bgp.IPAddrPrefix{v4("198.51.100.0", 24, 5)}, nil),
			}, nil)
			ev, _, err := runBytes(t, data, false)
			if err != nil {
				t.Fatal(err)
			}
			want := "announce 192.0.2.10 AS64500 198.51.100.0/24 " + tc.want + " path=[64500] origin=AS64500 nh=192.0.2.1 rpki=-1"
			if len(ev) != 2 || summary(ev[0]) != want {
				t.Errorf("got %q, want [%q, down]", summaries(ev), want)
			}
		})
	}
}

// TestBMPBadFraming: a framing error loses the stream (RFC 7854 §4.1 has no
// resync marker), so the connection ends, counted, after the good messages
// before it were delivered.
func TestBMPBadFraming(t *testing.T) {
	good := bytes.Join([][]byte{
		msgPeerUp("192.0.2.10", 64500, 0, 0),
		msgUpdate("192.0.2.10", 64500, 0, false, []bgp.AsPathParamInterface{seq(64500)}, []*bgp.IPAddrPrefix{v4("198.51.100.0", 24, 0)}, nil),
	}, nil)
	hdr := func(version byte, length uint32, typ byte) []byte {
		b := []byte{version, 0, 0, 0, 0, typ}
		binary.BigEndian.PutUint32(b[1:], length)
		return b
	}
	tests := []struct {
		name    string
		tail    []byte
		wantErr error
		reason  string
	}{
		{"version 2 (RFC 7854 §4.1 requires 3)", hdr(2, 6, 4), ErrBMPVersion, "bmp_bad_frame"},
		{"version byte 0xff, SplitBMP would loop", hdr(0xff, 100, 0), ErrBMPVersion, "bmp_bad_frame"},
		{"length below header size", hdr(3, 5, 4), ErrBMPLength, "bmp_bad_frame"},
		{"length 4 GiB", hdr(3, 0xffffffff, 0), ErrBMPLength, "bmp_bad_frame"},
		{"truncated header", []byte{3, 0, 0}, io.ErrUnexpectedEOF, "bmp_bad_frame"},
		{"truncated body", append(hdr(3, 100, 0), make([]byte, 20)...), io.ErrUnexpectedEOF, "bmp_bad_frame"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev, st, err := runBytes(t, append(slices.Clone(good), tc.tail...), false)
			if !errorsIs(err, tc.wantErr) {
				t.Fatalf("err: got %v, want %v", err, tc.wantErr)
			}
			want := []string{
				"announce 192.0.2.10 AS64500 198.51.100.0/24 id=0 path=[64500] origin=AS64500 nh=192.0.2.1 rpki=-1",
				"down 192.0.2.10",
			}
			if got := summaries(ev); !slices.Equal(got, want) {
				t.Errorf("events: got %q, want %q", got, want)
			}
			if st.Skipped[tc.reason] != 1 || len(st.Problems) != 1 || !strings.Contains(st.Problems[0].Err, "message 3") {
				t.Errorf("stats: got %v %v, want one %s problem naming message 3", st.Skipped, st.Problems, tc.reason)
			}
		})
	}
}

// TestBMPMalformedMessage: a well-framed message whose body does not parse
// is skipped and counted; the connection carries on.
func TestBMPMalformedMessage(t *testing.T) {
	short := []byte{3, 0, 0, 0, 10, bmp.BMP_MSG_ROUTE_MONITORING, 0, 0, 0, 0} // per-peer header cut short
	unknown := []byte{3, 0, 0, 0, 6, 99}                                      // RFC 7854 §4.1: type 99 unassigned
	data := bytes.Join([][]byte{
		msgPeerUp("192.0.2.10", 64500, 0, 0),
		short, unknown,
		msgUpdate("192.0.2.10", 64500, 0, false, []bgp.AsPathParamInterface{seq(64500)}, []*bgp.IPAddrPrefix{v4("198.51.100.0", 24, 0)}, nil),
	}, nil)
	ev, st, err := runBytes(t, data, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(ev) != 2 || ev[0].Kind != route.Announce {
		t.Errorf("events: got %q, want the announcement and the final down", summaries(ev))
	}
	if st.Skipped["bmp_malformed"] != 2 {
		t.Errorf("Skipped[bmp_malformed]: got %d, want 2 (%v)", st.Skipped["bmp_malformed"], st.Skipped)
	}
}

// TestBMPListener drives the TCP station: a router connects, streams the
// session, and a second connection with a bad version byte is closed
// without hanging.
func TestBMPListener(t *testing.T) {
	var rec recorder
	b, err := ListenBMP(BMPConfig{Listen: netipMust("127.0.0.1:0"), Logger: quiet}, rec.handle)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { done <- b.Serve(ctx) }()

	c, err := net.Dial("tcp", b.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range bmpStream()[:9] { // all but termination: keep the peer up
		if _, err := c.Write(m); err != nil {
			t.Fatal(err)
		}
	}
	rec.waitFor(t, 5*time.Second, "peer down", func(ev []route.Route) bool { return has(ev, "down 192.0.2.10") })

	bad, err := net.Dial("tcp", b.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	bad.Write([]byte{0xff, 0, 0, 0, 6, 0})
	bad.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := bad.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("bad connection: read %d, %v; want EOF (closed by station)", n, err)
	}

	c.Close()
	rec.waitFor(t, 5*time.Second, "down of the other peer", func(ev []route.Route) bool { return has(ev, "down 2001:db8::20") })
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
	st := b.Stats()
	if st.Skipped["bmp_bad_frame"] != 1 || st.Routes != 7 {
		t.Errorf("stats: got routes=%d skipped=%v, want 7 routes and 1 bad frame", st.Routes, st.Skipped)
	}
}

// TestBMPRefusesUnlistedRouter: only accepted prefixes may connect.
func TestBMPRefusesUnlistedRouter(t *testing.T) {
	b, err := ListenBMP(BMPConfig{Listen: netipMust("127.0.0.1:0"), Accept: []netipPrefix{netipPrefixMust("192.0.2.0/24")}, Logger: quiet}, func(*route.Route) {})
	if err != nil {
		t.Fatal(err)
	}
	go b.Serve(context.Background())
	defer b.Close()
	c, err := net.Dial("tcp", b.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("read: got %v, want EOF", err)
	}
	if n := b.Stats().Skipped["bmp_conn_refused"]; n != 1 {
		t.Errorf("Skipped[bmp_conn_refused]: got %d, want 1", n)
	}
}

func bmpRM(addr string, as uint32, u *bgp.BGPMessage) ([]byte, error) {
	return bmp.NewBMPRouteMonitoring(peerHeader(addr, as, 0), u).Serialize()
}

// TestBMPPrefixLimit: with MaxPrefixes 2 a peer holds at most two paths;
// a re-announcement of a held path and an announcement after a withdrawal
// pass, a third new path is skipped and counted.
func TestBMPPrefixLimit(t *testing.T) {
	path := []bgp.AsPathParamInterface{seq(64500)}
	ann := func(p string) []byte {
		return msgUpdate("192.0.2.10", 64500, 0, false, path, []*bgp.IPAddrPrefix{v4(p, 24, 0)}, nil)
	}
	data := bytes.Join([][]byte{
		msgPeerUp("192.0.2.10", 64500, 0, 0),
		ann("198.51.100.0"), ann("198.51.101.0"),
		ann("198.51.102.0"), // third path: over the limit
		ann("198.51.100.0"), // held: an implicit replacement, not a new path
		msgUpdate("192.0.2.10", 64500, 0, false, nil, nil, []*bgp.IPAddrPrefix{v4("198.51.101.0", 24, 0)}),
		ann("198.51.102.0"), // fits again
	}, nil)
	var rec recorder
	em := newEmitter(rec.handle)
	if err := runSession(bytes.NewReader(data), em, sessionOpts{max: DefaultBMPMaxMessage, maxPrefixes: 2}, "test", quiet, nil); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rec.snapshot() {
		got = append(got, kindPrefix(r))
	}
	want := []string{"A 198.51.100.0/24", "A 198.51.101.0/24", "A 198.51.100.0/24", "W 198.51.101.0/24", "A 198.51.102.0/24", "D"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if n := em.snapshot().Skipped["prefix_limit"]; n != 1 {
		t.Errorf("Skipped[prefix_limit]: got %d, want 1", n)
	}
}

func kindPrefix(r route.Route) string {
	switch r.Kind {
	case route.Announce:
		return "A " + r.Prefix.String()
	case route.Withdraw:
		return "W " + r.Prefix.String()
	}
	return "D"
}

// TestBMPPolicySelection pins which route monitoring a station keeps.
func TestBMPPolicySelection(t *testing.T) {
	tests := []struct {
		name     string
		peerType uint8
		flags    uint8
		post     bool
		skip     string // "" = delivered
	}{
		{"pre-policy Adj-RIB-In, default (RFC 7854 §4.2 L=0)", bmp.BMP_PEER_TYPE_GLOBAL, 0, false, ""},
		{"post-policy Adj-RIB-In skipped by default (L=1)", bmp.BMP_PEER_TYPE_GLOBAL, bmp.BMP_PEER_FLAG_POST_POLICY, false, "bmp_post_policy"},
		{"post-policy kept with PostPolicy", bmp.BMP_PEER_TYPE_GLOBAL, bmp.BMP_PEER_FLAG_POST_POLICY, true, ""},
		{"pre-policy skipped with PostPolicy", bmp.BMP_PEER_TYPE_GLOBAL, 0, true, "bmp_pre_policy"},
		{"RD instance peer (type 1) like global", bmp.BMP_PEER_TYPE_L3VPN, 0, false, ""},
		{"Adj-RIB-Out (RFC 8671 §4 O=1) never", bmp.BMP_PEER_TYPE_GLOBAL, bmp.BMP_PEER_FLAG_ADJ_RIB_TYP, false, "bmp_adj_rib_out"},
		{"Loc-RIB (RFC 9069 type 3) skipped by default", bmp.BMP_PEER_TYPE_LOCAL_RIB, 0, false, "bmp_loc_rib"},
		{"Loc-RIB kept with PostPolicy", bmp.BMP_PEER_TYPE_LOCAL_RIB, 0, true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := *bmp.NewBMPPeerHeader(tc.peerType, tc.flags, 0, "192.0.2.10", 64500, "192.0.2.99", 0)
			u := bgp.NewBGPUpdateMessage(nil, []bgp.PathAttributeInterface{bgp.NewPathAttributeOrigin(0),
				bgp.NewPathAttributeAsPath([]bgp.AsPathParamInterface{seq(64500)}), bgp.NewPathAttributeNextHop("192.0.2.1")},
				[]*bgp.IPAddrPrefix{v4("198.51.100.0", 24, 0)})
			ev, st, err := runBytes(t, must(bmp.NewBMPRouteMonitoring(h, u).Serialize()), tc.post)
			if err != nil {
				t.Fatal(err)
			}
			announced := len(ev) > 0 && ev[0].Kind == route.Announce
			if announced != (tc.skip == "") {
				t.Errorf("delivered=%v, want %v (events %q)", announced, tc.skip == "", summaries(ev))
			}
			if tc.skip != "" && st.Skipped[tc.skip] != 1 {
				t.Errorf("Skipped[%s]: got %d, want 1 (%v)", tc.skip, st.Skipped[tc.skip], st.Skipped)
			}
		})
	}
}
