package main

import (
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/rovimpact/rovimpact/internal/testutil/fixture"
	"github.com/rovimpact/rovimpact/internal/testutil/watchfix"

	"github.com/osrg/gobgp/v3/pkg/packet/bgp"

	"github.com/rovimpact/rovimpact/internal/testutil/stayrtr"
	"github.com/rovimpact/rovimpact/route"
)

// rawPeer is a BGP speaker written in the test: it reaches Established
// with watch's collector, then writes whatever bytes it is given.
type rawPeer struct{ c net.Conn }

const hostileAddr = "127.0.0.31"

func dialRawPeer(t *testing.T, port string) *rawPeer {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(hostileAddr)}, Timeout: 5 * time.Second}
	var c net.Conn
	var err error
	for i := 0; i < 100; i++ {
		if c, err = d.Dial("tcp", "127.0.0.1:"+port); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	caps := []bgp.ParameterCapabilityInterface{bgp.NewCapMultiProtocol(bgp.RF_IPv4_UC), bgp.NewCapMultiProtocol(bgp.RF_IPv6_UC),
		bgp.NewCapFourOctetASNumber(65001), bgp.NewCapAddPath([]*bgp.CapAddPathTuple{bgp.NewCapAddPathTuple(bgp.RF_IPv4_UC, bgp.BGP_ADD_PATH_SEND)})}
	p := &rawPeer{c: c}
	p.write(t, mustBytes(t)(bgp.NewBGPOpenMessage(65001, 90, hostileAddr, []bgp.OptionParameterInterface{bgp.NewOptionParameterCapability(caps)}).Serialize()))
	p.write(t, mustBytes(t)(bgp.NewBGPKeepAliveMessage().Serialize()))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for _, want := range []uint8{bgp.BGP_MSG_OPEN, bgp.BGP_MSG_KEEPALIVE} {
		var h [19]byte
		if _, err := io.ReadFull(c, h[:]); err != nil {
			t.Fatalf("reading the collector's message type %d: %v", want, err)
		}
		if _, err := io.CopyN(io.Discard, c, int64(binary.BigEndian.Uint16(h[16:18]))-19); err != nil || h[18] != want {
			t.Fatalf("collector sent type %d (%v), want %d", h[18], err, want)
		}
	}
	c.SetReadDeadline(time.Time{})
	go io.Copy(io.Discard, c)
	return p
}

func mustBytes(t *testing.T) func([]byte, error) []byte {
	return func(b []byte, err error) []byte {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
}

func (p *rawPeer) write(t *testing.T, b []byte) {
	t.Helper()
	if _, err := p.c.Write(b); err != nil {
		t.Fatal(err)
	}
}

// update encodes one route as the peer announces it (its AS 65001
// prepended, as an eBGP speaker does), with an ORIGIN value to spoil it.
func (p *rawPeer) update(t *testing.T, r annRoute, origin uint8, prepend ...uint32) []byte {
	path := fixture.ParsePath(t, r.Path, append([]uint32{65001}, prepend...)...)
	var params []bgp.AsPathParamInterface
	for _, s := range path {
		params = append(params, bgp.NewAs4PathParam(uint8(s.Type), s.ASNs))
	}
	attrs := []bgp.PathAttributeInterface{bgp.NewPathAttributeOrigin(origin), bgp.NewPathAttributeAsPath(params)}
	pfx := netip.MustParsePrefix(r.Prefix)
	var nlri []*bgp.IPAddrPrefix
	if pfx.Addr().Is4() {
		n := bgp.NewIPAddrPrefix(uint8(pfx.Bits()), pfx.Addr().String())
		n.SetPathIdentifier(uint32(r.ID))
		n.SetPathLocalIdentifier(uint32(r.ID))
		nlri = append(nlri, n)
		attrs = append(attrs, bgp.NewPathAttributeNextHop(hostileAddr))
	} else {
		attrs = append(attrs, bgp.NewPathAttributeMpReachNLRI("2001:db8::31", []bgp.AddrPrefixInterface{bgp.NewIPv6AddrPrefix(uint8(pfx.Bits()), pfx.Addr().String())}))
	}
	return mustBytes(t)(bgp.NewBGPUpdateMessage(nil, attrs, nlri).Serialize(&bgp.MarshallingOption{
		AddPath: map[bgp.RouteFamily]bgp.BGPAddPathMode{bgp.RF_IPv4_UC: bgp.BGP_ADD_PATH_SEND}}))
}

// TestWatchHostilePeer: a hostile BGP peer against watch. After each
// message — a treat-as-withdraw UPDATE (ORIGIN 5, RFC 7606 §7.1), a path
// through watch's own AS (RFC 4271 §9.1.2), a message of unknown type
// (a session reset; it killed watch at 0ecd395) — watch keeps running and
// /api/invalids and the route gauges equal analyze of exactly the routes
// the peer still holds.
func TestWatchHostilePeer(t *testing.T) {
	dir := t.TempDir()
	vrpFile := filepath.Join(dir, "vrps.json")
	stayrtr.WriteVRPs(t, vrpFile, watchfix.VRPs0)
	_, bgpPort, _ := net.SplitHostPort(freeLoopback(t))
	run := startWatch(t, "--listen", "127.0.0.1:"+bgpPort, "--neighbor", hostileAddr+":65001", "--local-as", "64900",
		"--router-id", "192.0.2.254", "--vrps", vrpFile, "--file-poll", "0", "--http", freeLoopback(t),
		"--interval", "100ms", "--log-format", "json")
	peer := route.PeerKey{AS: 65001, IP: netip.MustParseAddr(hostileAddr)}

	p := dialRawPeer(t, bgpPort)
	for _, r := range watchfix.Routes0 {
		p.write(t, p.update(t, r, 0))
	}
	run.converges(t, "table announced", truth(t, peer, 65001, watchfix.Routes0, watchfix.VRPs0))

	// RFC 7606 §7.1: ORIGIN 5 is malformed, "treat-as-withdraw".
	p.write(t, p.update(t, watchfix.WrongOrigin, 5))
	held := watchfix.Without(watchfix.Routes0, watchfix.WrongOrigin)
	run.converges(t, "treat-as-withdraw", truth(t, peer, 65001, held, watchfix.VRPs0))

	// RFC 4271 §9.1.2: the replacement path of watchfix.Cover goes through AS64900
	// (watch's --local-as): a loop; the earlier path is gone too.
	p.write(t, p.update(t, watchfix.Cover, 0, 64900))
	held = watchfix.Without(held, watchfix.Cover)
	run.converges(t, "looped path", truth(t, peer, 65001, held, watchfix.VRPs0))

	// A message of unknown type: RFC 4271 §6.1 NOTIFICATION and reset;
	// every route of the session goes, watch stays up.
	p.write(t, append(append(make([]byte, 0, 19), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), 0, 19, 7))
	run.converges(t, "session reset", truth(t, peer, 65001, nil, watchfix.VRPs0))
	run.logged(t, `"msg":"session_down"`, 1)

	p = dialRawPeer(t, bgpPort)
	for _, r := range held {
		p.write(t, p.update(t, r, 0))
	}
	run.converges(t, "peer back", truth(t, peer, 65001, held, watchfix.VRPs0))
}
