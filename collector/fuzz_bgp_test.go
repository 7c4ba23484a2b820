package collector

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
)

// fuzzMessages turns fuzz input into what a peer sends after Established:
// records of type (1 octet), body length (2 octets, cut to what is left)
// and body, each framed as a BGP message; mode bit 0 sends the input raw
// instead, unframed, to reach the framing checks.
func fuzzMessages(mode byte, in []byte) []byte {
	if mode&1 != 0 {
		return in
	}
	var out []byte
	for len(in) >= 3 {
		typ := in[0]
		n := min(int(binary.BigEndian.Uint16(in[1:3])), len(in)-3, 4096-19)
		out = append(out, msg(typ, in[3:3+n])...)
		in = in[3+n:]
	}
	return out
}

func fuzzRecord(typ byte, body []byte) []byte {
	return append(append([]byte{typ}, binary.BigEndian.AppendUint16(nil, uint16(len(body)))...), body...)
}

// FuzzBGPSession feeds random message sequences to the collector over a
// real session after Established. Invariants: the collector never crashes
// and keeps accepting sessions (each input dials a new one); every event
// is well-formed (masked prefix, the origin RFC 6811 gives the path, a
// known peer); once the peer's connection closes its session is reported
// down and nothing it sent is held any more (no graceful restart was
// negotiated); UPDATEs counted never exceed the UPDATEs sent.
func FuzzBGPSession(f *testing.F) {
	body := func(m []byte) []byte { return m[19:] }
	good := body(announce([]uint32{64512, 64513}, "192.0.2.0/24", "2001:db8::/32"))
	f.Add(byte(0), fuzzRecord(2, good))                                                                                                                      // one good UPDATE
	f.Add(byte(0), append(fuzzRecord(2, good), fuzzRecord(2, body(updateMsg(rawPrefixes("192.0.2.0/24"), nil, nil)))...))                                    // announce, withdraw
	f.Add(byte(0), append(fuzzRecord(2, good), fuzzRecord(7, nil)...))                                                                                       // unknown type
	f.Add(byte(0), fuzzRecord(2, body(updateMsg(nil, [][]byte{rawAttr(0x40, 1, 5), rawPath(64512), rNH}, rawPrefixes("192.0.2.0/24")))))                     // ORIGIN 5
	f.Add(byte(0), append(fuzzRecord(2, good), fuzzRecord(2, body(updateMsg(nil, [][]byte{rOrigin, rawPath(64512), rawMPReach6([]byte{1}, nil)}, nil)))...)) // AFI/SAFI disable
	f.Add(byte(0), append(fuzzRecord(5, []byte{0, 1, 0, 1}), fuzzRecord(4, nil)...))                                                                         // ROUTE-REFRESH, KEEPALIVE
	f.Add(byte(0), fuzzRecord(3, []byte{6, 2}))                                                                                                              // NOTIFICATION
	f.Add(byte(1), append(announce([]uint32{64512}, "192.0.2.0/24"), 0xff, 0xff, 0))                                                                         // raw, truncated tail
	f.Add(byte(1), []byte("not BGP at all"))

	port := freePort(f)
	var mu sync.Mutex
	ups, downs := map[netip.Addr]int{}, map[netip.Addr]int{}
	table := newHeldTable()
	var bad []string
	col := startCollector(f, BGPConfig{
		Listen: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port),
		Accept: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, LocalAS: 65000, Logger: quiet,
		OnSession: func(e SessionEvent) {
			mu.Lock()
			if e.Up() {
				ups[e.Peer.IP]++
			} else {
				downs[e.Peer.IP]++
			}
			mu.Unlock()
		},
	}, func(r *route.Route) {
		mu.Lock()
		defer mu.Unlock()
		if r.Kind != route.PeerDown && r.Prefix != r.Prefix.Masked() {
			bad = append(bad, fmt.Sprintf("unmasked %v", r.Prefix))
		}
		if r.Kind == route.Announce && r.Origin != rov.OriginOf(r.Path) {
			bad = append(bad, fmt.Sprintf("%v: origin %v, path %v", r.Prefix, r.Origin, r.Path))
		}
		table.handle(r)
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	var n, sent int64
	f.Fuzz(func(t *testing.T, mode byte, in []byte) {
		if testing.Verbose() {
			start := time.Now()
			defer func() { fmt.Fprintf(os.Stderr, "input %d took %v\n", n, time.Since(start)) }()
		}
		n++
		local := fmt.Sprintf("127.0.%d.%d", 2+n/250%200, 1+n%250)
		h := dialHostile(t, addr, local, 64512, n%2 == 0)
		out := fuzzMessages(mode, in)
		for b := out; len(b) >= 19; {
			l := int(binary.BigEndian.Uint16(b[16:18]))
			if l < 19 || l > len(b) {
				break
			}
			if b[18] == 2 {
				sent++
			}
			b = b[l:]
		}
		h.c.Write(out) // the collector may have closed already
		h.c.Close()
		ip := netip.MustParseAddr(local)
		// The session event comes just before the PeerDown that flushes
		// the peer (SessionHandler): wait for both.
		deadline := time.Now().Add(5 * time.Second)
		for {
			mu.Lock()
			down := ups[ip] > 0 && downs[ip] == ups[ip]
			mu.Unlock()
			held := table.list(local)
			if down && len(held) == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("5 s after its connection closed: session down %v, collector holds %q from %s", down, held, local)
			}
			time.Sleep(time.Millisecond)
		}
		mu.Lock()
		b := bad
		mu.Unlock()
		if len(b) > 0 {
			t.Fatalf("malformed events: %q", b)
		}
		if st := col.Stats(); st.Records > sent {
			t.Fatalf("%d UPDATEs counted, %d sent", st.Records, sent)
		}
	})
}
