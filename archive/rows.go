package archive

import (
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/rovimpact/rovimpact/reports"
)

// The Parquet tables a unit writes. Column names are stable: they are the
// schema DuckDB, Spark and Trino queries are written against
// (docs/archive.md). collector and date are not columns: they are the Hive
// partition directories (collector=…/date=…), which every engine turns
// back into columns.

// SummaryRow is one unit's summary: the counts analyze's summary holds.
type SummaryRow struct {
	Unit         string   `parquet:"unit"`
	Time         int64    `parquet:"time,timestamp(millisecond)"`
	RIB          string   `parquet:"rib"`
	Updates      []string `parquet:"updates,list"`
	VRPFile      string   `parquet:"vrp_file"`
	VRPBuilt     int64    `parquet:"vrp_built,timestamp(millisecond)"`
	VRPBuiltFrom string   `parquet:"vrp_built_from"`
	VRPAgeS      int64    `parquet:"vrp_age_s"`
	VRPsLoaded   int64    `parquet:"vrps_loaded"`
	VRPsExpired  int64    `parquet:"vrps_expired"`

	Routes   int64 `parquet:"routes"`
	Paths    int64 `parquet:"paths"`
	Peers    int64 `parquet:"peers"`
	Prefixes int64 `parquet:"prefixes"`
	Tally

	// Records and Events were read from the unit's files; Skipped counts
	// what was not used (every reason, as analyze's summary).
	Records int64 `parquet:"records"`
	Events  int64 `parquet:"events"`
	Skipped int64 `parquet:"skipped"`
	// Partial is set when an input was damaged and archive run
	// --allow-partial kept the unit; Loss says what was lost, one line per
	// damaged file (reports.Loss.Describe). Without --allow-partial such a
	// unit fails and writes no summary.
	Partial bool   `parquet:"partial"`
	Loss    string `parquet:"loss"`

	// ASPA path counts (RunOptions.ASPA; null without it, or when the
	// unit's VRP file holds no ASPA): rovimpact aspa's summary.aspa.
	ASPAValid         *int64 `parquet:"aspa_valid,optional"`
	ASPAUnknown       *int64 `parquet:"aspa_unknown,optional"`
	ASPAInvalid       *int64 `parquet:"aspa_invalid,optional"`
	ASPAUnverified    *int64 `parquet:"aspa_unverified,optional"`
	ASPARoutesDropped *int64 `parquet:"aspa_routes_dropped,optional"` // routes ROV keeps and ASPA loses on every path
	ASPAPrefixesLost  *int64 `parquet:"aspa_prefixes_lost,optional"`  // prefixes lost because of ASPA
}

// ASPAPathRow is one ASPA-invalid or unverified path of a unit (rovimpact
// aspa's invalid_paths).
type ASPAPathRow struct {
	Unit          string  `parquet:"unit"`
	Time          int64   `parquet:"time,timestamp(millisecond)"`
	Prefix        string  `parquet:"prefix"`
	Family        string  `parquet:"family"`
	Origin        *int64  `parquet:"origin,optional"` // null: AS_SET (origin NONE)
	PeerAS        int64   `parquet:"peer_as"`
	PeerIP        string  `parquet:"peer_ip"`
	Role          string  `parquet:"role"`
	ASPA          string  `parquet:"aspa"` // invalid or unverified
	Reason        string  `parquet:"reason"`
	FirstAS       int64   `parquet:"first_as"`    // 0 unless reason first_as
	UpCustomer    int64   `parquet:"up_customer"` // the failing hop; 0: none
	UpProvider    int64   `parquet:"up_provider"` //
	UpProviders   []int64 `parquet:"up_providers,list"`
	DownCustomer  int64   `parquet:"down_customer"` // downstream paths' second hop
	DownProvider  int64   `parquet:"down_provider"`
	DownProviders []int64 `parquet:"down_providers,list"`
	ROV           string  `parquet:"rov"`
	Survives      bool    `parquet:"route_survives"`
}

// aspaPathRows turns a unit's ASPA report paths into rows.
func aspaPathRows(u Unit, paths []reports.ASPAPathRow) []ASPAPathRow {
	id, at := u.ID(), millis(*u.Time)
	out := make([]ASPAPathRow, 0, len(paths))
	for _, p := range paths {
		fam := "ipv6"
		if p.Prefix.Addr().Is4() {
			fam = "ipv4"
		}
		r := ASPAPathRow{Unit: id, Time: at, Prefix: p.Prefix.String(), Family: fam, PeerAS: int64(p.PeerAS), Role: p.Role.String(),
			ASPA: p.State.String(), Reason: p.Reason.String(), FirstAS: int64(p.FirstAS), ROV: p.ROV.String(), Survives: p.Survives,
			UpProviders: []int64{}, DownProviders: []int64{}}
		if p.Origin != nil {
			o := int64(*p.Origin)
			r.Origin = &o
		}
		if p.PeerIP.IsValid() {
			r.PeerIP = p.PeerIP.String()
		}
		if h := p.Up; h != nil {
			r.UpCustomer, r.UpProvider, r.UpProviders = int64(h.Customer), int64(h.Provider), asns64(h.Providers)
		}
		if h := p.Down; h != nil {
			r.DownCustomer, r.DownProvider, r.DownProviders = int64(h.Customer), int64(h.Provider), asns64(h.Providers)
		}
		out = append(out, r)
	}
	return out
}

func asns64(a []uint32) []int64 {
	out := make([]int64, len(a))
	for i, v := range a {
		out[i] = int64(v)
	}
	return out
}

// Counts are the per-class and per-impact counts of a summary.
type Counts struct {
	TooSpecific   int64 `parquet:"too_specific"`
	WrongOrigin   int64 `parquet:"wrong_origin"`
	Both          int64 `parquet:"both"`
	TooShort      int64 `parquet:"too_short"`
	ASSet         int64 `parquet:"as_set"`
	SamePrefix    int64 `parquet:"same_prefix"`
	Covered       int64 `parquet:"covered"`
	MoreSpecifics int64 `parquet:"more_specifics"`
	Unreachable   int64 `parquet:"unreachable"`
}

// InvalidRow is one invalid (or dropped AS_SET) route of a unit.
type InvalidRow struct {
	Unit         string   `parquet:"unit"`
	Time         int64    `parquet:"time,timestamp(millisecond)"`
	Prefix       string   `parquet:"prefix"`
	Family       string   `parquet:"family"`
	Origin       *int64   `parquet:"origin,optional"` // null: AS_SET (origin NONE)
	ASSet        []int64  `parquet:"as_set,list"`
	State        string   `parquet:"state"`
	Class        string   `parquet:"class"`
	AS0          bool     `parquet:"as0"`
	Dropped      bool     `parquet:"dropped"`
	Impact       string   `parquet:"impact"`
	CoveredShare float64  `parquet:"covered_share"`
	CoverPrefix  string   `parquet:"cover_prefix"`
	CoverOrigins []int64  `parquet:"cover_origins,list"`
	CoverState   string   `parquet:"cover_state"`
	OtherOrigin  bool     `parquet:"other_origin"`
	Peers        int64    `parquet:"peers"`
	Paths        int64    `parquet:"paths"`
	VRPs         []string `parquet:"vrps,list"` // deciding VRPs, "prefix-maxlen ASn"
}

// PeerRow is one peer's own view in a unit (analyze --per-peer).
type PeerRow struct {
	Unit        string `parquet:"unit"`
	Time        int64  `parquet:"time,timestamp(millisecond)"`
	PeerAS      int64  `parquet:"peer_as"`
	PeerIP      string `parquet:"peer_ip"`
	Routes      int64  `parquet:"routes"`
	Dropped     int64  `parquet:"dropped"`
	Unreachable int64  `parquet:"unreachable"`
}

func millis(t time.Time) int64 { return t.UnixMilli() }

// unitRows turns a unit's report into its rows.
func unitRows(u Unit, res unitResult) (SummaryRow, []InvalidRow, []PeerRow) {
	id, at := u.ID(), millis(*u.Time)
	rep := res.report
	s := rep.Summary
	row := SummaryRow{
		Unit: id, Time: at, RIB: u.RIB, Updates: u.Updates, VRPFile: u.VRPs,
		VRPsLoaded: int64(s.VRPs.Loaded), VRPsExpired: int64(s.VRPs.Expired), VRPAgeS: s.VRPs.AgeSeconds,
		VRPBuiltFrom: s.VRPs.BuildTimeFrom,
		Routes:       int64(s.Routes), Paths: s.Paths, Peers: int64(s.Peers), Prefixes: int64(s.Prefixes),
		Tally: Tally{Valid: int64(s.Valid), Invalid: int64(s.Invalid), NotFound: int64(s.NotFound),
			Unvalidated: int64(s.Unvalidated), Dropped: int64(s.Dropped), AS0: int64(s.AS0),
			Counts:       countsOf(s.Classes, s.Impact),
			CoverOtherAS: int64(s.CoverOtherAS)},
		Skipped: s.Skipped.Total,
	}
	if row.Updates == nil {
		row.Updates = []string{}
	}
	if res.aspa != nil {
		x := res.aspa.Summary.ASPA
		n := func(v int64) *int64 { return &v }
		row.ASPAValid, row.ASPAUnknown, row.ASPAInvalid, row.ASPAUnverified = n(x.Valid), n(x.Unknown), n(x.Invalid), n(x.Unverified)
		row.ASPARoutesDropped, row.ASPAPrefixesLost = n(int64(x.RoutesDroppedASPA)), n(int64(x.PrefixesLostByASPA))
	}
	if s.VRPs.BuildTime != nil {
		row.VRPBuilt = millis(*s.VRPs.BuildTime)
	}
	for _, f := range s.Families {
		r, v, inv, nf, un := int64(f.Routes), int64(f.Valid), int64(f.Invalid), int64(f.NotFound), int64(f.Impact.Unreachable)
		if f.Family == "ipv4" {
			row.V4Routes, row.V4Valid, row.V4Invalid, row.V4NotFound, row.V4Unreach = r, v, inv, nf, un
		} else {
			row.V6Routes, row.V6Valid, row.V6Invalid, row.V6NotFound, row.V6Unreach = r, v, inv, nf, un
		}
	}
	var losses []string
	for _, in := range s.Inputs {
		row.Records += in.Records
		row.Events += in.Routes
		if l := reports.LossOf(in); l != nil {
			losses = append(losses, l.Describe(in.Name))
		}
	}
	row.Partial, row.Loss = len(losses) > 0, strings.Join(losses, "\n")

	invs := invalidRows(id, at, rep.Invalids)
	peers := make([]PeerRow, 0, len(rep.Peers))
	for _, p := range rep.Peers {
		peers = append(peers, PeerRow{Unit: id, Time: at, PeerAS: int64(p.AS), PeerIP: p.IP.String(),
			Routes: int64(p.Routes), Dropped: int64(p.Dropped), Unreachable: int64(p.Unreachable)})
	}
	return row, invs, peers
}

// invalidRows makes one row per invalid route with a fixed number of
// allocations whatever the number of rows: every string (prefixes, deciding
// VRPs) is appended to one buffer that becomes one string, sliced per field,
// and the list columns are windows of shared backing arrays. A full table
// has ~100,000 invalids; one allocation per field would be most of a
// unit's garbage.
func invalidRows(id string, at int64, invalids []reports.Invalid) []InvalidRow {
	type span struct{ lo, hi int }
	nInts, nVRPs := 0, 0
	for _, inv := range invalids {
		nInts += len(inv.ASSet)
		if inv.Cover != nil {
			nInts += len(inv.Cover.Origins)
		}
		nVRPs += len(inv.VRPs)
	}
	buf := make([]byte, 0, len(invalids)*40+nVRPs*32)
	spans := make([]span, 0, 2*len(invalids)+nVRPs)
	str := func(app func([]byte) []byte) {
		lo := len(buf)
		buf = app(buf)
		spans = append(spans, span{lo, len(buf)})
	}
	for _, inv := range invalids {
		str(inv.Prefix.AppendTo)
		str(func(b []byte) []byte {
			if inv.Cover == nil {
				return b
			}
			return inv.Cover.Prefix.AppendTo(b)
		})
		for _, v := range inv.VRPs {
			str(func(b []byte) []byte {
				b = v.Prefix.AppendTo(b)
				b = append(b, '-')
				b = strconv.AppendUint(b, uint64(v.MaxLength), 10)
				b = append(b, " AS"...)
				return strconv.AppendUint(b, uint64(v.ASN), 10)
			})
		}
	}
	all := string(buf)
	sub := func(i int) string { return all[spans[i].lo:spans[i].hi] }
	ints := make([]int64, 0, nInts)
	window := func(v []uint32) []int64 {
		lo := len(ints)
		for _, x := range v {
			ints = append(ints, int64(x))
		}
		return ints[lo:len(ints):len(ints)]
	}
	origins := make([]int64, len(invalids))
	vrps := make([]string, nVRPs)
	rows := make([]InvalidRow, len(invalids))
	si, vi := 0, 0
	for i, inv := range invalids {
		r := &rows[i]
		*r = InvalidRow{
			Unit: id, Time: at, Prefix: sub(si), Family: familyOf(inv.Prefix),
			ASSet: window(inv.ASSet), State: inv.State.String(), Class: inv.Class.String(), AS0: inv.AS0, Dropped: inv.Dropped,
			Impact: inv.Impact.String(), CoveredShare: inv.CoveredShare, Peers: int64(inv.Peers), Paths: int64(inv.Paths),
			CoverOrigins: ints[len(ints):len(ints):len(ints)],
		}
		if inv.Origin != nil {
			origins[i] = int64(*inv.Origin)
			r.Origin = &origins[i]
		}
		if c := inv.Cover; c != nil {
			r.CoverPrefix, r.CoverOrigins, r.CoverState, r.OtherOrigin = sub(si+1), window(c.Origins), c.State.String(), c.OtherOrigin
		}
		si += 2
		for range inv.VRPs {
			vrps[vi] = sub(si)
			si, vi = si+1, vi+1
		}
		r.VRPs = vrps[vi-len(inv.VRPs) : vi : vi]
	}
	return rows
}

func countsOf(c reports.ClassCounts, im reports.ImpactCounts) Counts {
	return Counts{
		TooSpecific: int64(c.TooSpecific), WrongOrigin: int64(c.WrongOrigin), Both: int64(c.Both),
		TooShort: int64(c.TooShort), ASSet: int64(c.ASSet),
		SamePrefix: int64(im.SamePrefix), Covered: int64(im.Covered), MoreSpecifics: int64(im.MoreSpecifics),
		Unreachable: int64(im.Unreachable),
	}
}

func familyOf(p netip.Prefix) string {
	if p.Addr().Is4() {
		return "ipv4"
	}
	return "ipv6"
}
