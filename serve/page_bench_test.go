package serve

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rovimpact/rovimpact/live"
	"github.com/rovimpact/rovimpact/reports"
	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
)

// benchState is a synthetic table of n IPv4 /24 routes from two peers,
// under one VRP per /16 (half of them too_specific), as in the issue's
// measurement ("100k routes").
func benchState(b *testing.B, n int) *live.State {
	b.Helper()
	s := live.New(live.Options{})
	var vrps []rov.VRP
	for x := range n/256 + 1 {
		vrps = append(vrps, rov.VRP{Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(10 + x/256), byte(x), 0, 0}), 16), MaxLen: uint8(23 + x%2), ASN: 64500})
	}
	s.SetVRPs(vrps)
	r := route.Route{Kind: route.Announce, RPKIState: route.RPKIAbsent}
	for i := range n {
		peer := fixPeers[i%2]
		r.Peer = peer
		r.Prefix = netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(10 + i/65536), byte(i / 256), byte(i), 0}), 24)
		r.Path = []rov.Segment{{Type: rov.ASSequence, ASNs: []uint32{peer.AS, uint32(64500 + i%3)}}}
		r.Origin = rov.OriginOf(r.Path)
		s.Apply(&r)
	}
	return s
}

// discard is a ResponseWriter that counts and drops the body.
type discard struct {
	h http.Header
	n int64
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) WriteHeader(int)             {}
func (d *discard) Write(p []byte) (int, error) { d.n += int64(len(p)); return len(p), nil }

// unpagedLookup is what /api/lookup did before paging (base 0ecd395): the
// whole answer built, then encoded in one buffer.
func unpagedLookup(snap *live.Snapshot, q string, w io.Writer) {
	pq, _ := reports.ParseQuery(q)
	_ = reports.WriteLookupJSON(w, []reports.Answer{reports.Lookup(snap.Analysis, pq, nil)})
}

// BenchmarkLookupAllRoutes: /api/lookup?q=0.0.0.0/0 over 100k routes.
// "unpaged" is the baseline (the handler before paging, measured in the
// same run); "page" one page at the default limit, "page-gzip" the same
// gzipped, "all-pages" every page of the walk. B/op is what one response
// allocates; resp-B the bytes sent.
func BenchmarkLookupAllRoutes(b *testing.B) {
	st := benchState(b, 100_000)
	srv := New(Config{Table: st})
	snap := st.Snapshot()
	const q = "0.0.0.0/0"
	b.Run("unpaged", func(b *testing.B) {
		b.ReportAllocs()
		var d discard
		for b.Loop() {
			d.n = 0
			unpagedLookup(snap, q, &d)
		}
		b.ReportMetric(float64(d.n), "resp-B")
	})
	page := func(gz bool) func(b *testing.B) {
		return func(b *testing.B) {
			b.ReportAllocs()
			req := httptest.NewRequest(http.MethodGet, "/api/lookup?q="+q, nil)
			if gz {
				req.Header.Set("Accept-Encoding", "gzip")
			}
			d := &discard{h: http.Header{}}
			for b.Loop() {
				d.n = 0
				clear(d.h)
				srv.ServeHTTP(d, req)
			}
			b.ReportMetric(float64(d.n), "resp-B")
		}
	}
	b.Run("page", page(false))
	b.Run("page-gzip", page(true))
	b.Run("all-pages", func(b *testing.B) {
		b.ReportAllocs()
		var total int64
		pages := 0
		for b.Loop() {
			total, pages = 0, 0
			next := ""
			for {
				u := "/api/lookup?q=" + q
				if next != "" {
					u += "&cursor=" + next
				}
				rec := httptest.NewRecorder()
				srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, u, nil))
				total += int64(rec.Body.Len())
				pages++
				var p struct {
					Next *string `json:"next_cursor"`
				}
				if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || rec.Code != 200 {
					b.Fatalf("%d %v", rec.Code, err)
				}
				if p.Next == nil {
					break
				}
				next = *p.Next
			}
		}
		b.ReportMetric(float64(total), "resp-B")
		b.ReportMetric(float64(pages), "pages")
	})
}

// BenchmarkLookupConcurrentPeak: four concurrent /api/lookup?q=0.0.0.0/0
// over 100k routes (the issue: RSS from 0.5 to 1.9 GB). peak-heap-MB is
// the largest heap in use above the idle heap while they run, sampled
// every millisecond; "unpaged" is the handler before paging.
func BenchmarkLookupConcurrentPeak(b *testing.B) {
	st := benchState(b, 100_000)
	srv := New(Config{Table: st})
	snap := st.Snapshot()
	run := func(one func()) func(b *testing.B) {
		return func(b *testing.B) {
			var peak float64
			for b.Loop() {
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				idle := ms.HeapInuse
				var top atomic.Uint64
				stop := make(chan struct{})
				sampled := make(chan struct{})
				go func() {
					defer close(sampled)
					t := time.NewTicker(time.Millisecond)
					defer t.Stop()
					for {
						var m runtime.MemStats
						runtime.ReadMemStats(&m)
						if m.HeapInuse > top.Load() {
							top.Store(m.HeapInuse)
						}
						select {
						case <-stop:
							return
						case <-t.C:
						}
					}
				}()
				var wg sync.WaitGroup
				for range 4 {
					wg.Add(1)
					go func() { defer wg.Done(); one() }()
				}
				wg.Wait()
				close(stop)
				<-sampled
				if mb := float64(top.Load()-min(top.Load(), idle)) / (1 << 20); mb > peak {
					peak = mb
				}
			}
			b.ReportMetric(peak, "peak-heap-MB")
		}
	}
	b.Run("unpaged", run(func() { unpagedLookup(snap, "0.0.0.0/0", io.Discard) }))
	b.Run("page", run(func() {
		srv.ServeHTTP(&discard{h: http.Header{}}, httptest.NewRequest(http.MethodGet, "/api/lookup?q=0.0.0.0/0", nil))
	}))
	b.Run(fmt.Sprintf("page-limit-%d", MaxPageLimit), run(func() {
		srv.ServeHTTP(&discard{h: http.Header{}}, httptest.NewRequest(http.MethodGet, fmt.Sprintf("/api/lookup?q=0.0.0.0/0&limit=%d", MaxPageLimit), nil))
	}))
}
