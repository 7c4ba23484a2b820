package rtr

import (
	"log/slog"
	"net"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rovimpact/rovimpact/internal/testutil"

	"github.com/rovimpact/rovimpact/rov"
)

// nextAttempt waits (in real time, at most 5 s) until the client waits
// to reconnect and returns how long it waits.
func nextAttempt(t *testing.T, h *harness) time.Duration {
	t.Helper()
	st := waitStatus(t, h.c, "waiting to reconnect", func(s Status) bool { return !s.NextAttempt.IsZero() })
	return st.NextAttempt.Sub(h.clock.Now())
}

func waitStatus(t *testing.T, c *Client, what string, ok func(Status) bool) Status {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		st := c.Status()
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: status %+v", what, st)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestBackoff(t *testing.T) {
	tests := []struct {
		n            int
		first, limit time.Duration
		want         time.Duration
	}{
		{1, 5 * time.Second, time.Minute, 5 * time.Second},
		{2, 5 * time.Second, time.Minute, 10 * time.Second},
		{4, 5 * time.Second, time.Minute, 40 * time.Second},
		{5, 5 * time.Second, time.Minute, time.Minute}, // 80 s capped
		{1000, 5 * time.Second, time.Minute, time.Minute},
		// The cache's Retry below the first delay: the first delay wins
		// (never a tighter loop than configured).
		{3, 5 * time.Second, time.Second, 5 * time.Second},
	}
	for _, tt := range tests {
		if got := backoff(tt.n, tt.first, tt.limit); got != tt.want {
			t.Errorf("backoff(%d, %v, %v) = %v, want %v", tt.n, tt.first, tt.limit, got, tt.want)
		}
	}
}

// TestClientResponseTimeout: a cache that accepts and never answers, or
// stops in the middle of a response, or trickles PDUs without ever ending
// one, is declared down after ResponseTimeout (30 s by default): the
// connection is closed, the client is not Connected, the timeout is
// counted and logged, the data kept, and it reconnects after the backoff.
func TestClientResponseTimeout(t *testing.T) {
	t.Run("never answers the Reset Query", func(t *testing.T) {
		var logs testutil.SyncBuffer
		h := startClientWith(t, func(c *Config) {
			c.MaxVersion = 1
			c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
		})
		cc := h.cache.accept()
		cc.expect(resetQuery(1))
		waitStatus(t, h.c, "connected", func(s Status) bool { return s.Connected })
		if st := h.c.Status(); st.Established {
			t.Errorf("established before any answer: %+v", st)
		}
		h.clock.waitWaiter(t, DefaultResponseTimeout)
		h.clock.Advance(DefaultResponseTimeout - time.Millisecond)
		if st := h.c.Status(); !st.Connected {
			t.Fatalf("down before the timeout: %+v", st)
		}
		h.clock.Advance(time.Millisecond)
		cc.closed()
		st := waitStatus(t, h.c, "down after the timeout", func(s Status) bool { return !s.Connected && s.Timeouts == 1 })
		if !strings.Contains(st.LastError, "no answer to Reset Query within 30s") {
			t.Errorf("last error %q", st.LastError)
		}
		// Backoff, then a new connection and a new Reset Query.
		if d := nextAttempt(t, h); d != time.Second {
			t.Errorf("reconnects after %v, want 1 s", d)
		}
		h.clock.Advance(time.Second)
		cc = h.cache.accept()
		cc.expect(resetQuery(1))
		if !strings.Contains(logs.String(), "cache declared down") {
			t.Errorf("no log line:\n%s", logs.String())
		}
	})

	t.Run("blocks in the middle of a response", func(t *testing.T) {
		h := startClient(t, false)
		cc := h.syncInitial()
		cc.send(PDU{Version: 1, Type: TypeSerialNotify, Session: 7, Serial: 2})
		cc.expect(serialQuery(7, 1))
		cc.send(cacheResp(1, 7), pfx(1, true, "203.0.113.0/24", 24, 64503))
		waitStatus(t, h.c, "PDUs read", func(Status) bool { return h.c.progress.Load() >= 7 })
		// The first 30 s saw PDUs, so the client waits another 30 s; it
		// gives up in the first 30 s without any.
		for i := 0; i < 5 && h.c.Status().Timeouts == 0; i++ {
			h.clock.waitWaiter(t, DefaultResponseTimeout)
			h.clock.Advance(DefaultResponseTimeout)
			time.Sleep(10 * time.Millisecond)
		}
		cc.closed()
		st := waitStatus(t, h.c, "down", func(s Status) bool { return !s.Connected && s.Timeouts == 1 })
		if st.VRPs != 3 || st.HasSession || !strings.Contains(st.LastError, "stalled") {
			t.Errorf("after a stalled response: %+v; want the 3 VRPs kept, the session forgotten, a stall error", st)
		}
		h.clock.waitWaiter(t, time.Second)
		h.clock.Advance(time.Second)
		cc = h.cache.accept()
		cc.expect(resetQuery(1))
	})

	t.Run("trickles PDUs without ending the response", func(t *testing.T) {
		h := startClient(t, false)
		cc := h.cache.accept()
		cc.expect(resetQuery(1))
		cc.send(cacheResp(1, 7))
		// A PDU every 25 s keeps each 30 s window busy, but a whole
		// response must end within 10 × 30 s.
		for i := 0; i < 13 && h.c.Status().Timeouts == 0; i++ {
			cc.send(pfx(1, true, netip4(i), 24, 64500))
			h.clock.waitWaiter(t, DefaultResponseTimeout)
			h.clock.Advance(25 * time.Second)
			time.Sleep(5 * time.Millisecond)
		}
		st := waitStatus(t, h.c, "timed out", func(s Status) bool { return s.Timeouts == 1 })
		if !strings.Contains(st.LastError, "did not complete within") {
			t.Errorf("last error %q", st.LastError)
		}
	})
}

func netip4(i int) string {
	return net.IPv4(10, byte(i>>8), byte(i), 0).String() + "/24"
}

// TestClientCacheResetLoop: a cache that answers every Reset Query with a
// Cache Reset (RFC 8210 §5.9 has Cache Reset answer a Serial Query) is
// refused with Corrupt Data each time, logged, and retried with a doubling
// delay (1, 2, 4 ... s, capped at MaxRetryDelay) instead of at once.
func TestClientCacheResetLoop(t *testing.T) {
	var logs testutil.SyncBuffer
	h := startClientWith(t, func(c *Config) {
		c.MaxVersion = 1
		c.MaxRetryDelay = 20 * time.Second
		c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	var delays []time.Duration
	for i := range 7 {
		cc := h.cache.accept()
		cc.expect(resetQuery(1))
		cc.send(PDU{Version: 1, Type: TypeCacheReset})
		cc.expect(PDU{Version: 1, Type: TypeErrorReport, Session: uint16(ErrCorruptData)})
		cc.closed()
		waitStatus(t, h.c, "down", func(s Status) bool { return !s.Connected && s.CacheResets == i+1 })
		d := nextAttempt(t, h)
		delays = append(delays, d)
		h.clock.Advance(d)
	}
	want := []time.Duration{1 * time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 20 * time.Second, 20 * time.Second}
	if !reflect.DeepEqual(delays, want) {
		t.Errorf("reconnect delays %v, want %v", delays, want)
	}
	if st := h.c.Status(); st.ProtocolErrors != 7 || st.Syncs != 0 {
		t.Errorf("status %+v", st)
	}
	if n := strings.Count(logs.String(), "Cache Reset in answer to a Reset Query"); n != 7 {
		t.Errorf("%d log lines name the Cache Reset, want 7:\n%s", n, logs.String())
	}
}

// TestClientSessionChange is the client's table for a cache whose session
// ID changed (it restarted) or whose answer to a Serial Query ended the
// session: whatever way the client learns it, its next query is a Reset
// Query, on the same connection at once, or as the first query of the
// next connection (every connection starts with one, see
// TestClientRestartSameSessionID), and the union converges to the new
// data. RFC 8210 §5.1: a Session ID binds serials to one cache instance.
func TestClientSessionChange(t *testing.T) {
	tests := []struct {
		name string
		// cache acts after the initial sync (session 7, serial 1).
		cache func(cc *cacheConn)
		// sameConn: the Reset Query comes on the same connection.
		sameConn bool
	}{
		{"§5.1 Serial Notify of another session: Reset Query on the same connection", func(cc *cacheConn) {
			cc.send(PDU{Version: 1, Type: TypeSerialNotify, Session: 8, Serial: 1})
		}, true},
		{"§8.3 Cache Reset to the Serial Query: Reset Query on the same connection", func(cc *cacheConn) {
			cc.send(PDU{Version: 1, Type: TypeSerialNotify, Session: 7, Serial: 2})
			cc.expect(serialQuery(7, 1))
			cc.send(PDU{Version: 1, Type: TypeCacheReset})
		}, true},
		{"§8.1 cache restart: the connection drops, the next one starts with a Reset Query", func(cc *cacheConn) {
			cc.c.Close()
		}, false},
		{"stayrtr: Error Report Corrupt Data to the Serial Query (session mismatch)", func(cc *cacheConn) {
			cc.send(PDU{Version: 1, Type: TypeSerialNotify, Session: 7, Serial: 2})
			cc.expect(serialQuery(7, 1))
			cc.send(PDU{Version: 1, Type: TypeErrorReport, Session: uint16(ErrCorruptData), ErrText: "Session ID mismatch: client is desynchronized"})
			cc.c.Close()
		}, false},
		{"stayrtr under load: connection closed after the Serial Query, no Error Report", func(cc *cacheConn) {
			cc.send(PDU{Version: 1, Type: TypeSerialNotify, Session: 7, Serial: 2})
			cc.expect(serialQuery(7, 1))
			cc.c.Close()
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := startClient(t, false)
			cc := h.syncInitial()
			tt.cache(cc)
			if !tt.sameConn {
				// Reconnect after RetryInterval.
				h.clock.waitWaiter(t, time.Second)
				h.clock.Advance(time.Second)
				cc = h.cache.accept()
			}
			cc.expect(resetQuery(1))
			cc.send(cacheResp(1, 8), pfx(1, true, "203.0.113.0/24", 24, 64503), eod(1, 8, 1))
			checkUpdate(t, h.update(), true, 1, []rov.VRP{vD}, []rov.VRP{vA, vB, vC})
			if st := h.c.Status(); st.SessionID != 8 || !st.Established {
				t.Errorf("status %+v", st)
			}
		})
	}
}

// TestClientMaxVRPs: a cache sending 2 million prefix PDUs in one response
// against a cap of 1000 gets Error Report "Internal Error" at the 1001st
// and the session is dropped, the client's previous data kept; the cache's
// loop is bounded (2M PDUs, and it stops at the first write error).
func TestClientMaxVRPs(t *testing.T) {
	h := startClientWith(t, func(c *Config) { c.MaxVersion, c.MaxVRPs = 1, 1000 })
	cc := h.syncInitial()
	cc.send(PDU{Version: 1, Type: TypeSerialNotify, Session: 7, Serial: 2})
	cc.expect(serialQuery(7, 1))
	const total = 2_000_000
	sent := make(chan int, 1)
	go func() {
		b := AppendPDU(nil, &PDU{Version: 1, Type: TypeCacheResponse, Session: 7})
		n := 0
		for n < total {
			for range 10_000 {
				a := [4]byte{byte(10 + n>>16), byte(n >> 8), byte(n), 0}
				p := PDU{Version: 1, Type: TypeIPv4Prefix, Flags: FlagAnnounce, MaxLen: 32, ASN: 64500}
				p.Prefix = netip.PrefixFrom(netip.AddrFrom4(a), 32)
				b = AppendPDU(b, &p)
				n++
			}
			cc.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
			if _, err := cc.c.Write(b); err != nil {
				break
			}
			b = b[:0]
		}
		sent <- n
	}()
	p := cc.expect(PDU{Version: 1, Type: TypeErrorReport, Session: uint16(ErrInternalError)})
	if !strings.Contains(p.ErrText, "limit of 1000 VRPs") {
		t.Errorf("error text %q", p.ErrText)
	}
	st := waitStatus(t, h.c, "down", func(s Status) bool { return !s.Connected })
	if st.VRPs != 3 || st.ProtocolErrors != 1 || st.HasSession {
		t.Errorf("after the cap: %+v, want the 3 VRPs kept, 1 protocol error, no session", st)
	}
	cc.c.Close()
	if n := <-sent; n >= total {
		t.Logf("the cache wrote all %d PDUs before the client closed", n)
	}
}

// TestClientASPA: a version 2 session keeps the ASPA records
// (draft-ietf-sidrops-8210bis-26 §5.12): an announcement for a customer
// already held replaces it, a withdrawal removes it, and a Reset replaces
// them all.
func TestClientASPA(t *testing.T) {
	aspa := func(announce bool, cust uint32, prov ...uint32) PDU {
		var flags uint16
		if announce {
			flags = FlagAnnounce << 8
		}
		return PDU{Version: 2, Type: TypeASPA, Session: flags, ASN: cust, Providers: prov}
	}
	start := func(t *testing.T) (*harness, *cacheConn) {
		h := startClientWith(t, func(*Config) {})
		cc := h.cache.accept()
		cc.expect(resetQuery(2))
		cc.send(cacheResp(2, 7), pfx(2, true, "192.0.2.0/24", 24, 64500),
			aspa(true, 64500, 64501, 64502), aspa(true, 64510, 0), aspa(true, 64520, 64521), eod(2, 7, 1))
		checkUpdate(t, h.update(), true, 1, []rov.VRP{vA}, nil)
		want := []ASPA{{64500, []uint32{64501, 64502}}, {64510, []uint32{0}}, {64520, []uint32{64521}}}
		if got := h.c.ASPAs(); !reflect.DeepEqual(got, want) {
			t.Fatalf("ASPAs %v, want %v", got, want)
		}
		if st := h.c.Status(); st.ASPAs != 3 || st.Version != 2 || st.SkippedASPA != 0 {
			t.Fatalf("status %+v", st)
		}
		cc.send(PDU{Version: 2, Type: TypeSerialNotify, Session: 7, Serial: 2})
		cc.expect(PDU{Version: 2, Type: TypeSerialQuery, Session: 7, Serial: 1})
		return h, cc
	}

	t.Run("replace and withdraw", func(t *testing.T) {
		h, cc := start(t)
		cc.send(cacheResp(2, 7), aspa(true, 64500, 64503), aspa(false, 64510), aspa(true, 64530, 64531),
			aspa(false, 64530), eod(2, 7, 2))
		h.update()
		want := []ASPA{{64500, []uint32{64503}}, {64520, []uint32{64521}}}
		if got := h.c.ASPAs(); !reflect.DeepEqual(got, want) {
			t.Errorf("ASPAs %v, want %v", got, want)
		}
	})

	errs := []struct {
		name string
		bad  PDU
		code ErrorCode
	}{
		{"§5.12 announcement without providers", aspa(true, 64540), ErrASPAProviderList},
		{"§5.12 AS0 among several providers", aspa(true, 64540, 0, 64541), ErrASPAProviderList},
		{"§5.12 providers not increasing", aspa(true, 64540, 64542, 64541), ErrASPAProviderList},
		{"§5.12 provider repeated", aspa(true, 64540, 64541, 64541), ErrASPAProviderList},
		// -26 §5.12 forbids it ("the PDU Length MUST be 12"); its bytes
		// (zero header, length 16) are the -11 layout's, whose Provider AS
		// Count (the customer's low 16 bits, 64500) does not fit the
		// length: Corrupt Data (see decodeASPA).
		{"§5.12 withdrawal with providers", aspa(false, 64500, 64501), ErrCorruptData},
		{"§12 code 6 withdrawal of an unknown customer", aspa(false, 64540), ErrWithdrawalUnknown},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			h, cc := start(t)
			cc.send(cacheResp(2, 7), tt.bad)
			cc.expect(PDU{Version: 2, Type: TypeErrorReport, Session: uint16(tt.code)})
			cc.closed()
			if st := waitStatus(t, h.c, "down", func(s Status) bool { return !s.Connected }); st.ASPAs != 3 || st.ProtocolErrors != 1 {
				t.Errorf("status %+v", st)
			}
		})
	}

	// draft-ietf-sidrops-8210bis-11 §5.12, as Debian's stayrtr 0.5.1 sends
	// it: one record per customer and address family (AFI Flags 0 IPv4,
	// 1 IPv6); a withdrawal repeats the providers. The customer's
	// providers are the union of its records.
	legacy := func(announce bool, afi uint8, cust uint32, prov ...uint32) PDU {
		var flags uint8
		if announce {
			flags = FlagAnnounce
		}
		return PDU{Version: 2, Type: TypeASPA, ASPALegacy: true, LegacyFlags: flags, AFIFlags: afi, ASN: cust, Providers: prov}
	}
	t.Run("legacy layout per address family", func(t *testing.T) {
		h, cc := start(t)
		cc.send(cacheResp(2, 7), legacy(true, 0, 64540, 64541, 64543), legacy(true, 1, 64540, 64542),
			legacy(true, 0, 64550), legacy(true, 1, 64520, 64522), eod(2, 7, 2))
		h.update()
		want := []ASPA{{64500, []uint32{64501, 64502}}, {64510, []uint32{0}}, {64520, []uint32{64521, 64522}},
			{64540, []uint32{64541, 64542, 64543}}, {64550, []uint32{0}}}
		if got := h.c.ASPAs(); !reflect.DeepEqual(got, want) {
			t.Errorf("ASPAs %v, want %v", got, want)
		}
		if st := h.c.Status(); st.ASPAs != 5 {
			t.Errorf("status ASPAs %d, want 5 customers", st.ASPAs)
		}
		cc.send(PDU{Version: 2, Type: TypeSerialNotify, Session: 7, Serial: 3})
		cc.expect(PDU{Version: 2, Type: TypeSerialQuery, Session: 7, Serial: 2})
		cc.send(cacheResp(2, 7), legacy(false, 0, 64540, 64541, 64543), legacy(false, 1, 64520, 64522), eod(2, 7, 3))
		h.update()
		want = []ASPA{{64500, []uint32{64501, 64502}}, {64510, []uint32{0}}, {64520, []uint32{64521}},
			{64540, []uint32{64542}}, {64550, []uint32{0}}}
		if got := h.c.ASPAs(); !reflect.DeepEqual(got, want) {
			t.Errorf("after withdrawals: ASPAs %v, want %v", got, want)
		}
		// stayrtr sends a changed record as the new announcement, then the
		// withdrawal of the old one (providers and all).
		cc.send(PDU{Version: 2, Type: TypeSerialNotify, Session: 7, Serial: 4})
		cc.expect(PDU{Version: 2, Type: TypeSerialQuery, Session: 7, Serial: 3})
		cc.send(cacheResp(2, 7), legacy(true, 1, 64540, 64544), legacy(false, 1, 64540, 64542), eod(2, 7, 4))
		h.update()
		if got := h.c.ASPAs(); !reflect.DeepEqual(got[3], ASPA{64540, []uint32{64544}}) {
			t.Errorf("after a change: ASPAs %v, want AS64540 [64544]", got)
		}
		cc.send(PDU{Version: 2, Type: TypeSerialNotify, Session: 7, Serial: 5})
		cc.expect(PDU{Version: 2, Type: TypeSerialQuery, Session: 7, Serial: 4})
		// -11: "Withdrawal of a non-existant ... ASPA PDU is an error":
		// the IPv4 record of 64540 is gone already.
		cc.send(cacheResp(2, 7), legacy(false, 0, 64540, 64541))
		cc.expect(PDU{Version: 2, Type: TypeErrorReport, Session: uint16(ErrWithdrawalUnknown)})
	})

	t.Run("outside a response", func(t *testing.T) {
		h, cc := start(t)
		cc.send(aspa(true, 64540, 64541))
		cc.expect(PDU{Version: 2, Type: TypeErrorReport, Session: uint16(ErrCorruptData)})
		_ = h
	})
}

// TestClientRestartSameSessionID: a cache restarted with other data but
// the same Session ID and serial as before. stayrtr 0.5.1 does this when
// it restarts within the UTC second of its previous start: it seeds the
// Session ID from the start time in whole seconds
// (rand.NewSource(time.Now().UTC().Unix())) and starts at serial 0, so a
// Serial Query of the old session is answered "nothing changed" while the
// cache serves another set. RFC 8210 §5.1 makes the Session ID the only
// guard against that, and here it fails: the client must start every new
// connection with a Reset Query and so converge to the cache's new set,
// not keep the old one in silence. The cache is scripted to answer either
// query as stayrtr would.
func TestClientRestartSameSessionID(t *testing.T) {
	h := startClient(t, false)
	cc := h.syncInitial() // session 7, serial 1: A, B, C
	cc.c.Close()          // the cache restarts
	h.clock.waitWaiter(t, time.Second)
	h.clock.Advance(time.Second)
	cc = h.cache.accept()
	cc.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var q PDU
	if err := cc.r.Next(&q); err != nil {
		t.Fatalf("reading the first query: %v", err)
	}
	switch q.Type {
	case TypeSerialQuery:
		// stayrtr: the serial asked for is its current one: no change.
		cc.send(cacheResp(1, 7), eod(1, 7, 1))
	case TypeResetQuery:
		cc.send(cacheResp(1, 7), pfx(1, true, "203.0.113.0/24", 24, 64503), eod(1, 7, 1))
	default:
		t.Fatalf("first PDU on the new connection: %+v, want a query", q)
	}
	u := h.update()
	if q.Type != TypeResetQuery {
		t.Errorf("first query on a new connection: %s, want Reset Query (a Session ID may outlive a cache restart)", q.Type)
	}
	checkUpdate(t, u, true, 1, []rov.VRP{vD}, []rov.VRP{vA, vB, vC})
	if got, want := h.c.VRPs(), []rov.VRP{vD}; !reflect.DeepEqual(got, want) {
		t.Errorf("client holds %v after the restart, the cache serves %v", got, want)
	}
}
