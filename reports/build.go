package reports

import (
	"cmp"
	"net/netip"
	"slices"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/rov"
	"github.com/rovimpact/rovimpact/table"
)

// Meta is what the analysis itself does not know: where the data came from
// and what was skipped on the way.
type Meta struct {
	Policy  Policy
	VRPs    VRPSummary
	Inputs  []Input
	Skipped map[string]int64 // reasons beyond the inputs' own (e.g. "peer_filter")
	PerPeer bool
	// Generated is the build and time the caller makes the report with
	// (GenerationOf): Build reads no clock. Not stored with the Meta in a
	// snapshot, whose header has its own creation time: a report made from
	// a snapshot is generated when it is made.
	Generated Generation `json:"-"`
}

// Build makes the report of an analysis. Rows are sorted by prefix and
// origin, so the same routes give the same bytes whatever the input order.
func Build(a *classify.Analysis, meta Meta) Report {
	rep := Report{Invalids: []Invalid{}, Origins: []OriginRow{}}
	s := &rep.Summary
	s.Policy, s.VRPs, s.Inputs, s.Generated = meta.Policy, meta.VRPs, meta.Inputs, meta.Generated
	s.Paths, s.Peers = a.Table.Paths(), len(a.Table.Peers())
	fams := [2]Family{{Family: "ipv4"}, {Family: "ipv6"}}
	routes := a.Table.Routes()
	// The rows are counted first so that their slice is made once (a
	// full table has ~100k of ~170 bytes: growing it by appending touched
	// three times that), and their small parts come from one arena.
	rows := 0
	for id := range routes {
		if o := &a.Outcomes[id]; isRow(o.RouteState(), o.Dropped) {
			rows++
		}
	}
	rep.Invalids = make([]Invalid, 0, rows)
	var ar rowArena
	for id, r := range routes {
		o := a.Outcomes[id]
		st := o.RouteState()
		if st == classify.StateUnvalidated {
			s.Unvalidated++
			continue
		}
		f := &fams[family(r.Prefix)]
		s.Routes++
		f.Routes++
		switch st {
		case classify.StateValid:
			s.Valid++
			f.Valid++
		case classify.StateInvalid:
			s.Invalid++
			f.Invalid++
			countClass(&s.Classes, o.Class)
			countClass(&f.Classes, o.Class)
			if o.AS0 {
				s.AS0++
			}
		default:
			s.NotFound++
			f.NotFound++
		}
		if !isRow(st, o.Dropped) {
			continue
		}
		inv := routeRow(a, id, &ar)
		if o.Dropped {
			s.Dropped++
			countImpact(&s.Impact, inv.Impact)
			countImpact(&f.Impact, inv.Impact)
			if inv.Cover != nil && inv.Cover.OtherOrigin {
				s.CoverOtherAS++
			}
		}
		rep.Invalids = append(rep.Invalids, inv)
	}
	s.Prefixes = distinctPrefixes(routes)
	s.Families = fams[:]
	slices.SortFunc(rep.Invalids, func(x, y Invalid) int {
		if c := rov.ComparePrefix(x.Prefix, y.Prefix); c != 0 {
			return c
		}
		return cmp.Compare(originKey(x.Origin), originKey(y.Origin))
	})
	rep.Origins = originRows(rep.Invalids)
	s.Skipped = skipped(meta)
	if meta.PerPeer {
		rep.Peers = peerRows(a)
	}
	return rep
}

// RouteRow describes route id of the analysis the way every report does:
// validation state, class, deciding VRPs, paths, peers and, when ROV drops
// it, its impact. analyze's invalids and lookup's routes are both made here,
// so they cannot disagree.
func RouteRow(a *classify.Analysis, id int) Invalid { return routeRow(a, id, nil) }

// routeRow is RouteRow taking the row's origin, VRP list and cover from ar
// (nil: allocated one by one).
func routeRow(a *classify.Analysis, id int, ar *rowArena) Invalid {
	r, o := a.Table.Routes()[id], &a.Outcomes[id]
	vrps := a.VRPs(id)
	inv := Invalid{
		Prefix: r.Prefix, ASSet: a.Table.ASSet(id), State: o.RouteState(), Class: o.Class,
		AS0: o.AS0, Paths: r.Paths, Peers: a.Table.PeerCount(id), Dropped: o.Dropped, VRPs: ar.vrpRefs(len(vrps)),
	}
	if inv.ASSet == nil {
		inv.ASSet = []uint32{}
	}
	if o.Origin.Kind == rov.OriginAS {
		inv.Origin = ar.asn(o.Origin.ASN)
	}
	for i, v := range vrps {
		inv.VRPs[i] = vrpRef(a.VRP(v))
	}
	if o.Dropped {
		as := a.Assess(id, nil)
		inv.Impact = as.Impact
		inv.CoveredShare = as.CoveredShare
		inv.Cover = coverOf(a, id, as, ar)
	}
	return inv
}

// rowArena hands out the small parts of report rows (origin, VRP list,
// cover) from chunks, instead of two to four allocations per row: a full
// table has ~100k rows. Chunks are never grown in place (rows point into
// them), and every piece is capped at its length, so an append to one
// row's slice cannot write over the next row's. A nil *rowArena
// allocates each piece on its own.
type rowArena struct {
	asns   []uint32
	vrps   []VRPRef
	covers []Cover
}

const rowArenaChunk = 4096

func (ar *rowArena) asn(v uint32) *uint32 {
	if ar == nil {
		return &v
	}
	if len(ar.asns) == cap(ar.asns) {
		ar.asns = make([]uint32, 0, rowArenaChunk)
	}
	ar.asns = append(ar.asns, v)
	return &ar.asns[len(ar.asns)-1]
}

// vrpRefs returns n zero VRPRefs; never nil (a row with none marshals as
// [], not null).
func (ar *rowArena) vrpRefs(n int) []VRPRef {
	if ar == nil || n == 0 || n > rowArenaChunk/4 {
		return make([]VRPRef, n)
	}
	if cap(ar.vrps)-len(ar.vrps) < n {
		ar.vrps = make([]VRPRef, 0, rowArenaChunk)
	}
	i := len(ar.vrps)
	ar.vrps = ar.vrps[:i+n]
	return ar.vrps[i : i+n : i+n]
}

func (ar *rowArena) cover(c Cover) *Cover {
	if ar == nil {
		return &c
	}
	if len(ar.covers) == cap(ar.covers) {
		ar.covers = make([]Cover, 0, rowArenaChunk/4)
	}
	ar.covers = append(ar.covers, c)
	return &ar.covers[len(ar.covers)-1]
}

// distinctPrefixes counts the different prefixes among routes. Tables
// filled by table.Ingester hold their routes in prefix order (RIB dumps
// list prefixes in order, the replay sorts before adding), so one pass
// comparing neighbours answers; any other order falls back to a set. On a
// full table the set cost a million-entry map per report (a twentieth of
// analyze's CPU time).
func distinctPrefixes(routes []table.Route) int {
	n := 0
	for i := range routes {
		if i > 0 {
			c := rov.ComparePrefix(routes[i-1].Prefix, routes[i].Prefix)
			if c > 0 {
				return distinctPrefixesSet(routes)
			}
			if c == 0 {
				continue
			}
		}
		n++
	}
	return n
}

func distinctPrefixesSet(routes []table.Route) int {
	set := make(map[netip.Prefix]struct{}, len(routes))
	for i := range routes {
		set[routes[i].Prefix] = struct{}{}
	}
	return len(set)
}

func vrpRef(v rov.VRP) VRPRef { return VRPRef{Prefix: v.Prefix, MaxLength: v.MaxLen, ASN: v.ASN} }

func family(p netip.Prefix) int {
	if p.Addr().Is4() {
		return 0
	}
	return 1
}

// originKey sorts AS_SET (nil) after every ASN.
func originKey(o *uint32) int64 {
	if o == nil {
		return 1 << 32
	}
	return int64(*o)
}

func countClass(c *ClassCounts, cl classify.Class) {
	switch cl {
	case classify.TooSpecific:
		c.TooSpecific++
	case classify.WrongOrigin:
		c.WrongOrigin++
	case classify.Both:
		c.Both++
	case classify.TooShort:
		c.TooShort++
	case classify.ASSet:
		c.ASSet++
	}
}

func countImpact(c *ImpactCounts, im classify.Impact) {
	switch im {
	case classify.SamePrefix:
		c.SamePrefix++
	case classify.Covered:
		c.Covered++
	case classify.MoreSpecifics:
		c.MoreSpecifics++
	case classify.Unreachable:
		c.Unreachable++
	}
}

// coverOf renders classify's cover of route id.
func coverOf(a *classify.Analysis, id int, as classify.Assessment, ar *rowArena) *Cover {
	c, ok := a.Cover(id, as)
	if !ok {
		return nil
	}
	return ar.cover(Cover{Prefix: c.Prefix, Origins: c.Origins, State: c.State, OtherOrigin: c.OtherOrigin})
}

// isRow says whether a route in state st is a row of the report's
// invalids: an invalid route, or one ROV drops (an AS_SET route under the
// policy); never an unvalidated one.
func isRow(st classify.RouteState, dropped bool) bool {
	return st == classify.StateInvalid || (dropped && st != classify.StateUnvalidated)
}

func originRows(invs []Invalid) []OriginRow {
	byOrigin := map[int64]*OriginRow{}
	for _, inv := range invs {
		if inv.State != classify.StateInvalid {
			continue
		}
		k := originKey(inv.Origin)
		row := byOrigin[k]
		if row == nil {
			row = &OriginRow{Origin: inv.Origin}
			byOrigin[k] = row
		}
		row.Invalid++
		if inv.Impact == classify.Unreachable {
			row.Unreachable++
		}
		countClass(&row.Classes, inv.Class)
	}
	rows := make([]OriginRow, 0, len(byOrigin))
	for _, r := range byOrigin {
		rows = append(rows, *r)
	}
	slices.SortFunc(rows, func(x, y OriginRow) int {
		if c := cmp.Compare(y.Unreachable, x.Unreachable); c != 0 {
			return c
		}
		if c := cmp.Compare(y.Invalid, x.Invalid); c != 0 {
			return c
		}
		return cmp.Compare(originKey(x.Origin), originKey(y.Origin))
	})
	return rows
}

func skipped(meta Meta) Skipped {
	sk := Skipped{Reasons: map[string]int64{}}
	add := func(m map[string]int64) {
		for k, v := range m {
			sk.Reasons[k] += v
			sk.Total += v
		}
	}
	for _, in := range meta.Inputs {
		add(in.Skipped)
	}
	add(meta.Skipped)
	return sk
}

// peerRows renders classify's per-peer views, most unreachable first.
func peerRows(a *classify.Analysis) []PeerRow {
	peers := a.Table.Peers()
	imps := a.PeerImpacts()
	rows := make([]PeerRow, len(imps))
	for i, p := range imps {
		k := peers[p.Peer]
		rows[i] = PeerRow{AS: k.AS, IP: k.IP, Routes: p.Routes, Dropped: p.Dropped, Unreachable: p.Unreachable}
	}
	slices.SortFunc(rows, func(x, y PeerRow) int {
		if c := cmp.Compare(y.Unreachable, x.Unreachable); c != 0 {
			return c
		}
		if c := cmp.Compare(x.AS, y.AS); c != 0 {
			return c
		}
		return x.IP.Compare(y.IP)
	})
	return rows
}
