package archive

import (
	"context"
	"testing"

	"github.com/rovimpact/rovimpact/internal/testutil"
)

// BenchmarkUnit is the per-unit cost of a real unit (the PCH full table,
// 578k paths) against the full rpki-client export: VRPShared loads the set
// once, as archive run does for a day's units; VRPPerUnit loads it for every
// unit, as one analyze per RIB does. docs/archive.md has the whole-process
// figures (bench/archive.sh).
func BenchmarkUnit(b *testing.B) {
	rib := testutil.SharedData(b, "mrt/updates.20151023.0201.pch-route-collector.as3856-fulltable.bgp4mp_et.gz")
	vrps := testutil.SharedData(b, "vrp/vrps.rpki-client.20250720T100143Z.json.bz2")
	at := ts("2025-07-20T12:00:00Z")
	u := Unit{Collector: "pch", Time: &at, RIB: rib, VRPs: vrps}
	run := func(b *testing.B, set *vrpSet) {
		res, err := studyUnit(context.Background(), u, set, false)
		if err != nil {
			b.Fatal(err)
		}
		sum, _, _ := unitRows(u, res)
		b.ReportMetric(float64(sum.Paths), "paths/unit")
	}
	b.Run("VRPShared", func(b *testing.B) {
		set, err := loadVRPSet(vrps)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			run(b, set)
		}
	})
	b.Run("VRPPerUnit", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			set, err := loadVRPSet(vrps)
			if err != nil {
				b.Fatal(err)
			}
			run(b, set)
		}
	})
}
