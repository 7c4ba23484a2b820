package live

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/internal/compressed"
	"github.com/rovimpact/rovimpact/internal/testutil"
	"github.com/rovimpact/rovimpact/mrt"
	"github.com/rovimpact/rovimpact/reports"
	bgp "github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/routefile"
	"github.com/rovimpact/rovimpact/rov"
)

const (
	fullTableFile = "mrt/updates.20151023.0201.pch-route-collector.as3856-fulltable.bgp4mp_et.gz"
	vrpFileA      = "vrp/vrps.rpki-client.20250720T093133Z.json.bz2"
	vrpFileB      = "vrp/vrps.rpki-client.20250720T100143Z.json.bz2"
)

// event is one decoded event of the full-table file, kept compactly (AS
// paths interned) so that replaying it costs nothing but Apply.
type event struct {
	kind   bgp.Kind
	prefix netip.Prefix
	pathID uint32
	path   uint32
	nh     netip.Addr
}

var bench struct {
	once   sync.Once
	events []event
	paths  [][]rov.Segment
	err    error

	vrpOnce sync.Once
	vrps    map[string][]rov.VRP
	vrpErr  error
}

// fullTable decodes the PCH full-table session (one peer sending its whole
// table as UPDATEs) once.
func fullTable(b *testing.B) ([]event, [][]rov.Segment) {
	path := testutil.SharedData(b, fullTableFile)
	bench.once.Do(func() {
		f, err := compressed.Open(path)
		if err != nil {
			bench.err = err
			return
		}
		defer f.Close()
		src, err := routefile.NewSource(f, path)
		if err != nil {
			bench.err = err
			return
		}
		ix := map[string]uint32{}
		for src.Next() {
			r := src.Route()
			if r.Kind == bgp.PeerDown {
				continue // a session reset would empty the table being measured
			}
			key := fmt.Sprint(r.Path)
			id, ok := ix[key]
			if !ok {
				id = uint32(len(bench.paths))
				ix[key] = id
				p := make([]rov.Segment, len(r.Path))
				for i, s := range r.Path {
					p[i] = rov.Segment{Type: s.Type, ASNs: slices.Clone(s.ASNs)}
				}
				bench.paths = append(bench.paths, p)
			}
			bench.events = append(bench.events, event{r.Kind, r.Prefix, r.PathID, id, r.NextHop})
		}
		bench.err = src.Err()
	})
	if bench.err != nil {
		b.Fatalf("%s: %v", path, bench.err)
	}
	return bench.events, bench.paths
}

func realVRPs(b *testing.B, rel string) []rov.VRP {
	pa, pb := testutil.SharedData(b, vrpFileA), testutil.SharedData(b, vrpFileB)
	bench.vrpOnce.Do(func() {
		bench.vrps = map[string][]rov.VRP{}
		for _, p := range []string{pa, pb} {
			f, err := compressed.Open(p)
			if err != nil {
				bench.vrpErr = err
				return
			}
			v, _, err := rov.LoadVRPs(f, p, rov.LoadOptions{})
			f.Close()
			if err != nil {
				bench.vrpErr = err
				return
			}
			bench.vrps[filepath.Base(p)] = v
		}
	})
	if bench.vrpErr != nil {
		b.Fatal(bench.vrpErr)
	}
	return bench.vrps[filepath.Base(rel)]
}

// replay feeds the events as if from peers peer keys, through apply.
func replay(events []event, paths [][]rov.Segment, peers int, apply func(r *bgp.Route, k bgp.PeerKey)) {
	var r bgp.Route
	for p := range peers {
		k := bgp.PeerKey{AS: 64500 + uint32(p), IP: netip.AddrFrom4([4]byte{192, 0, 2, byte(1 + p)})}
		r.Peer = bgp.Peer{AS: k.AS, IP: k.IP}
		for i := range events {
			e := &events[i]
			r.Kind, r.Prefix, r.PathID, r.NextHop = e.kind, e.prefix, e.pathID, e.nh
			r.Path, r.Origin = nil, rov.Origin{}
			if e.kind == bgp.Announce {
				r.Path = paths[e.path]
				r.Origin = rov.OriginOf(r.Path)
			}
			apply(&r, k)
		}
	}
}

// tableInuse is heapInuse plus what s's arrays hold outside the Go heap
// (mapped.go: whole pages mapped or committed, a little above resident).
func tableInuse(s *State) uint64 { return heapInuse() + uint64(s.mem.bytes.Load()) }

func heapInuse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// BenchmarkApply measures ingesting a full table (the PCH session's
// UPDATEs, 1 and 3 peers) into a State that validates every new route
// against the real 723k VRPs, against the baseline of the same events
// through mrt.RIB.Apply alone (the plain Adj-RIB-In replay, which keeps
// the same path attributes but no routes or verdicts). Reported: events/s,
// and the heap in use after ingest per held path
// (runtime.MemStats.HeapInuse after GC, the VRP index excluded).
func BenchmarkApply(b *testing.B) {
	events, paths := fullTable(b)
	vrps := realVRPs(b, vrpFileB)
	for _, peers := range []int{1, 3} {
		b.Run(fmt.Sprintf("peers=%d/rib", peers), func(b *testing.B) {
			var held int
			for b.Loop() {
				rib := mrt.NewRIB()
				replay(events, paths, peers, func(r *bgp.Route, k bgp.PeerKey) { rib.Apply(r, k) })
				held = rib.Len()
			}
			b.ReportMetric(float64(len(events)*peers)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
			before := heapInuse()
			rib := mrt.NewRIB()
			replay(events, paths, peers, func(r *bgp.Route, k bgp.PeerKey) { rib.Apply(r, k) })
			b.ReportMetric(float64(heapInuse()-before)/float64(held), "B/path")
			b.ReportMetric(float64(held), "paths")
			runtime.KeepAlive(rib)
		})
		b.Run(fmt.Sprintf("peers=%d/live", peers), func(b *testing.B) {
			var st Stats
			for b.Loop() {
				b.StopTimer()
				s := New(Options{})
				s.SetVRPs(vrps)
				b.StartTimer()
				replay(events, paths, peers, func(r *bgp.Route, _ bgp.PeerKey) { s.Apply(r) })
				st = s.Stats()
			}
			b.ReportMetric(float64(len(events)*peers)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
			s := New(Options{})
			s.SetVRPs(vrps)
			before := tableInuse(s)
			replay(events, paths, peers, func(r *bgp.Route, _ bgp.PeerKey) { s.Apply(r) })
			b.ReportMetric(float64(tableInuse(s)-before)/float64(st.Paths), "B/path")
			b.ReportMetric(float64(st.Paths), "paths")
			b.ReportMetric(float64(st.Routes), "routes")
			runtime.KeepAlive(s)
		})
	}
}

// stallProbe measures, while an operation runs, the longest wait to take
// the State's lock: how long Apply would be held up (it includes the
// probe's own scheduling delay on a busy machine).
func stallProbe(s *State) (stop func() time.Duration) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	var worst time.Duration
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			t := time.Now()
			s.mu.Lock()
			s.mu.Unlock()
			worst = max(worst, time.Since(t))
			time.Sleep(200 * time.Microsecond)
		}
	}()
	return func() time.Duration {
		close(done)
		wg.Wait()
		return worst
	}
}

// fullState is a State holding the full table from one peer, validated
// against the real VRPs of vrpFileB.
func fullState(b *testing.B) *State {
	events, paths := fullTable(b)
	s := New(Options{})
	s.SetVRPs(realVRPs(b, vrpFileB))
	replay(events, paths, 1, func(r *bgp.Route, _ bgp.PeerKey) { s.Apply(r) })
	s.Snapshot() // as watch does every few seconds (this also sorts the new prefixes)
	return s
}

// BenchmarkSetVRPs measures VRP changes on a full table: a small RTR-like
// delta (10 VRPs withdrawn, then announced again, alternately), a reload
// of the next rpki-client run (the two shared exports, half an hour
// apart), and the first load onto a table validated without VRPs. Each
// reports the routes re-validated per change.
func BenchmarkSetVRPs(b *testing.B) {
	s := fullState(b)
	va, vb := realVRPs(b, vrpFileA), realVRPs(b, vrpFileB)
	b.Run("delta10", func(b *testing.B) {
		var delta []rov.VRP
		for i := range 10 {
			delta = append(delta, vb[i*len(vb)/10])
		}
		var n, ops int
		stop := stallProbe(s)
		for b.Loop() {
			if ops%2 == 0 {
				n += s.UpdateVRPs(nil, delta)
			} else {
				n += s.UpdateVRPs(delta, nil)
			}
			ops++
		}
		b.ReportMetric(float64(stop().Microseconds())/1000, "max-stall-ms")
		s.UpdateVRPs(delta, nil)
		b.ReportMetric(float64(n)/float64(ops), "revalidated/op")
	})
	b.Run("reload", func(b *testing.B) {
		var n, ops int
		stop := stallProbe(s)
		for b.Loop() {
			if ops%2 == 0 {
				n += s.SetVRPs(va)
			} else {
				n += s.SetVRPs(vb)
			}
			ops++
		}
		b.ReportMetric(float64(stop().Microseconds())/1000, "max-stall-ms")
		b.ReportMetric(float64(n)/float64(ops), "revalidated/op")
	})
	b.Run("first-load", func(b *testing.B) {
		var n, ops int
		var stall time.Duration
		for b.Loop() {
			b.StopTimer()
			s.SetVRPs(nil)
			stop := stallProbe(s)
			b.StartTimer()
			n += s.SetVRPs(vb)
			ops++
			stall = max(stall, stop())
		}
		b.ReportMetric(float64(stall.Microseconds())/1000, "max-stall-ms")
		b.ReportMetric(float64(n)/float64(ops), "revalidated/op")
	})
}

// BenchmarkSnapshot measures a snapshot of the full table after one change
// against the baseline of a batch classify.Analyze of the same table (what
// a snapshot would cost if it re-validated everything).
func BenchmarkSnapshot(b *testing.B) {
	s := fullState(b)
	snap := s.Snapshot()
	b.Run("live", func(b *testing.B) {
		b.ReportAllocs()
		r := ann(peerA, "192.0.2.0/24", 0, seq(64501, 65001))
		w := wd(peerA, "192.0.2.0/24", 0)
		i := 0
		stop := stallProbe(s)
		for b.Loop() {
			if i++; i%2 == 1 {
				s.Apply(&r)
			} else {
				s.Apply(&w)
			}
			s.Snapshot()
		}
		b.ReportMetric(float64(stop().Microseconds())/1000, "max-stall-ms")
	})
	// What a check builds without a snapshot (State.DiffBase), after the
	// same change as live: against live + diff + diffbase.
	b.Run("light", func(b *testing.B) {
		b.ReportAllocs()
		r := ann(peerA, "192.0.2.0/24", 0, seq(64501, 65001))
		w := wd(peerA, "192.0.2.0/24", 0)
		i := 0
		for b.Loop() {
			if i++; i%2 == 1 {
				s.Apply(&r)
			} else {
				s.Apply(&w)
			}
			s.DiffBase()
		}
	})
	b.Run("analyze", func(b *testing.B) {
		b.ReportAllocs()
		t := snap.Analysis.Table
		for b.Loop() {
			classify.Analyze(t, snap.Analysis.Index, classify.Options{})
		}
	})
	// A snapshot's first Diff assesses the impact of its invalid routes;
	// each op here diffs a fresh copy, as watch diffs each new snapshot.
	b.Run("diff", func(b *testing.B) {
		b.ReportAllocs()
		prev := s.Snapshot()
		prev.invalids()
		for b.Loop() {
			Diff(prev, &Snapshot{Epoch: snap.Epoch, Analysis: snap.Analysis, VRPs: snap.VRPs})
		}
		b.ReportMetric(float64(prev.invalids().len()), "invalids")
	})
	// The first route lookup on a new snapshot builds its table's lookup
	// map: what watch's check paid at every check that saw a change while
	// it asked the whole snapshot (not its DiffBase) about the changes'
	// routes. Against diffbase-has, the same question of its DiffBase.
	b.Run("lookup-map", func(b *testing.B) {
		b.ReportAllocs()
		r := ann(peerA, "192.0.2.0/24", 0, seq(64501, 65001))
		w := wd(peerA, "192.0.2.0/24", 0)
		i := 0
		for b.Loop() {
			b.StopTimer()
			if i++; i%2 == 1 {
				s.Apply(&r)
			} else {
				s.Apply(&w)
			}
			sn := s.Snapshot()
			b.StartTimer()
			sn.Has(netip.MustParsePrefix("192.0.2.0/24"), rov.Origin{Kind: rov.OriginAS, ASN: 65001})
		}
	})
	b.Run("diffbase-has", func(b *testing.B) {
		b.ReportAllocs()
		base := snap.DiffBase()
		p, o := netip.MustParsePrefix("192.0.2.0/24"), rov.Origin{Kind: rov.OriginAS, ASN: 65001}
		for b.Loop() {
			base.Has(p, o)
		}
	})
	// What watch adds at each check that saw a change: the DiffBase of the
	// new snapshot (its invalid routes already listed by the Diff).
	b.Run("diffbase", func(b *testing.B) {
		b.ReportAllocs()
		snap.invalids()
		for b.Loop() {
			snap.DiffBase()
		}
	})
}

// BenchmarkPaths measures the dump view (every held path in order, as the
// MRT writer reads it) of a full table from 3 peers, against the baseline
// of mrt.RIB.All over the same paths.
func BenchmarkPaths(b *testing.B) {
	events, paths := fullTable(b)
	b.Run("rib", func(b *testing.B) {
		rib := mrt.NewRIB()
		replay(events, paths, 3, func(r *bgp.Route, k bgp.PeerKey) { rib.Apply(r, k) })
		var n int
		for b.Loop() {
			for range rib.All() {
				n++
			}
		}
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "paths/s")
	})
	b.Run("live", func(b *testing.B) {
		s := New(Options{})
		replay(events, paths, 3, func(r *bgp.Route, _ bgp.PeerKey) { s.Apply(r) })
		var n int
		for b.Loop() {
			_, all := s.Paths()
			for range all {
				n++
			}
		}
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "paths/s")
	})
}

// BenchmarkMemory splits the live heap of a State holding the PCH full
// table (one peer) with the real 723k VRPs, as watch holds it: the VRPs
// and their index (vrps-MB), the table itself (table-B/path), a snapshot
// (snapshot-B/path: the table and analysis reports are built from) and its
// report (report-B/path, reports.Build), the lookup map a first
// Table.Lookup builds on the snapshot (lookup-B/path), the snapshot's
// invalid routes Diff lists (diff-B/path, a check's transient, gone with
// the snapshot) and its DiffBase (base-B/path: everything watch keeps of
// the previous check, its own copy of the invalid routes included). Each
// is the growth of runtime.MemStats.HeapInuse after GC across one step.
func BenchmarkMemory(b *testing.B) {
	events, paths := fullTable(b)
	vrps := realVRPs(b, vrpFileB)
	for b.Loop() {
		h0 := heapInuse()
		s := New(Options{})
		s.SetVRPs(vrps)
		h1 := tableInuse(s)
		replay(events, paths, 1, func(r *bgp.Route, _ bgp.PeerKey) { s.Apply(r) })
		h2 := tableInuse(s)
		snap := s.Snapshot()
		h3 := tableInuse(s)
		rep := reports.Build(snap.Analysis, reports.Meta{})
		h4 := tableInuse(s)
		// What watch asks of a full snapshot kept as the previous one: a
		// route lookup builds the table's lookup map (lookup-B/path).
		snap.Has(netip.Prefix{}, rov.Origin{})
		h5 := tableInuse(s)
		// Diff's invalid routes, which watch builds on every snapshot it
		// diffs (diff-B/path).
		snap.invalids()
		h5b := tableInuse(s)
		// What watch keeps instead (base-B/path): the snapshot's DiffBase,
		// alone once the snapshot goes.
		base := snap.DiffBase()
		h6 := tableInuse(s)
		n := float64(s.Stats().Paths)
		routes := len(snap.Analysis.Table.Routes())
		// A check's allocations (its transient): a snapshot, its invalid
		// routes and DiffBase (snapcheck-alloc-B/path), against the
		// State's DiffBase built without a snapshot (light-alloc-B/path);
		// and what the latter keeps (light-base-B/path, = base-B/path).
		runtime.KeepAlive(rep)
		snap = nil
		allocs := func(f func()) float64 {
			runtime.GC()
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			f()
			runtime.ReadMemStats(&m1)
			return float64(m1.TotalAlloc-m0.TotalAlloc) / n
		}
		r := ann(bgp.Peer{AS: 64500, IP: replayPeerIP}, "203.0.113.0/24", 0, seq(64500, 65001))
		s.Apply(&r) // a change: the snapshot below is a new one
		b.ReportMetric(allocs(func() {
			sn := s.Snapshot()
			Diff(base, sn)
			sn.DiffBase()
		}), "snapcheck-alloc-B/path")
		var light *Snapshot
		h7 := tableInuse(s)
		b.ReportMetric(allocs(func() { light = s.DiffBase(); Diff(base, light) }), "light-alloc-B/path")
		b.ReportMetric(float64(tableInuse(s)-h7)/n, "light-base-B/path")
		runtime.KeepAlive(light)
		b.ReportMetric(float64(h5-h4)/n, "lookup-B/path")
		b.ReportMetric(float64(h5b-h5)/n, "diff-B/path")
		b.ReportMetric(float64(h6-h5b)/n, "base-B/path")
		b.ReportMetric(float64(base.inv.len()), "invalids")
		b.ReportMetric(float64(routes), "routes")
		b.ReportMetric(float64(h1-h0)/1e6, "vrps-MB")
		b.ReportMetric(float64(h2-h1)/n, "table-B/path")
		b.ReportMetric(float64(h3-h2)/n, "snapshot-B/path")
		b.ReportMetric(float64(h4-h3)/n, "report-B/path")
		b.ReportMetric(n, "paths")
		runtime.KeepAlive(base)
		runtime.KeepAlive(s)
	}
}

// BenchmarkLoadWithChecks replays the PCH full table (one peer) into a
// State with the real VRPs as watch takes a full-table session: every
// `every` paths (what arrives between two of watch's 2 s checks at a given
// rate) a check builds a Snapshot, diffs it against the previous check's
// DiffBase and keeps the new DiffBase (/light: builds the State's DiffBase
// without a snapshot, as watch's check does now). every=0 is ingest
// alone. The difference is what checks cost a full-table load; paths/s is
// per process CPU on a quiet machine (b.Elapsed is wall time).
func BenchmarkLoadWithChecks(b *testing.B) {
	events, paths := fullTable(b)
	vrps := realVRPs(b, vrpFileB)
	for _, c := range []struct {
		every int
		light bool
	}{{0, false}, {200_000, false}, {50_000, false}, {200_000, true}, {50_000, true}} {
		every := c.every
		name := fmt.Sprintf("every=%d", every)
		if c.light {
			name += "/light"
		}
		b.Run(name, func(b *testing.B) {
			checks := 0
			for b.Loop() {
				b.StopTimer()
				s := New(Options{})
				s.SetVRPs(vrps)
				var prev *Snapshot
				check := func() {
					if c.light {
						next := s.DiffBase()
						Diff(prev, next)
						prev = next
					} else {
						snap := s.Snapshot()
						Diff(prev, snap)
						prev = snap.DiffBase()
					}
					checks++
				}
				n := 0
				b.StartTimer()
				replay(events, paths, 1, func(r *bgp.Route, _ bgp.PeerKey) {
					s.Apply(r)
					if n++; every > 0 && n%every == 0 {
						check()
					}
				})
				if every > 0 {
					check()
				}
			}
			b.ReportMetric(float64(len(events))*float64(b.N)/b.Elapsed().Seconds(), "paths/s")
			b.ReportMetric(float64(checks)/float64(b.N), "checks")
		})
	}
}
