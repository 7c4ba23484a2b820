package reports

import (
	"net/netip"
	"slices"

	"github.com/rovimpact/rovimpact/classify"
)

// LookupPlan is the answer to one lookup query with its lists kept as ids
// (4 bytes a route or VRP) until a page of it is rendered: a page costs
// the rows it shows, so a query that matches every route (0.0.0.0/0, a
// large AS) no longer builds a row per route. The items, in JSON order,
// are the lists of Answer: for a prefix covering_vrps, inside_vrps,
// routes, less_specific, more_specific; for an address routes; for an AS
// originated, vrps, suggested_vrps. Rendering item i gives what Lookup's
// list holds at that position.
type LookupPlan struct {
	a     *classify.Analysis
	head  Answer
	lists []planList
}

type listKind uint8

const (
	listVRPRefs listKind = iota
	listRouteRows
	listVRPUses
	listSuggestions
)

// planList is one list of the answer: ids of VRPs (listVRPRefs,
// listVRPUses) or routes (listRouteRows, listSuggestions), or rows already
// rendered (an address query has at most a route per covering prefix
// length and origin).
type planList struct {
	field string
	kind  listKind
	ids   []int32  // routes; may be shared with the analysis: read only
	vrps  []uint32 // VRPs, a copy (sorted)
	rows  []Invalid
}

func (l *planList) len() int {
	switch {
	case l.rows != nil:
		return len(l.rows)
	case l.vrps != nil:
		return len(l.vrps)
	}
	return len(l.ids)
}

// PlanLookup plans the answer to q (see Lookup). Cost: the ids of each
// list, sorted where Lookup sorts the rows.
func PlanLookup(a *classify.Analysis, q Query, origin *uint32) *LookupPlan {
	pl := &LookupPlan{a: a}
	switch {
	case q.Prefix.IsValid():
		p := q.Prefix
		pl.head = Answer{Query: q.Text, Kind: "prefix", Prefix: &p}
		if origin != nil {
			pl.head.Hypothetical = hypothetical(a, p, *origin)
		}
		pl.lists = []planList{
			{field: "covering_vrps", kind: listVRPRefs, vrps: pl.sortVRPs(a.Index.Covering(p, nil))},
			{field: "inside_vrps", kind: listVRPRefs, vrps: pl.sortVRPs(a.Index.Inside(p, nil))},
			{field: "routes", kind: listRouteRows, ids: a.Coverage.At(p)},
			{field: "less_specific", kind: listRouteRows, ids: a.Coverage.Supernets(p, nil)},
			{field: "more_specific", kind: listRouteRows, ids: a.Coverage.Subnets(p, nil)},
		}
	case q.Addr.IsValid():
		ans := lookupAddr(a, q)
		if ans.Routes == nil {
			ans.Routes = []Invalid{}
		}
		pl.lists = []planList{{field: "routes", kind: listRouteRows, rows: ans.Routes}}
		ans.Routes = nil
		pl.head = ans
	default:
		asn := q.ASN
		pl.head = Answer{Query: q.Text, Kind: "asn", ASN: &asn}
		own := originated(a, asn)
		var first []int32 // a route per distinct prefix, in route order
		seen := map[netip.Prefix]bool{}
		for _, id := range own {
			if p := a.Table.Routes()[id].Prefix; !seen[p] {
				seen[p] = true
				first = append(first, id)
			}
		}
		pl.lists = []planList{
			{field: "originated", kind: listRouteRows, ids: own},
			{field: "vrps", kind: listVRPUses, vrps: pl.sortVRPs(slices.Clone(a.Index.ByASN(asn)))},
			{field: "suggested_vrps", kind: listSuggestions, ids: first},
		}
	}
	return pl
}

// sortVRPs puts VRP ids (a slice of the caller's) in the order Lookup
// lists VRPRefs; never nil, so that the list is one of VRPs.
func (pl *LookupPlan) sortVRPs(ids []uint32) []uint32 {
	vrps := pl.a.Index.VRPs()
	slices.SortStableFunc(ids, func(x, y uint32) int { return compareVRPRef(vrpRef(vrps[x]), vrpRef(vrps[y])) })
	if ids == nil {
		ids = []uint32{}
	}
	return ids
}

// Head is the answer without its lists (query, kind, the prefix, address
// or AS, the hypothetical verdict, routed_before/after, reachability).
func (pl *LookupPlan) Head() Answer { return pl.head }

// Len is the number of items in the answer's lists.
func (pl *LookupPlan) Len() int {
	n := 0
	for i := range pl.lists {
		n += pl.lists[i].len()
	}
	return n
}

// Items calls fn, in order, for each of the items [from, to): the JSON
// field of its list, and the item as Lookup's list holds it (a VRPRef, an
// Invalid, a VRPUse or a Suggestion), rendered only now. It stops at fn's
// first error.
func (pl *LookupPlan) Items(from, to int, fn func(field string, item any) error) error {
	off := 0
	for li := range pl.lists {
		l := &pl.lists[li]
		n := l.len()
		lo, hi := max(from-off, 0), min(to-off, n)
		off += n
		for i := lo; i < hi; i++ {
			if err := fn(l.field, pl.render(l, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

func (pl *LookupPlan) render(l *planList, i int) any {
	a := pl.a
	if l.rows != nil {
		return l.rows[i]
	}
	switch l.kind {
	case listVRPRefs:
		return vrpRef(a.Index.VRPs()[l.vrps[i]])
	case listVRPUses:
		return vrpUse(a, a.Index.VRPs()[l.vrps[i]], pl.lists[0].ids)
	}
	id := l.ids[i]
	switch l.kind {
	case listSuggestions:
		return suggestion(a.Table.Routes()[id].Prefix, a.Outcomes[id].State.String(), *pl.head.ASN)
	}
	return rows(a, l.ids[i:i+1])[0]
}
