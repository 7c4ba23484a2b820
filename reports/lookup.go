package reports

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/rov"
)

// Query is one lookup question: a prefix, an address, or an AS.
type Query struct {
	Text   string
	Prefix netip.Prefix // valid for a prefix query
	Addr   netip.Addr   // valid for an address query
	ASN    uint32       // non-zero for an AS query
}

// ParseQuery reads "192.0.2.0/24", "192.0.2.10", "AS64500" or "64500".
func ParseQuery(s string) (Query, error) {
	s = strings.TrimSpace(s)
	q := Query{Text: s}
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
	n, err := strconv.ParseUint(strings.TrimPrefix(strings.ToUpper(s), "AS"), 10, 32)
	if err != nil {
		return q, fmt.Errorf("query %q: want a prefix (192.0.2.0/24), an address (192.0.2.10) or an AS (AS64500)", s)
	}
	q.ASN = uint32(n)
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

	// AS queries.
	ASN        *uint32      `json:"asn,omitempty"`
	Originated []Invalid    `json:"originated,omitempty"`
	VRPs       []VRPUse     `json:"vrps,omitempty"`
	Suggested  []Suggestion `json:"suggested_vrps,omitempty"`
}

// Via names the prefix and origins traffic follows.
type Via struct {
	Prefix  netip.Prefix `json:"prefix"`
	Origins []uint32     `json:"origins"`
	State   string       `json:"state"`
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
	Exists bool   `json:"exists"` // the route is already valid
	State  string `json:"current_state"`
}

// Lookup answers q from the analysis. origin, when non-nil, asks for the
// verdict of announcing the prefix from that AS even if no route carries it.
func Lookup(a *classify.Analysis, q Query, origin *uint32) Answer {
	switch {
	case q.Prefix.IsValid():
		return lookupPrefix(a, q, origin)
	case q.Addr.IsValid():
		return lookupAddr(a, q)
	default:
		return lookupASN(a, q)
	}
}

func lookupPrefix(a *classify.Analysis, q Query, origin *uint32) Answer {
	p := q.Prefix
	ans := Answer{Query: q.Text, Kind: "prefix", Prefix: &p, CoveringVRPs: []VRPRef{}, InsideVRPs: []VRPRef{}, Routes: []Invalid{}}
	vrps := a.Index.VRPs()
	for _, v := range a.Index.Covering(p, nil) {
		ans.CoveringVRPs = append(ans.CoveringVRPs, vrpRef(vrps[v]))
	}
	for _, v := range a.Index.Inside(p, nil) {
		ans.InsideVRPs = append(ans.InsideVRPs, vrpRef(vrps[v]))
	}
	sortVRPRefs(ans.CoveringVRPs)
	sortVRPRefs(ans.InsideVRPs)
	ans.Routes = rows(a, a.Coverage.At(p))
	ans.LessSpecific = rows(a, a.Coverage.Supernets(p, nil))
	ans.MoreSpecific = rows(a, a.Coverage.Subnets(p, nil))
	if origin != nil {
		ans.Hypothetical = hypothetical(a, p, *origin)
	}
	return ans
}

// hypothetical is the verdict of announcing p from origin (lookup --origin).
func hypothetical(a *classify.Analysis, p netip.Prefix, origin uint32) *Invalid {
	vrps := a.Index.VRPs()
	o := rov.Origin{Kind: rov.OriginAS, ASN: origin}
	v := classify.NewClassifier(a.Index).Classify(p, o)
	h := Invalid{Prefix: p, Origin: &origin, ASSet: []uint32{}, State: v.State.String(), Class: v.Class.String(), AS0: v.AS0, VRPs: []VRPRef{},
		Dropped: classify.Dropped(v.State, o, a.Options.ASSet), Explanation: classify.Explain(v, vrps, p, o)}
	for _, i := range v.VRPs {
		h.VRPs = append(h.VRPs, vrpRef(vrps[i]))
	}
	return &h
}

func lookupAddr(a *classify.Analysis, q Query) Answer {
	addr := q.Addr
	host := netip.PrefixFrom(addr, addr.BitLen())
	ans := Answer{Query: q.Text, Kind: "address", Address: &addr}
	ids := append(slices.Clone(a.Coverage.At(host)), a.Coverage.Supernets(host, nil)...)
	ans.Routes = rows(a, ids)
	var before, after []int32
	for _, id := range ids { // most specific first
		p := a.Table.Routes()[id].Prefix
		if len(before) == 0 || a.Table.Routes()[before[0]].Prefix == p {
			before = append(before, id)
		}
		if !a.Outcomes[id].Dropped && (len(after) == 0 || a.Table.Routes()[after[0]].Prefix == p) {
			after = append(after, id)
		}
	}
	ans.RoutedBefore, ans.RoutedAfter = via(a, before), via(a, after)
	reachable := len(after) > 0
	ans.Reachable = &reachable
	return ans
}

func lookupASN(a *classify.Analysis, q Query) Answer {
	asn := q.ASN
	ans := Answer{Query: q.Text, Kind: "asn", ASN: &asn, Originated: []Invalid{}, VRPs: []VRPUse{}, Suggested: []Suggestion{}}
	own := originated(a, asn)
	ans.Originated = rows(a, own)
	vrps := a.Index.VRPs()
	for _, vi := range a.Index.ByASN(asn) {
		ans.VRPs = append(ans.VRPs, vrpUse(a, vrps[vi], own))
	}
	slices.SortFunc(ans.VRPs, func(x, y VRPUse) int { return compareVRPRef(x.VRPRef, y.VRPRef) })
	seen := map[netip.Prefix]bool{}
	for _, r := range ans.Originated {
		if seen[r.Prefix] {
			continue
		}
		seen[r.Prefix] = true
		ans.Suggested = append(ans.Suggested, suggestion(r.Prefix, r.State, asn))
	}
	return ans
}

// originated returns the ids of the routes asn originates, in route order.
func originated(a *classify.Analysis, asn uint32) []int32 {
	var own []int32
	for id := range a.Table.Routes() {
		if o := a.Outcomes[id].Origin; o.Kind == rov.OriginAS && o.ASN == asn {
			own = append(own, int32(id))
		}
	}
	return own
}

// vrpUse says how VRP v is used by the routes own (an AS's originated
// routes).
func vrpUse(a *classify.Analysis, v rov.VRP, own []int32) VRPUse {
	use := VRPUse{VRPRef: vrpRef(v), TA: v.TA, Allows: allowed(v)}
	seen := map[netip.Prefix]bool{}
	for _, id := range own {
		p := a.Table.Routes()[id].Prefix
		if v.Prefix.Contains(p.Addr()) && p.Bits() >= v.Prefix.Bits() && p.Bits() <= int(v.MaxLen) && !seen[p] {
			seen[p] = true
			use.Announced++
		}
	}
	use.Used = use.Announced > 0
	use.Risky = use.Allows > float64(use.Announced) && int(v.MaxLen) > v.Prefix.Bits()
	return use
}

// suggestion is the VRP that would make an announced route of asn with
// prefix p valid; state is the route's current state.
func suggestion(p netip.Prefix, state string, asn uint32) Suggestion {
	return Suggestion{VRPRef: VRPRef{Prefix: p, MaxLength: uint8(p.Bits()), ASN: asn}, Exists: state == rov.Valid.String(), State: state}
}

// allowed is the number of prefixes a VRP authorises: 2^(m-l+1)-1 for
// prefix length l and maxLength m (a float: IPv6 ranges overflow integers).
func allowed(v rov.VRP) float64 {
	n := int(v.MaxLen) - v.Prefix.Bits() + 1
	f := 1.0
	for range n {
		f *= 2
	}
	return f - 1
}

// rows turns route ids into report rows, in prefix order (most specific
// first for a chain of covering prefixes is the caller's order when it
// matters, so the order of ids is kept for equal prefixes).
func rows(a *classify.Analysis, ids []int32) []Invalid {
	out := make([]Invalid, 0, len(ids))
	for _, id := range ids {
		row := RouteRow(a, int(id))
		if o := a.Outcomes[id]; o.State == rov.Invalid || o.State == rov.Valid {
			row.Explanation = explain(a, int(id))
		}
		out = append(out, row)
	}
	return out
}

func explain(a *classify.Analysis, id int) string {
	o := a.Outcomes[id]
	v := classify.Verdict{State: o.State, Class: o.Class, AS0: o.AS0, VRPs: a.VRPs(id)}
	return classify.Explain(v, a.Index.VRPs(), a.Table.Routes()[id].Prefix, o.Origin)
}

func via(a *classify.Analysis, ids []int32) *Via {
	if len(ids) == 0 {
		return nil
	}
	v := &Via{Prefix: a.Table.Routes()[ids[0]].Prefix, Origins: []uint32{}}
	best := rov.Invalid
	for _, id := range ids {
		o := a.Outcomes[id]
		if rank(o.State) > rank(best) {
			best = o.State
		}
		if o.Origin.Kind == rov.OriginAS && !slices.Contains(v.Origins, o.Origin.ASN) {
			v.Origins = append(v.Origins, o.Origin.ASN)
		}
	}
	slices.Sort(v.Origins)
	v.State = best.String()
	return v
}

func compareVRPRef(x, y VRPRef) int {
	if c := comparePrefix(x.Prefix, y.Prefix); c != 0 {
		return c
	}
	if x.MaxLength != y.MaxLength {
		return int(x.MaxLength) - int(y.MaxLength)
	}
	return int(int64(x.ASN) - int64(y.ASN))
}

func sortVRPRefs(v []VRPRef) { slices.SortFunc(v, compareVRPRef) }
