package table

import (
	"bytes"
	"io"
	"runtime"
	"slices"
	"testing"

	"github.com/rovimpact/rovimpact/internal/compressed"
	"github.com/rovimpact/rovimpact/internal/testutil"
	"github.com/rovimpact/rovimpact/mrt"
	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
)

// pchFullTable is one session receiving a full IPv4 table as 577,737
// BGP4MP UPDATEs: the input whose tabulation bench/analyze.sh found ~30x
// slower per route than a RIB dump's.
const pchFullTable = "mrt/updates.20151023.0201.pch-route-collector.as3856-fulltable.bgp4mp_et.gz"

// decompressed reads a shared file into memory once, so that no benchmark
// below measures gzip.
func decompressed(b testing.TB, rel string) []byte {
	b.Helper()
	name := testutil.SharedData(b, rel)
	f, err := compressed.Open(name)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		b.Fatalf("%s: %v", name, err)
	}
	return data
}

// BenchmarkIngestUpdates tabulates the PCH full table from its UPDATEs
// (decompressed in memory) and, in the same run, the two steps it cannot
// avoid: reader (mrt.Reader decoding every event, nothing else) and
// reader+rib (decoding and RIB.Apply of every event, no table). ingest is
// Ingester.Read plus Finish into a new Table; rib+all, in the same run, is
// the tabulation it replaced (mrt.RIB.Apply, then RIB.All into a Table).
// events/s counts decoded events in every case.
func BenchmarkIngestUpdates(b *testing.B) {
	data := decompressed(b, pchFullTable)
	newReader := func() *mrt.Reader { return mrt.NewReader(bytes.NewReader(data), mrt.Options{Name: pchFullTable}) }
	report := func(b *testing.B, events int64) {
		b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	}
	b.Run("reader", func(b *testing.B) {
		b.ReportAllocs()
		var n int64
		for b.Loop() {
			rd := newReader()
			for rd.Next() {
				n++
			}
			if err := rd.Err(); err != nil {
				b.Fatal(err)
			}
		}
		report(b, n)
	})
	var ribPaths int
	b.Run("reader+rib", func(b *testing.B) {
		b.ReportAllocs()
		var n int64
		for b.Loop() {
			rd := newReader()
			rib := mrt.NewRIB()
			for rd.Next() {
				r := rd.Route()
				rib.Apply(r, route.KeyOf(r.Peer))
				n++
			}
			if err := rd.Err(); err != nil {
				b.Fatal(err)
			}
			ribPaths = rib.Len()
		}
		report(b, n)
	})
	// rib+all is how Finish tabulated before the Ingester kept its own
	// replay: every event through mrt.RIB.Apply, then RIB.All into the
	// table (ribTable in ingest_test.go).
	b.Run("rib+all", func(b *testing.B) {
		b.ReportAllocs()
		var n int64
		for b.Loop() {
			rd := newReader()
			rib := mrt.NewRIB()
			for rd.Next() {
				r := rd.Route()
				rib.Apply(r, route.KeyOf(r.Peer))
				n++
			}
			if err := rd.Err(); err != nil {
				b.Fatal(err)
			}
			t := New()
			peers := rib.Peers()
			idx := make([]int, len(peers))
			for i, p := range peers {
				idx[i] = t.Peer(route.PeerKey{AS: p.AS, IP: p.IP})
			}
			for r := range rib.All() {
				var asSet []uint32
				if r.Origin.Kind == rov.OriginNone {
					asSet = slices.Clone(rov.FinalASSet(r.Path))
				}
				t.Add(r.Prefix, r.Origin, idx[r.Peer.Index], asSet)
			}
		}
		report(b, n)
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/event")
	})
	b.Run("ingest", func(b *testing.B) {
		b.ReportAllocs()
		var n int64
		for b.Loop() {
			t := New()
			in := NewIngester(t, IngestOptions{})
			if err := in.Read(newReader()); err != nil {
				b.Fatal(err)
			}
			in.Finish()
			n += in.Events()
			if t.Paths() != int64(ribPaths) && ribPaths != 0 {
				b.Fatalf("table holds %d paths, the RIB %d", t.Paths(), ribPaths)
			}
		}
		report(b, n)
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/event")
	})
	// held compares, once, the live heap the two replays hold at the end of
	// the file (before Finish): bytes per path after a full GC.
	b.Run("held", func(b *testing.B) {
		var rib *mrt.RIB
		var in *Ingester
		ribB := liveGrowth(func() {
			rd := newReader()
			rib = mrt.NewRIB()
			for rd.Next() {
				r := rd.Route()
				rib.Apply(r, route.KeyOf(r.Peer))
			}
		})
		replayB := liveGrowth(func() {
			in = NewIngester(New(), IngestOptions{})
			if err := in.Read(newReader()); err != nil {
				b.Fatal(err)
			}
		})
		for b.Loop() {
		}
		b.ReportMetric(ribB/float64(rib.Len()), "rib-B/path")
		b.ReportMetric(replayB/float64(in.n), "replay-B/path")
		runtime.KeepAlive(rib)
		runtime.KeepAlive(in)
	})
}

// liveGrowth is the growth of the live heap (HeapAlloc after two full
// collections) that build leaves behind.
func liveGrowth(build func()) float64 {
	live := func() uint64 {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	a := live()
	build()
	return float64(int64(live() - a))
}
