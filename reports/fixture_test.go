package reports

import (
	"net/netip"
	"time"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/internal/buildinfo"
	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
	"github.com/rovimpact/rovimpact/table"
)

// fixtureAnalysis is a small fixed table with one route of every state,
// class and impact (comments name them), for the reports' own golden and
// NDJSON tests. asSetPolicy and a changed VRP give a second run for diffs.
func fixtureAnalysis(extraVRP bool) *classify.Analysis {
	vrps := []rov.VRP{
		{Prefix: netip.MustParsePrefix("192.0.2.0/24"), MaxLen: 24, ASN: 64500, TA: "ripe"},
		{Prefix: netip.MustParsePrefix("198.51.100.0/22"), MaxLen: 23, ASN: 64501, TA: "arin"},
		{Prefix: netip.MustParsePrefix("203.0.113.0/24"), MaxLen: 24, ASN: 0, TA: "apnic"},
		{Prefix: netip.MustParsePrefix("172.16.0.0/12"), MaxLen: 13, ASN: 64520, TA: "ripe"},
		{Prefix: netip.MustParsePrefix("2001:db8::/32"), MaxLen: 48, ASN: 64503, TA: "ripe"},
		{Prefix: netip.MustParsePrefix("100.70.0.0/16"), MaxLen: 24, ASN: 64530, TA: "lacnic"},
		{Prefix: netip.MustParsePrefix("100.64.0.0/10"), MaxLen: 10, ASN: 64599, TA: "lacnic"},
	}
	if extraVRP { // authorises the wrong-origin route: resolved in the second run
		vrps = append(vrps, rov.VRP{Prefix: netip.MustParsePrefix("192.0.2.0/24"), MaxLen: 24, ASN: 64666, TA: "ripe"})
	}
	tb := table.New()
	a := tb.Peer(route.PeerKey{AS: 65001, IP: netip.MustParseAddr("127.0.0.1")})
	b := tb.Peer(route.PeerKey{AS: 65002, IP: netip.MustParseAddr("::1")})
	as := func(n uint32) rov.Origin { return rov.Origin{Kind: rov.OriginAS, ASN: n} }
	add := func(p string, o rov.Origin, peers ...int) {
		for _, pe := range peers {
			var set []uint32
			if o.Kind == rov.OriginNone {
				set = []uint32{64503, 64504}
			}
			tb.Add(netip.MustParsePrefix(p), o, pe, set)
		}
	}
	add("192.0.2.0/24", as(64500), a, b)                       // valid
	add("192.0.2.0/25", as(64500), a)                          // too_specific, covered by 192.0.2.0/24
	add("192.0.2.0/24", as(64666), b)                          // wrong_origin, same_prefix
	add("198.51.100.0/22", as(64501), a, b)                    // valid
	add("198.51.100.0/24", as(64501), a)                       // too_specific, covered
	add("198.51.101.0/24", as(64999), b)                       // both, covered
	add("203.0.113.0/24", as(64510), a)                        // wrong_origin (AS0), unreachable
	add("172.16.0.0/12", as(64521), a)                         // wrong_origin, more_specifics
	add("172.16.0.0/13", as(64520), a)                         // valid
	add("172.24.0.0/13", as(64520), b)                         // valid
	add("2001:db8::/32", rov.Origin{Kind: rov.OriginNone}, a)  // as_set, unreachable (part via more-specifics)
	add("2001:db8:1::/48", as(64503), b)                       // valid
	add("100.70.0.0/16", as(64531), a)                         // wrong_origin, unreachable (its cover is dropped)
	add("100.64.0.0/10", as(64530), a)                         // too_short: AS64599's VRP covers it, AS64530's is inside
	add("198.18.0.0/15", as(64540), a, b)                      // not_found
	add("198.18.0.0/24", rov.Origin{Kind: rov.OriginLocal}, a) // unvalidated (no --local-as)
	return classify.Analyze(tb, rov.NewIndex(vrps), classify.Options{Workers: 1})
}

// fixtureBuilt is the pinned build time of the fixture's VRP set.
var fixtureBuilt = time.Date(2025, 7, 20, 2, 0, 0, 0, time.UTC)

// fixtureReport is Build of fixtureAnalysis with fixed metadata.
func fixtureReport(extraVRP, perPeer bool) Report {
	a := fixtureAnalysis(extraVRP)
	built := fixtureBuilt
	meta := Meta{
		Policy: Policy{ASSet: "invalid"},
		VRPs: VRPSummary{Loaded: a.Index.Len(), Read: a.Index.Len(), IPv4: a.Index.Len() - 1, IPv6: 1, AS0: 1,
			ByTA: map[string]int{"ripe": 3, "arin": 1, "apnic": 1, "lacnic": 2}, Files: []string{"vrps.json", "-"},
			BuildTime: &built, BuildTimeFrom: "metadata", AgeSeconds: 3600,
			Sources: []VRPSource{{File: "vrps.json", BuildTime: &built, BuildTimeFrom: "metadata"}, {File: "-"}}},
		Inputs:    fixtureInputs(),
		Generated: GenerationOf(buildinfo.Info{Version: "(test)", Revision: "0123abc"}, fixtureBuilt.Add(time.Hour)),
		Skipped:   map[string]int64{"peer_filter": 2},
		PerPeer:   perPeer,
	}
	return Build(a, meta)
}

// fixtureInputs are two route files with record times and one without.
func fixtureInputs() []Input {
	rib := Input{Name: "rib.mrt", Records: 17, Routes: 20, Skipped: map[string]int64{"attr_error": 1}}
	rib.SetRecordTimes(fixtureBuilt.Add(-2*time.Hour), fixtureBuilt.Add(-2*time.Hour))
	upd := Input{Name: "updates.mrt", Records: 3, Routes: 3}
	upd.SetRecordTimes(fixtureBuilt.Add(-2*time.Hour+time.Minute), fixtureBuilt.Add(-time.Hour-time.Second))
	return []Input{rib, upd, {Name: "extra.txt", Records: 1, Routes: 1}}
}
