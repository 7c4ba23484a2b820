package snapshot

import (
	"bytes"
	"testing"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/internal/compressed"
	"github.com/rovimpact/rovimpact/internal/testutil"
	"github.com/rovimpact/rovimpact/reports"
	"github.com/rovimpact/rovimpact/routefile"
	"github.com/rovimpact/rovimpact/rov"
	"github.com/rovimpact/rovimpact/table"
)

// realAnalysis is the real 723k-VRP rpki-client export against the PCH
// full table (577k routes), analysed as analyze does.
func realAnalysis(b *testing.B) (Header, *classify.Analysis) {
	b.Helper()
	vf, err := compressed.Open(testutil.SharedData(b, "vrp/vrps.rpki-client.20250720T093133Z.json.bz2"))
	if err != nil {
		b.Fatal(err)
	}
	defer vf.Close()
	vrps, _, err := rov.LoadVRPs(vf, "vrps", rov.LoadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	name := testutil.SharedData(b, "mrt/updates.20151023.0201.pch-route-collector.as3856-fulltable.bgp4mp_et.gz")
	mf, err := compressed.Open(name)
	if err != nil {
		b.Fatal(err)
	}
	defer mf.Close()
	src, err := routefile.NewSource(mf, name)
	if err != nil {
		b.Fatal(err)
	}
	t := table.New()
	in := table.NewIngester(t, table.IngestOptions{ReplayAll: true})
	if err := in.Read(src); err != nil {
		b.Fatal(err)
	}
	in.Finish()
	a := classify.Analyze(t, rov.NewIndex(rov.MergeVRPs(vrps)), classify.Options{})
	return Header{Meta: reports.Meta{Policy: reports.Policy{ASSet: "invalid"}}}, a
}

// BenchmarkSnapshot: decoding a full-table snapshot whole, and only what
// lookup 1.1.1.0/24 AS13335 needs (decode-lookup: the checksum, the check
// of every record and the selection), against rebuilding the same analysis
// from already-parsed VRPs and routes (index + validation), the part of a
// lookup from files that is not parsing; and encoding, the cost analyze
// --save adds.
func BenchmarkSnapshot(b *testing.B) {
	h, a := realAnalysis(b)
	enc, err := Encode(h, a)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(enc)))
		for b.Loop() {
			if _, err := Decode(enc, "bench"); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(a.Table.Len()), "routes")
	})
	b.Run("decode-lookup", func(b *testing.B) {
		var qs []reports.Query
		for _, q := range []string{"1.1.1.0/24", "AS13335"} {
			pq, err := reports.ParseQuery(q)
			if err != nil {
				b.Fatal(err)
			}
			qs = append(qs, pq)
		}
		b.ReportAllocs()
		b.SetBytes(int64(len(enc)))
		for b.Loop() {
			if _, err := DecodeFor(enc, "bench", qs); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("rebuild", func(b *testing.B) {
		b.ReportAllocs()
		vrps := a.Index.VRPs()
		for b.Loop() {
			classify.Analyze(a.Table, rov.NewIndex(vrps), a.Options)
		}
	})
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(enc)))
		for b.Loop() {
			again, err := Encode(h, a)
			if err != nil || !bytes.Equal(again, enc) {
				b.Fatal("encoding is not deterministic", err)
			}
		}
	})
}
