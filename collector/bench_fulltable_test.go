package collector

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/osrg/gobgp/v3/pkg/packet/bgp"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/internal/compressed"
	"github.com/rovimpact/rovimpact/internal/hugepage"
	"github.com/rovimpact/rovimpact/internal/testutil"
	"github.com/rovimpact/rovimpact/live"
	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/routefile"
	"github.com/rovimpact/rovimpact/rov"
)

// pchFullTable is one peer's full table, as the PCH collector recorded it
// arriving after a session reset (577,744 announcements).
const pchFullTable = "mrt/updates.20151023.0201.pch-route-collector.as3856-fulltable.bgp4mp_et.gz"

// benchLocalAS is the collector's AS in the benchmark. Paths containing it
// are loops the collector drops (83 paths of the dump contain 65000, the
// tests' usual local AS); none contains this one, and fullTableWire skips
// any that would, so every implementation holds every path sent.
const benchLocalAS = 4200000123

// fullTableWire reads the PCH dump's announcements and encodes them as the
// UPDATEs a speaker would send: consecutive prefixes with the same path
// and next hop share one UPDATE (up to 4096 octets), as the recorded peer
// grouped them. With birdOrder, the paths go in a fixed pseudo-random
// order instead, one per UPDATE, as bird2 sends a table (its own prefix
// hash order, 1.05-1.4 paths per UPDATE: bench/README.md). It returns the
// messages and the number of paths.
func fullTableWire(b *testing.B, birdOrder bool) ([][]byte, int) {
	f, err := compressed.Open(testutil.SharedData(b, pchFullTable))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	src, err := routefile.NewSource(f, pchFullTable)
	if err != nil {
		b.Fatal(err)
	}
	var (
		wire  [][]byte
		paths int
		cur   []*bgp.IPAddrPrefix
		path  []rov.Segment
		nh    netip.Addr
		size  int
		seen  = map[netip.Prefix]bool{}
	)
	flush := func() {
		if len(cur) == 0 {
			return
		}
		var params []bgp.AsPathParamInterface
		for _, s := range path {
			params = append(params, bgp.NewAs4PathParam(uint8(s.Type), slices.Clone(s.ASNs)))
		}
		hop := "127.0.0.1"
		if nh.Is4() {
			hop = nh.String()
		}
		attrs := []bgp.PathAttributeInterface{bgp.NewPathAttributeOrigin(0), bgp.NewPathAttributeAsPath(params), bgp.NewPathAttributeNextHop(hop)}
		wire = append(wire, must(bgp.NewBGPUpdateMessage(nil, attrs, cur).Serialize()))
		paths += len(cur)
		cur, size = nil, 0
	}
	same := func(a, b []rov.Segment) bool {
		return slices.EqualFunc(a, b, func(x, y rov.Segment) bool { return x.Type == y.Type && slices.Equal(x.ASNs, y.ASNs) })
	}
	type held struct {
		prefix netip.Prefix
		path   []rov.Segment
		nh     netip.Addr
	}
	var all []held
	for src.Next() {
		r := src.Route()
		// Each prefix once: a re-announcement would replace, not add, a
		// held path.
		if r.Kind != route.Announce || !r.Prefix.Addr().Is4() || seen[r.Prefix] || slices.ContainsFunc(r.Path, func(s rov.Segment) bool { return slices.Contains(s.ASNs, benchLocalAS) }) {
			continue
		}
		seen[r.Prefix] = true
		p := make([]rov.Segment, len(r.Path))
		for i, s := range r.Path {
			p[i] = rov.Segment{Type: s.Type, ASNs: slices.Clone(s.ASNs)}
		}
		all = append(all, held{r.Prefix, p, r.NextHop})
	}
	if err := src.Err(); err != nil {
		b.Fatal(err)
	}
	if birdOrder {
		rand.New(rand.NewPCG(11, 10)).Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	}
	for _, r := range all {
		if len(cur) > 0 && (birdOrder || !same(path, r.path) || nh != r.nh || size > 3500) {
			flush()
		}
		if len(cur) == 0 {
			path, nh = r.path, r.nh
			size = 60 + 4*len(path)
		}
		cur = append(cur, bgp.NewIPAddrPrefix(uint8(r.prefix.Bits()), r.prefix.Addr().String()))
		size += 1 + (r.prefix.Bits()+7)/8
	}
	flush()
	return wire, paths
}

// BenchmarkBGPFullTable replays the PCH full table (IPv4, 577k paths) from
// a raw speaker (each prefix once) over a real loopback session into the collector, whose
// Handler only counts. It reports the ingest rate and what the collector
// (and any speaker it embeds) keeps per held path: heap growth and RSS
// growth while the session holds the table. It uses only the collector's
// public API, so the same file measures another implementation of it
// (the gobgp-based collector of 0ecd395) in the same run. Run with
// -benchtime=1x: one iteration is a whole session.
func BenchmarkBGPFullTable(b *testing.B) {
	benchReserve(b)
	benchFullTable(b, false, func(done func()) Handler {
		var got atomic.Int64
		return func(r *route.Route) {
			if r.Kind == route.Announce && got.Add(1) == int64(benchTotal) {
				done()
			}
		}
	})
}

// BenchmarkBGPFullTableLive is BenchmarkBGPFullTable into what watch
// feeds: a live.State holding the rpki-client VRPs of 2025-07-20 (723k),
// through its Feed, so each path is also held, each route validated. It
// adds cpu-us/path, the process's CPU time (user + system, both ends of the
// session) per path, which does not depend on how busy the machine is.
func BenchmarkBGPFullTableLive(b *testing.B) { benchFullTableLive(b, false) }

// BenchmarkBGPFullTableLiveBirdOrder is BenchmarkBGPFullTableLive with
// the paths in bird2's pattern (fullTableWire's birdOrder: shuffled, one
// path per UPDATE) and, as watch holds them with the shared export, the
// export's ASPA set in use, so each path is also ASPA-verified. Run it
// with ROVIMPACT_HUGEPAGES=0: watch does not reserve huge pages.
func BenchmarkBGPFullTableLiveBirdOrder(b *testing.B) { benchFullTableLive(b, true) }

func benchFullTableLive(b *testing.B, birdOrder bool) {
	benchReserve(b)
	f, err := compressed.Open(testutil.SharedData(b, benchVRPs))
	if err != nil {
		b.Fatal(err)
	}
	e, err := rov.LoadExport(f, benchVRPs, rov.LoadOptions{})
	f.Close()
	if err != nil {
		b.Fatal(err)
	}
	vrps := e.VRPs
	var st *live.State
	benchFullTable(b, birdOrder, func(done func()) Handler {
		st = live.New(live.Options{})
		st.SetVRPs(vrps)
		if birdOrder {
			st.SetASPA(rov.NewASPASet(e.ASPAs), classify.RoleMap{})
		}
		feed := st.Feed()
		var got int
		return func(r *route.Route) {
			feed(r)
			if r.Kind == route.Announce {
				if got++; got == benchTotal {
					done()
				}
			}
		}
	})
	runtime.KeepAlive(st)
}

var benchHugepages sync.Once

// benchReserve backs the heap with huge pages where the kernel allows, as
// rovimpact's main does, before the benchmark's heap grows
// (ROVIMPACT_HUGEPAGES=0 measures without).
func benchReserve(b *testing.B) {
	benchHugepages.Do(func() { b.Logf("hugepage: %+v", hugepage.Reserve(1<<30)) })
}

// benchVRPs is the VRP set BenchmarkBGPFullTableLive validates against.
const benchVRPs = "vrp/vrps.rpki-client.20250720T100143Z.json.bz2"

// benchTotal is the number of paths fullTableWire encoded (set before the
// handlers run).
var benchTotal int

// benchFullTable runs one session per iteration: a raw speaker sends the
// PCH full table to a collector whose Handler newHandler makes (outside
// the timer); the Handler calls done once it has every path.
func benchFullTable(b *testing.B, birdOrder bool, newHandler func(done func()) Handler) {
	msgs, total := fullTableWire(b, birdOrder)
	benchTotal = total
	b.Logf("%d UPDATEs, %d paths", len(msgs), total)
	// Written 64 KiB at a time, as a peer's TCP stack would coalesce them:
	// one write per message would measure the speaker's syscalls.
	var wire [][]byte
	var chunk []byte
	for _, m := range msgs {
		if len(chunk)+len(m) > 64<<10 {
			wire, chunk = append(wire, chunk), nil
		}
		chunk = append(chunk, m...)
	}
	wire = append(wire, chunk)
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		done := make(chan struct{})
		h := newHandler(func() { close(done) })
		// FreeOSMemory (a GC that returns freed pages) before both RSS
		// readings, so that the setup's garbage does not count either way.
		debug.FreeOSMemory()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		rss0 := rssBytes()
		port := freePort(b)
		col, err := NewBGP(BGPConfig{
			Listen: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port), LocalAS: benchLocalAS,
			RouterID: netip.MustParseAddr("192.0.2.254"), Neighbors: []Neighbor{{Addr: netip.MustParseAddr("127.0.0.10"), AS: 3856}},
			Logger: quiet,
		}, h)
		if err != nil {
			b.Fatal(err)
		}
		if err := col.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
		s := dialSpeaker(b, fmt.Sprintf("127.0.0.1:%d", port), "127.0.0.10", 3856, false)
		b.StartTimer()
		cpu0 := cpuTime()
		start := time.Now()
		go func() {
			for _, w := range wire {
				if _, err := s.c.Write(w); err != nil {
					return
				}
			}
		}()
		select {
		case <-done:
		case <-time.After(300 * time.Second):
			b.Fatalf("not every one of %d paths after 300s; stats %+v", total, col.Stats())
		}
		elapsed := time.Since(start)
		cpu += cpuTime() - cpu0
		b.StopTimer()
		debug.FreeOSMemory()
		runtime.ReadMemStats(&after)
		rss1 := rssBytes()
		runtime.KeepAlive(wire)
		b.ReportMetric(float64(total)/elapsed.Seconds(), "paths/s")
		b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(total), "heapB/path")
		b.ReportMetric(float64(rss1-rss0)/float64(total), "rssB/path")
		s.c.Close()
		col.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(cpu.Microseconds())/float64(total*b.N), "cpu-us/path")
}

// cpuTime is the process's user + system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rssBytes is the process's resident set size (Linux), 0 elsewhere.
func rssBytes() int64 {
	n, _ := testutil.ProcStatus("VmRSS")
	return n
}
