package collector

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/osrg/gobgp/v3/pkg/packet/bgp"

	"github.com/rovimpact/rovimpact/route"
)

// genPrefix is the i-th /24 from 1.0.0.0: distinct, table-like prefixes.
func genPrefix(i int) *bgp.IPAddrPrefix {
	a := uint32(1<<24 + i<<8)
	return bgp.NewIPAddrPrefix(24, fmt.Sprintf("%d.%d.%d.0", a>>24, a>>16&0xff, a>>8&0xff))
}

// genAttrs gives path k a 4-AS path, typical of a full table. No path
// contains the collector's AS 65000: gobgp drops such paths (RFC 4271
// §9.1.2 loop detection) before any watcher sees them.
func genAttrs(peerAS uint32, k int) []bgp.PathAttributeInterface {
	return []bgp.PathAttributeInterface{
		bgp.NewPathAttributeOrigin(0),
		bgp.NewPathAttributeAsPath([]bgp.AsPathParamInterface{seq(peerAS, 3356, uint32(64000+k%900), uint32(200000+k%50000))}),
		bgp.NewPathAttributeNextHop("127.0.0.1"),
	}
}

// BenchmarkBMPIngest feeds route monitoring messages (100 prefixes each)
// through the framer, gobgp's parser and our conversion.
func BenchmarkBMPIngest(b *testing.B) {
	const msgs = 200
	var buf bytes.Buffer
	buf.Write(msgPeerUp("192.0.2.10", 64500, 0, 0))
	for m := 0; m < msgs; m++ {
		var nlri []*bgp.IPAddrPrefix
		for i := 0; i < 100; i++ {
			nlri = append(nlri, genPrefix(m*100+i))
		}
		u := bgp.NewBGPUpdateMessage(nil, genAttrs(64500, m), nlri)
		buf.Write(must(bmpRM("192.0.2.10", 64500, u)))
	}
	data := buf.Bytes()
	em := newEmitter(func(*route.Route) {})
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := runSession(bytes.NewReader(data), em, sessionOpts{max: DefaultBMPMaxMessage}, "bench", quiet, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(msgs*100*b.N)/b.Elapsed().Seconds(), "paths/s")
}

// BenchmarkBGPSession runs the whole BGP path: raw speakers on loopback
// send a table of paths each over real sessions into the embedded gobgp,
// whose Adj-RIB-In watch feeds our conversion. It reports ingest rate and
// the heap growth per path while the sessions hold their routes (gobgp's
// RIBs plus ours). Run with -benchtime=1x; each iteration is a full session.
func BenchmarkBGPSession(b *testing.B) {
	const perPeer = 100000
	// batch is NLRI per UPDATE: gobgp shares one attribute set per UPDATE,
	// so batch=1 (every path its own attributes) is the worst case and
	// batch=5 near a full-table dump's average.
	for _, c := range []struct{ peers, batch int }{{1, 1}, {1, 5}, {3, 5}} {
		b.Run(fmt.Sprintf("peers=%d/batch=%d", c.peers, c.batch), func(b *testing.B) {
			for b.Loop() {
				benchSession(b, c.peers, perPeer, c.batch)
			}
		})
	}
}

func benchSession(b *testing.B, peers, perPeer, batch int) {
	// Pre-build every UPDATE so the speaker side costs nothing measured.
	var wire [][]byte
	for i := 0; i < perPeer; i += batch {
		var nlri []*bgp.IPAddrPrefix
		for j := i; j < min(i+batch, perPeer); j++ {
			nlri = append(nlri, genPrefix(j))
		}
		wire = append(wire, must(bgp.NewBGPUpdateMessage(nil, genAttrs(64512, i/batch), nlri).Serialize()))
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)

	var got atomic.Int64
	total := int64(peers * perPeer)
	done := make(chan struct{})
	port := freePort(b)
	col, err := NewBGP(BGPConfig{
		Listen: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port), LocalAS: 65000,
		RouterID: netip.MustParseAddr("192.0.2.254"), Accept: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
		Logger: quiet,
	}, func(r *route.Route) {
		if r.Kind == route.Announce && got.Add(1) == total {
			close(done)
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := col.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	var speakers []*rawSpeaker
	for p := 0; p < peers; p++ {
		speakers = append(speakers, dialSpeaker(b, fmt.Sprintf("127.0.0.1:%d", port), fmt.Sprintf("127.0.0.%d", 10+p), 64512, false))
	}
	start := time.Now()
	for _, s := range speakers {
		go func() {
			for _, w := range wire {
				if _, err := s.c.Write(w); err != nil {
					return
				}
			}
		}()
	}
	select {
	case <-done:
	case <-time.After(120 * time.Second):
		b.Fatalf("only %d of %d paths after 120s; stats %+v", got.Load(), total, col.Stats())
	}
	elapsed := time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(wire) // freed before the measurement, it would hide what the session holds
	b.ReportMetric(float64(total)/elapsed.Seconds(), "paths/s")
	b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(total), "heapB/path")
	for _, s := range speakers {
		s.c.Close()
	}
	col.Close()
}
