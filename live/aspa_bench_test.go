package live

import (
	"runtime"
	"testing"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/internal/compressed"
	"github.com/rovimpact/rovimpact/internal/testutil"
	bgp "github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
)

// BenchmarkMemoryASPA is BenchmarkMemory's table and snapshot steps on the
// PCH full table, without and with an ASPA set (the shared export's 100
// ASPAs) in use, in the same run: the ASPA addition's cost per path
// (table-B/path and snapshot-B/path, aspa-off and aspa-on). The feed's
// peer is verified as ibgp, as `rovimpact aspa` infers for this file.
func BenchmarkMemoryASPA(b *testing.B) {
	events, paths := fullTable(b)
	vrps := realVRPs(b, vrpFileB)
	p := testutil.SharedData(b, vrpFileB)
	f, err := compressed.Open(p)
	if err != nil {
		b.Fatal(err)
	}
	e, err := rov.LoadExport(f, p, rov.LoadOptions{})
	f.Close()
	if err != nil {
		b.Fatal(err)
	}
	set := rov.NewASPASet(e.ASPAs)
	roles := classify.RoleMap{ByAS: map[uint32]rov.PeerRole{64500: rov.RoleIBGP}}
	for b.Loop() {
		for _, on := range []bool{false, true} {
			s := New(Options{})
			s.SetVRPs(vrps)
			if on {
				s.SetASPA(set, roles)
			}
			h1 := tableInuse(s)
			replay(events, paths, 1, func(r *bgp.Route, _ bgp.PeerKey) { s.Apply(r) })
			h2 := tableInuse(s)
			snap := s.Snapshot()
			h3 := tableInuse(s)
			n := float64(s.Stats().Paths)
			name := map[bool]string{false: "aspa-off", true: "aspa-on"}[on]
			b.ReportMetric(float64(h2-h1)/n, "table-B/path-"+name)
			b.ReportMetric(float64(h3-h2)/n, "snapshot-B/path-"+name)
			if on {
				st := s.ASPAStats()
				b.ReportMetric(float64(st.Paths[rov.ASPAInvalid]), "invalid-paths")
				b.ReportMetric(float64(st.Paths[rov.ASPAValid]), "valid-paths")
			}
			runtime.KeepAlive(snap)
			runtime.KeepAlive(s)
		}
	}
}

// BenchmarkApplyASPA is the full-table ingest with and without ASPA
// verification (each path verified as it is applied), alternated.
func BenchmarkApplyASPA(b *testing.B) {
	events, paths := fullTable(b)
	set := rov.NewASPASet([]rov.ASPA{{CustomerASID: 3356, Providers: []uint32{0}}, {CustomerASID: 174, Providers: []uint32{0}}})
	roles := classify.RoleMap{ByAS: map[uint32]rov.PeerRole{64500: rov.RoleIBGP}}
	for _, on := range []bool{false, true} {
		b.Run(map[bool]string{false: "aspa-off", true: "aspa-on"}[on], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s := New(Options{})
				if on {
					s.SetASPA(set, roles)
				}
				replay(events, paths, 1, func(r *bgp.Route, _ bgp.PeerKey) { s.Apply(r) })
			}
			b.ReportMetric(float64(len(events))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
