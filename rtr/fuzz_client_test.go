package rtr

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/rovimpact/rovimpact/rov"
)

// FuzzClientSession plays any byte stream as a version 2 cache's answer to
// the client's Reset Query, then closes the connection, and checks that
// the client neither panics nor hangs, and that what it holds is what it
// told: its VRPs are the Updates it sent applied in order (a Set accepts
// every delta), never more than MaxVRPs; its ASPAs satisfy 8210bis-26
// §5.12 (providers non-empty, increasing, unique, AS0 only alone); every
// Error Report it sent carries a code its version defines, and it sent
// one at most.
func FuzzClientSession(f *testing.F) {
	for _, file := range captures(f) {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	v2 := func(pdus ...PDU) []byte {
		var b []byte
		for i := range pdus {
			pdus[i].Version = 2
			b = AppendPDU(b, &pdus[i])
		}
		return b
	}
	f.Add(v2(PDU{Type: TypeCacheResponse, Session: 7},
		PDU{Type: TypeIPv4Prefix, Flags: 1, Prefix: netip.MustParsePrefix("192.0.2.0/24"), MaxLen: 24, ASN: 64500},
		PDU{Type: TypeASPA, Session: FlagAnnounce << 8, ASN: 64500, Providers: []uint32{64501, 64502}},
		PDU{Type: TypeEndOfData, Session: 7, Serial: 1, Refresh: 1, Retry: 1, Expire: 600},
		PDU{Type: TypeSerialNotify, Session: 7, Serial: 2},
		PDU{Type: TypeCacheResponse, Session: 7},
		PDU{Type: TypeIPv4Prefix, Prefix: netip.MustParsePrefix("192.0.2.0/24"), MaxLen: 24, ASN: 64500},
		PDU{Type: TypeASPA, ASN: 64500},
		PDU{Type: TypeEndOfData, Session: 7, Serial: 2, Refresh: 1, Retry: 1, Expire: 600}))
	// stayrtr 0.5.1's draft-8210bis-11 layout: one record per address
	// family, a withdrawal repeating the providers.
	f.Add(v2(PDU{Type: TypeCacheResponse, Session: 7},
		PDU{Type: TypeASPA, ASPALegacy: true, LegacyFlags: 1, ASN: 945, Providers: []uint32{13213, 150369}},
		PDU{Type: TypeASPA, ASPALegacy: true, LegacyFlags: 1, AFIFlags: 1, ASN: 945, Providers: []uint32{13213}},
		PDU{Type: TypeEndOfData, Session: 7, Serial: 1, Refresh: 1, Retry: 1, Expire: 600},
		PDU{Type: TypeSerialNotify, Session: 7, Serial: 2},
		PDU{Type: TypeCacheResponse, Session: 7},
		PDU{Type: TypeASPA, ASPALegacy: true, AFIFlags: 1, ASN: 945, Providers: []uint32{13213}},
		PDU{Type: TypeEndOfData, Session: 7, Serial: 2, Refresh: 1, Retry: 1, Expire: 600}))
	f.Add(v2(PDU{Type: TypeCacheReset}))
	f.Add(v2(PDU{Type: TypeCacheResponse, Session: 7}, PDU{Type: TypeASPA, Session: FlagAnnounce << 8, ASN: 1}))
	const maxVRPs = 8
	f.Fuzz(func(t *testing.T, stream []byte) {
		client, cache := net.Pipe()
		dialed := false
		c := NewClient(Config{Addr: "cache", Clock: newFakeClock(), MaxVRPs: maxVRPs,
			Dial: func(context.Context, string, string) (net.Conn, error) {
				if dialed {
					return nil, errors.New("one connection only")
				}
				dialed = true
				return client, nil
			}})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		runDone := make(chan error, 1)
		go func() { runDone <- c.Run(ctx) }()

		// The cache: everything the client writes is read (so neither
		// side blocks the other), the stream is written, then the
		// connection closes.
		sent := make(chan []PDU, 1)
		go func() {
			var got []PDU
			r := NewReader(cache)
			var p PDU
			for r.Next(&p) == nil {
				got = append(got, p)
			}
			sent <- got
		}()
		cache.SetWriteDeadline(time.Now().Add(2 * time.Second))
		cache.Write(stream)
		cache.Close()

		model := NewSet()
		var bad error
		for done := false; !done; {
			select {
			case u := <-c.Updates():
				if _, err := model.Apply(u); err != nil && bad == nil {
					bad = err
				}
			case <-time.After(time.Millisecond):
				done = !c.Status().Connected && !c.Status().NextAttempt.IsZero()
			}
		}
		cancel()
		for u := range c.Updates() { // still buffered when the loop ended
			if _, err := model.Apply(u); err != nil && bad == nil {
				bad = err
			}
		}
		if err := <-runDone; !errors.Is(err, context.Canceled) {
			t.Fatalf("Run returned %v", err)
		}
		if bad != nil {
			t.Fatalf("an Update does not fit the ones before: %v", bad)
		}
		held := c.VRPs()
		if len(held) > maxVRPs {
			t.Fatalf("holds %d VRPs, cap %d", len(held), maxVRPs)
		}
		if union := model.Union(); !equalVRPs(held, union) {
			t.Fatalf("holds %v, its Updates say %v", held, union)
		}
		for _, a := range c.ASPAs() {
			p := a.Providers
			if len(p) == 0 || (len(p) > 1 && p[0] == 0) {
				t.Fatalf("ASPA %+v kept", a)
			}
			for i := 1; i < len(p); i++ {
				if p[i] <= p[i-1] {
					t.Fatalf("ASPA %+v kept", a)
				}
			}
		}
		st := c.Status()
		reports := 0
		for _, p := range <-sent {
			if p.Type != TypeErrorReport {
				continue
			}
			reports++
			if p.Code() > ErrUnexpectedProtoVersion && (p.Version < 2 || p.Code() > ErrCacheShutdown) {
				t.Fatalf("Error Report code %d in a version %d session", p.Code(), p.Version)
			}
		}
		if reports > 1 || (reports == 1 && st.ProtocolErrors != 1) {
			t.Fatalf("%d Error Reports sent, %d protocol errors counted", reports, st.ProtocolErrors)
		}
	})
}

func equalVRPs(a, b []rov.VRP) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if rov.CompareVRP(a[i], b[i]) != 0 {
			return false
		}
	}
	return true
}
