package serve

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/live"
	"github.com/rovimpact/rovimpact/reports"
	"github.com/rovimpact/rovimpact/rov"
)

// ASPA path verification of the live table (live.State.SetASPA; the
// verdicts are classify's and rov's, as `rovimpact aspa` gives them):
//
//	/api/summary   "aspa": the object below (null while no ASPA data is in use)
//	rovimpact_aspa_paths{state}                 gauge: held paths by ASPA state (valid, unknown, invalid, unverified)
//	rovimpact_aspa_routes_dropped               gauge: routes ROV keeps and ASPA drops (every path ASPA-invalid)
//	rovimpact_aspa_routes_dropped_impact{impact} gauge: those routes by impact (same_prefix, covered, more_specifics, unreachable)
//	rovimpact_aspa_prefixes_lost                gauge: prefixes left without a route only because of ASPA
//	rovimpact_aspa_reverified_paths_total       counter: held paths re-verified because the ASPA set changed
//
// The path gauges are read from the last report built, like the route
// gauges.

// ASPASummary is /api/summary's "aspa" object. Its fields are those of
// `rovimpact aspa --format json`'s summary.aspa under the same names (the
// parity test holds them equal on the same paths and ASPAs); the per-path
// lists are not kept by the live table.
type ASPASummary struct {
	Draft              string                      `json:"draft"`
	ASPAs              int                         `json:"aspas"`
	Customers          int                         `json:"customers"`
	Valid              int64                       `json:"valid"`
	Invalid            int64                       `json:"invalid"`
	Unknown            int64                       `json:"unknown"`
	Unverified         int64                       `json:"unverified"`
	InvalidBy          map[string]int64            `json:"invalid_by"`
	Matrix             map[string]map[string]int64 `json:"matrix"`
	RoutesDroppedROV   int                         `json:"routes_dropped_rov"`
	RoutesDroppedASPA  int                         `json:"routes_dropped_aspa_only"`
	RoutesPartlyASPA   int                         `json:"routes_partly_aspa_invalid"`
	PrefixesLost       int                         `json:"prefixes_without_surviving_route"`
	PrefixesLostByASPA int                         `json:"prefixes_lost_because_of_aspa"`
	Impact             reports.ImpactCounts        `json:"impact_aspa_only"`
}

// aspaSummary renders snap's ASPA verdicts (live.SnapshotASPA); nil when
// it has none.
func aspaSummary(snap *live.Snapshot) *ASPASummary {
	x := snap.ASPA
	if x == nil {
		return nil
	}
	s := &ASPASummary{Draft: reports.ASPADraft, ASPAs: x.ASPAs, Customers: x.Customers,
		Valid: x.Paths[rov.ASPAValid], Invalid: x.Paths[rov.ASPAInvalid], Unknown: x.Paths[rov.ASPAUnknown],
		Unverified: x.Paths[rov.ASPAUnverified], Matrix: map[string]map[string]int64{}, InvalidBy: map[string]int64{},
		RoutesDroppedROV: x.RoutesDroppedROV, RoutesDroppedASPA: x.RoutesDroppedASPA, RoutesPartlyASPA: x.RoutesPartlyASPA,
		PrefixesLost: x.PrefixesLost, PrefixesLostByASPA: x.PrefixesLostByASPA,
		Impact: reports.ImpactCounts{SamePrefix: x.Impact[classify.SamePrefix], Covered: x.Impact[classify.Covered],
			MoreSpecifics: x.Impact[classify.MoreSpecifics], Unreachable: x.Impact[classify.Unreachable]}}
	for r, n := range x.InvalidBy {
		s.InvalidBy[r.String()] = n
	}
	for rs := range x.Matrix {
		row := map[string]int64{}
		for as := range x.Matrix[rs] {
			row[rov.ASPAState(as).String()] = x.Matrix[rs][as]
		}
		s.Matrix[rov.State(rs).String()] = row
	}
	return s
}

var (
	mASPAPaths       = desc("rovimpact_aspa_paths", "Held paths by ASPA path verification state (draft-ietf-sidrops-aspa-verification).", "state")
	mASPADropped     = desc("rovimpact_aspa_routes_dropped", "Routes ROV keeps whose every path is ASPA-invalid.")
	mASPAImpact      = desc("rovimpact_aspa_routes_dropped_impact", "Routes ASPA alone drops, by impact.", "impact")
	mASPAPrefixes    = desc("rovimpact_aspa_prefixes_lost", "Prefixes left without a route only because of ASPA.")
	mASPAReverified  = desc("rovimpact_aspa_reverified_paths_total", "Held paths re-verified because the ASPA set changed.")
	aspaDescs        = []*prometheus.Desc{mASPAPaths, mASPADropped, mASPAImpact, mASPAPrefixes, mASPAReverified}
	aspaStateOrder   = []rov.ASPAState{rov.ASPAValid, rov.ASPAUnknown, rov.ASPAInvalid, rov.ASPAUnverified}
	aspaImpactLabels = []string{"same_prefix", "covered", "more_specifics", "unreachable"}
)

// collectASPA exports b's ASPA summary (nothing while ASPA is off), and
// the re-verification counter from the table when it can tell.
func collectASPA(ch chan<- prometheus.Metric, b *built, t Table) {
	if st, ok := t.(interface{ ASPAStats() live.ASPAStats }); ok {
		counter(ch, mASPAReverified, float64(st.ASPAStats().Reverified))
	}
	s := b.aspa
	if s == nil {
		return
	}
	paths := map[rov.ASPAState]int64{rov.ASPAValid: s.Valid, rov.ASPAUnknown: s.Unknown, rov.ASPAInvalid: s.Invalid, rov.ASPAUnverified: s.Unverified}
	for _, st := range aspaStateOrder {
		gauge(ch, mASPAPaths, float64(paths[st]), st.String())
	}
	gauge(ch, mASPADropped, float64(s.RoutesDroppedASPA))
	for i, n := range []int{s.Impact.SamePrefix, s.Impact.Covered, s.Impact.MoreSpecifics, s.Impact.Unreachable} {
		gauge(ch, mASPAImpact, float64(n), aspaImpactLabels[i])
	}
	gauge(ch, mASPAPrefixes, float64(s.PrefixesLostByASPA))
}
