//go:build unix

package classify

import (
	"compress/gzip"
	"math/rand/v2"
	"net/netip"
	"os"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/rovimpact/rovimpact/internal/testutil"
	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/routefile"
	"github.com/rovimpact/rovimpact/rov"
)

// Benchmarks on the real rpki-client export (723,524 VRPs) with real-ish
// routes (see realRoutes: ~25% NotFound, ~30% Valid, ~45% Invalid). Run
// with
//
//	go test ./classify/ -run '^$' -bench Classify -benchtime 2s -cpu 1,2
//
// Validate is the baseline in the same run: Classify costs it plus the
// class rules.

var bench struct {
	ix     *rov.Index
	ps     []netip.Prefix
	os     []rov.Origin
	loaded bool
}

func benchData(b *testing.B) (*rov.Index, []netip.Prefix, []rov.Origin) {
	b.Helper()
	if !bench.loaded {
		vrps := realVRPs(b)
		bench.ix = rov.NewIndex(vrps)
		bench.ps, bench.os = realRoutes(rand.New(rand.NewPCG(3, 4)), vrps, 1<<16)
		bench.loaded = true
	}
	return bench.ix, bench.ps, bench.os
}

func BenchmarkClassify(b *testing.B) {
	ix, ps, os := benchData(b)
	b.Run("validate", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]uint32, 0, 64)
		cpu0 := cpuTime()
		i := 0
		for b.Loop() {
			k := i & (len(ps) - 1)
			buf = ix.Validate(ps[k], os[k], buf).VRPs[:0]
			i++
		}
		b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "routes/s")
		reportCPU(b, cpu0, i)
	})
	b.Run("classify", func(b *testing.B) {
		b.ReportAllocs()
		c := NewClassifier(ix)
		cpu0 := cpuTime()
		i := 0
		for b.Loop() {
			k := i & (len(ps) - 1)
			c.Classify(ps[k], os[k])
			i++
		}
		b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "routes/s")
		reportCPU(b, cpu0, i)
	})
	// parallel: one Classifier per goroutine over the shared index; compare
	// routes/s at -cpu 1 and -cpu 2.
	b.Run("classify-parallel", func(b *testing.B) {
		b.ReportAllocs()
		cpu0 := cpuTime()
		b.RunParallel(func(pb *testing.PB) {
			c := NewClassifier(ix)
			i := rand.IntN(len(ps))
			for pb.Next() {
				k := i & (len(ps) - 1)
				c.Classify(ps[k], os[k])
				i++
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "routes/s")
		reportCPU(b, cpu0, b.N)
	})
}

// cpuTime is the process's user+system CPU time. The machine these
// benchmarks run on is shared, so wall-clock ns/op swings with other load;
// CPU time per op (reported as cpu-ns/op and routes/cpu-s) does not.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds cpu-ns/op and routes/cpu-s for n operations since start.
func reportCPU(b *testing.B, start time.Duration, n int) {
	d := cpuTime() - start
	if d <= 0 || n == 0 {
		return
	}
	b.ReportMetric(float64(d.Nanoseconds())/float64(n), "cpu-ns/op")
	b.ReportMetric(float64(n)/d.Seconds(), "routes/cpu-s")
}

// BenchmarkClassifyMRT classifies the distinct (prefix, origin) pairs of a
// real full IPv4 table (PCH, one peer, 2015: ~578k announcements) against
// the 2025 VRPs: real prefixes and origins rather than ones derived from
// the VRPs. The state and class mix is logged once.
func BenchmarkClassifyMRT(b *testing.B) {
	ix, _, _ := benchData(b)
	path := testutil.SharedData(b, "mrt/updates.20151023.0201.pch-route-collector.as3856-fulltable.bgp4mp_et.gz")
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		b.Fatalf("%s: %v", path, err)
	}
	src, err := routefile.NewSource(zr, path)
	if err != nil {
		b.Fatal(err)
	}
	type po struct {
		p netip.Prefix
		o rov.Origin
	}
	seen := map[po]bool{}
	var routes []po
	for src.Next() {
		r := src.Route()
		if r.Kind != route.Announce || seen[po{r.Prefix, r.Origin}] {
			continue
		}
		seen[po{r.Prefix, r.Origin}] = true
		routes = append(routes, po{r.Prefix, r.Origin})
	}
	if err := src.Err(); err != nil {
		b.Fatalf("%s: %v", path, err)
	}
	c := NewClassifier(ix)
	mix := map[string]int{}
	for _, r := range routes {
		v := c.Classify(r.p, r.o)
		mix[v.State.String()+"/"+v.Class.String()]++
	}
	b.Logf("%d distinct (prefix, origin): %v", len(routes), mix)
	shuffled := slices.Clone(routes)
	rand.New(rand.NewPCG(5, 6)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	// file-order is how a RIB dump arrives (sorted by prefix, so lookups
	// share cache lines); shuffled is the worst case, like UPDATE streams.
	for _, bc := range []struct {
		name   string
		routes []po
	}{{"file-order", routes}, {"shuffled", shuffled}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := cpuTime()
			i := 0
			for b.Loop() {
				r := bc.routes[i%len(bc.routes)]
				c.Classify(r.p, r.o)
				i++
			}
			b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "routes/s")
			reportCPU(b, cpu0, i)
		})
	}
}
