package study

import (
	"context"
	"io"
	"os"
	"testing"
	"time"

	"github.com/rovimpact/rovimpact/internal/testutil"
	"github.com/rovimpact/rovimpact/reports"
)

// BenchmarkAnalyzePCH is analyze in process: the PCH full table (577,744
// routes, as UPDATEs) against the rpki-client export of the shared data
// (or VRPS=file, e.g. the export decompressed to plain JSON), through
// Run, Build and the table or JSON writer to io.Discard, for a
// -cpuprofile or -memprofile of the whole pipeline. Times and profiles
// here reuse the heap of the previous iteration, so page faults, a large
// part of a real run's cost (bench/README.md), are missing: time the
// binary with bench/analyze.sh or farm-bench.
func BenchmarkAnalyzePCH(b *testing.B) {
	table := testutil.SharedData(b, "mrt/updates.20151023.0201.pch-route-collector.as3856-fulltable.bgp4mp_et.gz")
	vrps := os.Getenv("VRPS")
	if vrps == "" {
		vrps = testutil.SharedData(b, "vrp/vrps.rpki-client.20250720T100143Z.json.bz2")
	}
	now := time.Date(2025, 7, 21, 0, 0, 0, 0, time.UTC)
	for _, format := range []string{"table", "json"} {
		b.Run(format, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c := Config{VRP: VRPOptions{Files: []string{vrps}}, Routes: []string{table}, Analysis: AnalysisOptions{ASSet: "invalid"}, Now: now, Warn: io.Discard}
				st, err := Run(context.Background(), c)
				if err != nil {
					b.Fatal(err)
				}
				rep := reports.Build(st.Analysis, st.Meta)
				doc := reports.AnalyzeDoc{Report: rep, Top: 20}
				if err := reports.AnalyzeFormats.Print(io.Discard, format, doc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
