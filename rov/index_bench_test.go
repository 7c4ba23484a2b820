//go:build unix

package rov

import (
	"math/rand/v2"
	"net/netip"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/kentik/patricia/uint32_tree"
)

// Benchmarks on the real rpki-client export (723,524 VRPs). Run with
//
//	go test ./rov/ -run '^$' -bench . -benchtime 2s -cpu 1,2

var benchIx struct {
	ix     *Index
	packed *Index // over the same VRPs packed and sorted, as live keeps them
	ps     []netip.Prefix
	os     []Origin
	loaded bool
}

func benchIndex(b *testing.B) (*Index, []netip.Prefix, []Origin) {
	b.Helper()
	if !benchIx.loaded {
		vrps := ixRealVRPs(b)
		benchIx.ix = NewIndex(vrps)
		ps, tas, _ := sortedPacked(vrps)
		benchIx.packed = NewIndexPacked(ps, tas)
		benchIx.ps, benchIx.os = realRoutes(rand.New(rand.NewPCG(1, 2)), vrps, 1<<16)
		benchIx.loaded = true
	}
	return benchIx.ix, benchIx.ps, benchIx.os
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkNewIndex reports build time and the heap the index keeps
// (MB and bytes per VRP), whole and for the patricia trees alone.
func BenchmarkNewIndex(b *testing.B) {
	vrps := ixRealVRPs(b)
	b.Run("index", func(b *testing.B) {
		b.ReportAllocs()
		var ix *Index
		for b.Loop() {
			ix = nil
			before := heapInUse()
			ix = NewIndex(vrps)
			after := heapInUse()
			b.ReportMetric(float64(after-before)/1e6, "MB")
			b.ReportMetric(float64(after-before)/float64(len(vrps)), "B/VRP")
		}
		runtime.KeepAlive(ix)
	})
	// packed: the live table's index, over its packed set (sorted, so
	// the members lists are not kept).
	b.Run("packed", func(b *testing.B) {
		b.ReportAllocs()
		ps, tas, _ := sortedPacked(vrps)
		var ix *Index
		for b.Loop() {
			ix = nil
			before := heapInUse()
			ix = NewIndexPacked(ps, tas)
			after := heapInUse()
			b.ReportMetric(float64(after-before)/1e6, "MB")
			b.ReportMetric(float64(after-before)/float64(len(ps)), "B/VRP")
		}
		runtime.KeepAlive(ix)
	})
	// ordered: the rebuild a snapshot does from stored orders, against
	// "index" above in the same run.
	b.Run("ordered", func(b *testing.B) {
		b.ReportAllocs()
		full := NewIndex(vrps)
		v4, v6, byASN := full.Orders()
		var ix *Index
		for b.Loop() {
			var err error
			if ix, err = NewIndexOrdered(full.VRPs(), v4, v6, byASN); err != nil {
				b.Fatal(err)
			}
		}
		runtime.KeepAlive(ix)
	})
	b.Run("patricia-only", func(b *testing.B) {
		b.ReportAllocs()
		var t4 *uint32_tree.TreeV4
		var t6 *uint32_tree.TreeV6
		for b.Loop() {
			t4, t6 = nil, nil
			before := heapInUse()
			t4, t6 = uint32_tree.NewTreeV4(), uint32_tree.NewTreeV6()
			for i, v := range vrps {
				if v.Prefix.Addr().Is4() {
					t4.Add(addr4(v.Prefix), uint32(i), nil)
				} else {
					t6.Add(addr6(v.Prefix), uint32(i), nil)
				}
			}
			after := heapInUse()
			b.ReportMetric(float64(after-before)/1e6, "MB")
			b.ReportMetric(float64(after-before)/float64(len(vrps)), "B/VRP")
		}
		runtime.KeepAlive(t4)
		runtime.KeepAlive(t6)
	})
}

// BenchmarkCovering compares the two covering lookups on the same routes:
// the sorted-array walk Validate uses and the patricia tree.
func BenchmarkCovering(b *testing.B) {
	ix, ps, _ := benchIndex(b)
	for _, bc := range []struct {
		name string
		f    func(netip.Prefix, []uint32) []uint32
	}{{"sorted", ix.Covering}, {"packed", benchIx.packed.Covering}, {"patricia", ix.CoveringTree}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			buf := make([]uint32, 0, 64)
			cpu0 := cpuTime()
			i := 0
			for b.Loop() {
				buf = bc.f(ps[i&(len(ps)-1)], buf[:0])
				i++
			}
			b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "lookups/s")
			reportCPU(b, cpu0, i)
		})
	}
}

// BenchmarkValidate is RFC 6811 validation of real-ish routes on one
// goroutine.
func BenchmarkValidate(b *testing.B) {
	ix, ps, os := benchIndex(b)
	b.ReportAllocs()
	buf := make([]uint32, 0, 64)
	cpu0 := cpuTime()
	i := 0
	for b.Loop() {
		k := i & (len(ps) - 1)
		buf = ix.Validate(ps[k], os[k], buf).VRPs[:0] // keep a grown buffer
		i++
	}
	b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "validations/s")
	reportCPU(b, cpu0, i)
}

// BenchmarkValidateParallel shows how validation scales over cores (run
// with -cpu 1,2): the index is read-only and shared, each goroutine has its
// own buffer.
func BenchmarkValidateParallel(b *testing.B) {
	ix, ps, os := benchIndex(b)
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		buf := make([]uint32, 0, 64)
		i := rand.IntN(len(ps))
		for pb.Next() {
			k := i & (len(ps) - 1)
			buf = ix.Validate(ps[k], os[k], buf).VRPs[:0]
			i++
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "validations/s")
	reportCPU(b, cpu0, b.N)
}

// cpuTime is the process's user+system CPU time. The machine these
// benchmarks run on is shared, so wall-clock ns/op swings with other load;
// CPU time per op (reported as cpu-ns/op and ops/cpu-s) does not.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds cpu-ns/op and ops/cpu-s for n operations since start.
func reportCPU(b *testing.B, start time.Duration, n int) {
	d := cpuTime() - start
	if d <= 0 || n == 0 {
		return
	}
	b.ReportMetric(float64(d.Nanoseconds())/float64(n), "cpu-ns/op")
	b.ReportMetric(float64(n)/d.Seconds(), "ops/cpu-s")
}
