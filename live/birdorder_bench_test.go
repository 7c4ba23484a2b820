//go:build linux

package live

import (
	"math/rand/v2"
	"net/netip"
	"runtime"
	"runtime/debug"
	"syscall"
	"testing"
	"time"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/internal/compressed"
	"github.com/rovimpact/rovimpact/internal/testutil"
	bgp "github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
)

// tableOnce returns the PCH full table's announcements with each prefix
// once (its last announcement, as a speaker holding the table would send
// it), in the recorded order of each prefix's first appearance or, when
// shuffled, in a fixed pseudo-random order: bird2 sends its table in the
// order of its own prefix hash, so consecutive paths share neither a
// prefix neighbourhood nor an AS path (bench/README.md, issue 11 session
// 9).
func tableOnce(b *testing.B, shuffled bool) []event {
	events, _ := fullTable(b)
	last := map[netip.Prefix]int{}
	var order []netip.Prefix
	for i, e := range events {
		switch e.kind {
		case bgp.Announce:
			if _, ok := last[e.prefix]; !ok {
				order = append(order, e.prefix)
			}
			last[e.prefix] = i
		case bgp.Withdraw:
			if _, ok := last[e.prefix]; ok {
				last[e.prefix] = -1
			}
		}
	}
	var out []event
	for _, p := range order {
		if i := last[p]; i >= 0 {
			e := events[i]
			e.pathID = 0
			out = append(out, e)
		}
	}
	if shuffled {
		r := rand.New(rand.NewPCG(11, 10))
		r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	}
	return out
}

// rusage is the process's resource usage so far.
func rusage() syscall.Rusage {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru
}

// vmRSS is the process's resident set size in bytes (Linux; 0 elsewhere).
func vmRSS() int64 {
	n, _ := testutil.ProcStatus("VmRSS")
	return n
}

// benchASPASet is the shared export's ASPA set (100 ASPAs, expired ones
// kept), which `bench/watch_bird2.sh` hands watch with the VRPs: watch
// then verifies every path as it arrives.
func benchASPASet(b *testing.B) *rov.ASPASet {
	p := testutil.SharedData(b, vrpFileB)
	f, err := compressed.Open(p)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	e, err := rov.LoadExport(f, p, rov.LoadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	return rov.NewASPASet(e.ASPAs)
}

// BenchmarkApplyBirdOrder is a full table's load as watch takes it from
// bird2, without bird: the PCH table's paths (each prefix once, 577k)
// through a Feed, one event per path, into a State holding the real 723k
// VRPs and the export's ASPA set, as watch holds them. order=bird sends
// them shuffled (bird's hash order: every lookup misses the cache, every
// path interns a different AS path than the last), order=recorded in the
// order the PCH peer sent them. The heap's free pages go back to the
// kernel before each load, as watch releases them after its VRP load, so
// the table's arrays fault in fresh pages as they do in watch. Reported:
// ns/path, cpu-ns/path (the process's CPU, user and system, during the
// load: steadier than ns/path on a shared machine), allocs/path and B/path
// allocated (the table's growth included),
// heap-B/path, the Go heap in use after the load per path, and rss-B/path,
// the growth of the process's resident memory per path once the load's
// garbage is returned to the kernel (what watch holds after its release).
func BenchmarkApplyBirdOrder(b *testing.B) {
	vrps := realVRPs(b, vrpFileB)
	set := benchASPASet(b)
	_, paths := fullTable(b)
	for _, order := range []string{"bird", "recorded"} {
		b.Run("order="+order, func(b *testing.B) {
			evs := tableOnce(b, order == "bird")
			// Each event's AS path, laid out in event order as a wire
			// buffer holds it (so reading it costs what reading a
			// just-received UPDATE does), and its origin, which the
			// collector's decoder derives.
			segs := make([][]rov.Segment, len(evs))
			origins := make([]rov.Origin, len(evs))
			var asns []uint32
			var arena []rov.Segment
			for _, e := range evs {
				for _, sg := range paths[e.path] {
					asns = append(asns, sg.ASNs...)
				}
				arena = append(arena, paths[e.path]...)
			}
			ai, si := 0, 0
			for i, e := range evs {
				p := paths[e.path]
				segs[i] = arena[si : si+len(p) : si+len(p)]
				for j := range segs[i] {
					n := len(segs[i][j].ASNs)
					segs[i][j].ASNs = asns[ai : ai+n : ai+n]
					ai += n
				}
				si += len(p)
				origins[i] = rov.OriginOf(p)
			}
			var ms0, ms1 runtime.MemStats
			var mallocs, bytes uint64
			var heap, rss float64
			var faults int64
			var sys, cpu time.Duration
			var st Stats
			for b.Loop() {
				b.StopTimer()
				s := New(Options{})
				s.SetVRPs(vrps)
				s.SetASPA(set, classify.RoleMap{})
				feed := s.Feed()
				peer := bgp.Peer{AS: 64500, IP: netip.AddrFrom4([4]byte{192, 0, 2, 1})}
				debug.FreeOSMemory()
				runtime.ReadMemStats(&ms0)
				rss0 := vmRSS()
				ru0 := rusage()
				b.StartTimer()
				var r bgp.Route
				for i := range evs {
					e := &evs[i]
					r = bgp.Route{Kind: bgp.Announce, Peer: peer, Prefix: e.prefix, NextHop: e.nh,
						Path: segs[i], Origin: origins[i], RPKIState: bgp.RPKIAbsent, FromUpdate: true}
					feed(&r)
				}
				b.StopTimer()
				ru1 := rusage()
				faults += int64(ru1.Minflt - ru0.Minflt)
				sys += time.Duration(ru1.Stime.Nano() - ru0.Stime.Nano())
				cpu += time.Duration(ru1.Stime.Nano() - ru0.Stime.Nano() + ru1.Utime.Nano() - ru0.Utime.Nano())
				runtime.ReadMemStats(&ms1)
				mallocs += ms1.Mallocs - ms0.Mallocs
				bytes += ms1.TotalAlloc - ms0.TotalAlloc
				if r, ok := any(s).(interface{ ReleaseMemory() int64 }); ok {
					r.ReleaseMemory() // as watch does after an initial load (main 716abb4 had none)
				}
				debug.FreeOSMemory() // as watch does after an initial load
				runtime.ReadMemStats(&ms1)
				heap = float64(ms1.HeapAlloc) - float64(ms0.HeapAlloc)
				rss = float64(vmRSS() - rss0)
				st = s.Stats()
				runtime.KeepAlive(s)
				b.StartTimer()
			}
			n := float64(len(evs))
			if st.Paths != int64(len(evs)) {
				b.Fatalf("held %d paths of %d", st.Paths, len(evs))
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/(n*float64(b.N)), "ns/path")
			b.ReportMetric(float64(mallocs)/(n*float64(b.N)), "allocs/path")
			b.ReportMetric(float64(bytes)/(n*float64(b.N)), "allocB/path")
			b.ReportMetric(heap/n, "heap-B/path")
			b.ReportMetric(rss/n, "rss-B/path")
			b.ReportMetric(float64(faults)/(n*float64(b.N))*1000, "faults/kpath")
			b.ReportMetric(float64(sys.Nanoseconds())/(n*float64(b.N)), "sys-ns/path")
			b.ReportMetric(float64(cpu.Nanoseconds())/(n*float64(b.N)), "cpu-ns/path")
			b.ReportMetric(n, "paths")
		})
	}
}
