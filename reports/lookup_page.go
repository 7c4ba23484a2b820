package reports

import (
	"github.com/rovimpact/rovimpact/classify"
)

// LookupPlan is the answer to one lookup query with its long lists kept
// as ids (4 bytes a route or VRP) until a page of it is rendered: a page
// costs the rows it shows, so a query that matches every route (0.0.0.0/0,
// a large AS) no longer builds a row per route. The verdicts are Lookup's
// (planLookup, classify); only the rendering is deferred. The items, in
// JSON order, are the lists of Answer: for a prefix covering_vrps,
// inside_vrps, routes, less_specific, more_specific; for an address
// routes; for an AS originated, vrps, suggested_vrps, possible_hijacks.
// Rendering item i gives what Lookup's list holds at that position.
type LookupPlan struct {
	a     *classify.Analysis
	head  Answer
	lists []planList
}

// planList is one list of the answer: VRP ids (vrps), route ids (ids), or
// items already rendered (an AS's VRPs, suggestions and hijacks: one per
// VRP or announced prefix of one AS).
type planList struct {
	field string
	ids   []int32  // routes; may be shared with the analysis: read only
	vrps  []uint32 // VRPs, a copy (sorted)
	items []any
}

func (l *planList) len() int { return len(l.ids) + len(l.vrps) + len(l.items) }

// PlanLookup plans the answer to q (see Lookup). Cost: the ids of each
// list, sorted where Lookup sorts the rows.
func PlanLookup(a *classify.Analysis, q Query, origin *uint32) *LookupPlan {
	p := planLookup(a, q, origin)
	pl := &LookupPlan{a: a, head: p.ans}
	switch {
	case q.Prefix.IsValid():
		pl.lists = []planList{
			{field: "covering_vrps", vrps: p.vrps[vrpsCovering]},
			{field: "inside_vrps", vrps: p.vrps[vrpsInside]},
			{field: "routes", ids: p.ids[listRoutes]},
			{field: "less_specific", ids: p.ids[listLess]},
			{field: "more_specific", ids: p.ids[listMore]},
		}
	case q.Addr.IsValid():
		pl.lists = []planList{{field: "routes", ids: p.ids[listRoutes]}}
	default:
		h := &pl.head
		pl.lists = []planList{
			{field: "originated", ids: p.ids[listOriginated]},
			{field: "vrps", items: anys(h.VRPs)},
			{field: "suggested_vrps", items: anys(h.Suggested)},
			{field: "possible_hijacks", items: anys(h.Hijacks)},
		}
		h.VRPs, h.Suggested, h.Hijacks = nil, nil, nil
	}
	return pl
}

func anys[T any](s []T) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
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
// Invalid, a VRPUse, a Suggestion or a Hijack), rendered only now. It
// stops at fn's first error.
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
	switch {
	case l.items != nil:
		return l.items[i]
	case l.vrps != nil:
		return vrpRef(pl.a.VRP(l.vrps[i]))
	}
	return lookupRow(pl.a, l.ids[i])
}
