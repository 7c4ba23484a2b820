package rtr

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"reflect"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rovimpact/rovimpact/rov"
)

// fakeClock is a Clock the test moves by hand.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) After(d time.Duration) <-chan time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- f.now
		return ch
	}
	f.waiters = append(f.waiters, waiter{f.now.Add(d), ch})
	return ch
}

// Advance moves the clock and fires the timers that are due.
func (f *fakeClock) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
	kept := f.waiters[:0]
	for _, w := range f.waiters {
		if !w.at.After(f.now) {
			w.ch <- f.now
		} else {
			kept = append(kept, w)
		}
	}
	f.waiters = kept
}

// waitWaiters blocks until someone waits on the clock with a deadline at
// most d away (so that Advance(d) will wake it).
func (f *fakeClock) waitWaiter(t *testing.T, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		f.mu.Lock()
		for _, w := range f.waiters {
			if !w.at.After(f.now.Add(d)) {
				f.mu.Unlock()
				return
			}
		}
		f.mu.Unlock()
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("nobody waits on the clock for %v", d)
}

// fakeCache is an in-process RTR cache on 127.0.0.1 that the test scripts
// PDU by PDU.
type fakeCache struct {
	t     *testing.T
	ln    net.Listener
	conns chan net.Conn
}

func newFakeCache(t *testing.T) *fakeCache {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fc := &fakeCache{t: t, ln: ln, conns: make(chan net.Conn, 4)}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			fc.conns <- c
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return fc
}

func (fc *fakeCache) accept() *cacheConn {
	fc.t.Helper()
	select {
	case c := <-fc.conns:
		fc.t.Cleanup(func() { c.Close() })
		return &cacheConn{t: fc.t, c: c, r: NewReader(c)}
	case <-time.After(5 * time.Second):
		fc.t.Fatal("client did not connect")
	}
	return nil
}

type cacheConn struct {
	t *testing.T
	c net.Conn
	r *Reader
}

// expect reads one PDU from the client and checks its type (and, for
// queries, version, session and serial).
func (cc *cacheConn) expect(want PDU) PDU {
	cc.t.Helper()
	cc.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var p PDU
	if err := cc.r.Next(&p); err != nil {
		cc.t.Fatalf("reading %s: %v", want.Type, err)
	}
	if p.Type != want.Type || p.Version != want.Version || (p.Type == TypeSerialQuery && (p.Session != want.Session || p.Serial != want.Serial)) {
		cc.t.Fatalf("got %+v, want %+v", p, want)
	}
	if p.Type == TypeErrorReport && p.Code() != want.Code() {
		cc.t.Fatalf("got Error Report %s (%q), want %s", p.Code(), p.ErrText, want.Code())
	}
	return p
}

func (cc *cacheConn) send(pdus ...PDU) {
	cc.t.Helper()
	var b []byte
	for i := range pdus {
		b = AppendPDU(b, &pdus[i])
	}
	if _, err := cc.c.Write(b); err != nil {
		cc.t.Fatal(err)
	}
}

// closed waits for the client to close the connection.
func (cc *cacheConn) closed() {
	cc.t.Helper()
	cc.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var p PDU
	if err := cc.r.Next(&p); !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, syscall.ECONNRESET) {
		cc.t.Fatalf("got %+v, %v; want the client to close", p, err)
	}
}

func pfx(version uint8, announce bool, s string, maxLen uint8, asn uint32) PDU {
	p := netip.MustParsePrefix(s)
	t := TypeIPv4Prefix
	if p.Addr().Is6() {
		t = TypeIPv6Prefix
	}
	var flags uint8
	if announce {
		flags = FlagAnnounce
	}
	return PDU{Version: version, Type: t, Flags: flags, Prefix: p, MaxLen: maxLen, ASN: asn}
}

func vrp(s string, maxLen uint8, asn uint32) rov.VRP {
	return rov.VRP{Prefix: netip.MustParsePrefix(s), MaxLen: maxLen, ASN: asn}
}

func cacheResp(v uint8, session uint16) PDU {
	return PDU{Version: v, Type: TypeCacheResponse, Session: session}
}

func eod(v uint8, session uint16, serial uint32) PDU {
	return PDU{Version: v, Type: TypeEndOfData, Session: session, Serial: serial, Refresh: 60, Retry: 10, Expire: 600}
}

func resetQuery(v uint8) PDU { return PDU{Version: v, Type: TypeResetQuery} }

func serialQuery(session uint16, serial uint32) PDU {
	return PDU{Version: 1, Type: TypeSerialQuery, Session: session, Serial: serial}
}

type harness struct {
	t     *testing.T
	cache *fakeCache
	clock *fakeClock
	c     *Client
	done  chan error
}

// startClient starts a client speaking version 1 (0 with v0) to a fake
// cache, with a 1 s RetryInterval on a fake clock.
func startClient(t *testing.T, v0 bool) *harness {
	return startClientWith(t, func(c *Config) { c.V0, c.MaxVersion = v0, 1 })
}

// startClientWith is startClient with the Config adjusted by set (which
// sees the defaults of startClient, version 2 included).
func startClientWith(t *testing.T, set func(*Config)) *harness {
	fc := newFakeCache(t)
	h := &harness{t: t, cache: fc, clock: newFakeClock(), done: make(chan error, 1)}
	cfg := Config{Addr: fc.ln.Addr().String(), Name: "cache-a", RetryInterval: time.Second, Clock: h.clock}
	set(&cfg)
	h.c = NewClient(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { h.done <- h.c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		for range h.c.Updates() {
		}
		if err := <-h.done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v, want context.Canceled", err)
		}
	})
	return h
}

func (h *harness) update() Update {
	h.t.Helper()
	select {
	case u := <-h.c.Updates():
		return u
	case <-time.After(5 * time.Second):
		h.t.Fatal("no Update")
	}
	return Update{}
}

func checkUpdate(t *testing.T, u Update, reset bool, serial uint32, announced, withdrawn []rov.VRP) {
	t.Helper()
	if u.Reset != reset || u.Serial != serial || u.Source != "cache-a" {
		t.Errorf("got Update reset=%t serial=%d source=%q, want reset=%t serial=%d source=cache-a", u.Reset, u.Serial, u.Source, reset, serial)
	}
	if !reflect.DeepEqual(u.Announced, announced) {
		t.Errorf("announced: got %v, want %v", u.Announced, announced)
	}
	if !reflect.DeepEqual(u.Withdrawn, withdrawn) {
		t.Errorf("withdrawn: got %v, want %v", u.Withdrawn, withdrawn)
	}
}

var (
	vA = vrp("192.0.2.0/24", 24, 64500)
	vB = vrp("198.51.100.0/22", 24, 64501)
	vC = vrp("2001:db8::/32", 48, 64502)
	vD = vrp("203.0.113.0/24", 24, 64503)
)

// syncInitial plays RFC 8210 §8.1 "Start or Restart": Reset Query, Cache
// Response, prefixes, End of Data.
func (h *harness) syncInitial() *cacheConn {
	cc := h.cache.accept()
	cc.expect(resetQuery(1))
	cc.send(cacheResp(1, 7), pfx(1, true, "192.0.2.0/24", 24, 64500), pfx(1, true, "2001:db8::/32", 48, 64502),
		pfx(1, true, "198.51.100.0/22", 24, 64501), eod(1, 7, 1))
	checkUpdate(h.t, h.update(), true, 1, []rov.VRP{vA, vB, vC}, nil)
	return cc
}

func TestClientSync(t *testing.T) {
	h := startClient(t, false)
	cc := h.syncInitial()
	st := h.c.Status()
	if !st.Connected || !st.Established || !st.HasSession || st.SessionID != 7 || st.Serial != 1 || st.VRPs != 3 || st.Version != 1 ||
		st.Refresh != time.Minute || st.Retry != 10*time.Second || st.Expire != 10*time.Minute {
		t.Errorf("status after sync: %+v", st)
	}

	// RFC 8210 §8.2 "Typical Exchange": Serial Notify -> Serial Query ->
	// the increment.
	cc.send(PDU{Version: 1, Type: TypeSerialNotify, Session: 7, Serial: 2})
	cc.expect(serialQuery(7, 1))
	cc.send(cacheResp(1, 7), pfx(1, false, "198.51.100.0/22", 24, 64501), pfx(1, true, "203.0.113.0/24", 24, 64503), eod(1, 7, 2))
	u := h.update()
	checkUpdate(t, u, false, 2, []rov.VRP{vD}, []rov.VRP{vB})
	// The Update carries the client's whole set, for the Set to share.
	if got, want := vrpsOf(u.held), []rov.VRP{vA, vD, vC}; !reflect.DeepEqual(got, want) {
		t.Errorf("held after the delta: got %v, want %v", got, want)
	}

	// A Serial Notify for the serial held needs no query; the refresh
	// timer (60 s from End of Data) does.
	cc.send(PDU{Version: 1, Type: TypeSerialNotify, Session: 7, Serial: 2})
	h.clock.waitWaiter(t, time.Minute)
	h.clock.Advance(time.Minute)
	cc.expect(serialQuery(7, 2))
	cc.send(cacheResp(1, 7), eod(1, 7, 2))
	checkUpdate(t, h.update(), false, 2, nil, nil)

	// An announcement and withdrawal of one VRP in one response cancel
	// out.
	cc.send(PDU{Version: 1, Type: TypeSerialNotify, Session: 7, Serial: 3})
	cc.expect(serialQuery(7, 2))
	cc.send(cacheResp(1, 7), pfx(1, true, "198.51.100.0/22", 24, 64501), pfx(1, false, "198.51.100.0/22", 24, 64501),
		pfx(1, false, "203.0.113.0/24", 24, 64503), pfx(1, true, "203.0.113.0/24", 24, 64503), eod(1, 7, 3))
	checkUpdate(t, h.update(), false, 3, nil, nil)

	// RFC 8210 §8.3 "No Incremental Update Available": Cache Reset ->
	// Reset Query; the reset Update lists what disappeared.
	cc.send(PDU{Version: 1, Type: TypeSerialNotify, Session: 7, Serial: 9})
	cc.expect(serialQuery(7, 3))
	cc.send(PDU{Version: 1, Type: TypeCacheReset})
	cc.expect(resetQuery(1))
	cc.send(cacheResp(1, 8), pfx(1, true, "192.0.2.0/24", 24, 64500), pfx(1, true, "198.51.100.0/22", 24, 64501), eod(1, 8, 9))
	checkUpdate(t, h.update(), true, 9, []rov.VRP{vA, vB}, []rov.VRP{vD, vC})
	if got, want := h.c.VRPs(), []rov.VRP{vA, vB}; !reflect.DeepEqual(got, want) {
		t.Errorf("VRPs: got %v, want %v", got, want)
	}

	// A Serial Notify of another session: the cache restarted, so the
	// router resets (RFC 8210 §5.1 Session ID).
	cc.send(PDU{Version: 1, Type: TypeSerialNotify, Session: 99, Serial: 1})
	cc.expect(resetQuery(1))
	cc.send(cacheResp(1, 99), pfx(1, true, "192.0.2.0/24", 24, 64500), eod(1, 99, 1))
	checkUpdate(t, h.update(), true, 1, []rov.VRP{vA}, []rov.VRP{vB})
	if st := h.c.Status(); st.Syncs != 6 || st.ResetSyncs != 3 || st.ProtocolErrors != 0 {
		t.Errorf("status counters: %+v", st)
	}
}

// TestClientVersionFallback: a version-0 cache answers the version 2 and 1
// Reset Queries with a version 0 Error Report, code 4 (RFC 8210 §7); the
// client reconnects at once one version lower each time, down to version 0
// (RFC 6810), whose End of Data has no timers.
func TestClientVersionFallback(t *testing.T) {
	h := startClientWith(t, func(*Config) {})
	// draft-ietf-sidrops-8210bis-26 §7: the router opens with the highest
	// version it implements (2) and steps down on Unsupported Protocol
	// Version, at once.
	cc := h.cache.accept()
	cc.expect(resetQuery(2))
	cc.send(PDU{Version: 0, Type: TypeErrorReport, Session: uint16(ErrUnsupportedVersion), ErrText: "Bad protocol version"})
	cc.closed()
	cc = h.cache.accept()
	cc.expect(resetQuery(1))
	cc.send(PDU{Version: 0, Type: TypeErrorReport, Session: uint16(ErrUnsupportedVersion), ErrText: "Bad protocol version"})
	cc.closed()

	cc = h.cache.accept()
	cc.expect(resetQuery(0))
	cc.send(cacheResp(0, 3), pfx(0, true, "192.0.2.0/24", 24, 64500), PDU{Version: 0, Type: TypeEndOfData, Session: 3, Serial: 5})
	u := h.update()
	checkUpdate(t, u, true, 5, []rov.VRP{vA}, nil)
	if u.Version != 0 || u.Expire != DefaultExpire {
		t.Errorf("got version %d expire %v, want 0 and the RFC 8210 §6 default %v", u.Version, u.Expire, DefaultExpire)
	}
	if st := h.c.Status(); st.Refresh != DefaultRefresh || st.Version != 0 {
		t.Errorf("status: %+v", st)
	}
	// Serial Queries now go out as version 0 too.
	cc.send(PDU{Version: 0, Type: TypeSerialNotify, Session: 3, Serial: 6})
	cc.expect(PDU{Version: 0, Type: TypeSerialQuery, Session: 3, Serial: 5})
}

// TestClientSkips: Router Key (RFC 8210 §5.10) and ASPA PDUs are skipped
// and counted, not fatal.
func TestClientSkips(t *testing.T) {
	h := startClient(t, false)
	cc := h.cache.accept()
	cc.expect(resetQuery(1))
	cc.send(cacheResp(1, 7), pfx(1, true, "192.0.2.0/24", 24, 64500),
		PDU{Version: 1, Type: TypeRouterKey, Session: 0x0100, Body: make([]byte, 20+4+91)},
		PDU{Version: 1, Type: TypeASPA, Session: 0x0100, Body: []byte{0, 0, 3, 0xb1, 0, 0, 0x33, 0x9d}},
		eod(1, 7, 1))
	checkUpdate(t, h.update(), true, 1, []rov.VRP{vA}, nil)
	if st := h.c.Status(); st.SkippedKeys != 1 || st.SkippedASPA != 1 || st.VRPs != 1 {
		t.Errorf("got %+v, want 1 key and 1 ASPA skipped, 1 VRP", st)
	}
}

// TestClientProtocolErrors: each violation makes the client send an Error
// Report with the RFC 8210 §12 code, drop the session, keep its data, and
// start the next session with a Reset Query (RFC 8210 §5.6, §12).
func TestClientProtocolErrors(t *testing.T) {
	tests := []struct {
		name string
		bad  []PDU
		code ErrorCode
	}{
		{"§5.6 duplicate announcement", []PDU{cacheResp(1, 7), pfx(1, true, "192.0.2.0/24", 24, 64500)}, ErrDuplicateAnnouncement},
		{"§5.6 duplicate within one response", []PDU{cacheResp(1, 7), pfx(1, true, "203.0.113.0/24", 24, 64503), pfx(1, true, "203.0.113.0/24", 24, 64503)}, ErrDuplicateAnnouncement},
		{"§5.6 withdrawal of unknown record", []PDU{cacheResp(1, 7), pfx(1, false, "203.0.113.0/24", 24, 64503)}, ErrWithdrawalUnknown},
		{"§5.6 withdrawal with other max length", []PDU{cacheResp(1, 7), pfx(1, false, "192.0.2.0/24", 32, 64500)}, ErrWithdrawalUnknown},
		{"prefix outside a response", []PDU{pfx(1, true, "203.0.113.0/24", 24, 64503)}, ErrCorruptData},
		{"End of Data of another session", []PDU{cacheResp(1, 7), eod(1, 8, 2)}, ErrCorruptData},
		{"Cache Response of another session to a Serial Query", []PDU{cacheResp(1, 8)}, ErrCorruptData},
		{"§7 unexpected version", []PDU{{Version: 0, Type: TypeCacheResponse, Session: 7}}, ErrUnexpectedProtoVersion},
		{"§12 query sent by the cache", []PDU{resetQuery(1)}, ErrInvalidRequest},
		{"§5.6 corrupt prefix (max length < length)", []PDU{cacheResp(1, 7), {Version: 1, Type: TypeIPv4Prefix, Flags: 1, Prefix: netip.MustParsePrefix("192.0.2.0/24"), MaxLen: 16, ASN: 1}}, ErrCorruptData},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := startClient(t, false)
			cc := h.syncInitial()
			cc.send(PDU{Version: 1, Type: TypeSerialNotify, Session: 7, Serial: 2})
			cc.expect(serialQuery(7, 1))
			cc.send(tt.bad...)
			cc.expect(PDU{Version: 1, Type: TypeErrorReport, Session: uint16(tt.code)})
			cc.closed()
			if st := h.c.Status(); st.VRPs != 3 || st.ProtocolErrors != 1 || st.HasSession {
				t.Errorf("after the error: %+v, want 3 VRPs kept, 1 protocol error, no session", st)
			}
			h.clock.waitWaiter(t, time.Second)
			h.clock.Advance(time.Second)
			cc = h.cache.accept()
			cc.expect(resetQuery(1))
			cc.send(cacheResp(1, 7), pfx(1, true, "192.0.2.0/24", 24, 64500), eod(1, 7, 2))
			checkUpdate(t, h.update(), true, 2, []rov.VRP{vA}, []rov.VRP{vB, vC})
		})
	}
}

// TestClientBadBytes: a malformed PDU on the wire (not just a wrong
// sequence) is answered with Corrupt Data quoting it.
func TestClientBadBytes(t *testing.T) {
	h := startClient(t, false)
	cc := h.syncInitial()
	bad := raw(1, TypeIPv4Prefix, 0, 19, make([]byte, 11))
	cc.c.Write(bad)
	p := cc.expect(PDU{Version: 1, Type: TypeErrorReport, Session: uint16(ErrCorruptData)})
	if string(p.ErrPDU) != string(bad) {
		t.Errorf("quoted % x, want % x", p.ErrPDU, bad)
	}
	want := fmt.Sprintf("rtr: PDU at offset %d (IPv4 Prefix): bad length 19, want 20", 8+32+20+20+24)
	if p.ErrText != want {
		t.Errorf("got text %q, want %q", p.ErrText, want)
	}
}

// TestClientReconnectAndExpire: after losing the connection the client
// keeps its data and starts the new connection with a Reset Query (see
// TestClientRestartSameSessionID for why never a Serial Query); when it
// cannot reconnect, the data is dropped once Expire has passed since the
// last End of Data (RFC 8210 §6), not before.
func TestClientReconnectAndExpire(t *testing.T) {
	h := startClient(t, false)
	cc := h.syncInitial()
	cc.c.Close()

	h.clock.waitWaiter(t, time.Second) // RetryInterval
	h.clock.Advance(time.Second)
	cc = h.cache.accept()
	if st := h.c.Status(); st.VRPs != 3 {
		t.Errorf("VRPs while reconnecting: %d, want the 3 kept", st.VRPs)
	}
	cc.expect(resetQuery(1))
	cc.send(cacheResp(1, 7), pfx(1, true, "192.0.2.0/24", 24, 64500), pfx(1, true, "2001:db8::/32", 48, 64502),
		pfx(1, true, "198.51.100.0/22", 24, 64501), pfx(1, true, "203.0.113.0/24", 24, 64503), eod(1, 7, 2))
	checkUpdate(t, h.update(), true, 2, []rov.VRP{vA, vB, vD, vC}, nil)
	synced := h.clock.Now()

	// The cache goes away for good.
	h.cache.ln.Close()
	cc.c.Close()
	for start := time.Now(); h.c.Status().Connected; time.Sleep(time.Millisecond) {
		if time.Since(start) > 5*time.Second {
			t.Fatal("the client did not notice the closed connection")
		}
	}
	// Jump to 1 s before expiry: the reconnect attempts fail meanwhile,
	// and the data must stay.
	h.clock.Advance(10*time.Minute - time.Second - h.clock.Now().Sub(synced))
	time.Sleep(50 * time.Millisecond)
	select {
	case u := <-h.c.Updates():
		t.Fatalf("Update %+v before the expire time", u)
	default:
	}
	if st := h.c.Status(); st.VRPs != 4 || st.Connected {
		t.Fatalf("1 s before expiry: %+v", st)
	}
	// Whatever the client waits on, its timer is due at the expiry time
	// at the latest.
	h.clock.Advance(time.Second)
	u := h.update()
	if !u.Expired || !u.Reset {
		t.Errorf("got %+v, want an Expired Reset", u)
	}
	checkUpdate(t, u, true, 2, nil, []rov.VRP{vA, vB, vD, vC})
	if st := h.c.Status(); st.VRPs != 0 || st.Expirations != 1 || st.HasSession || !st.Expired {
		t.Errorf("after expiry: %+v", st)
	}
}
