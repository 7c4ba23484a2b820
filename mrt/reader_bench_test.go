package mrt

import (
	"bytes"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/osrg/gobgp/v3/pkg/packet/bgp"
	gmrt "github.com/osrg/gobgp/v3/pkg/packet/mrt"
)

// benchFiles are the real files the benchmarks decode, by format.
var benchFiles = []struct{ name, file string }{
	{"tdv2-ipv4", "rib.20140523.0600.route-views2.first1MB-truncated.bz2"},
	{"tdv2-ipv6", "rib6.20151101.0600.route-views6.first1MB-truncated.bz2"},
	{"tdv1", "bview.20020722.2337.ris-rrc05.table_dump_v1.gz"},
	{"bgp4mp-as4", "updates.20160811.1600.ris-rrc21.gz"},
	{"bgp4mp-et", "updates.20151023.0201.pch-route-collector.as3856-fulltable.bgp4mp_et.gz"},
}

// loadBench decompresses a shared file once, keeping whole records only.
func loadBench(b *testing.B, file string) []byte {
	data, _ := decompress(b, filepath.Join(sharedMRT(b), file))
	n := 0
	for _, r := range splitRecords(data) {
		n += len(r)
	}
	return data[:n]
}

// BenchmarkReader measures the Reader on decompressed real files: events/s
// and allocations per event (the hot path should allocate nothing per
// event; per-file costs such as the 1 MiB read buffer and the peer table
// remain in allocs/op).
func BenchmarkReader(b *testing.B) {
	for _, bf := range benchFiles {
		b.Run(bf.name, func(b *testing.B) {
			data := loadBench(b, bf.file)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			var events int64
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			cpu0 := processCPU()
			for b.Loop() {
				rd := NewReader(bytes.NewReader(data), Options{})
				for rd.Next() {
					events++
				}
				if rd.Err() != nil {
					b.Fatal(rd.Err())
				}
			}
			runtime.ReadMemStats(&ms1)
			reportCPU(b, cpu0, events)
			b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(events), "allocs/event")
		})
	}
}

// BenchmarkGobgp is the baseline: gobgp v3.37.0's mrt.ParseMRTBody over
// the same records, counting RIB entries and UPDATE NLRI/withdrawals as
// events. BGP4MP_ET and TABLE_DUMP v1 records are not supported by it.
func BenchmarkGobgp(b *testing.B) {
	for _, bf := range benchFiles {
		b.Run(bf.name, func(b *testing.B) {
			data := loadBench(b, bf.file)
			recs := splitRecords(data)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			var events int64
			cpu0 := processCPU()
			for b.Loop() {
				for _, r := range recs {
					var h gmrt.MRTHeader
					if err := h.DecodeFromBytes(r[:headerLen]); err != nil {
						b.Fatal(err)
					}
					msg, err := gmrt.ParseMRTBody(&h, r[headerLen:])
					if err != nil {
						continue
					}
					switch body := msg.Body.(type) {
					case *gmrt.Rib:
						events += int64(len(body.Entries))
					case *gmrt.BGP4MPMessage:
						if u, ok := body.BGPMessage.Body.(*bgp.BGPUpdate); ok {
							events += int64(len(u.NLRI) + len(u.WithdrawnRoutes))
							for _, a := range u.PathAttributes {
								switch a := a.(type) {
								case *bgp.PathAttributeMpReachNLRI:
									events += int64(len(a.Value))
								case *bgp.PathAttributeMpUnreachNLRI:
									events += int64(len(a.Value))
								}
							}
						}
					}
				}
			}
			if events == 0 {
				b.Skip("gobgp parses no record of this format")
			}
			reportCPU(b, cpu0, events)
			b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// reportCPU adds process CPU nanoseconds per event (GC included).
func reportCPU(b *testing.B, cpu0 time.Duration, events int64) {
	if cpu := processCPU() - cpu0; cpu > 0 && events > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(events), "cpu-ns/event")
	}
}
