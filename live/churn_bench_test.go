//go:build unix

package live

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"syscall"
	"testing"

	"github.com/rovimpact/rovimpact/reports"
	bgp "github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
)

// BenchmarkChurnChecks measures what GC settings cost a watch holding a
// full table (one peer, the real 723k VRPs) under churn: each op is one
// --interval of a table that keeps changing: 200 paths re-announced, then
// a check (Snapshot, Diff against the previous check's DiffBase, the new
// DiffBase; /light: the State's DiffBase, built without a snapshot, as
// watch's check does now), and every 8th op a report (a scrape). Reported: process CPU
// per op (getrusage: the GC's workers included), GC cycles per op, and the
// Go runtime's mapped, not released memory (about the RSS) at its largest
// after an op and after the last. gogc=50 is watch's setting, gogc=100
// Go's default; limit=1.25 adds to gogc=50 a soft memory limit of 1.25
// times the live heap measured after the table loaded.
func BenchmarkChurnChecks(b *testing.B) {
	events, paths := fullTable(b)
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	s := fullState(b)
	var ann []int // events that announce, to re-announce
	for i := range events {
		if events[i].kind == bgp.Announce {
			ann = append(ann, i)
		}
	}
	runtime.GC()
	live := readMetric("/gc/heap/live:bytes")
	for _, c := range []struct {
		gogc  int
		lim   float64
		light bool
	}{{100, 0, false}, {50, 0, false}, {50, 1.25, false}, {50, 0, true}} {
		name := fmt.Sprintf("gogc=%d", c.gogc)
		if c.lim > 0 {
			name += fmt.Sprintf("/limit=%g", c.lim)
		}
		if c.light {
			name += "/light"
		}
		lim := c.lim
		b.Run(name, func(b *testing.B) {
			debug.SetGCPercent(c.gogc)
			if lim > 0 {
				defer debug.SetMemoryLimit(debug.SetMemoryLimit(int64(float64(live) * lim)))
			} else {
				defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))
			}
			rng := rand.New(rand.NewPCG(1, 2))
			prev := s.Snapshot().DiffBase()
			var r bgp.Route
			r.Peer = bgp.Peer{AS: 64500, IP: replayPeerIP}
			cpu0, gc0 := cpuTime(), readMetric("/gc/cycles/total:gc-cycles")
			var peak uint64
			ops := 0
			for b.Loop() {
				for range 200 {
					e := &events[ann[rng.IntN(len(ann))]]
					r.Kind, r.Prefix, r.PathID, r.NextHop = e.kind, e.prefix, e.pathID, e.nh
					r.Path = paths[(e.path+uint32(rng.IntN(2)))%uint32(len(paths))]
					r.Origin = rov.OriginOf(r.Path)
					s.Apply(&r)
				}
				if c.light {
					next := s.DiffBase()
					Diff(prev, next)
					prev = next
					if ops++; ops%8 == 0 {
						reports.Build(s.Snapshot().Analysis, reports.Meta{})
					}
				} else {
					snap := s.Snapshot()
					Diff(prev, snap)
					prev = snap.DiffBase()
					if ops++; ops%8 == 0 {
						reports.Build(snap.Analysis, reports.Meta{})
					}
				}
				peak = max(peak, mapped())
			}
			b.ReportMetric(float64(cpuTime()-cpu0)/1e6/float64(ops), "cpu-ms/op")
			b.ReportMetric(float64(readMetric("/gc/cycles/total:gc-cycles")-gc0)/float64(ops), "gcs/op")
			b.ReportMetric(float64(peak)/1e6, "peak-MB")
			b.ReportMetric(float64(mapped())/1e6, "end-MB")
			b.ReportMetric(float64(live)/1e6, "live-MB")
			runtime.KeepAlive(prev)
		})
	}
}

// replayPeerIP is the address replay gives its first peer.
var replayPeerIP = netip.AddrFrom4([4]byte{192, 0, 2, 1})

func readMetric(name string) uint64 {
	s := []metrics.Sample{{Name: name}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// mapped is the heap and runtime memory mapped and not returned to the
// OS: what the process's RSS can be at most, from the Go side.
func mapped() uint64 {
	return readMetric("/memory/classes/total:bytes") - readMetric("/memory/classes/heap/released:bytes")
}

// cpuTime is the process's user+system CPU time in ns.
func cpuTime() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
