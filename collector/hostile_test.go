package collector

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/osrg/gobgp/v3/pkg/packet/bgp"

	"github.com/rovimpact/rovimpact/route"
)

// hostile is a BGP speaker written for the tests: after Established it
// sends whatever bytes a case gives it, and records the NOTIFICATION (if
// any) the collector answers with.
type hostile struct {
	c     net.Conn
	notif chan [2]byte // code, subcode of a NOTIFICATION received
	done  chan struct{}
}

func dialHostile(t testing.TB, collector, local string, as uint32, addPath bool, extra ...bgp.ParameterCapabilityInterface) *hostile {
	t.Helper()
	return dialHostileHold(t, collector, local, as, addPath, 90, extra...)
}

func dialHostileHold(t testing.TB, collector, local string, as uint32, addPath bool, hold uint16, extra ...bgp.ParameterCapabilityInterface) *hostile {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", collector)
	if err != nil {
		t.Fatal(err)
	}
	caps := []bgp.ParameterCapabilityInterface{
		bgp.NewCapMultiProtocol(bgp.RF_IPv4_UC),
		bgp.NewCapMultiProtocol(bgp.RF_IPv6_UC),
		bgp.NewCapFourOctetASNumber(as),
		bgp.NewCapRouteRefresh(),
	}
	if addPath {
		caps = append(caps, bgp.NewCapAddPath([]*bgp.CapAddPathTuple{bgp.NewCapAddPathTuple(bgp.RF_IPv4_UC, bgp.BGP_ADD_PATH_SEND)}))
	}
	caps = append(caps, extra...)
	h := &hostile{c: c, notif: make(chan [2]byte, 1), done: make(chan struct{})}
	h.write(t, must(bgp.NewBGPOpenMessage(uint16(min(as, 23456)), hold, local, []bgp.OptionParameterInterface{bgp.NewOptionParameterCapability(caps)}).Serialize()))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if typ, _ := readMsg(c); typ != bgp.BGP_MSG_OPEN {
		t.Fatalf("collector answered type %d, want OPEN", typ)
	}
	h.write(t, must(bgp.NewBGPKeepAliveMessage().Serialize()))
	if typ, _ := readMsg(c); typ != bgp.BGP_MSG_KEEPALIVE {
		t.Fatalf("collector answered type %d, want KEEPALIVE", typ)
	}
	c.SetReadDeadline(time.Time{})
	go func() {
		defer close(h.done)
		for {
			typ, body := readMsg(c)
			switch typ {
			case 0:
				return
			case bgp.BGP_MSG_NOTIFICATION:
				if len(body) >= 2 {
					h.notif <- [2]byte{body[0], body[1]}
				}
			}
		}
	}()
	t.Cleanup(func() { c.Close() })
	return h
}

// readMsg reads one message; type 0 on any error.
func readMsg(c net.Conn) (uint8, []byte) {
	var hd [19]byte
	if _, err := io.ReadFull(c, hd[:]); err != nil {
		return 0, nil
	}
	n := int(binary.BigEndian.Uint16(hd[16:18]))
	if n < 19 {
		return 0, nil
	}
	body := make([]byte, n-19)
	if _, err := io.ReadFull(c, body); err != nil {
		return 0, nil
	}
	return hd[18], body
}

func (h *hostile) write(t testing.TB, b []byte) {
	t.Helper()
	if _, err := h.c.Write(b); err != nil {
		t.Fatal(err)
	}
}

// waitNotification waits for the collector's NOTIFICATION and for it to
// close the connection.
func (h *hostile) waitNotification(t testing.TB) [2]byte {
	t.Helper()
	return h.waitNotificationWithin(t, 5*time.Second)
}

func (h *hostile) waitNotificationWithin(t testing.TB, d time.Duration) [2]byte {
	t.Helper()
	select {
	case n := <-h.notif:
		select {
		case <-h.done:
		case <-time.After(5 * time.Second):
			t.Fatal("connection still open 5 s after the NOTIFICATION")
		}
		return n
	case <-h.done:
		select {
		case n := <-h.notif:
			return n
		default:
		}
		t.Fatal("connection closed without a NOTIFICATION")
	case <-time.After(d):
		t.Fatalf("no NOTIFICATION within %v", d)
	}
	return [2]byte{}
}

// msg frames body as a BGP message of type typ (RFC 4271 §4.1).
func msg(typ byte, body []byte) []byte {
	b := bytes.Repeat([]byte{0xff}, 16)
	b = binary.BigEndian.AppendUint16(b, uint16(19+len(body)))
	return append(append(b, typ), body...)
}

// updateMsg builds an UPDATE from raw parts (see mrt's update_test.go for
// the RFC 7606 table of the decoder itself).
func updateMsg(withdrawn []byte, attrs [][]byte, nlri []byte) []byte {
	a := bytes.Join(attrs, nil)
	b := binary.BigEndian.AppendUint16(nil, uint16(len(withdrawn)))
	b = append(b, withdrawn...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(a)))
	b = append(b, a...)
	return msg(bgp.BGP_MSG_UPDATE, append(b, nlri...))
}

func rawAttr(flags, typ byte, v ...byte) []byte {
	return append([]byte{flags, typ, byte(len(v))}, v...)
}

func rawPrefixes(ps ...string) []byte {
	var b []byte
	for _, s := range ps {
		p := netip.MustParsePrefix(s)
		b = append(b, byte(p.Bits()))
		b = append(b, p.Addr().AsSlice()[:(p.Bits()+7)/8]...)
	}
	return b
}

func rawPath(asns ...uint32) []byte {
	v := []byte{2, byte(len(asns))}
	for _, a := range asns {
		v = binary.BigEndian.AppendUint32(v, a)
	}
	return rawAttr(0x40, 2, v...)
}

func rawMPReach6(nh []byte, nlri []byte) []byte {
	v := append([]byte{0, 2, 1, byte(len(nh))}, nh...)
	v = append(append(v, 0), nlri...)
	return append([]byte{0x90, 14, 0, byte(len(v))}, v...)
}

var (
	rOrigin = rawAttr(0x40, 1, 0)
	rNH     = rawAttr(0x40, 3, 127, 0, 0, 9)
	rNH6    = netip.MustParseAddr("2001:db8::9").AsSlice()
)

// announce is a good UPDATE for prefixes with path.
func announce(path []uint32, ps ...string) []byte {
	var v4, v6 []string
	for _, p := range ps {
		if strings.Contains(p, ":") {
			v6 = append(v6, p)
		} else {
			v4 = append(v4, p)
		}
	}
	attrs := [][]byte{rOrigin, rawPath(path...)}
	if len(v6) > 0 {
		attrs = append(attrs, rawMPReach6(rNH6, rawPrefixes(v6...)))
	}
	if len(v4) > 0 {
		attrs = append(attrs, rNH)
	}
	return updateMsg(nil, attrs, rawPrefixes(v4...))
}

// heldTable applies the collector's events as a route table does: an
// announcement replaces the peer's path for (prefix, path ID), a
// withdrawal removes it, PeerDown removes every path of the peer.
type heldTable struct {
	mu     sync.Mutex
	routes map[string]string // "peer prefix#id" -> origin
	downs  int
}

func newHeldTable() *heldTable { return &heldTable{routes: map[string]string{}} }

func (h *heldTable) handle(r *route.Route) {
	h.mu.Lock()
	defer h.mu.Unlock()
	k := fmt.Sprintf("%s %s#%d", r.Peer.IP, r.Prefix, r.PathID)
	switch r.Kind {
	case route.Announce:
		h.routes[k] = fmt.Sprintf("AS%d", r.Origin.ASN)
	case route.Withdraw:
		delete(h.routes, k)
	case route.PeerDown:
		h.downs++
		pre := r.Peer.IP.String() + " "
		for k := range h.routes {
			if strings.HasPrefix(k, pre) {
				delete(h.routes, k)
			}
		}
	}
}

func (h *heldTable) list(peer string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for k, v := range h.routes {
		if strings.HasPrefix(k, peer+" ") {
			out = append(out, strings.TrimPrefix(k, peer+" ")+" "+v)
		}
	}
	sort.Strings(out)
	return out
}

func (h *heldTable) has(peer, prefix string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, ok := h.routes[peer+" "+prefix+"#0"]
	return ok
}

func (h *heldTable) peerDowns() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.downs
}

// holds is what the hostile peer still holds announced to the collector,
// in heldTable.list's form.
type holds map[string]uint32

func (m holds) list() []string {
	var out []string
	for p, o := range m {
		out = append(out, fmt.Sprintf("%s#0 AS%d", p, o))
	}
	sort.Strings(out)
	return out
}

// TestHostilePeer is the hostile-peer suite: a speaker reaches Established
// and sends each malformed or unexpected message. The collector must
// answer as RFC 4271 and RFC 7606 say — a NOTIFICATION and a reset, or the
// error handling applied with the session kept — and never crash; after
// each case the routes it holds from the peer must be exactly those the
// peer still holds.
func TestHostilePeer(t *testing.T) {
	port := freePort(t)
	table := newHeldTable()
	var sess eventLog
	col := startCollector(t, BGPConfig{
		Listen:    netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port),
		Accept:    []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
		LocalAS:   65000,
		Logger:    quiet,
		OnSession: sess.session,
	}, table.handle)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	const peer = "127.0.0.7"
	good := []uint32{64512, 64513}

	var h *hostile
	held := holds{}
	marker := 0
	// sync sends a fresh marker prefix and waits for it, so everything
	// sent before it has been applied; then it compares what is held.
	sync := func(t *testing.T, what string) {
		t.Helper()
		marker++
		p := fmt.Sprintf("10.%d.%d.0/24", marker/256, marker%256)
		h.write(t, announce(good, p))
		held[p] = 64513
		deadline := time.Now().Add(5 * time.Second)
		for !table.has(peer, p) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: marker %s not received; stats %+v", what, p, col.Stats())
			}
			time.Sleep(5 * time.Millisecond)
		}
		if got, want := table.list(peer), held.list(); !slices.Equal(got, want) {
			t.Fatalf("%s: collector holds\n  %q\npeer holds\n  %q", what, got, want)
		}
	}
	top := t // connections outlive the subtest that opens them
	connect := func(t *testing.T) {
		h = dialHostile(top, addr, peer, 64512, false)
		clear(held)
		h.write(t, announce(good, "192.0.2.0/24", "198.51.100.0/24", "2001:db8::/32"))
		held["192.0.2.0/24"], held["198.51.100.0/24"], held["2001:db8::/32"] = 64513, 64513, 64513
		sync(t, "after connecting")
	}
	// reset expects the NOTIFICATION (code, subcode) and the peer's
	// routes gone, then reconnects.
	reset := func(t *testing.T, downs int, code, sub byte) {
		t.Helper()
		if n := h.waitNotification(t); n != [2]byte{code, sub} {
			t.Errorf("NOTIFICATION %d/%d, want %d/%d (%s)", n[0], n[1], code, sub, notifName(code, sub))
		}
		deadline := time.Now().Add(5 * time.Second)
		for table.peerDowns() == downs {
			if time.Now().After(deadline) {
				t.Fatal("no PeerDown after the reset")
			}
			time.Sleep(5 * time.Millisecond)
		}
		if got := table.list(peer); len(got) != 0 {
			t.Errorf("after the reset the collector still holds %q", got)
		}
		connect(t)
	}

	connect(t)
	hdr := func(typ byte) []byte { return msg(typ, nil) }
	resets := []struct {
		name      string
		send      []byte
		code, sub byte
	}{
		// RFC 4271 §6.1: "If the Type field of the message header is not
		// recognized, then the Error Subcode MUST be set to Bad Message
		// Type." (The gobgp collector of 0ecd395 panicked on each of these.)
		{"unknown message type 0", hdr(0), 1, 3},
		{"unknown message type 6", hdr(6), 1, 3},
		{"unknown message type 7", hdr(7), 1, 3},
		{"unknown message type 9", hdr(9), 1, 3},
		{"unknown message type 100", hdr(100), 1, 3},
		{"unknown message type 255", hdr(255), 1, 3},
		// RFC 6608 §4: an unexpected message in Established is an FSM
		// Error, subcode 3. (gobgp panicked: interface conversion.)
		{"second OPEN while Established", must(bgp.NewBGPOpenMessage(64512, 90, peer, []bgp.OptionParameterInterface{
			bgp.NewOptionParameterCapability([]bgp.ParameterCapabilityInterface{bgp.NewCapFourOctetASNumber(64512)})}).Serialize()), 5, 3},
		// RFC 4271 §6.2: an OPEN that does not parse is an OPEN Message
		// Error, whatever the state.
		{"malformed second OPEN", must(bgp.NewBGPOpenMessage(64512, 90, peer, nil).Serialize()), 2, 0},
		// RFC 4271 §6.1: a marker not all ones is "Connection Not
		// Synchronized".
		{"bad marker", append([]byte{0xfe}, hdr(4)[1:]...), 1, 1},
		// RFC 4271 §6.1: "if the Length field of the message header is
		// less than 19 or greater than 4096 ... Bad Message Length".
		{"4097-byte message", append(binary.BigEndian.AppendUint16(bytes.Repeat([]byte{0xff}, 16), 4097), append([]byte{2}, make([]byte, 4097-19)...)...), 1, 2},
		{"18-byte message", append(binary.BigEndian.AppendUint16(bytes.Repeat([]byte{0xff}, 16), 18), 4), 1, 2},
		// RFC 4271 §6.3 via RFC 7606 §3 a and §5.3: nothing can be
		// treated as withdrawn, the session resets.
		{"UPDATE withdrawn length overruns the message", msg(2, []byte{0, 9, 24, 192, 0, 2, 0, 0}), 3, 1},
		{"UPDATE total attribute length overruns the message", msg(2, []byte{0, 0, 0, 40, 0x40, 1, 1, 0}), 3, 1},
		{"UPDATE NLRI /33", updateMsg(nil, [][]byte{rOrigin, rawPath(good...), rNH}, []byte{33, 1, 2, 3, 4, 5}), 3, 10},
		{"UPDATE MP_REACH_NLRI twice", updateMsg(nil, [][]byte{rOrigin, rawPath(good...), rawMPReach6(rNH6, nil), rawMPReach6(rNH6, nil)}, nil), 3, 1},
		{"UPDATE unrecognized well-known attribute", updateMsg(nil, [][]byte{rOrigin, rawPath(good...), rNH, rawAttr(0x40, 99, 1)}, rawPrefixes("192.0.2.0/24")), 3, 2},
	}
	for _, tc := range resets {
		t.Run(tc.name, func(t *testing.T) {
			downs := table.peerDowns()
			h.write(t, tc.send)
			reset(t, downs, tc.code, tc.sub)
		})
	}

	// RFC 7606 treat-as-withdraw: the prefix was held with a good path;
	// the bad UPDATE for it withdraws it and the session stays up.
	bad := []struct {
		name  string
		attrs [][]byte
	}{
		{"ORIGIN 5 (RFC 7606 §7.1)", [][]byte{rawAttr(0x40, 1, 5), rawPath(good...), rNH}},
		{"ORIGIN of length 2 (§7.1)", [][]byte{rawAttr(0x40, 1, 0, 0), rawPath(good...), rNH}},
		{"missing AS_PATH (§3 d)", [][]byte{rOrigin, rNH}},
		{"missing NEXT_HOP (§3 d)", [][]byte{rOrigin, rawPath(good...)}},
		{"NEXT_HOP of length 5 (§7.3)", [][]byte{rOrigin, rawPath(good...), rawAttr(0x40, 3, 1, 2, 3, 4, 5)}},
		{"MULTI_EXIT_DISC of length 3 (§7.4)", [][]byte{rOrigin, rawPath(good...), rNH, rawAttr(0x80, 4, 0, 0, 1)}},
		{"attribute length overrun (§4)", [][]byte{rOrigin, rawPath(good...), rNH, {0xc0, 8, 200, 0, 0}}},
		{"two octets left for an attribute (§4)", [][]byte{rOrigin, rawPath(good...), rNH, {0xc0, 8}}},
		{"ORIGIN flagged optional (§3 c)", [][]byte{rawAttr(0xc0, 1, 0), rawPath(good...), rNH}},
		{"COMMUNITIES of length 3 (§7.8)", [][]byte{rOrigin, rawPath(good...), rNH, rawAttr(0xc0, 8, 1, 2, 3)}},
		{"EXTENDED_COMMUNITIES of length 7 (§7.14)", [][]byte{rOrigin, rawPath(good...), rNH, rawAttr(0xc0, 16, 1, 2, 3, 4, 5, 6, 7)}},
		{"LARGE_COMMUNITY of length 11 (RFC 8092 §5)", [][]byte{rOrigin, rawPath(good...), rNH, rawAttr(0xc0, 32, make([]byte, 11)...)}},
		{"AS_PATH segment type 7 (§7.2)", [][]byte{rOrigin, rawAttr(0x40, 2, 7, 1, 0, 0, 0, 1), rNH}},
		{"AS_PATH segment of length 0 (§7.2)", [][]byte{rOrigin, rawAttr(0x40, 2, 2, 0), rNH}},
	}
	for _, tc := range bad {
		t.Run("treat-as-withdraw: "+tc.name, func(t *testing.T) {
			h.write(t, updateMsg(nil, tc.attrs, rawPrefixes("192.0.2.0/24")))
			delete(held, "192.0.2.0/24")
			sync(t, tc.name)
			h.write(t, announce(good, "192.0.2.0/24"))
			held["192.0.2.0/24"] = 64513
			sync(t, "re-announced")
		})
	}
	t.Run("treat-as-withdraw withdraws MP_REACH_NLRI prefixes", func(t *testing.T) {
		h.write(t, updateMsg(nil, [][]byte{rawAttr(0x40, 1, 5), rawPath(good...), rawMPReach6(rNH6, rawPrefixes("2001:db8::/32"))}, nil))
		delete(held, "2001:db8::/32")
		sync(t, "ORIGIN 5 on IPv6")
		h.write(t, announce(good, "2001:db8::/32"))
		held["2001:db8::/32"] = 64513
		sync(t, "re-announced")
	})
	t.Run("attribute discard keeps the route (RFC 7606 §7.6, §7.7)", func(t *testing.T) {
		h.write(t, updateMsg(nil, [][]byte{rOrigin, rawPath(64512, 64520), rNH, rawAttr(0x40, 6, 1), rawAttr(0xc0, 7, 1, 2, 3)}, rawPrefixes("192.0.2.0/24")))
		held["192.0.2.0/24"] = 64520
		sync(t, "attribute discard")
	})
	t.Run("looped path withdraws the earlier path (RFC 4271 §9.1.2)", func(t *testing.T) {
		h.write(t, announce([]uint32{64512, 65000, 64530}, "198.51.100.0/24"))
		delete(held, "198.51.100.0/24")
		sync(t, "loop")
	})
	t.Run("ROUTE-REFRESH is accepted (RFC 2918)", func(t *testing.T) {
		h.write(t, msg(5, []byte{0, 1, 0, 1}))
		sync(t, "route refresh")
	})
	t.Run("flood of UPDATEs", func(t *testing.T) {
		const n = 20000
		var b []byte
		for i := 0; i < n; i++ {
			p := fmt.Sprintf("100.%d.%d.0/24", i/256, i%256)
			b = append(b, announce([]uint32{64512, uint32(64600 + i%100)}, p)...)
			held[p] = uint32(64600 + i%100)
		}
		h.write(t, b)
		sync(t, "flood")
		var w []byte
		for i := 0; i < n; i++ {
			p := fmt.Sprintf("100.%d.%d.0/24", i/256, i%256)
			w = append(w, updateMsg(rawPrefixes(p), nil, nil)...)
			delete(held, p)
		}
		h.write(t, w)
		sync(t, "flood withdrawn")
	})
	t.Run("AFI/SAFI disable drops IPv6 until the session resets (RFC 7606 §7.11, RFC 4760 §7)", func(t *testing.T) {
		h.write(t, updateMsg(nil, [][]byte{rOrigin, rawPath(good...), rawMPReach6([]byte{1, 2, 3, 4, 5}, rawPrefixes("2001:db8:1::/48"))}, nil))
		delete(held, "2001:db8::/32")
		sync(t, "disable")
		h.write(t, announce(good, "2001:db8:2::/48")) // ignored: the family is disabled
		sync(t, "IPv6 after disable")
		if n := col.Stats().Skipped["afisafi_disable"]; n != 1 {
			t.Errorf("Skipped[afisafi_disable] = %d, want 1", n)
		}
	})
	t.Run("NOTIFICATION from the peer ends the session", func(t *testing.T) {
		downs := table.peerDowns()
		h.write(t, msg(3, []byte{6, 2}))
		select {
		case <-h.done:
		case <-time.After(5 * time.Second):
			t.Fatal("connection open 5 s after our NOTIFICATION")
		}
		deadline := time.Now().Add(5 * time.Second)
		for table.peerDowns() == downs {
			if time.Now().After(deadline) {
				t.Fatal("no PeerDown")
			}
			time.Sleep(5 * time.Millisecond)
		}
		if got := table.list(peer); len(got) != 0 {
			t.Errorf("after the peer's NOTIFICATION the collector still holds %q", got)
		}
		connect(t) // IPv6 is back: AFI/SAFI disable lasts one session
		if got := sess.sessions(); !slices.Contains(got, "session 127.0.0.7 AS64512 idle (notification-received code 6(cease) subcode 2(administrative shutdown))") {
			t.Errorf("session events %q lack the peer's NOTIFICATION as reason", got)
		}
	})
	st := col.Stats()
	if st.Skipped["treat_as_withdraw"] < int64(len(bad)) || st.Skipped["session_reset"] != 5 || st.Skipped["as_loop"] != 1 || st.Skipped["route_refresh"] != 1 {
		t.Errorf("stats: %v", st.Skipped)
	}
}

// TestGracefulRestartEndOfRIB: RFC 4724 §4.2 on the receiving side, with a
// peer that keeps its forwarding state (F bit set). Its TCP connection
// drops: its routes stay, stale. It comes back and re-announces one of its
// two IPv4 routes: at its IPv4 End-of-RIB the other, still stale, goes;
// its IPv6 route waits for the IPv6 End-of-RIB. A peer that does not come
// back within its Restart Time loses everything.
func TestGracefulRestartEndOfRIB(t *testing.T) {
	port := freePort(t)
	table := newHeldTable()
	var sess eventLog
	startCollector(t, BGPConfig{
		Listen:    netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port),
		Neighbors: []Neighbor{{Addr: netip.MustParseAddr("127.0.0.8"), AS: 64512}, {Addr: netip.MustParseAddr("127.0.0.9"), AS: 64512}},
		LocalAS:   65000,
		Logger:    quiet,
		OnSession: sess.session,
	}, table.handle)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	gr := func(restartTime uint16) bgp.ParameterCapabilityInterface {
		return bgp.NewCapGracefulRestart(false, false, restartTime, []*bgp.CapGracefulRestartTuple{
			bgp.NewCapGracefulRestartTuple(bgp.RF_IPv4_UC, true), bgp.NewCapGracefulRestartTuple(bgp.RF_IPv6_UC, true)})
	}
	wait := func(peer, what string, want ...string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			got := table.list(peer)
			if slices.Equal(got, want) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: collector holds %q, want %q (sessions %q)", what, got, want, sess.sessions())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	eor4 := updateMsg(nil, nil, nil)
	eor6 := updateMsg(nil, [][]byte{{0x90, 15, 0, 3, 0, 2, 1}}, nil)
	path := []uint32{64512, 64513}
	all := []string{"192.0.2.0/24#0 AS64513", "198.51.100.0/24#0 AS64513", "2001:db8::/32#0 AS64513"}

	h := dialHostile(t, addr, "127.0.0.8", 64512, false, gr(120))
	h.write(t, announce(path, "192.0.2.0/24", "198.51.100.0/24", "2001:db8::/32"))
	wait("127.0.0.8", "announced", all...)
	h.c.Close() // TCP drop, no NOTIFICATION
	deadline := time.Now().Add(5 * time.Second)
	for !slices.ContainsFunc(sess.sessions(), func(s string) bool { return strings.Contains(s, "graceful restart: 3 routes kept stale") }) {
		if time.Now().After(deadline) {
			t.Fatalf("no graceful-restart session event: %q", sess.sessions())
		}
		time.Sleep(5 * time.Millisecond)
	}
	wait("127.0.0.8", "restarting", all...)
	if table.peerDowns() != 0 {
		t.Fatal("PeerDown during a graceful restart")
	}
	h = dialHostile(t, addr, "127.0.0.8", 64512, false, gr(120))
	h.write(t, announce(path, "192.0.2.0/24"))
	h.write(t, eor4)
	wait("127.0.0.8", "IPv4 End-of-RIB", "192.0.2.0/24#0 AS64513", "2001:db8::/32#0 AS64513")
	h.write(t, eor6)
	wait("127.0.0.8", "IPv6 End-of-RIB", "192.0.2.0/24#0 AS64513")

	// A peer that stays away past its Restart Time (1 s) loses its routes.
	h9 := dialHostile(t, addr, "127.0.0.9", 64512, false, gr(1))
	h9.write(t, announce(path, "203.0.113.0/24"))
	wait("127.0.0.9", "announced", "203.0.113.0/24#0 AS64513")
	h9.c.Close()
	wait("127.0.0.9", "restart time passed")
}

// TestMaxPrefixes: a peer announcing more paths of a family than
// MaxPrefixes gets a CEASE "Maximum Number of Prefixes Reached" (RFC 4486
// §4) and loses its routes; re-announcing held paths does not count.
func TestMaxPrefixes(t *testing.T) {
	port := freePort(t)
	table := newHeldTable()
	var sess eventLog
	col := startCollector(t, BGPConfig{
		Listen:      netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port),
		Neighbors:   []Neighbor{{Addr: netip.MustParseAddr("127.0.0.11"), AS: 64512}},
		MaxPrefixes: 2,
		Logger:      quiet,
		OnSession:   sess.session,
	}, table.handle)
	h := dialHostile(t, fmt.Sprintf("127.0.0.1:%d", port), "127.0.0.11", 64512, false)
	path := []uint32{64512}
	h.write(t, announce(path, "192.0.2.0/24", "198.51.100.0/24"))
	h.write(t, announce(path, "192.0.2.0/24"))  // a replacement, not a new path
	h.write(t, announce(path, "2001:db8::/32")) // another family, its own limit
	h.write(t, updateMsg(rawPrefixes("198.51.100.0/24"), nil, nil))
	h.write(t, announce(path, "203.0.113.0/24")) // back to two IPv4 paths
	deadline := time.Now().Add(5 * time.Second)
	for len(table.list("127.0.0.11")) != 3 {
		if time.Now().After(deadline) {
			t.Fatalf("holds %q, want 3 routes", table.list("127.0.0.11"))
		}
		time.Sleep(5 * time.Millisecond)
	}
	h.write(t, announce(path, "198.51.100.0/24")) // a third IPv4 path
	if n := h.waitNotification(t); n != [2]byte{6, 1} {
		t.Errorf("NOTIFICATION %d/%d, want 6/1 (cease, maximum number of prefixes reached)", n[0], n[1])
	}
	deadline = time.Now().Add(5 * time.Second)
	for len(table.list("127.0.0.11")) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("after the CEASE the collector holds %q", table.list("127.0.0.11"))
		}
		time.Sleep(5 * time.Millisecond)
	}
	if n := col.Stats().Skipped["prefix_limit"]; n != 1 {
		t.Errorf("Skipped[prefix_limit] = %d, want 1", n)
	}
	if got := sess.sessions(); len(got) != 2 || !strings.Contains(got[1], "maximum-number-of-prefixes-reached") {
		t.Errorf("sessions %q, want the down event to name the limit", got)
	}
}

// TestHoldTimerExpiry: a peer that goes silent (no KEEPALIVE, no UPDATE)
// for the negotiated Hold Time of 3 s is sent "Hold Timer Expired"
// (RFC 4271 §6.5) and its routes go.
func TestHoldTimerExpiry(t *testing.T) {
	port := freePort(t)
	table := newHeldTable()
	startCollector(t, BGPConfig{
		Listen:    netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port),
		Neighbors: []Neighbor{{Addr: netip.MustParseAddr("127.0.0.12"), AS: 64512}},
		Logger:    quiet,
	}, table.handle)
	h := dialHostileHold(t, fmt.Sprintf("127.0.0.1:%d", port), "127.0.0.12", 64512, false, 3)
	h.write(t, announce([]uint32{64512}, "192.0.2.0/24"))
	start := time.Now()
	if n := h.waitNotificationWithin(t, 10*time.Second); n != [2]byte{4, 0} {
		t.Errorf("NOTIFICATION %d/%d, want 4/0 (hold timer expired)", n[0], n[1])
	}
	t.Logf("hold timer expired after %v", time.Since(start).Round(100*time.Millisecond))
	deadline := time.Now().Add(5 * time.Second)
	for len(table.list("127.0.0.12")) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("after the hold timer expired the collector holds %q", table.list("127.0.0.12"))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestHoldTimerUpdatesKeepAlive: UPDATEs restart the Hold Timer as
// KEEPALIVEs do (RFC 4271 §8.2.2, Established, Events 26 and 27), also
// while the collector applies them itself instead of handing them to
// corebgp (bgpConn.intercept): a peer that sends only UPDATEs for longer
// than its Hold Time of 3 s keeps its session and every route; once it goes
// silent the timer runs out.
func TestHoldTimerUpdatesKeepAlive(t *testing.T) {
	port := freePort(t)
	table := newHeldTable()
	startCollector(t, BGPConfig{
		Listen:    netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port),
		Neighbors: []Neighbor{{Addr: netip.MustParseAddr("127.0.0.13"), AS: 64512}},
		Logger:    quiet,
	}, table.handle)
	h := dialHostileHold(t, fmt.Sprintf("127.0.0.1:%d", port), "127.0.0.13", 64512, false, 3)
	start := time.Now()
	n := 0
	for time.Since(start) < 7*time.Second {
		n++
		h.write(t, announce([]uint32{64512}, fmt.Sprintf("10.%d.%d.0/24", n/256, n%256)))
		select {
		case nt := <-h.notif:
			t.Fatalf("NOTIFICATION %d/%d after %v of UPDATEs every 100 ms, want the session kept", nt[0], nt[1], time.Since(start).Round(100*time.Millisecond))
		case <-time.After(100 * time.Millisecond):
		}
	}
	if got := len(table.list("127.0.0.13")); got != n {
		t.Errorf("holds %d routes, want the %d sent", got, n)
	}
	if nt := h.waitNotificationWithin(t, 10*time.Second); nt != [2]byte{4, 0} {
		t.Errorf("NOTIFICATION %d/%d once silent, want 4/0 (hold timer expired)", nt[0], nt[1])
	}
}
