package reports

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/rov"
)

// Query is one lookup question: a prefix, an address, an AS, or an AS
// path.
type Query struct {
	Text   string
	Prefix netip.Prefix // valid for a prefix query
	Addr   netip.Addr   // valid for an address query
	ASN    uint32       // non-zero for an AS query
	// Path is an AS path query's AS_PATH (most recent AS first); its
	// answer is ASPAPath, filled in before the query is written.
	Path     []rov.Segment
	ASPAPath *ASPAPathReport
	// ASPAPaths are the ASPA verdicts of the paths of a prefix or address
	// query's routes (nil: no ASPAs loaded, or no route files), filled in
	// before the query is written.
	ASPAPaths []LookupASPAPath
}

// IsASPath reports whether q is an AS path query.
func (q Query) IsASPath() bool { return q.Path != nil }

// ParseQuery reads "192.0.2.0/24", "192.0.2.10", "AS64500" or "64500",
// or an AS path of two or more ASes, "AS64501 AS64500" (most recently
// added first; {a,b} an AS_SET, (a b) a confederation segment), as
// rovimpact aspa --path reads it.
func ParseQuery(s string) (Query, error) {
	s = strings.TrimSpace(s)
	q := Query{Text: s}
	if strings.ContainsAny(s, " \t{}()") {
		path, err := rov.ParseASPathText(s)
		if err != nil {
			return q, fmt.Errorf("query %q: AS path: %v", s, err)
		}
		if path == nil {
			path = []rov.Segment{}
		}
		q.Path = path
		return q, nil
	}
	if p, err := netip.ParsePrefix(s); err == nil {
		if p.Masked() != p {
			return q, fmt.Errorf("query %q: prefix has host bits set (did you mean %s?)", s, p.Masked())
		}
		q.Prefix = p
		return q, nil
	}
	if a, err := netip.ParseAddr(s); err == nil {
		q.Addr = a.Unmap()
		return q, nil
	}
	n, err := rov.ParseASN(s)
	if err != nil {
		return q, fmt.Errorf("query %q: want a prefix (192.0.2.0/24), an address (192.0.2.10), an AS (64500, AS64500) or an AS path (\"AS64501 AS64500\")", s)
	}
	q.ASN = n
	return q, nil
}

// Answer is what lookup says about one query. Route rows have the same
// fields, and the same verdicts, as analyze's invalids.
type Answer struct {
	Query string `json:"query"`
	Kind  string `json:"kind"` // "prefix", "address" or "asn"

	// Prefix queries.
	Prefix       *netip.Prefix `json:"prefix,omitempty"`
	Hypothetical *Invalid      `json:"hypothetical,omitempty"` // --origin: the verdict for that origin
	CoveringVRPs []VRPRef      `json:"covering_vrps,omitempty"`
	InsideVRPs   []VRPRef      `json:"inside_vrps,omitempty"`
	Routes       []Invalid     `json:"routes,omitempty"`        // exactly the prefix (prefix query) or containing the address (address query), most specific first
	LessSpecific []Invalid     `json:"less_specific,omitempty"` // routes covering the prefix, most specific first
	MoreSpecific []Invalid     `json:"more_specific,omitempty"` // routes inside the prefix

	// Address queries.
	Address *netip.Addr `json:"address,omitempty"`
	// RoutedBefore and RoutedAfter are the most specific routes carrying
	// traffic to the address today and once ROV drops invalid routes (null:
	// no route).
	RoutedBefore *Via  `json:"routed_before,omitempty"`
	RoutedAfter  *Via  `json:"routed_after,omitempty"`
	Reachable    *bool `json:"reachable_after_rov,omitempty"`
	// DefaultNotCounted is the default route that survives ROV but does not
	// count as reaching the address without --count-default (as in
	// analyze's impact); null when it counts, is absent or is not needed.
	DefaultNotCounted *Via `json:"default_route_not_counted,omitempty"`

	// AS queries.
	ASN        *uint32      `json:"asn,omitempty"`
	Originated []Invalid    `json:"originated,omitempty"`
	VRPs       []VRPUse     `json:"vrps,omitempty"`
	Suggested  []Suggestion `json:"suggested_vrps,omitempty"`
	// Hijacks are the AS's routes for which no VRP is suggested because
	// another AS's VRP allows them (classify.Suggest).
	Hijacks []Hijack `json:"possible_hijacks,omitempty"`

	// ASPAPaths: prefix and address queries, with ASPAs loaded and route
	// files read: each path of the listed routes ("routes") with its ASPA
	// verdict (LookupASPAPath).
	ASPAPaths []LookupASPAPath `json:"aspa_paths,omitempty"`
	// ASPAPath: AS path queries (kind "as_path"), hop by hop.
	ASPAPath *ASPAPathReport `json:"aspa_path,omitempty"`
}

// Via names the prefix and origins traffic follows.
type Via struct {
	Prefix  netip.Prefix `json:"prefix"`
	Origins []uint32     `json:"origins"`
	State   rov.State    `json:"state"`
}

// VRPUse says how an AS's VRP is used by its announcements.
type VRPUse struct {
	VRPRef
	TA string `json:"ta"`
	// Used: at least one announced route of the AS matches it.
	Used bool `json:"used"`
	// Announced is the number of distinct announced prefixes it matches;
	// Allows the number it authorises. Risky (RFC 9319 §4: a maxLength that
	// authorises unannounced more-specifics invites forged-origin
	// sub-prefix hijacks) when Allows > Announced.
	Announced int     `json:"announced"`
	Allows    float64 `json:"allows"`
	Risky     bool    `json:"risky"`
}

// Suggestion is a VRP that would make one announced route valid: the
// announced prefix with maxLength equal to its length (RFC 9319 §5).
type Suggestion struct {
	VRPRef
	Exists bool      `json:"exists"` // the route is already valid
	State  rov.State `json:"current_state"`
	// WideningInstead, when the AS's own VRP covers the prefix with a
	// shorter maxLength, is that VRP and what raising its maxLength to the
	// route's length would authorise instead (RFC 9319 §4).
	WideningInstead *Widening `json:"widening_instead,omitempty"`
}

// Widening is the alternative to a suggested exact VRP: raising an
// existing VRP's maxLength.
type Widening struct {
	VRP       VRPRef  `json:"vrp"`
	MaxLength uint8   `json:"to_max_length"`
	Allows    float64 `json:"would_allow"`
}

// Hijack is a route of the AS for which no VRP is suggested: another AS's
// VRP covers its prefix and allows its length, so the route is a possible
// hijack (or a move the holder of that VRP must make).
type Hijack struct {
	Prefix netip.Prefix `json:"prefix"`
	ASN    uint32       `json:"asn"`
	State  rov.State    `json:"current_state"`
	VRPs   []VRPRef     `json:"vrps"` // the other ASes' VRPs allowing the route
}

// Lookup answers q from the analysis. origin, when non-nil, asks for the
// verdict of announcing the prefix from that AS even if no route carries it.
// The answer holds every route row; LookupWriter.WriteQuery streams them
// instead.
func Lookup(a *classify.Analysis, q Query, origin *uint32) Answer {
	return planLookup(a, q, origin).answer()
}

// VRP lists of a prefix Answer, in field order.
const (
	vrpsCovering = iota
	vrpsInside
	nVRPLists
)

// Route lists of an Answer, in field order.
const (
	listRoutes = iota
	listLess
	listMore
	listOriginated
	nLists
)

// plan is an answer whose route lists are still route ids and whose VRP
// lists (a prefix's covering and inside VRPs) are still VRP ids:
// everything else is small, the lists can hold the whole table
// (0.0.0.0/0's more-specifics, every IPv4 VRP inside it), so writers
// render them row by row and LookupPlan a page at a time.
type plan struct {
	a    *classify.Analysis
	ans  Answer // route and VRP lists empty
	ids  [nLists][]int32
	vrps [nVRPLists][]uint32 // sorted as Lookup lists VRPRefs
	// vrpIDs: the VRP lists are in vrps, not yet rendered into ans.
	vrpIDs bool
}

func planLookup(a *classify.Analysis, q Query, origin *uint32) plan {
	switch {
	case q.IsASPath():
		return plan{a: a, ans: Answer{Query: q.Text, Kind: "as_path", ASPAPath: q.ASPAPath}}
	case q.Prefix.IsValid():
		return lookupPrefix(a, q, origin)
	case q.Addr.IsValid():
		return lookupAddr(a, q)
	default:
		return lookupASN(a, q)
	}
}

// withVRPs renders a prefix answer's VRP lists into p.ans.
func (p plan) withVRPs() plan {
	if p.vrpIDs {
		p.ans.CoveringVRPs, p.ans.InsideVRPs = refsOf(p.a, p.vrps[vrpsCovering]), refsOf(p.a, p.vrps[vrpsInside])
		p.vrps, p.vrpIDs = [nVRPLists][]uint32{}, false
	}
	return p
}

// answer fills the route and VRP lists.
func (p plan) answer() Answer {
	ans := p.withVRPs().ans
	for i, ids := range p.ids {
		if len(ids) > 0 {
			*listOf(&ans, i) = rows(p.a, ids)
		}
	}
	return ans
}

// listOf returns the field of ans holding route list i.
func listOf(ans *Answer, i int) *[]Invalid {
	switch i {
	case listRoutes:
		return &ans.Routes
	case listLess:
		return &ans.LessSpecific
	case listMore:
		return &ans.MoreSpecific
	default:
		return &ans.Originated
	}
}

func lookupPrefix(a *classify.Analysis, q Query, origin *uint32) plan {
	p := q.Prefix
	pl := plan{a: a, ans: Answer{Query: q.Text, Kind: "prefix", Prefix: &p}}
	v := a.Prefix(p)
	pl.vrps[vrpsCovering] = sortVRPIDs(a, slices.Clone(v.Covering))
	pl.vrps[vrpsInside] = sortVRPIDs(a, slices.Clone(v.Inside))
	pl.vrpIDs = true
	pl.ids[listRoutes], pl.ids[listLess], pl.ids[listMore] = v.Routes, v.Less, v.More
	if origin != nil {
		pl.ans.Hypothetical = hypothetical(a, p, *origin)
	}
	return pl
}

// hypothetical is the verdict of announcing p from origin (lookup
// --origin), decided by classify as for a route in the table.
func hypothetical(a *classify.Analysis, p netip.Prefix, origin uint32) *Invalid {
	o := rov.Origin{Kind: rov.OriginAS, ASN: origin}
	out, verdict := a.Announce(p, o)
	return &Invalid{Prefix: p, Origin: &origin, ASSet: []uint32{}, State: out.RouteState(), Class: out.Class, AS0: out.AS0,
		VRPs: refsOf(a, verdict.VRPs), Dropped: out.Dropped, Explanation: a.ExplainVerdict(verdict, p, o)}
}

// sortVRPIDs puts VRP ids (a slice of the caller's) in the order Lookup
// lists VRPRefs.
func sortVRPIDs(a *classify.Analysis, ids []uint32) []uint32 {
	slices.SortStableFunc(ids, func(x, y uint32) int { return compareVRPRef(vrpRef(a.VRP(x)), vrpRef(a.VRP(y))) })
	return ids
}

func refsOf(a *classify.Analysis, ids []uint32) []VRPRef {
	out := make([]VRPRef, 0, len(ids))
	for _, i := range ids {
		out = append(out, vrpRef(a.VRP(i)))
	}
	return out
}

func lookupAddr(a *classify.Analysis, q Query) plan {
	addr := q.Addr
	pl := plan{a: a, ans: Answer{Query: q.Text, Kind: "address", Address: &addr}}
	r := a.Reach(addr)
	pl.ids[listRoutes] = r.Routes
	pl.ans.RoutedBefore, pl.ans.RoutedAfter, pl.ans.DefaultNotCounted = via(a, r.Before), via(a, r.After), via(a, r.Default)
	pl.ans.Reachable = &r.Reachable
	return pl
}

func lookupASN(a *classify.Analysis, q Query) plan {
	asn := q.ASN
	pl := plan{a: a, ans: Answer{Query: q.Text, Kind: "asn", ASN: &asn, VRPs: []VRPUse{}, Suggested: []Suggestion{}}}
	ans := &pl.ans
	own := a.Originated(asn)
	pl.ids[listOriginated] = own
	for _, u := range a.VRPUses(asn, own) {
		v := a.VRP(u.VRP)
		ans.VRPs = append(ans.VRPs, VRPUse{VRPRef: vrpRef(v), TA: v.TA, Used: u.Used(), Announced: u.Announced, Allows: u.Allows, Risky: u.Risky})
	}
	slices.SortFunc(ans.VRPs, func(x, y VRPUse) int { return compareVRPRef(x.VRPRef, y.VRPRef) })
	for _, s := range a.Suggest(asn, own) {
		if len(s.Hijack) > 0 {
			h := Hijack{Prefix: s.Prefix, ASN: asn, State: s.State, VRPs: refsOf(a, s.Hijack)}
			sortVRPRefs(h.VRPs)
			ans.Hijacks = append(ans.Hijacks, h)
			continue
		}
		sug := Suggestion{VRPRef: VRPRef{Prefix: s.Prefix, MaxLength: uint8(s.Prefix.Bits()), ASN: asn}, Exists: s.Exists, State: s.State}
		if s.Widen >= 0 {
			sug.WideningInstead = &Widening{VRP: vrpRef(a.VRP(uint32(s.Widen))), MaxLength: uint8(s.Prefix.Bits()), Allows: s.WidenAllows}
		}
		ans.Suggested = append(ans.Suggested, sug)
	}
	return pl
}

// rows turns route ids into report rows, in prefix order (most specific
// first for a chain of covering prefixes is the caller's order when it
// matters, so the order of ids is kept for equal prefixes).
func rows(a *classify.Analysis, ids []int32) []Invalid {
	out := make([]Invalid, 0, len(ids))
	for _, id := range ids {
		out = append(out, lookupRow(a, id))
	}
	return out
}

// lookupRow is RouteRow with the explanation.
func lookupRow(a *classify.Analysis, id int32) Invalid {
	row := RouteRow(a, int(id))
	if o := a.Outcomes[id]; o.State == rov.Invalid || o.State == rov.Valid {
		row.Explanation = a.Explain(int(id))
	}
	return row
}

func via(a *classify.Analysis, ids []int32) *Via {
	c, ok := a.Carrier(ids)
	if !ok {
		return nil
	}
	return &Via{Prefix: c.Prefix, Origins: c.Origins, State: c.State}
}

// compareVRPRef orders VRPRefs by rov.CompareVRP.
func compareVRPRef(x, y VRPRef) int {
	return rov.CompareVRP(rov.VRP{Prefix: x.Prefix, MaxLen: x.MaxLength, ASN: x.ASN}, rov.VRP{Prefix: y.Prefix, MaxLen: y.MaxLength, ASN: y.ASN})
}

func sortVRPRefs(v []VRPRef) { slices.SortFunc(v, compareVRPRef) }
