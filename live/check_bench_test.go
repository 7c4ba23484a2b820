//go:build unix

package live

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	bgp "github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
)

// BenchmarkCheck compares watch's two ways of reading the table at a
// check on the PCH full table (one peer, the real 723k VRPs): a snapshot,
// its Diff against the previous check's DiffBase and its DiffBase
// (snapshot), against the State's DiffBase and its Diff (light, what
// watch does now). Each op re-announces 200 paths (other AS paths, so
// routes come and go), then checks.
//
// Before timing, it holds the light check to the snapshot on this table,
// as TestDiffBaseOracle does on random ones: through churn and two VRP
// changes (the two rpki-client exports half an hour apart, and back),
// Diff from either previous base to either next table, Counts,
// PeerCounts, and Has, Carriers and DecidingVRP of every route.
func BenchmarkCheck(b *testing.B) {
	events, paths := fullTable(b)
	va, vb := realVRPs(b, vrpFileA), realVRPs(b, vrpFileB)
	s := fullState(b)
	var ann []int
	for i := range events {
		if events[i].kind == bgp.Announce {
			ann = append(ann, i)
		}
	}
	rng := rand.New(rand.NewPCG(7, 8))
	var r bgp.Route
	r.Peer = bgp.Peer{AS: 64500, IP: replayPeerIP}
	churn := func(n int) {
		for range n {
			e := &events[ann[rng.IntN(len(ann))]]
			r.Kind, r.Prefix, r.PathID, r.NextHop = e.kind, e.prefix, e.pathID, e.nh
			r.Path = paths[(e.path+uint32(rng.IntN(2)))%uint32(len(paths))]
			r.Origin = rov.OriginOf(r.Path)
			s.Apply(&r)
		}
	}
	prev := s.Snapshot()
	prevBase, prevLight := prev.DiffBase(), s.DiffBase()
	seen := map[string]int{}
	for step, vrps := range [][]rov.VRP{nil, va, nil, vb} {
		churn(2000)
		if vrps != nil {
			s.SetVRPs(vrps)
		}
		next := s.Snapshot()
		light := s.DiffBase()
		want := Diff(prev, next)
		for i, got := range [][]Change{Diff(prevBase, next), Diff(prevLight, light), Diff(prevBase, light), Diff(prevLight, next)} {
			if !reflect.DeepEqual(got, want) {
				b.Fatalf("step %d: Diff %d: %d changes, want %d", step, i, len(got), len(want))
			}
		}
		if got, want := light.Counts(), next.Counts(); got != want {
			b.Fatalf("step %d: light Counts %+v, want %+v", step, got, want)
		}
		at := fmt.Sprintf("step %d", step)
		checkBaseRoutes(b, at, next, light, prev, seen)
		checkBaseRoutes(b, at, prev, prevBase, next, seen)
		b.Logf("step %d: %d changes, %+v", step, len(want), light.Counts())
		prev, prevBase, prevLight = next, next.DiffBase(), light
	}
	prev, prevBase, prevLight = nil, nil, nil

	b.Run("snapshot", func(b *testing.B) {
		b.ReportAllocs()
		base := s.Snapshot().DiffBase()
		for b.Loop() {
			churn(200)
			snap := s.Snapshot()
			Diff(base, snap)
			base = snap.DiffBase()
		}
	})
	b.Run("light", func(b *testing.B) {
		b.ReportAllocs()
		base := s.DiffBase()
		for b.Loop() {
			churn(200)
			next := s.DiffBase()
			Diff(base, next)
			base = next
		}
	})
}
